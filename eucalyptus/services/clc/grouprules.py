# -*- test-case-name: tests.services.clc.test_groups -*-
"""
The rules of security groups (L{eucalyptus.services.clc.groups}) and the
C{IpPermissions} of EC2's messages, both ways.

L{requested_rules} reads the rules an C{Authorize...} or C{Revoke...}
request names, by C{IpPermissions} or the old flat parameters
(C{IpProtocol}, C{FromPort}, C{ToPort}, C{CidrIp},
C{SourceSecurityGroupName}, C{SourceSecurityGroupOwnerId}), checking
protocols, port ranges, ICMP types and codes, CIDR blocks and
descriptions; the peer groups it names are looked up by a function
L{eucalyptus.services.clc.groups} passes in, which knows the tables.
L{ip_permissions} writes rules back as C{DescribeSecurityGroups} shows
them, and L{permission_filters} are the filters on what it shows.
"""

import ipaddress
from dataclasses import dataclass, field

from eucalyptus.errors import InvalidParameterValue
from eucalyptus.services.clc.ec2.errors import InvalidParameterCombination, MissingParameter

__all__ = ["Rule", "requested_rules", "ip_permissions", "permission_filters"]


@dataclass(frozen=True)
class Rule:
    """
    One rule of a security group.  Two rules are the same rule when all
    but their descriptions and peer group names are equal.

    @ivar egress: C{False} for what may come in, C{True} for what may go
        out.
    @ivar protocol: C{tcp}, C{udp}, C{icmp}, C{-1} (every protocol) or
        another protocol number (C{"47"}).
    @ivar from_port: the first port (TCP, UDP), the ICMP type (C{-1}: all),
        or L{None} (every port).
    @ivar to_port: the last port, the ICMP code (C{-1}: all), or L{None}.
    @ivar cidr: the peer's CIDR block (C{10.0.0.0/8}), or L{None}.
    @ivar peer_account_id: the account of the peer group, or L{None}.
    @ivar peer_group_id: the peer group (traffic from, or to, its
        members), or L{None}.
    @ivar peer_group_name: the peer group's name.
    @ivar description: the rule's description, or L{None}.
    """

    egress: bool
    protocol: str
    from_port: int = None
    to_port: int = None
    cidr: str = None
    peer_account_id: str = None
    peer_group_id: str = None
    peer_group_name: str = field(default=None, compare=False)
    description: str = field(default=None, compare=False)

    def text(self):
        """
        The rule as EC2's messages show it.
        """
        protocol = "ALL" if self.protocol == "-1" else self.protocol.upper()
        ports = "" if self.from_port is None else f", from port: {self.from_port}, to port: {self.to_port}"
        return f"peer: {self.cidr or self.peer_group_id}, {protocol}{ports}, ALLOW"


# Reading the rules of a request.

_FLAT = ("IpProtocol", "FromPort", "ToPort", "CidrIp", "SourceSecurityGroupName", "SourceSecurityGroupOwnerId")
_PROTOCOL_NAMES = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "-1": "-1"}
_PROTOCOL_NUMBERS = {1: "icmp", 6: "tcp", 17: "udp"}


def _protocol(value):
    """
    A protocol as a rule keeps it: C{tcp}, C{udp}, C{icmp}, C{-1} or
    another protocol number.
    """
    if value is None:
        raise MissingParameter("The request must contain the parameter IpProtocol")
    text = value.strip().lower()
    if text in _PROTOCOL_NAMES:
        return _PROTOCOL_NAMES[text]
    if text.isdigit() and 0 <= int(text) <= 255:
        return _PROTOCOL_NUMBERS.get(int(text), str(int(text)))
    raise InvalidParameterValue(
        f"Invalid value '{value}' for IP protocol. Unknown protocol: use tcp, udp, icmp, -1 (all) or a number 0-255."
    )


