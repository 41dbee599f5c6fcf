# -*- test-case-name: tests.services.clc.test_ec2_query -*-
"""
botocore's description of the EC2 API: every action, its input and output
shapes, their wire names.  It is read once, the first time it is needed,
and shared: the model is data that nothing changes.

The newest model botocore ships is used for every request, whatever API
version the request names; EC2 only ever added to its API, so the older
versions' parameters and fields are a subset of it.
"""

import functools
import re

import botocore.session

from eucalyptus.services.clc.ec2.errors import MissingParameter, NoSuchVersion

__all__ = ["FIRST_VERSION", "LATEST_VERSION", "service_model", "operation", "check_version", "namespace"]

#: The oldest EC2 API version answered (Eucalyptus 2.0's).
FIRST_VERSION = "2009-11-30"

#: The newest EC2 API version answered: the one botocore's model
#: describes and sends.
LATEST_VERSION = "2016-11-15"

_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}")


@functools.cache
def service_model():
    """
    botocore's C{ec2} service model, loaded once.

    @rtype: C{botocore.model.ServiceModel}
    """
    return botocore.session.get_session().get_service_model("ec2", api_version=LATEST_VERSION)


def operation(action):
    """
    The model of an EC2 action, or L{None} if EC2 has no such action.

    @param action: the C{Action} parameter (C{"DescribeRegions"}).
    @rtype: C{botocore.model.OperationModel} or L{None}
    """
    if action not in _action_names():
        return None
    return _operation(action)


@functools.cache
def _action_names():
    return frozenset(service_model().operation_names)


@functools.cache
def _operation(action):
    # Only names of the model get here, so the cache stays bounded.
    return service_model().operation_model(action)


def check_version(version):
    """
    Check the C{Version} parameter of a request.

    @param version: its value, or L{None} when it was not sent.
    @raise MissingParameter: there is none.
    @raise NoSuchVersion: it is not a version from L{FIRST_VERSION} to
        L{LATEST_VERSION}.
    """
    if not version:
        raise MissingParameter("The request must contain the parameter Version")
    if not _VERSION.fullmatch(version) or not FIRST_VERSION <= version <= LATEST_VERSION:
        raise NoSuchVersion(
            f"The requested version ({version}) of service AmazonEC2 does not exist; "
            f"this cloud answers {FIRST_VERSION} to {LATEST_VERSION}."
        )


def namespace(version):
    """
    The XML namespace of responses in API C{version}.
    """
    return f"http://ec2.amazonaws.com/doc/{version}/"
