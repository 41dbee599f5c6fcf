# -*- test-case-name: tests.services.cc.test_network -*-
"""
The Cluster Controller's side of the zone's VM network (C{VNET_MODE}).

In C{SYSTEM} mode the network is the data centre's: the NC bridges each
guest onto C{VNET_BRIDGE}, an outside DHCP server gives it an address, and
the cluster has no security groups and no elastic IPs.  The CC's part is a
MAC address per instance (C{VNET_MACPREFIX} followed by the instance id's
last eight hex digits, as Eucalyptus 3 did) and answering the network
operations for what this mode is: starting and stopping a group's network
and configuring its rules are no-ops, there are no public addresses to
describe, and assigning one is refused.

The modes where the cloud owns the network (C{MANAGED-NOVLAN}, C{EDGE})
answer C{DescribeNetworks} with their configuration; their address and rule
operations are refused until this cluster can carry them out.
"""

import re

from eucalyptus.errors import ClientError, InvalidParameterValue

__all__ = ["mac_for", "ClusterNetwork", "UnsupportedOperation", "SYSTEM"]

SYSTEM = "SYSTEM"

_HEX_ID = re.compile(r"^[a-z]+-([0-9a-f]{8,17})$")


class UnsupportedOperation(ClientError):
    """
    The operation makes no sense in this cluster's networking mode.
    """

    code = "UnsupportedOperation"


def mac_for(instance_id, prefix="d0:0d"):
    """
    The MAC address of an instance that was given none: C{prefix}
    (two octets) then the last eight hex digits of its id.

    @raise InvalidParameterValue: for an id without hex digits to use.
    """
    match = _HEX_ID.match(instance_id or "")
    if not match:
        raise InvalidParameterValue(f"Cannot derive a MAC address from the instance id {instance_id!r}.")
    digits = match.group(1)[-8:]
    return ":".join([prefix.lower()] + [digits[i : i + 2] for i in range(0, 8, 2)])


class ClusterNetwork:
    """
    The network operations of one cluster.

    @ivar mode: the C{VNET_MODE}.
    """

    def __init__(self, mode, subnet, netmask, addresses_per_net):
        self.mode = mode
        self.subnet = subnet
        self.netmask = netmask
        self.addresses_per_net = addresses_per_net

    def _system_only(self, what):
        if self.mode != SYSTEM:
            raise UnsupportedOperation(f"{what} in VNET_MODE {self.mode} is not available on this cluster yet.")

    def start_network(self, account_id, group):
        """
        Bring up a security group's network: nothing to do in C{SYSTEM} mode.
        """
        self._system_only("Starting a group's network")

    def stop_network(self, account_id, group):
        """
        Take a security group's network down: nothing to do in C{SYSTEM} mode.
        """
        self._system_only("Stopping a group's network")

    def configure(self, account_id, rules):
        """
        Apply a group's rules: C{SYSTEM} mode has no groups to enforce.
        """
        self._system_only("Configuring group rules")

    def assign_address(self, public, private):
        """
        Map an elastic IP to an instance: refused, there are none here.
        """
        raise UnsupportedOperation(
            f"Elastic IPs need VNET_MODE MANAGED-NOVLAN or EDGE; this cluster cannot map {public} to {private}."
        )

    def unassign_address(self, public, private):
        """
        Unmap an elastic IP: refused, there are none here.
        """
        raise UnsupportedOperation(
            f"Elastic IPs need VNET_MODE MANAGED-NOVLAN or EDGE; this cluster has no {public} to unmap from {private}."
        )

    def public_addresses(self):
        """
        The public addresses and where they point: none.
        """
        return []

    def describe(self):
        """
        The mode and private range, for C{DescribeNetworks}.

        @return: a dict of the response's fields.
        """
        return dict(
            mode=self.mode,
            useVlans=0,
            addrsPerNet=self.addresses_per_net,
            addrIndexMin=0,
            addrIndexMax=0,
            vlanMin=0,
            vlanMax=0,
            vnetSubnet=self.subnet,
            vnetNetmask=self.netmask,
            activeNetworks=[],
        )
