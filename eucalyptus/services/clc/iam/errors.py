# -*- test-case-name: tests.services.clc.test_iam_protocol -*-
"""
The errors of the IAM API, each with its AWS code and HTTP status.

What the account store refuses (L{eucalyptus.accounts}: C{NoSuchEntity},
C{EntityAlreadyExists}, C{DeleteConflict}, C{LimitExceeded},
C{InvalidInput}) is raised as it is; these are the ones of the API itself.
The query APIs' common errors (C{MissingAction}, C{InvalidAction},
C{MissingParameter}, C{MalformedQueryString}, ...) are the EC2 layer's.
L{from_auth_error} is the one place where what the shared signature
checks raise (in S3's words) becomes what IAM says.
"""

from eucalyptus.accounts import DeleteConflict, EntityAlreadyExists, InvalidInput, LimitExceeded, NoSuchEntity
from eucalyptus.errors import AccessDenied, AwsError, InvalidAccessKeyId, SignatureDoesNotMatch
from eucalyptus.services.clc.ec2.errors import AuthFailure, InvalidAction
from eucalyptus.services.clc.ec2.errors import from_auth_error as ec2_auth_error

__all__ = [
    "AccessDenied",
    "DeleteConflict",
    "EntityAlreadyExists",
    "IncompleteSignature",
    "InvalidAction",
    "InvalidClientTokenId",
    "InvalidInput",
    "LimitExceeded",
    "MissingAuthenticationToken",
    "NoSuchEntity",
    "ValidationError",
    "from_auth_error",
]


class ValidationError(AwsError):
    """
    A value breaks a constraint of the model (length, pattern, enumeration).
    """

    code = "ValidationError"
    message = "The input fails to satisfy the constraints specified by an AWS service."


class InvalidClientTokenId(AwsError):
    """
    The access key is unknown, or inactive.
    """

    code = "InvalidClientTokenId"
    http_status = 403
    message = "The security token included in the request is invalid."


class MissingAuthenticationToken(AwsError):
    """
    The request is not signed.
    """

    code = "MissingAuthenticationToken"
    http_status = 403
    message = "Request is missing Authentication Token"


class IncompleteSignature(AwsError):
    """
    The signature cannot be read: a part is missing or malformed.
    """

    code = "IncompleteSignature"
    message = "The request signature does not conform to AWS standards."


def from_auth_error(error):
    """
    The IAM error for a failed signature check.

    An unknown or inactive key is C{InvalidClientTokenId}, a wrong
    signature C{SignatureDoesNotMatch}, an unsigned request
    C{MissingAuthenticationToken}, a request dated too far from our clock
    (or a presigned URL past its expiry) C{RequestExpired}, as EC2 says;
    anything else wrong with the signature is C{IncompleteSignature},
    keeping its message.

    @param error: the L{AwsError} the check raised (or the
        L{AuthFailure} of an unsigned request).
    @return: the L{AwsError} to answer with.
    """
    if isinstance(error, InvalidAccessKeyId):
        return InvalidClientTokenId()
    if isinstance(error, SignatureDoesNotMatch):
        return SignatureDoesNotMatch(error.message)
    if isinstance(error, AuthFailure):
        return MissingAuthenticationToken(error.message)
    answer = ec2_auth_error(error)
    if isinstance(answer, AuthFailure):
        return IncompleteSignature(error.message)
    return answer
