# -*- test-case-name: tests.services.clc.test_tags -*-
"""
Tags: C{CreateTags}, C{DeleteTags}, C{DescribeTags}, and the helpers the
other resource modules use to show, filter and set tags.

A tag is a row of C{resource_tags} keyed by the account, the resource id
and the key.  What kind of resource an id names comes from its prefix
(C{i-} an instance, C{emi-} an image, C{sg-} a security group, ...); whether
the caller owns it is asked of the module that keeps that kind, which
registers an C{owns(conn, account_id, resource_id)} function with
L{register_owner} when it is imported.  A resource the caller does not own
is answered with that kind's C{NotFound} error, as if it did not exist, so
one account never learns of another's resources.

EC2's limits hold: 50 tags per resource, keys of 1 to 128 characters not
starting with C{aws:}, values of up to 256.

Other C{Describe*} actions add C{Tags} to their items with L{tags_of} and
pass L{item_tags} to L{eucalyptus.services.clc.ec2.filters.select} so that
C{tag:<key>}, C{tag-key} and C{tag-value} filters work; C{Create*} actions
apply their C{TagSpecifications} with L{apply_tag_specifications}; actions
that delete a resource drop its tags with L{delete_all_tags}.
"""

import re
from dataclasses import dataclass

from sqlalchemy import Column, PrimaryKeyConstraint, String, Table, delete, select, update

from eucalyptus.errors import InstanceNotFound, InvalidParameterValue, SnapshotNotFound, VolumeNotFound
from eucalyptus.services.clc import db
from eucalyptus.services.clc.ec2.dispatch import blocking
from eucalyptus.services.clc.ec2.errors import (
    GroupNotFound,
    InvalidAMIIDNotFound,
    InvalidID,
    KeyPairNotFound,
    MissingParameter,
    TagLimitExceeded,
)
from eucalyptus.services.clc.ec2.filters import select as select_items
from eucalyptus.services.clc.ec2.paging import page

__all__ = [
    "ACTIONS",
    "MAX_TAGS",
    "resource_tags",
    "register_owner",
    "resource_type",
    "check_owned",
    "tags_of",
    "item_tags",
    "set_tags",
    "delete_all_tags",
    "checked_tags",
    "apply_tag_specifications",
    "create_tags",
    "delete_tags",
    "describe_tags",
]

#: The most tags one resource may have.
MAX_TAGS = 50

_MAX_KEY = 128
_MAX_VALUE = 256

resource_tags = Table(
    "resource_tags",
    db.metadata,
    Column("account_id", String(12), nullable=False),
    Column("resource_id", String(64), nullable=False),
    Column("key", String(_MAX_KEY), nullable=False),
    Column("value", String(_MAX_VALUE), nullable=False),
    PrimaryKeyConstraint("account_id", "resource_id", "key"),
)


@dataclass(frozen=True)
class _Kind:
    """
    A kind of taggable resource.

    @ivar resource_type: its C{ResourceType} (C{instance}, C{image}, ...).
    @ivar noun: how a message names one (C{"instance ID"}).
    @ivar not_found: the error for an id of this kind the caller does not
        own, or L{None} for L{InvalidID} until its module registers one.
    """

    resource_type: str
    noun: str
    not_found: type = None


_IMAGE = _Kind("image", "image id", InvalidAMIIDNotFound)

#: Id prefix to the kind of resource it names.
_KINDS = {
    "i": _Kind("instance", "instance ID", InstanceNotFound),
    "ami": _IMAGE,
    "emi": _IMAGE,
    "eki": _IMAGE,
    "eri": _IMAGE,
    "vol": _Kind("volume", "volume", VolumeNotFound),
    "snap": _Kind("snapshot", "snapshot", SnapshotNotFound),
    "sg": _Kind("security-group", "security group", GroupNotFound),
    "key": _Kind("key-pair", "key pair", KeyPairNotFound),
    "eipalloc": _Kind("elastic-ip", "allocation ID"),
}

#: Id prefix to C{(owns, not_found)} as modules registered them.
_OWNERS = {}

_ID = re.compile(r"([a-z]+)-[0-9a-zA-Z]{1,32}")


def register_owner(prefixes, owns, not_found=None):
    """
    Say how to tell whether an account owns a resource of these prefixes.
    Each resource module calls this once, when it is imported.

    @param prefixes: id prefixes without the dash (C{("i",)}).
    @param owns: C{owns(conn, account_id, resource_id) -> bool}, called in
        the tagging action's transaction.
    @param not_found: the L{AwsError} class to raise for an id of these
        prefixes the account does not own, if not the one this module
        knows for them.
    @raise ValueError: a prefix names no kind of taggable resource.
    """
    for prefix in prefixes:
        if prefix not in _KINDS:
            raise ValueError(f"{prefix}- ids are not taggable resources; the kinds are {sorted(_KINDS)}")
        _OWNERS[prefix] = (owns, not_found or _KINDS[prefix].not_found)


def _prefix(resource_id):
    match = _ID.fullmatch(resource_id)
    if match is None or match.group(1) not in _KINDS:
        return None
    return match.group(1)


