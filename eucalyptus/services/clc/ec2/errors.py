# -*- test-case-name: tests.services.clc.test_ec2_resource -*-
"""
The errors of the EC2 Query API, each with its AWS code and HTTP status.

Errors every component shares (L{eucalyptus.errors.InvalidParameterValue},
L{eucalyptus.errors.InstanceNotFound}, L{eucalyptus.errors.RequestExpired},
...) are raised as they are; these are the ones only the EC2 API speaks.
L{from_auth_error} is the one place where what the shared signature checks
raise (in S3's words) becomes what EC2 says.
"""

from eucalyptus.errors import AwsError, RequestExpired, RequestTimeTooSkewed
from eucalyptus.security.sigv4 import PresignedUrlExpired

__all__ = [
    "AuthFailure",
    "UnauthorizedOperation",
    "InvalidAction",
    "MissingAction",
    "UnsupportedOperation",
    "MissingParameter",
    "UnknownParameter",
    "NoSuchVersion",
    "MalformedQueryString",
    "DryRunOperation",
    "InvalidPaginationToken",
    "Unavailable",
    "from_auth_error",
]


class AuthFailure(AwsError):
    """
    The request is not signed, or its signature or access key is wrong.
    """

    code = "AuthFailure"
    http_status = 401
    message = "AWS was not able to validate the provided access credentials"


class UnauthorizedOperation(AwsError):
    """
    The caller may not do this.
    """

    code = "UnauthorizedOperation"
    http_status = 403
    message = "You are not authorized to perform this operation."


class InvalidAction(AwsError):
    """
    EC2 has no action of that name.
    """

    code = "InvalidAction"


class MissingAction(AwsError):
    """
    The request has no C{Action} parameter.
    """

    code = "MissingAction"
    message = "The request must contain the parameter Action"


class UnsupportedOperation(AwsError):
    """
    An EC2 action this cloud does not do (yet).
    """

    code = "UnsupportedOperation"


class MissingParameter(AwsError):
    """
    A required parameter is missing.
    """

    code = "MissingParameter"


class UnknownParameter(AwsError):
    """
    A parameter the action does not have.
    """

    code = "UnknownParameter"


class NoSuchVersion(AwsError):
    """
    The C{Version} names no EC2 API version this cloud answers.
    """

    code = "NoSuchVersion"


class MalformedQueryString(AwsError):
    """
    The query string or form body cannot be decoded.
    """

    code = "MalformedQueryString"
    message = "The query string contains a syntax error."


class DryRunOperation(AwsError):
    """
    The request had C{DryRun} set and would have succeeded.
    """

    code = "DryRunOperation"
    http_status = 412
    message = "Request would have succeeded, but DryRun flag is set."


class InvalidPaginationToken(AwsError):
    """
    A C{NextToken} that this cloud did not give for this listing.
    """

    code = "InvalidPaginationToken"
    message = "The specified pagination token is not valid or is expired."


class Unavailable(AwsError):
    """
    The cloud cannot answer now (a component it needs is down).
    """

    code = "Unavailable"
    http_status = 503
    message = "The service is unavailable. Please try again shortly."


def from_auth_error(error):
    """
    The EC2 error for a failed signature check.

    L{eucalyptus.security.awsauth} speaks S3's codes
    (C{SignatureDoesNotMatch}, C{InvalidAccessKeyId}, ...); EC2 answers
    C{AuthFailure} for all of them, keeping the message, except for a
    request dated too far from our clock or a presigned URL past its
    expiry, which are C{RequestExpired}.

    @param error: the L{AwsError} the check raised.
    @return: the L{AwsError} to answer with.
    """
    if isinstance(error, RequestExpired):
        return error
    if isinstance(error, PresignedUrlExpired):
        return RequestExpired(f"Request has expired: the URL expired at {error.details.get('Expires', '')}.")
    if isinstance(error, RequestTimeTooSkewed):
        details = error.details
        allowed = int(details.get("MaxAllowedSkewMilliseconds", "900000")) // 1000
        return RequestExpired(
            f"Request timestamp {details.get('RequestTime', '')} is more than {allowed} seconds away "
            f"from the server's time, {details.get('ServerTime', '')}."
        )
    if isinstance(error, AuthFailure):
        return error
    return AuthFailure(f"AWS was not able to validate the provided access credentials: {error.message}")


# Images and VM types (eucalyptus.services.clc.images, .vmtypes).

