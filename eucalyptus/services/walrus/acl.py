# -*- test-case-name: tests.services.walrus.test_acl -*-
"""
S3 access control lists: who may do what to a bucket or an object.

An L{Acl} is an owner and a list of L{Grant}s.  Canned ACLs
(C{x-amz-acl: public-read}, ...), C{x-amz-grant-*} headers and
C{AccessControlPolicy} documents all become one; L{Acl.allows} answers the
only question the operations layer asks.  The store keeps ACLs as the JSON
text of L{Acl.dumps}.
"""

import json
from dataclasses import dataclass

from lxml import etree

from eucalyptus.errors import AccessDenied
from eucalyptus.services.walrus.errors import (
    InvalidArgument,
    InvalidRequest,
    MalformedACLError,
    UnresolvableGrantByEmailAddress,
)
from eucalyptus.services.walrus.s3xml import S3, XSI_NS, parse_xml, text_of

__all__ = [
    "Acl",
    "Grant",
    "Identity",
    "ANONYMOUS",
    "ALL_USERS",
    "AUTHENTICATED_USERS",
    "PERMISSIONS",
    "from_request",
    "from_xml",
]

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
PERMISSIONS = ("FULL_CONTROL", "READ", "WRITE", "READ_ACP", "WRITE_ACP")

_GRANT_HEADERS = {
    "x-amz-grant-read": "READ",
    "x-amz-grant-write": "WRITE",
    "x-amz-grant-read-acp": "READ_ACP",
    "x-amz-grant-write-acp": "WRITE_ACP",
    "x-amz-grant-full-control": "FULL_CONTROL",
}


@dataclass(frozen=True)
class Identity:
    """
    Who is asking: an account (its id is the S3 canonical user id) or, with
    C{account_id=None}, anyone at all.

    @ivar privileged: a cloud component (NC, SC) or the cloud administrator,
        allowed into the cloud's own buckets.
    @ivar node: a Node Controller, signed with its zone's node key
        (L{eucalyptus.security.nodeauth}): it has no account, may read
        (GET, HEAD) any object, whatever its ACL, and may do nothing else.
    """

    account_id: str | None
    display_name: str = ""
    access_key_id: str = ""
    privileged: bool = False
    node: bool = False

    @property
    def anonymous(self):
        return self.account_id is None


ANONYMOUS = Identity(None)


@dataclass(frozen=True)
class Grant:
    """
    One permission given to one grantee.

    @ivar kind: C{CanonicalUser} (C{grantee} is an account id) or C{Group}
        (C{grantee} is a group URI).
    """

    kind: str
    grantee: str
    permission: str
    display_name: str = ""

    def matches(self, identity):
        """
        Whether this grant speaks of C{identity}.
        """
        if self.kind == "Group":
            if self.grantee == ALL_USERS:
                return True
            return self.grantee == AUTHENTICATED_USERS and not identity.anonymous
        return self.grantee == identity.account_id


@dataclass(frozen=True)
class Acl:
    """
    An owner and the grants of a bucket or an object.
    """

    owner: str
    owner_name: str
    grants: tuple

    def allows(self, identity, permission):
        """
        Whether C{identity} has C{permission} (or C{FULL_CONTROL}).  The
        owner always may read and write the ACL itself.
        """
        if identity.account_id == self.owner and permission in ("READ_ACP", "WRITE_ACP"):
            return True
        return any(g.matches(identity) and g.permission in (permission, "FULL_CONTROL") for g in self.grants)

    def dumps(self):
        """
        The JSON text the store keeps.
        """
        return json.dumps([self.owner, self.owner_name, [list(g.__dict__.values()) for g in self.grants]])

    @classmethod
    def loads(cls, text):
        """
        The inverse of L{dumps}.
        """
        owner, owner_name, grants = json.loads(text)
        return cls(owner, owner_name, tuple(Grant(*g) for g in grants))

    @classmethod
    def canned(cls, name, owner, owner_name, bucket_owner=None, bucket_owner_name=""):
        """
        The ACL a canned name stands for.

        @param bucket_owner: for objects, the bucket's owner (for
            C{bucket-owner-read} and C{bucket-owner-full-control}).
        @raise InvalidArgument: an unknown name.
        """
        mine = (Grant("CanonicalUser", owner, "FULL_CONTROL", owner_name),)
        extra = {
            "private": (),
            "public-read": (Grant("Group", ALL_USERS, "READ"),),
            "public-read-write": (Grant("Group", ALL_USERS, "READ"), Grant("Group", ALL_USERS, "WRITE")),
            "authenticated-read": (Grant("Group", AUTHENTICATED_USERS, "READ"),),
            "log-delivery-write": (Grant("Group", LOG_DELIVERY, "WRITE"), Grant("Group", LOG_DELIVERY, "READ_ACP")),
            "aws-exec-read": (),
        }
        if name in ("bucket-owner-read", "bucket-owner-full-control"):
            permission = "READ" if name == "bucket-owner-read" else "FULL_CONTROL"
            if bucket_owner and bucket_owner != owner:
                extra[name] = (Grant("CanonicalUser", bucket_owner, permission, bucket_owner_name),)
            else:
                extra[name] = ()
        if name not in extra:
            raise InvalidArgument(f"{name!r} is not a canned ACL.", ArgumentName="x-amz-acl", ArgumentValue=name)
        return cls(owner, owner_name, mine + extra[name])

    def to_xml(self):
        """
        The C{AccessControlPolicy} document.
        """
        grants = []
        for g in self.grants:
            if g.kind == "Group":
                grantee = S3.Grantee(S3.URI(g.grantee))
            else:
                grantee = S3.Grantee(S3.ID(g.grantee), S3.DisplayName(g.display_name))
            grantee.set(f"{{{XSI_NS}}}type", g.kind)
            grants.append(S3.Grant(grantee, S3.Permission(g.permission)))
        return S3.AccessControlPolicy(
            S3.Owner(S3.ID(self.owner), S3.DisplayName(self.owner_name)), S3.AccessControlList(*grants)
        )


