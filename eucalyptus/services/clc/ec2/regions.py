# -*- test-case-name: tests.services.clc.test_ec2_dispatch -*-
"""
C{DescribeRegions} and C{DescribeAvailabilityZones}: the cloud is one
region, C{eucalyptus}, whose zones are its clusters.

Eucalyptus zones have no id apart from their name, so a zone's C{ZoneId}
is its name.
"""

from eucalyptus.errors import InvalidParameterValue
from eucalyptus.services.clc.ec2.filters import select

__all__ = ["describe_regions", "describe_availability_zones"]

_OPT_IN = "opt-in-not-required"

_REGION_FILTERS = {
    "region-name": lambda region: region["RegionName"],
    "endpoint": lambda region: region["Endpoint"],
    "opt-in-status": lambda region: region["OptInStatus"],
}

_ZONE_FILTERS = {
    "zone-name": lambda zone: zone["ZoneName"],
    "zone-id": lambda zone: zone["ZoneId"],
    "zone-type": lambda zone: zone["ZoneType"],
    "state": lambda zone: zone["State"],
    "region-name": lambda zone: zone["RegionName"],
    "group-name": lambda zone: zone["GroupName"],
    "opt-in-status": lambda zone: zone["OptInStatus"],
    "message": lambda zone: [message["Message"] for message in zone["Messages"]],
}


def describe_regions(context, params):
    """
    C{DescribeRegions}: the cloud's one region, its endpoint the CLC's EC2
    URL.

    @raise InvalidParameterValue: C{RegionNames} names another region, or a
        filter is unknown.
    """
    region = context.region
    _check_names("region", params.get("RegionNames", ()), (region.name,))
    regions = [{"RegionName": region.name, "Endpoint": region.endpoint, "OptInStatus": _OPT_IN}]
    return {"Regions": select(regions, params.get("Filters"), _REGION_FILTERS)}


def describe_availability_zones(context, params):
    """
    C{DescribeAvailabilityZones}: the zones of the region, all available.

    @raise InvalidParameterValue: C{ZoneNames} or C{ZoneIds} names a zone
        the cloud does not have, or a filter is unknown.
    """
    region = context.region
    zones = [_zone(region, name) for name in region.zones]
    names, ids = params.get("ZoneNames", ()), params.get("ZoneIds", ())
    _check_names("zone", names, region.zones)
    _check_names("zone", ids, region.zones)
    if names or ids:
        zones = [zone for zone in zones if zone["ZoneName"] in names or zone["ZoneId"] in ids]
    return {"AvailabilityZones": select(zones, params.get("Filters"), _ZONE_FILTERS)}


def _zone(region, name):
    return {
        "ZoneName": name,
        "ZoneId": name,
        "ZoneType": "availability-zone",
        "State": "available",
        "RegionName": region.name,
        "GroupName": region.name,
        "NetworkBorderGroup": region.name,
        "OptInStatus": _OPT_IN,
        "Messages": [],
    }


def _check_names(kind, asked, existing):
    """
    Every name in C{asked} must be one of C{existing}.
    """
    for name in asked:
        if name not in existing:
            raise InvalidParameterValue(f"The {kind} '{name}' does not exist in this cloud.")
