# -*- test-case-name: tests.services.clc.test_groups -*-
"""
Security groups as EC2-Classic and Eucalyptus have them (no VPCs):
C{CreateSecurityGroup}, C{DeleteSecurityGroup}, C{DescribeSecurityGroups},
C{AuthorizeSecurityGroupIngress}/C{Egress} and
C{RevokeSecurityGroupIngress}/C{Egress}.

Every account has a group called C{default}, made the first time the
account's groups are described or used (L{ensure_default}), whose rules
let in TCP, UDP and ICMP from its own members, as EC2-Classic's default
group did.  Every group, C{default} included, starts with one egress rule
letting everything out (C{-1} to C{0.0.0.0/0}), as a VPC group does: the
egress rules are what may leave, and revoking that rule closes the way
out.

A rule is one row: a direction, a protocol (C{tcp}, C{udp}, C{icmp}, C{-1}
for all, or another protocol number), a port range (TCP, UDP) or ICMP type
and code, and one peer: a CIDR block or a security group, possibly of
another account (named by its owner's account id and the group's name or
id).  C{DescribeSecurityGroups} gathers rules of the same protocol and
ports into one C{IpPermissions} item.  L{rules_of} gives a group's rules as
L{Rule}s for the networking code.  Reading a request's rules, and writing
rules as EC2 shows them, is L{eucalyptus.services.clc.grouprules}'s part.

A group in use by instances cannot be deleted: the instances code says
which are with L{register_in_use} (until it does, none are).  A group whose
members other groups of its account let in cannot be deleted either;
rules of other accounts that name it go with it.
"""

import re
from datetime import datetime, timezone

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
    delete,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from eucalyptus.errors import InvalidParameterValue
from eucalyptus.services.clc import db, tags
from eucalyptus.services.clc.ec2.dispatch import blocking
from eucalyptus.services.clc.ec2.errors import (
    CannotDelete,
    GroupDuplicate,
    GroupIdMalformed,
    GroupInUse,
    GroupNotFound,
    MissingParameter,
)
from eucalyptus.services.clc.ec2.filters import select as select_items
from eucalyptus.services.clc.grouprules import Rule, ip_permissions, permission_filters
from eucalyptus.services.clc.ec2.paging import page

__all__ = [
    "ACTIONS",
    "DEFAULT",
    "Rule",
    "security_groups",
    "security_group_rules",
    "ensure_default",
    "rules_of",
    "group_ids_by_name",
    "groups_for_launch",
    "register_in_use",
    "unregister_in_use",
    "owns",
    "create_security_group",
    "delete_security_group",
    "describe_security_groups",
]

#: The name of every account's default group.
DEFAULT = "default"