def _parse_grantee(text, permission, resolve):
    """
    One grantee of an C{x-amz-grant-*} header: C{id="..."}, C{uri="..."} or
    C{emailAddress="..."}.
    """
    kind, _, value = text.strip().partition("=")
    value = value.strip().strip('"').strip()
    kind = kind.strip().lower()
    if not value:
        raise InvalidArgument(f"Invalid grantee {text!r}.", ArgumentName="x-amz-grant", ArgumentValue=text)
    if kind == "uri":
        return Grant("Group", value, permission)
    if kind == "id":
        return Grant("CanonicalUser", value, permission, resolve(value) or "")
    if kind == "emailaddress":
        raise UnresolvableGrantByEmailAddress(EmailAddress=value)
    raise InvalidArgument(f"Invalid grantee {text!r}.", ArgumentName="x-amz-grant", ArgumentValue=text)


def from_request(headers, owner, owner_name, resolve, bucket_owner=None, bucket_owner_name=""):
    """
    The ACL a request asks for in its headers: a canned C{x-amz-acl}, or
    C{x-amz-grant-*} grants (never both), C{private} by default.

    @param headers: lower-case header name to value.
    @param resolve: account id to display name, or C{None} if unknown.
    @raise InvalidRequest: both a canned ACL and grants.
    """
    canned = headers.get("x-amz-acl")
    grants = [(h, p) for h, p in _GRANT_HEADERS.items() if h in headers]
    if canned and grants:
        raise InvalidRequest("Specifying both Canned ACLs and Header Grants is not allowed")
    if not grants:
        return Acl.canned(canned or "private", owner, owner_name, bucket_owner, bucket_owner_name)
    parsed = []
    for header, permission in grants:
        for item in headers[header].split(","):
            if item.strip():
                parsed.append(_parse_grantee(item, permission, resolve))
    return Acl(owner, owner_name, tuple(parsed))


def from_xml(body, owner, owner_name, resolve):
    """
    Parse an C{AccessControlPolicy} document.  The owner must be the
    resource's owner.

    @raise MalformedACLError: not a policy, an unknown permission or grantee
        type.
    """
    root = parse_xml(body, MalformedACLError)
    if etree.QName(root).localname != "AccessControlPolicy":
        raise MalformedACLError()
    stated_owner = text_of(root, "Owner/ID")
    if stated_owner is not None and stated_owner != owner:
        raise AccessDenied("The owner of an ACL cannot be changed.")
    grants = []
    for grant in _children(_child(root, "AccessControlList"), "Grant"):
        permission = (text_of(grant, "Permission") or "").strip()
        kind = _child(grant, "Grantee")
        if permission not in PERMISSIONS or kind is None:
            raise MalformedACLError()
        kind_name = kind.get(f"{{{XSI_NS}}}type")
        if kind_name == "Group":
            grants.append(Grant("Group", _required(kind, "URI"), permission))
        elif kind_name == "CanonicalUser":
            grantee = _required(kind, "ID")
            grants.append(Grant("CanonicalUser", grantee, permission, resolve(grantee) or ""))
        elif kind_name == "AmazonCustomerByEmail":
            raise UnresolvableGrantByEmailAddress(EmailAddress=text_of(kind, "EmailAddress"))
        else:
            raise MalformedACLError()
    return Acl(owner, owner_name, tuple(grants))


def _children(element, name):
    """
    The children of C{element} (which may be C{None}) called C{name}, in
    any namespace: S3 accepts documents with and without its own.
    """
    if element is None:
        return []
    return [child for child in element if isinstance(child.tag, str) and etree.QName(child).localname == name]


def _child(element, name):
    found = _children(element, name)
    return found[0] if found else None


def _required(grantee, name):
    """
    The non-empty text of a grantee's C{ID} or C{URI}.

    @raise MalformedACLError: missing or empty.
    """
    value = (text_of(grantee, name) or "").strip()
    if not value:
        raise MalformedACLError()
    return value