__all__ += [
    "InvalidManifest",
    "InvalidAMIIDMalformed",
    "InvalidAMIIDNotFound",
    "InvalidAMIIDUnavailable",
    "InvalidAMINameMalformed",
    "InvalidAMINameDuplicate",
    "InvalidAMIAttributeItemValue",
    "InvalidUserIDMalformed",
    "InvalidParameterCombination",
    "InvalidInstanceType",
]


class InvalidManifest(AwsError):
    """
    The manifest of C{RegisterImage} cannot be read, parsed or verified.
    """

    code = "InvalidManifest"
    message = "The specified AMI has an unparsable manifest, or you may not have access to the location of the manifest."


class InvalidAMIIDMalformed(AwsError):
    """
    An image id that is not C{emi-}, C{eki-} or C{eri-} and hex digits.
    """

    code = "InvalidAMIID.Malformed"
    message = "The image id is malformed."


class InvalidAMIIDNotFound(AwsError):
    """
    No image with that id, or none the caller may see or launch.
    """

    code = "InvalidAMIID.NotFound"
    message = "The image id does not exist."


class InvalidAMIIDUnavailable(AwsError):
    """
    The image exists but cannot be used now (deregistered, not a machine
    image).
    """

    code = "InvalidAMIID.Unavailable"
    message = "The image is not available."


class InvalidAMINameMalformed(AwsError):
    """
    An image name EC2 does not allow.
    """

    code = "InvalidAMIName.Malformed"
    message = "The image name is malformed."


class InvalidAMINameDuplicate(AwsError):
    """
    The account already has an image of that name.
    """

    code = "InvalidAMIName.Duplicate"
    message = "The image name is already in use."


class InvalidAMIAttributeItemValue(AwsError):
    """
    A value of C{ModifyImageAttribute} that cannot be used (an account that
    does not exist, an unknown group).
    """

    code = "InvalidAMIAttributeItemValue"
    message = "The image attribute value is invalid."


class InvalidUserIDMalformed(AwsError):
    """
    An account id that is not 12 digits (or C{self}, C{all}, ...).
    """

    code = "InvalidUserID.Malformed"
    message = "The user id is malformed."


class InvalidParameterCombination(AwsError):
    """
    Parameters that cannot be given together.
    """

    code = "InvalidParameterCombination"
    message = "The parameters cannot be used together."


class InvalidInstanceType(AwsError):
    """
    C{DescribeInstanceTypes} named a type the cloud does not have.
    """

    code = "InvalidInstanceType"
    message = "The instance type does not exist."


# Key pairs, security groups and tags (eucalyptus.services.clc.keypairs,
# groups, tags).

__all__ += [
    "InvalidID",
    "KeyPairNotFound",
    "KeyPairDuplicate",
    "KeyFormatInvalid",
    "GroupNotFound",
    "GroupIdMalformed",
    "GroupDuplicate",
    "GroupInUse",
    "CannotDelete",
    "PermissionDuplicate",
    "PermissionNotFound",
    "TagLimitExceeded",
]


class InvalidID(AwsError):
    """
    A resource id of no kind this cloud has.
    """

    code = "InvalidID"


class KeyPairNotFound(AwsError):
    """
    The caller's account has no key pair of that name or id.
    """

    code = "InvalidKeyPair.NotFound"


class KeyPairDuplicate(AwsError):
    """
    The caller's account has a key pair of that name already.
    """

    code = "InvalidKeyPair.Duplicate"


class KeyFormatInvalid(AwsError):
    """
    C{ImportKeyPair}'s public key is not one this cloud can read.
    """

    code = "InvalidKey.Format"


class GroupNotFound(AwsError):
    """
    The security group does not exist (in the caller's account).
    """

    code = "InvalidGroup.NotFound"


class GroupIdMalformed(AwsError):
    """
    A security group id that is not C{sg-...}.
    """

    code = "InvalidGroupId.Malformed"


class GroupDuplicate(AwsError):
    """
    The caller's account has a security group of that name already.
    """

    code = "InvalidGroup.Duplicate"


class GroupInUse(AwsError):
    """
    The security group is used by instances or by other groups' rules.
    """

    code = "InvalidGroup.InUse"


class CannotDelete(AwsError):
    """
    The C{default} security group cannot be deleted.
    """

    code = "CannotDelete"


class PermissionDuplicate(AwsError):
    """
    The security group has that rule already.
    """

    code = "InvalidPermission.Duplicate"


class PermissionNotFound(AwsError):
    """
    The security group has no such rule to revoke.
    """

    code = "InvalidPermission.NotFound"
    message = "The specified rule does not exist in this security group."


class TagLimitExceeded(AwsError):
    """
    A resource would have more than 50 tags.
    """

    code = "TagLimitExceeded"