security_groups = Table(
    "security_groups",
    db.metadata,
    Column("group_id", String(32), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("name", String(255), nullable=False),
    Column("description", String(255), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    UniqueConstraint("account_id", "name"),
)

security_group_rules = Table(
    "security_group_rules",
    db.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(12), nullable=False, index=True),
    Column("group_id", String(32), ForeignKey("security_groups.group_id", ondelete="CASCADE"), nullable=False),
    Column("egress", Boolean, nullable=False),
    Column("protocol", String(8), nullable=False),
    Column("from_port", Integer),
    Column("to_port", Integer),
    Column("cidr", String(18)),
    # The peer group may be another account's, so no foreign key: deleting
    # a group deletes the rules that name it (see delete_security_group).
    Column("peer_account_id", String(12)),
    Column("peer_group_id", String(32), index=True),
    Column("description", String(255)),
)


_IN_USE = []


def register_in_use(function):
    """
    Add a way to learn which groups are in use by instances, which
    C{DeleteSecurityGroup} refuses to delete.

    @param function: C{function(conn, account_id) -> set of group ids},
        called in the action's transaction.
    """
    _IN_USE.append(function)


def unregister_in_use(function):
    """
    Undo L{register_in_use}.
    """
    _IN_USE.remove(function)


def _insert_group(conn, row):
    """
    Insert a group unless its account has one of that name already (made
    by a request running at the same time, say), without failing the
    transaction: C{INSERT ... ON CONFLICT DO NOTHING}, which SQLite and
    PostgreSQL both have.

    @param row: the group's columns.
    @return: whether this row was inserted.
    """
    dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(conn.dialect.name)
    if dialect is None:
        conn.execute(security_groups.insert().values(**row))
        return True
    conn.execute(dialect.insert(security_groups).values(**row).on_conflict_do_nothing())
    found = _group_row(conn, row["account_id"], name=row["name"])
    return found is not None and found.group_id == row["group_id"]


def _group_row(conn, account_id, group_id=None, name=None):
    table = security_groups.c
    condition = table.group_id == group_id if group_id is not None else table.name == name
    return conn.execute(select(security_groups).where(table.account_id == account_id, condition)).first()


def _add_rules(conn, account_id, group_id, rules):
    if rules:
        conn.execute(
            security_group_rules.insert(),
            [
                dict(
                    account_id=account_id,
                    group_id=group_id,
                    egress=rule.egress,
                    protocol=rule.protocol,
                    from_port=rule.from_port,
                    to_port=rule.to_port,
                    cidr=rule.cidr,
                    peer_account_id=rule.peer_account_id,
                    peer_group_id=rule.peer_group_id,
                    description=rule.description,
                )
                for rule in rules
            ],
        )


_ALL_OUT = Rule(True, "-1", cidr="0.0.0.0/0")


def _create(conn, account_id, name, description):
    """
    Make a group with the rules every new group has.

    @return: its id, or L{None} if the account has a group of that name.
    """
    group_id = db.new_id("sg")
    row = dict(
        group_id=group_id, account_id=account_id, name=name, description=description, created=datetime.now(timezone.utc)
    )
    if not _insert_group(conn, row):
        return None
    rules = [_ALL_OUT]
    if name == DEFAULT:
        rules += [
            Rule(False, protocol, low, high, peer_account_id=account_id, peer_group_id=group_id)
            for protocol, low, high in (("tcp", 0, 65535), ("udp", 0, 65535), ("icmp", -1, -1))
        ]
    _add_rules(conn, account_id, group_id, rules)
    return group_id


def ensure_default(conn, account_id):
    """
    Make the account's C{default} group if it has none yet.

    @return: the default group's id.
    """
    row = _group_row(conn, account_id, name=DEFAULT)
    if row is not None:
        return row.group_id
    return _create(conn, account_id, DEFAULT, "default group") or _group_row(conn, account_id, name=DEFAULT).group_id


def rules_of(conn, account_id, group_id):
    """
    The rules of an account's group, ingress first, in the order they were
    made.

    @return: a list of L{Rule} (empty if the account has no such group).
    """
    return _rules(conn, account_id, group_id).get(group_id, [])


def _rules(conn, account_id, group_id=None):
    """
    The rules of an account's groups (or of one).

    @return: a dict from group id to its L{Rule}s, ingress first.
    """
    table = security_group_rules.c
    peer = security_groups.alias("peer")
    query = (
        select(security_group_rules, peer.c.name.label("peer_group_name"))
        .select_from(security_group_rules.outerjoin(peer, table.peer_group_id == peer.c.group_id))
        .where(table.account_id == account_id)
        .order_by(table.egress, table.id)
    )
    if group_id is not None:
        query = query.where(table.group_id == group_id)
    found = {}
    for row in conn.execute(query):
        found.setdefault(row.group_id, []).append(
            Rule(
                bool(row.egress),
                row.protocol,
                row.from_port,
                row.to_port,
                row.cidr,
                row.peer_account_id,
                row.peer_group_id,
                row.peer_group_name,
                row.description,
            )
        )
    return found


def _not_found(what):
    return GroupNotFound(f"The security group '{what}' does not exist")


def group_ids_by_name(conn, account_id, names):
    """
    The ids of an account's groups, by name (for C{RunInstances}); the
    C{default} group is made if need be.

    @return: a list of ids in the order of C{names}.
    @raise GroupNotFound: the account has no group of one of the names.
    """
    return [group["GroupId"] for group in groups_for_launch(conn, account_id, names=names)]


def groups_for_launch(conn, account_id, names=(), ids=()):
    """
    The groups C{RunInstances} names by C{SecurityGroups} and
    C{SecurityGroupIds}; the C{default} group is made if need be.

    @return: a list of C{{"GroupId": ..., "GroupName": ...}}, those named
        first, without repeats.
    @raise GroupNotFound: the account has no such group.
    @raise GroupIdMalformed: an id is not C{sg-...}.
    """
    ensure_default(conn, account_id)
    found = {}
    for name in names:
        row = _group_row(conn, account_id, name=name)
        if row is None:
            raise _not_found(name)
        found[row.group_id] = row.name
    for group_id in ids:
        _check_id(group_id)
        row = _group_row(conn, account_id, group_id=group_id)
        if row is None:
            raise _not_found(group_id)
        found[row.group_id] = row.name
    return [{"GroupId": group_id, "GroupName": name} for group_id, name in found.items()]


def owns(conn, account_id, group_id):
    """
    Whether the account has the group of this id (for tags).
    """
    return _group_row(conn, account_id, group_id=group_id) is not None


tags.register_owner(("sg",), owns)

_GROUP_ID = re.compile(r"sg-[0-9a-zA-Z]{1,32}")
_ASCII = re.compile(r"[\x20-\x7e]*")


def _check_id(group_id):
    if not _GROUP_ID.fullmatch(group_id):
        raise GroupIdMalformed(f'Invalid id: "{group_id}" (expecting "sg-...")')


def _check_text(value, parameter):
    if not value:
        raise MissingParameter(f"The request must contain the parameter {parameter}")
    if len(value) > 255 or not _ASCII.fullmatch(value):
        raise InvalidParameterValue(
            f"Value ({value}) for parameter {parameter} is invalid: use 1 to 255 printable ASCII characters."
        )


def _target(conn, account_id, params):
    """
    The caller's group an action names by C{GroupId} or C{GroupName}.
    """
    ensure_default(conn, account_id)
    group_id, name = params.get("GroupId"), params.get("GroupName")
    if group_id:
        _check_id(group_id)
        row = _group_row(conn, account_id, group_id=group_id)
    elif name:
        row = _group_row(conn, account_id, name=name)
    else:
        raise MissingParameter("The request must contain the parameter GroupName or GroupId")
    if row is None:
        raise _not_found(group_id or name)
    return row


@blocking
def create_security_group(context, params):
    """
    C{CreateSecurityGroup}: a new group of the caller, with the egress rule
    every group starts with.

    @raise InvalidParameterValue: a name or description that is not 1 to
        255 ASCII characters, a name starting with C{sg-}, a C{VpcId}.
    @raise GroupDuplicate: the caller has a group of that name.
    """
    name, description = params["GroupName"], params["Description"]
    _check_text(name, "GroupName")
    _check_text(description, "GroupDescription")
    if name.lower().startswith("sg-"):
        raise InvalidParameterValue(
            f"Value ({name}) for parameter GroupName is invalid. Group names may not be in the format sg-*"
        )
    if params.get("VpcId"):
        raise InvalidParameterValue("This cloud has no VPCs: create the group without a VpcId.")
    account_id = context.caller.account_id
    try:
        with context.cloud.db.begin() as conn:
            ensure_default(conn, account_id)
            group_id = _create(conn, account_id, name, description)
            if group_id is None:
                raise GroupDuplicate(f"The security group '{name}' already exists")
            applied = tags.apply_tag_specifications(
                conn, account_id, "security-group", group_id, params.get("TagSpecifications")
            )
    except IntegrityError:
        raise GroupDuplicate(f"The security group '{name}' already exists")
    return {"GroupId": group_id, "Tags": applied or None}


@blocking
def delete_security_group(context, params):
    """
    C{DeleteSecurityGroup}: by C{GroupId} or C{GroupName}, with its rules,
    its tags, and other accounts' rules that name it.

    @raise GroupNotFound: the caller has no such group.
    @raise CannotDelete: it is the C{default} group.
    @raise GroupInUse: instances are in it, or other groups of the caller
        let its members in (or out to them).
    """
    account_id = context.caller.account_id
    table = security_group_rules.c
    with context.cloud.db.begin() as conn:
        group = _target(conn, account_id, params)
        if group.name == DEFAULT:
            raise CannotDelete(f'the specified group: "{group.group_id}" name: "default" cannot be deleted by a user')
        if any(group.group_id in function(conn, account_id) for function in _IN_USE):
            raise GroupInUse(f"There are active instances using security group '{group.name}'")
        users = conn.execute(
            select(table.group_id)
            .where(table.account_id == account_id, table.peer_group_id == group.group_id)
            .where(table.group_id != group.group_id)
            .distinct()
        ).scalars()
        users = sorted(users)
        if users:
            raise GroupInUse(
                f"Group {group.group_id} is used by groups: {', '.join(users)}; "
                "revoke the rules of those groups that name it first."
            )
        conn.execute(
            delete(security_group_rules).where(
                or_(table.group_id == group.group_id, table.peer_group_id == group.group_id)
            )
        )
        conn.execute(delete(security_groups).where(security_groups.c.group_id == group.group_id))
        tags.delete_all_tags(conn, account_id, [group.group_id])
    return {"Return": True, "GroupId": group.group_id}


_GROUP_FILTERS = {
    "group-name": lambda group: group["GroupName"],
    "group-id": lambda group: group["GroupId"],
    "description": lambda group: group["Description"],
    "owner-id": lambda group: group["OwnerId"],
    **permission_filters("ip-permission.", "IpPermissions"),
    **permission_filters("egress.ip-permission.", "IpPermissionsEgress"),
}


@blocking
def describe_security_groups(context, params):
    """
    C{DescribeSecurityGroups}: the caller's groups (C{default} made if need
    be), those named by C{GroupNames} and C{GroupIds} if given, that match
    the filters (C{group-name}, C{group-id}, C{description}, C{owner-id},
    C{ip-permission.protocol}, C{.from-port}, C{.to-port}, C{.cidr},
    C{.group-name}, C{.group-id}, C{.user-id}, the same for
    C{egress.ip-permission.}, and C{tag:}), sorted by id and paged by
    C{MaxResults} and C{NextToken}.

    @raise GroupNotFound: a named group is not the caller's.
    @raise GroupIdMalformed: an id is not C{sg-...}.
    """
    account_id = context.caller.account_id
    names, ids = params.get("GroupNames") or [], params.get("GroupIds") or []
    for group_id in ids:
        _check_id(group_id)
    with context.cloud.db.begin() as conn:
        ensure_default(conn, account_id)
        rows = conn.execute(select(security_groups).where(security_groups.c.account_id == account_id)).all()
        rules = _rules(conn, account_id)
        tagged = tags.tags_of(conn, account_id, [row.group_id for row in rows])
    for wanted, column in ((names, "name"), (ids, "group_id")):
        have = {getattr(row, column) for row in rows}
        for value in wanted:
            if value not in have:
                raise _not_found(value)
    if names or ids:
        rows = [row for row in rows if row.name in names or row.group_id in ids]
    groups = []
    for row in rows:
        group_rules = rules.get(row.group_id, [])
        groups.append(
            {
                "OwnerId": row.account_id,
                "GroupName": row.name,
                "GroupId": row.group_id,
                "Description": row.description,
                "IpPermissions": ip_permissions([rule for rule in group_rules if not rule.egress]),
                "IpPermissionsEgress": ip_permissions([rule for rule in group_rules if rule.egress]),
                "Tags": tagged[row.group_id],
            }
        )
    chosen = select_items(groups, params.get("Filters"), _GROUP_FILTERS, tags_of=tags.item_tags)
    chosen, token = page(chosen, lambda group: group["GroupId"], params.get("MaxResults"), params.get("NextToken"))
    return {"SecurityGroups": chosen, "NextToken": token}


#: EC2 action name to its function (the permission actions are
#: L{eucalyptus.services.clc.grouppermissions}).
ACTIONS = {
    "CreateSecurityGroup": create_security_group,
    "DeleteSecurityGroup": delete_security_group,
    "DescribeSecurityGroups": describe_security_groups,
}