def _ports(protocol, from_port, to_port):
    """
    The port range (TCP, UDP) or ICMP type and code of a rule; L{None}s for
    other protocols, which have no ports.
    """
    if protocol in ("tcp", "udp"):
        if from_port is None or to_port is None:
            raise InvalidParameterValue(
                "Invalid value for portRange. Must specify both from and to ports with TCP/UDP."
            )
        for port in (from_port, to_port):
            if not 0 <= port <= 65535:
                raise InvalidParameterValue(f"TCP/UDP port ({port}) out of range: ports are 0 to 65535.")
        if from_port > to_port:
            raise InvalidParameterValue(
                f"Invalid TCP/UDP port range: the from port ({from_port}) is greater than the to port ({to_port})."
            )
        return from_port, to_port
    if protocol == "icmp":
        if from_port is None or to_port is None:
            raise InvalidParameterValue(
                "Invalid value for portRange. Must specify both from and to ports with ICMP: "
                "the ICMP type as FromPort and the code as ToPort, -1 for all."
            )
        for value, what in ((from_port, "type"), (to_port, "code")):
            if not -1 <= value <= 255:
                raise InvalidParameterValue(f"ICMP {what} ({value}) out of range: use -1 (all) or 0 to 255.")
        if from_port == -1 and to_port != -1:
            raise InvalidParameterValue(
                "Invalid ICMP code: when the ICMP type is -1 (all types), the code must be -1 too."
            )
        return from_port, to_port
    return None, None


def _cidr(text):
    try:
        if "/" not in text:
            raise ValueError(text)
        return str(ipaddress.IPv4Network(text.strip(), strict=False))
    except ValueError:
        raise InvalidParameterValue(f"Value ({text}) for parameter cidrIp is invalid. This is not a valid CIDR block.")


def _description(item):
    """
    The C{Description} of an C{IpRanges} or C{UserIdGroupPairs} item.
    """
    description = item.get("Description")
    if description is not None and len(description) > 255:
        raise InvalidParameterValue("Invalid rule description: descriptions are at most 255 characters long.")
    return description


def _flat_permissions(params):
    """
    The C{IpPermissions} the old flat parameters stand for.
    """
    protocol, low, high, cidr = (params.get(name) for name in _FLAT[:4])
    source, owner = params.get("SourceSecurityGroupName"), params.get("SourceSecurityGroupOwnerId")
    if source is None and owner is None:
        # EC2-Classic: without CidrIp, from anywhere.
        ranges = [{"CidrIp": cidr or "0.0.0.0/0"}]
        return [{"IpProtocol": protocol, "FromPort": low, "ToPort": high, "IpRanges": ranges}]
    if cidr is not None:
        raise InvalidParameterCombination(
            "CidrIp and SourceSecurityGroupName cannot be used together: use IpPermissions."
        )
    if source is None:
        raise MissingParameter("The request must contain the parameter SourceSecurityGroupName")
    pair = {"GroupName": source, "UserId": owner}
    if protocol is None and low is None and high is None:
        # EC2-Classic: a group alone lets in all of TCP, UDP and ICMP.
        return [
            {"IpProtocol": name, "FromPort": first, "ToPort": last, "UserIdGroupPairs": [pair]}
            for name, first, last in (("tcp", 0, 65535), ("udp", 0, 65535), ("icmp", -1, -1))
        ]
    return [{"IpProtocol": protocol, "FromPort": low, "ToPort": high, "UserIdGroupPairs": [pair]}]


