# -*- test-case-name: tests.test_nodeadmin -*-
"""
The administrator's node commands, run on the CC host:

    euca-admin register-node HOST[:PORT] [--keys-to DIR]
    euca-admin deregister-node HOST[:PORT] [--force]
    euca-admin modify-node HOST[:PORT] --state enabled|disabled
    euca-admin nodes

Registering places the node's certificates where the node reads them (its
data directory's C{keys/}: the zone's node key pair, the cluster
certificate it pins, the cloud certificate) and adds the node to C{NODES}
in eucalyptus.conf; deregistering removes it.  The running CC follows the
file before its next poll.  A node that still runs instances is only
deregistered with C{--force}: the CC then forgets those instances while
they keep running on the node.
"""

import os

from twisted.internet import defer

from eucalyptus import admin
from eucalyptus.accounts import ADMIN_ACCOUNT
from eucalyptus.config import set_value
from eucalyptus.errors import ClientError
from eucalyptus.files import fsync_directory, write_atomically
from eucalyptus.security.keys import KeyStore
from eucalyptus.services.build import endpoint_url
from eucalyptus.services.cc.nodes import parse_node
from eucalyptus.wsdl import cc_types, common

__all__ = ["register_node", "deregister_node", "modify_node", "node_states", "node_files"]

CC_PATH = "axis2/services/EucalyptusCC"


class NodeAdminError(ClientError):
    """
    A node command that cannot be done as asked.
    """

    code = "InvalidParameterValue"


@defer.inlineCallbacks
def _ask_cluster(settings, reactor, operation, request):
    """
    Call the CC as the cloud does, and close the client.

    @return: a Deferred firing with the response.
    """
    url = endpoint_url(settings["CC_HOST"], settings["CC_PORT"], CC_PATH)
    client = admin.component_client(settings, "cc", url, reactor)
    try:
        answer = yield client.call(operation, request)
    finally:
        yield client.close()
    return answer


def node_files(keystore, zone):
    """
    The key files a node of C{zone} needs, as paths relative to a keys
    directory, each with its source path and mode.

    @return: a list of C{(relative path, source path, mode)}.
    """
    files = [
        (keystore.cert_path("node", zone), 0o644),
        (keystore.key_path("node", zone), 0o600),
        (keystore.cert_path("cluster", zone), 0o644),
        (keystore.cert_path("cloud"), 0o644),
    ]
    return [(os.path.relpath(path, keystore.path), path, mode) for path, mode in files]


def _place_keys(settings, keys_to):
    """
    Copy the node's key files under C{keys_to}, keeping the layout; files
    already there with the same content are left alone.

    @return: the paths written.
    """
    keystore = KeyStore(os.path.join(settings.data_dir, "keys"))
    written = []
    for relative, source, mode in node_files(keystore, settings["ZONE"]):
        target = os.path.join(keys_to, relative)
        with open(source, "rb") as f:
            data = f.read()
        if os.path.exists(target):
            with open(target, "rb") as f:
                if f.read() == data:
                    continue
        os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
        write_atomically(target, data, mode=mode)
        written.append(target)
    if written:
        fsync_directory(keys_to)
    return written


def _edit_nodes(settings, entries):
    path = settings.path
    if not path:
        raise NodeAdminError("There is no configuration file to record the nodes in.")
    text = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
    write_atomically(path, set_value(text, "NODES", " ".join(entries)), mode=0o644)


def _check_entry(settings, entry):
    try:
        parse_node(entry, settings["NC_PORT"])
    except ValueError as e:
        raise NodeAdminError(f"{e}.") from None


def register_node(settings, entry, keys_to=None):
    """
    Add node C{entry} (C{host} or C{host:port}) to C{NODES}, placing its
    certificates under C{keys_to} first when given.

    @return: a list of lines saying what was done.
    @raise NodeAdminError: for a malformed or already registered entry.
    """
    _check_entry(settings, entry)
    nodes = list(settings["NODES"])
    if entry in nodes:
        raise NodeAdminError(f"Node {entry} is already registered.")
    if not settings.path:
        raise NodeAdminError("There is no configuration file to record the nodes in.")
    said = []
    if keys_to:
        placed = _place_keys(settings, os.path.abspath(keys_to))
        said.append(f"placed {len(placed)} key file(s) under {keys_to}" if placed else f"keys already in {keys_to}")
    _edit_nodes(settings, nodes + [entry])
    said.append(f"registered node {entry}")
    return said


@defer.inlineCallbacks
def deregister_node(settings, entry, force=False, reactor=None):
    """
    Remove node C{entry} from C{NODES}.  Unless C{force}, the CC is asked
    first and a node that still runs instances is refused, naming them.

    @return: a Deferred firing with a list of lines saying what was done.
    @raise NodeAdminError: for a node that is not registered, or one with
        instances without C{force}.
    """
    nodes = list(settings["NODES"])
    if entry not in nodes:
        raise NodeAdminError(f"Node {entry} is not registered (nodes: {' '.join(nodes) or 'none'}).")
    said = []
    if not force:
        host, port = parse_node(entry, settings["NC_PORT"])
        url = endpoint_url(host, port, settings["NC_SERVICE"])
        answer = yield _ask_cluster(
            settings, reactor, "DescribeInstances",
            cc_types.DescribeInstancesType(correlationId="deregister", userId=ADMIN_ACCOUNT),
        )
        running = sorted(i.instanceId for i in answer.instances or [] if i.serviceTag == url)
        if running:
            raise NodeAdminError(
                f"Node {entry} still runs {', '.join(running)}; terminate them first or use --force "
                "(the cluster then forgets them while they keep running on the node)."
            )
    _edit_nodes(settings, [n for n in nodes if n != entry])
    said.append(f"deregistered node {entry}")
    return said


@defer.inlineCallbacks
def modify_node(settings, entry, state, reactor=None):
    """
    Enable node C{entry} or disable it for maintenance, through the CC.

    @return: a Deferred firing with a list of lines saying what was done.
    """
    request = cc_types.ModifyNodeType(correlationId="modify-node", userId=ADMIN_ACCOUNT, nodeName=entry, stateName=state)
    yield _ask_cluster(settings, reactor, "ModifyNode", request)
    return [f"node {entry} is {state}"]


@defer.inlineCallbacks
def node_states(settings, reactor=None):
    """
    Each node's state and why, as the CC reports them.

    @return: a Deferred firing with a list of lines.
    """
    answer = yield _ask_cluster(
        settings, reactor, "DescribeServices", common.DescribeServicesType(correlationId="nodes", userId=ADMIN_ACCOUNT)
    )
    return [detail for status in answer.serviceStatuses or [] for detail in status.details or []]

