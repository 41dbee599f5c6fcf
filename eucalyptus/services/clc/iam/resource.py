# -*- test-case-name: tests.services.clc.test_iam_boto3,tests.services.clc.test_iam_protocol -*-
"""
The IAM Query API over HTTP, at C{/services/Euare} of the CLC.

It is the EC2 Query API's resource (L{Ec2QueryResource}: request ids,
SigV4 and query SigV2 with the cloud's access keys, the dispatcher) with
IAM's SigV4 service name (C{iam}), its errors for failed signature checks
and its C{ErrorResponse} documents, over a L{Dispatcher} of the IAM
L{Api}.
"""

import time

from twisted.internet import threads

from eucalyptus.services.clc.ec2.dispatch import Api, Dispatcher
from eucalyptus.services.clc.ec2.resource import Ec2QueryResource
from eucalyptus.services.clc.iam import model, serialize
from eucalyptus.services.clc.iam.actions import ACTIONS, Directory
from eucalyptus.services.clc.iam.errors import from_auth_error

__all__ = ["PATH", "IAM", "IamQueryResource", "iam_resource"]

#: Where the CLC answers IAM (Eucalyptus's name for it is Euare).
PATH = "services/Euare"

#: The IAM API, as the dispatcher speaks it.
IAM = Api("IAM", model.operation, model.check_version, model.parse_input, serialize.response_document)


class IamQueryResource(Ec2QueryResource):
    """
    The IAM Query API at one path.
    """

    service = "iam"
    auth_error = staticmethod(from_auth_error)
    error_document = staticmethod(serialize.error_document)


def iam_resource(accounts, identities, key_caches=(), run_in_thread=threads.deferToThread, clock=time.time):
    """
    The IAM API of the cloud, to mount at L{PATH}.

    @param accounts: the L{eucalyptus.accounts.AccountStore}.
    @param identities: the
        L{eucalyptus.services.walrus.identities.Identities} that
        authenticate its callers: share the EC2 API's, so a key deactivated
        or deleted here stops working there at once.
    @param key_caches: other C{Identities} of this process to tell when a
        key changes (Walrus's, when the whole cloud runs in one process).
    @param run_in_thread: how blocking actions run (C{deferToThread};
        tests run them inline).
    @param clock: seconds since the epoch, for signature dates.
    @return: an L{IamQueryResource}.
    """
    directory = Directory(accounts, (identities,) + tuple(key_caches), run_in_thread)
    dispatcher = Dispatcher(ACTIONS, None, run_in_thread, cloud=directory, api=IAM)
    return IamQueryResource(dispatcher, identities, clock)