def requested_rules(params, egress, peer):
    """
    The rules a request's C{IpPermissions}, or its flat parameters, name.

    @param params: the request's parameters.
    @param egress: whether they are egress rules.
    @param peer: C{peer(pair) -> row}: the security group a
        C{UserIdGroupPairs} item names, its row with C{account_id},
        C{group_id} and C{name}; it raises if there is none.
    @return: a list of L{Rule}.
    @raise InvalidParameterValue: a bad protocol, port range, ICMP type
        or code, CIDR or description.
    @raise MissingParameter: no rules, or a rule without a peer.
    @raise InvalidParameterCombination: flat parameters that cannot go
        together, or with C{IpPermissions}.
    """
    permissions = params.get("IpPermissions") or []
    flat = [name for name in _FLAT if params.get(name) is not None]
    if permissions and flat:
        raise InvalidParameterCombination(f"{flat[0]} and IpPermissions cannot be used together.")
    if params.get("SecurityGroupRuleIds"):
        raise InvalidParameterValue("SecurityGroupRuleIds are not supported by this cloud: give IpPermissions.")
    if not permissions:
        if not flat:
            raise MissingParameter("The request must contain the parameter IpPermissions")
        permissions = _flat_permissions(params)
    rules = []
    for number, permission in enumerate(permissions, 1):
        if permission.get("Ipv6Ranges") or permission.get("PrefixListIds"):
            raise InvalidParameterValue("This cloud's security groups take IPv4 ranges and groups only.")
        protocol = _protocol(permission.get("IpProtocol"))
        low, high = _ports(protocol, permission.get("FromPort"), permission.get("ToPort"))
        ranges, pairs = permission.get("IpRanges") or [], permission.get("UserIdGroupPairs") or []
        if not ranges and not pairs:
            raise MissingParameter(
                f"IpPermissions.{number} must say where the traffic comes from (or goes to): "
                "give IpRanges (a CIDR such as 0.0.0.0/0) or UserIdGroupPairs (a security group)."
            )
        for address in ranges:
            if not address.get("CidrIp"):
                raise MissingParameter(f"The request must contain the parameter IpPermissions.{number}.IpRanges.CidrIp")
            cidr = _cidr(address["CidrIp"])
            rules.append(Rule(egress, protocol, low, high, cidr=cidr, description=_description(address)))
        for pair in pairs:
            row = peer(pair)
            rules.append(
                Rule(
                    egress,
                    protocol,
                    low,
                    high,
                    peer_account_id=row.account_id,
                    peer_group_id=row.group_id,
                    peer_group_name=row.name,
                    description=_description(pair),
                )
            )
    return rules


# Writing rules as EC2 describes them.


def ip_permissions(rules):
    """
    Rules as EC2's C{IpPermissions}: one item per protocol and port range.
    Members without a value (the ports of C{-1}, descriptions not given)
    are left out.
    """
    grouped = {}
    for rule in rules:
        permission = grouped.setdefault(
            (rule.protocol, rule.from_port, rule.to_port),
            _present(
                IpProtocol=rule.protocol,
                FromPort=rule.from_port,
                ToPort=rule.to_port,
                IpRanges=[],
                UserIdGroupPairs=[],
                Ipv6Ranges=[],
                PrefixListIds=[],
            ),
        )
        if rule.cidr is not None:
            permission["IpRanges"].append(_present(CidrIp=rule.cidr, Description=rule.description))
        else:
            permission["UserIdGroupPairs"].append(
                _present(
                    UserId=rule.peer_account_id,
                    GroupId=rule.peer_group_id,
                    GroupName=rule.peer_group_name,
                    Description=rule.description,
                )
            )
    return list(grouped.values())


def _present(**members):
    return {name: value for name, value in members.items() if value is not None}


def _permission_values(member, read):
    def values(group):
        return [value for permission in group[member] for value in read(permission)]

    return values


def permission_filters(prefix, member):
    """
    The C{DescribeSecurityGroups} filters on a group's C{IpPermissions}
    (or C{IpPermissionsEgress}): C{protocol}, C{from-port}, C{to-port},
    C{cidr}, C{group-name}, C{group-id} and C{user-id}.

    @param prefix: the filters' prefix (C{ip-permission.}).
    @param member: the described group's member they look at.
    @return: a dict from filter name to C{function(group) -> values}.
    """
    return {
        f"{prefix}protocol": _permission_values(member, lambda p: [p["IpProtocol"]]),
        f"{prefix}from-port": _permission_values(member, lambda p: [p.get("FromPort")]),
        f"{prefix}to-port": _permission_values(member, lambda p: [p.get("ToPort")]),
        f"{prefix}cidr": _permission_values(member, lambda p: [r["CidrIp"] for r in p["IpRanges"]]),
        f"{prefix}group-name": _permission_values(member, lambda p: [g["GroupName"] for g in p["UserIdGroupPairs"]]),
        f"{prefix}group-id": _permission_values(member, lambda p: [g["GroupId"] for g in p["UserIdGroupPairs"]]),
        f"{prefix}user-id": _permission_values(member, lambda p: [g["UserId"] for g in p["UserIdGroupPairs"]]),
    }
