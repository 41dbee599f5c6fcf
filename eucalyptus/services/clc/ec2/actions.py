# -*- test-case-name: tests.services.clc.test_ec2_dispatch -*-
"""
The EC2 actions this cloud answers: the explicit table the dispatcher
looks actions up in, made of each resource module's own table.  Every
other action of botocore's EC2 model is answered C{UnsupportedOperation};
any other name is C{InvalidAction}.
"""

from eucalyptus.services.clc import (
    grouppermissions,
    groups,
    imageattributes,
    imageregistration,
    images,
    instance_actions,
    keypairs,
    tags,
    vmtypes,
)
from eucalyptus.services.clc.ec2 import regions

__all__ = ["ACTIONS"]

#: Action name to the function that does it (see
#: L{eucalyptus.services.clc.ec2.dispatch}).
ACTIONS = {
    "DescribeRegions": regions.describe_regions,
    "DescribeAvailabilityZones": regions.describe_availability_zones,
    **keypairs.ACTIONS,
    **groups.ACTIONS,
    **grouppermissions.ACTIONS,
    **tags.ACTIONS,
    **imageregistration.ACTIONS,
    **images.ACTIONS,
    **imageattributes.ACTIONS,
    **vmtypes.ACTIONS,
    **instance_actions.ACTIONS,
}
