# -*- test-case-name: tests.services.clc.test_metadata -*-
"""
The instance metadata service: C{http://169.254.169.254/latest/...}, which
the network redirects to the CLC's port.

The instance is the one whose private address the request comes from (the
redirect keeps the guest's source address).  Paths are EC2's:
C{/<version>/meta-data/<key>}, C{/<version>/user-data}, a directory listing
(one name a line, sub-directories ending in C{/}) for every directory, and
C{/} listing the versions.  Anything else, or an address no live instance
has, is 404.
"""

import base64

from sqlalchemy import select
from twisted.internet import threads
from twisted.logger import Logger
from twisted.web import resource, server

from eucalyptus.services.clc import instances as store
from eucalyptus.services.clc import keypairs

__all__ = ["MetadataResource", "VERSIONS", "metadata_tree", "mount_metadata"]

_log = Logger()

#: The versions the service answers under, as EC2 lists them.
VERSIONS = (
    "1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15", "2008-02-01", "2008-09-01",
    "2009-04-04", "2011-01-01", "2011-05-01", "2012-01-12", "2014-02-25", "latest",
)


def _instance_by_address(cloud, address):
    """
    The live instance with private address C{address}, its groups and key
    (blocking).

    @return: C{(row, group names, public key or None)} or C{None}.
    """
    with cloud.db.connect() as conn:
        query = (
            select(store.instances)
            .where(store.instances.c.private_ip == address, store.instances.c.state.in_(store.LIVE_STATES))
            .order_by(store.instances.c.launched.desc())
        )
        row = conn.execute(query).mappings().first()
        if row is None:
            return None
        groups = [name for _, name in store.groups_of(conn, [row["instance_id"]]).get(row["instance_id"], [])]
        key = keypairs.public_key(conn, row["account_id"], row["key_name"]) if row["key_name"] else None
    return row, groups, key


def metadata_tree(row, groups, key, domain="eucalyptus.internal"):
    """
    The C{meta-data} tree of an instance: nested dicts of name to text.
    """
    private = row["private_ip"] or ""
    public = row["public_ip"] or ""
    local_name = f"euca-{private.replace('.', '-')}.{domain}" if private else ""
    tree = {
        "ami-id": row["image_id"],
        "ami-launch-index": str(row["launch_index"]),
        "ami-manifest-path": "(unknown)",
        "block-device-mapping": {"ami": "/dev/sda1", "root": "/dev/sda1", "ephemeral0": "sda2", "swap": "sda3"},
        "hostname": local_name,
        "instance-action": "none",
        "instance-id": row["instance_id"],
        "instance-type": row["instance_type"],
        "local-hostname": local_name,
        "local-ipv4": private,
        "mac": row["mac"] or "",
        "placement": {"availability-zone": row["zone"]},
        "public-hostname": public,
        "public-ipv4": public,
        "reservation-id": row["reservation_id"],
        "security-groups": "\n".join(groups),
    }
    for name in ("kernel-id", "ramdisk-id"):
        value = row[name.replace("-", "_")]
        if value:
            tree[name] = value
    if key is not None:
        tree["public-keys"] = {"0": {"openssh-key": key}, "_listing": f"0={row['key_name']}"}
    if row["mac"]:
        tree["network"] = {"interfaces": {"macs": {row["mac"]: {
            "device-number": "0", "local-ipv4s": private, "mac": row["mac"], "public-ipv4s": public,
        }}}}
    return tree


def _listing(node):
    if "_listing" in node:
        return node["_listing"]
    return "\n".join(f"{name}/" if isinstance(value, dict) else name
                     for name, value in sorted(node.items()) if not name.startswith("_"))


def _walk(tree, parts):
    node = tree
    for part in parts:
        if not isinstance(node, dict) or part not in node or part.startswith("_"):
            return None
        node = node[part]
    return node


class MetadataResource(resource.Resource):
    """
    Everything below one version (C{/latest}, C{/2009-04-04}, ...).
    """

    isLeaf = True

    def __init__(self, cloud):
        resource.Resource.__init__(self)
        self.cloud = cloud

    def render_GET(self, request):
        parts = [p.decode("utf-8", "replace") for p in request.postpath]
        while parts and parts[-1] == "":
            parts.pop()
        address = request.getClientAddress().host
        d = threads.deferToThread(_instance_by_address, self.cloud, address)
        d.addCallback(self._answer, parts, request)
        d.addErrback(self._failed, request)
        return server.NOT_DONE_YET

    def _answer(self, found, parts, request):
        if found is None:
            return self._finish(request, 404, b"No instance has this address.\n")
        row, groups, key = found
        if not parts:
            return self._finish(request, 200, b"dynamic\nmeta-data/\nuser-data" if row["user_data"] else b"meta-data/")
        if parts[0] == "user-data" and len(parts) == 1:
            if not row["user_data"]:
                return self._finish(request, 404, b"")
            return self._finish(request, 200, base64.b64decode(row["user_data"]))
        if parts[0] != "meta-data":
            return self._finish(request, 404, b"")
        node = _walk(metadata_tree(row, groups, key), parts[1:])
        if node is None:
            return self._finish(request, 404, b"")
        text = _listing(node) if isinstance(node, dict) else node
        return self._finish(request, 200, text.encode("utf-8"))

    def _failed(self, failure, request):
        _log.failure("The metadata service failed", failure)
        self._finish(request, 500, b"")

    @staticmethod
    def _finish(request, code, body):
        request.setResponseCode(code)
        request.setHeader(b"content-type", b"text/plain")
        request.write(body)
        request.finish()


def mount_metadata(root, cloud):
    """
    Serve the metadata of every version below C{root} (the CLC's site).
    """
    for version in VERSIONS:
        root.putChild(version.encode("ascii"), MetadataResource(cloud))