def resource_type(resource_id):
    """
    The C{ResourceType} of the resource an id names, or L{None} if it is
    no id of a taggable resource.
    """
    prefix = _prefix(resource_id)
    return _KINDS[prefix].resource_type if prefix else None


def check_owned(conn, account_id, resource_ids):
    """
    Check that the account owns every resource.

    @raise InvalidID: an id of no kind this cloud tags.
    @raise AwsError: the C{NotFound} error of the first resource's kind
        that the account does not own (or that does not exist: the same).
    """
    for resource_id in resource_ids:
        prefix = _prefix(resource_id)
        if prefix is None:
            raise InvalidID(f"The ID '{resource_id}' is not valid")
        owns, not_found = _OWNERS.get(prefix, (None, _KINDS[prefix].not_found))
        if owns is None or not owns(conn, account_id, resource_id):
            noun = _KINDS[prefix].noun
            raise (not_found or InvalidID)(f"The {noun} '{resource_id}' does not exist")


def tags_of(conn, account_id, resource_ids):
    """
    The tags of resources of an account, for C{Describe*} results.

    @return: a dict from each of C{resource_ids} to its tags, a list of
        C{{"Key": ..., "Value": ...}} sorted by key (empty when it has
        none).
    """
    wanted = list(dict.fromkeys(resource_ids))
    found = {resource_id: [] for resource_id in wanted}
    if not wanted:
        return found
    query = (
        select(resource_tags.c.resource_id, resource_tags.c.key, resource_tags.c.value)
        .where(resource_tags.c.account_id == account_id, resource_tags.c.resource_id.in_(wanted))
        .order_by(resource_tags.c.resource_id, resource_tags.c.key)
    )
    for resource_id, key, value in conn.execute(query):
        found[resource_id].append({"Key": key, "Value": value})
    return found


def item_tags(item):
    """
    The tags of a C{Describe*} item that has a C{Tags} list, as the dict of
    key to value that L{eucalyptus.services.clc.ec2.filters.select} reads
    C{tag:} filters from: pass it as C{tags_of}.
    """
    return {tag["Key"]: tag["Value"] for tag in item.get("Tags") or ()}


def checked_tags(tags, member="Tag"):
    """
    Check the tags of a request.

    @param tags: a list of C{{"Key": ..., "Value": ...}}; a missing value is
        the empty string.
    @param member: how the request names the list, for messages.
    @return: a dict from key to value (the last value of a key given twice).
    @raise MissingParameter: a tag has no key.
    @raise InvalidParameterValue: a key is empty, too long or starts with
        C{aws:}, or a value is too long.
    """
    checked = {}
    for number, tag in enumerate(tags, 1):
        key = tag.get("Key")
        if key is None:
            raise MissingParameter(f"The request must contain the parameter {member}.{number}.Key")
        value = tag.get("Value") or ""
        if not 1 <= len(key) <= _MAX_KEY:
            raise InvalidParameterValue(
                f"Value ( {key} ) for parameter key is invalid. Tag keys must be 1 to {_MAX_KEY} characters long."
            )
        if key.lower().startswith("aws:"):
            raise InvalidParameterValue(
                f"Value ( {key} ) for parameter key is invalid. "
                "Tag keys starting with 'aws:' are reserved for internal use"
            )
        if len(value) > _MAX_VALUE:
            raise InvalidParameterValue(
                f"Value for tag '{key}' is invalid: tag values may be at most {_MAX_VALUE} characters long."
            )
        checked[key] = value
    return checked


def set_tags(conn, account_id, resource_ids, tags):
    """
    Add tags to resources of an account, replacing the values of keys they
    have already.  Ownership is the caller's to check (L{check_owned}).

    @param tags: a dict from key to value, as L{checked_tags} gives.
    @raise TagLimitExceeded: a resource would have more than L{MAX_TAGS}.
    """
    if not tags:
        return
    table = resource_tags.c
    for resource_id in dict.fromkeys(resource_ids):
        mine = (table.account_id == account_id, table.resource_id == resource_id)
        existing = set(conn.execute(select(table.key).where(*mine)).scalars())
        if len(existing | set(tags)) > MAX_TAGS:
            raise TagLimitExceeded(
                f"The maximum number of tags for resource '{resource_id}' has been reached: "
                f"a resource may have at most {MAX_TAGS} tags."
            )
        for key, value in tags.items():
            if key in existing:
                conn.execute(update(resource_tags).where(*mine, table.key == key).values(value=value))
            else:
                conn.execute(
                    resource_tags.insert().values(account_id=account_id, resource_id=resource_id, key=key, value=value)
                )


def delete_all_tags(conn, account_id, resource_ids):
    """
    Drop every tag of resources of an account (they are being deleted).
    """
    ids = list(resource_ids)
    if ids:
        conn.execute(
            delete(resource_tags).where(resource_tags.c.account_id == account_id, resource_tags.c.resource_id.in_(ids))
        )


