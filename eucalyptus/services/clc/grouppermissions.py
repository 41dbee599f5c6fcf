# -*- test-case-name: tests.services.clc.test_groups -*-
"""
C{AuthorizeSecurityGroupIngress}/C{Egress} and
C{RevokeSecurityGroupIngress}/C{Egress}: adding and removing a group's
rules, all of a request's rules or none.  The rules are read from the
request by L{eucalyptus.services.clc.grouprules}; the groups and their rule
table are L{eucalyptus.services.clc.groups}'.
"""

from sqlalchemy import delete, select

from eucalyptus.accounts import accounts as account_table
from eucalyptus.services.clc.ec2.dispatch import blocking
from eucalyptus.services.clc.ec2.errors import (
    GroupNotFound, MissingParameter, PermissionDuplicate, PermissionNotFound)
from eucalyptus.services.clc.grouprules import requested_rules
from eucalyptus.services.clc.groups import (
    DEFAULT, _add_rules, _check_id, _group_row, _rules, _target, ensure_default, security_group_rules)

__all__ = ["ACTIONS"]


def _account_exists(conn, account_id):
    query = select(account_table.c.account_id).where(account_table.c.account_id == account_id)
    return conn.execute(query).first() is not None


def _peer(conn, account_id, pair):
    """
    The group a C{UserIdGroupPairs} item names: one of the caller's, or of
    the account C{UserId}, by C{GroupId} or C{GroupName}.

    @return: its row.
    """
    owner = (pair.get("UserId") or account_id).replace("-", "")
    group_id, name = pair.get("GroupId"), pair.get("GroupName")
    if group_id:
        _check_id(group_id)
        row = _group_row(conn, owner, group_id=group_id)
    elif name:
        if name == DEFAULT and _account_exists(conn, owner):
            ensure_default(conn, owner)
        row = _group_row(conn, owner, name=name)
    else:
        raise MissingParameter(
            "Each UserIdGroupPairs item must contain GroupId or GroupName " "(and UserId for another account's group)."
        )
    if row is None:
        where = "" if owner == account_id else f" in account {owner}"
        raise GroupNotFound(f"The security group '{group_id or name}' does not exist{where}")
    return row


def _requested_rules(conn, account_id, params, egress):
    """
    The rules a request names (L{requested_rules}), its peer groups looked
    up with L{_peer}.
    """
    return requested_rules(params, egress, lambda pair: _peer(conn, account_id, pair))


def _authorize(context, params, egress):
    account_id = context.caller.account_id
    with context.cloud.db.begin() as conn:
        group = _target(conn, account_id, params)
        rules = _requested_rules(conn, account_id, params, egress)
        existing = set(_rules(conn, account_id, group.group_id).get(group.group_id, []))
        for rule in rules:
            if rule in existing:
                raise PermissionDuplicate(f'the specified rule "{rule.text()}" already exists')
            existing.add(rule)
        _add_rules(conn, account_id, group.group_id, rules)
    return {"Return": True}


def _revoke(context, params, egress):
    account_id = context.caller.account_id
    table = security_group_rules.c
    with context.cloud.db.begin() as conn:
        group = _target(conn, account_id, params)
        rules = _requested_rules(conn, account_id, params, egress)
        existing = set(_rules(conn, account_id, group.group_id).get(group.group_id, []))
        for rule in rules:
            if rule not in existing:
                raise PermissionNotFound(f'The specified rule "{rule.text()}" does not exist in this security group.')
        for rule in set(rules):
            conn.execute(
                delete(security_group_rules).where(
                    table.account_id == account_id,
                    table.group_id == group.group_id,
                    table.egress == rule.egress,
                    table.protocol == rule.protocol,
                    _is(table.from_port, rule.from_port),
                    _is(table.to_port, rule.to_port),
                    _is(table.cidr, rule.cidr),
                    _is(table.peer_account_id, rule.peer_account_id),
                    _is(table.peer_group_id, rule.peer_group_id),
                )
            )
    return {"Return": True}


def _is(column, value):
    return column.is_(None) if value is None else column == value


@blocking
def authorize_security_group_ingress(context, params):
    """
    C{AuthorizeSecurityGroupIngress}: let traffic into the group's members,
    by C{IpPermissions} or the old flat parameters; all rules or none.

    @raise GroupNotFound: the group, or a peer group, does not exist.
    @raise PermissionDuplicate: the group has one of the rules already.
    @raise InvalidParameterValue: a bad protocol, port range or CIDR.
    """
    return _authorize(context, params, egress=False)


@blocking
def authorize_security_group_egress(context, params):
    """
    C{AuthorizeSecurityGroupEgress}: let the group's members send traffic;
    as L{authorize_security_group_ingress}.
    """
    return _authorize(context, params, egress=True)


@blocking
def revoke_security_group_ingress(context, params):
    """
    C{RevokeSecurityGroupIngress}: remove rules; all of them or none.

    @raise PermissionNotFound: the group has no such rule.
    """
    return _revoke(context, params, egress=False)


@blocking
def revoke_security_group_egress(context, params):
    """
    C{RevokeSecurityGroupEgress}: as L{revoke_security_group_ingress}.
    """
    return _revoke(context, params, egress=True)


#: EC2 action name to its function.
ACTIONS = {
    "AuthorizeSecurityGroupIngress": authorize_security_group_ingress,
    "AuthorizeSecurityGroupEgress": authorize_security_group_egress,
    "RevokeSecurityGroupIngress": revoke_security_group_ingress,
    "RevokeSecurityGroupEgress": revoke_security_group_egress,
}
