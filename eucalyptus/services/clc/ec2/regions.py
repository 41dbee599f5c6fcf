# -*- test-case-name: tests.services.clc.test_ec2_dispatch -*-
"""
C{DescribeRegions} and C{DescribeAvailabilityZones}: the cloud is one
region, C{eucalyptus}, whose zones are its clusters.

Eucalyptus zones have no id apart from their name, so a zone's C{ZoneId}
is its name.
"""

from eucalyptus.errors import InvalidParameterValue
from eucalyptus.services.clc import vmtypes
from eucalyptus.services.clc.ec2.dispatch import blocking
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


@blocking
def describe_availability_zones(context, params):
    """
    C{DescribeAvailabilityZones}: the zones of the region, C{available}
    while their cluster answers; for an administrator asking C{verbose},
    Eucalyptus's listing of what each zone has room for.

    @raise InvalidParameterValue: C{ZoneNames} or C{ZoneIds} names a zone
        the cloud does not have, or a filter is unknown.
    """
    region = context.region
    names, ids = list(params.get("ZoneNames", ())), params.get("ZoneIds", ())
    if "verbose" in names:
        names.remove("verbose")
        if context.caller.administrator and context.cloud is not None:
            return {"AvailabilityZones": _verbose(context, region)}
    zones = [_zone(region, name, _state(context, name)) for name in region.zones]
    _check_names("zone", names, region.zones)
    _check_names("zone", ids, region.zones)
    if names or ids:
        zones = [zone for zone in zones if zone["ZoneName"] in names or zone["ZoneId"] in ids]
    return {"AvailabilityZones": select(zones, params.get("Filters"), _ZONE_FILTERS)}


def _state(context, name):
    """
    C{available} while the zone's cluster answers; before the CLC has
    heard from it, or when it does not answer, C{unavailable}.
    """
    if context.cloud is None:
        return "available"
    cluster = context.cloud.clusters.get(name)
    return "available" if cluster is not None and cluster.state == "ENABLED" else "unavailable"


def _verbose(context, region):
    """
    Eucalyptus's C{verbose} listing for administrators: each zone, then one
    line per VM type with how many more instances fit and how many fit at
    most, and the type's cores, memory (MB) and disk (GB).
    """
    with context.cloud.db.connect() as conn:
        types = vmtypes.all_vm_types(conn)
    listing = []
    for name in region.zones:
        cluster = context.cloud.clusters.get(name)
        listing.append(_zone(region, name, _state(context, name),
                             message=cluster.client.url if cluster is not None else ""))
        listing.append(_zone(region, "|- vm types", "free / max   cpu   ram  disk"))
        for vm in types:
            figures = cluster.resources.get(vm.name) if cluster is not None else None
            free, most = (figures.available, figures.maximum) if figures else (0, 0)
            line = f"{free:04d} / {most:04d}  {vm.cores:4d} {vm.memory:5d} {vm.disk:5d}"
            listing.append(_zone(region, f"|- {vm.name}", line))
    return listing


def _zone(region, name, state="available", message=None):
    return {
        "ZoneName": name,
        "ZoneId": name,
        "ZoneType": "availability-zone",
        "State": state,
        "RegionName": region.name,
        "GroupName": region.name,
        "NetworkBorderGroup": region.name,
        "OptInStatus": _OPT_IN,
        "Messages": [{"Message": message}] if message else [],
    }


def _check_names(kind, asked, existing):
    """
    Every name in C{asked} must be one of C{existing}.
    """
    for name in asked:
        if name not in existing:
            raise InvalidParameterValue(f"The {kind} '{name}' does not exist in this cloud.")