def apply_tag_specifications(conn, account_id, resource_type, resource_id, specs, allowed=None):
    """
    Tag a resource a C{Create*} action just made with the request's
    C{TagSpecifications} for its type.

    @param resource_type: the new resource's C{ResourceType}.
    @param specs: the C{TagSpecifications} member of the input (or L{None}).
    @param allowed: the resource types the action takes specifications for,
        if more than C{resource_type} (C{RunInstances}: instances and
        volumes); specifications of the other allowed types are skipped.
    @return: the tags applied, a list of C{{"Key": ..., "Value": ...}}
        (empty if none).
    @raise InvalidParameterValue: a specification without a resource type,
        or of a type the action does not take; a bad tag (see
        L{checked_tags}).
    @raise TagLimitExceeded: more than L{MAX_TAGS} tags.
    """
    allowed = set(allowed or ()) | {resource_type}
    tags = {}
    for number, spec in enumerate(specs or (), 1):
        kind = spec.get("ResourceType")
        if not kind:
            raise InvalidParameterValue(f"TagSpecification.{number} has no ResourceType.")
        if kind not in allowed:
            raise InvalidParameterValue(f"'{kind}' is not a valid taggable resource type for this operation.")
        if kind == resource_type:
            tags.update(checked_tags(spec.get("Tags") or (), f"TagSpecification.{number}.Tag"))
    if len(tags) > MAX_TAGS:
        raise TagLimitExceeded(f"A resource may have at most {MAX_TAGS} tags; the request gives {len(tags)}.")
    set_tags(conn, account_id, [resource_id], tags)
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


def _resources(params):
    resources = params.get("Resources") or []
    if not resources:
        raise MissingParameter("The request must contain the parameter ResourceId.1")
    return resources


@blocking
def create_tags(context, params):
    """
    C{CreateTags}: add or overwrite tags of resources the caller owns; all
    or nothing.

    @raise AwsError: a resource's C{NotFound} (see L{check_owned}), a bad
        tag (L{checked_tags}), L{TagLimitExceeded}.
    """
    account_id = context.caller.account_id
    resources = _resources(params)
    tags = checked_tags(params.get("Tags") or ())
    if not tags:
        raise MissingParameter("The request must contain the parameter Tag.1.Key")
    with context.cloud.db.begin() as conn:
        check_owned(conn, account_id, resources)
        set_tags(conn, account_id, resources, tags)
    return None


@blocking
def delete_tags(context, params):
    """
    C{DeleteTags}: remove tags of resources the caller owns.  Without
    C{Tags} every tag goes; a tag with a key alone goes whatever its value;
    a tag with a value (even an empty one) goes only if its value is that.
    Removing a tag a resource does not have is not an error.

    @raise AwsError: a resource's C{NotFound} (see L{check_owned}).
    """
    account_id = context.caller.account_id
    resources = _resources(params)
    given = params.get("Tags")
    for number, tag in enumerate(given or (), 1):
        if tag.get("Key") is None:
            raise MissingParameter(f"The request must contain the parameter Tag.{number}.Key")
    table = resource_tags.c
    with context.cloud.db.begin() as conn:
        check_owned(conn, account_id, resources)
        mine = (table.account_id == account_id, table.resource_id.in_(resources))
        if not given:
            conn.execute(delete(resource_tags).where(*mine))
        for tag in given or ():
            condition = [*mine, table.key == tag["Key"]]
            if "Value" in tag:
                condition.append(table.value == (tag["Value"] or ""))
            conn.execute(delete(resource_tags).where(*condition))
    return None


_TAG_FILTERS = {
    "key": lambda tag: tag["Key"],
    "value": lambda tag: tag["Value"],
    "resource-id": lambda tag: tag["ResourceId"],
    "resource-type": lambda tag: tag["ResourceType"],
}


@blocking
def describe_tags(context, params):
    """
    C{DescribeTags}: the caller's tags, sorted by resource id and key, with
    the filters C{key}, C{value}, C{resource-id}, C{resource-type} and
    C{tag:<key>} (the resource has that tag), and paged by C{MaxResults}
    (5 to 1000) and C{NextToken}.
    """
    table = resource_tags.c
    query = select(table.resource_id, table.key, table.value).where(table.account_id == context.caller.account_id)
    with context.cloud.db.begin() as conn:
        rows = conn.execute(query).all()
    by_resource = {}
    for resource_id, key, value in rows:
        by_resource.setdefault(resource_id, {})[key] = value
    items = [
        {"ResourceId": resource_id, "ResourceType": resource_type(resource_id), "Key": key, "Value": value}
        for resource_id, key, value in rows
    ]
    chosen = select_items(
        items, params.get("Filters"), _TAG_FILTERS, tags_of=lambda tag: by_resource[tag["ResourceId"]]
    )
    tags, token = page(
        chosen, lambda tag: f"{tag['ResourceId']}\x00{tag['Key']}", params.get("MaxResults"), params.get("NextToken")
    )
    return {"Tags": tags, "NextToken": token}


#: EC2 action name to its function.
ACTIONS = {
    "CreateTags": create_tags,
    "DeleteTags": delete_tags,
    "DescribeTags": describe_tags,
}
