# -*- test-case-name: tests.test_errors -*-
"""
The errors every component raises.

Each class carries the code a client expects (an AWS error code, a SOAP fault
code, or a Eucalyptus code), the HTTP status the shims answer with, and a
default message.  Shims turn them into wire errors in one place each
(L{eucalyptus.soap.faults.to_fault} for SOAP); nothing else maps types to codes.
"""

__all__ = [
    "EucalyptusError",
    "ConfigError",
    "SecurityError",
    "InvalidSecurity",
    "FailedCheck",
    "MessageExpired",
    "ReplayedMessage",
    "ClientError",
    "MalformedMessage",
    "EntityTooLarge",
    "UnknownOperation",
    "NotImplementedOperation",
    "InternalError",
    "ServiceUnavailable",
    "RequestTimeout",
    "InstanceNotFound",
    "InvalidParameterValue",
    "InsufficientInstanceCapacity",
    "IncorrectInstanceState",
    "VolumeInUse",
    "AttachmentNotFound",
    "InvalidVolumeID",
    "InvalidSnapshotID",
    "VolumeNotFound",
    "SnapshotNotFound",
    "VolumeAlreadyExists",
    "VolumeLimitExceeded",
    "InsufficientVolumeCapacity",
    "StorageError",
    "StorageTimeout",
    "AwsError",
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "RequestTimeTooSkewed",
    "AuthorizationHeaderMalformed",
    "AuthorizationQueryParametersError",
    "MissingSecurityHeader",
    "XAmzContentSHA256Mismatch",
    "IncompleteSignature",
    "RequestExpired",
]


class EucalyptusError(Exception):
    """
    Base of every error the cloud reports to a caller.

    @cvar code: the wire code (AWS error code or SOAP fault subcode).
    @cvar http_status: the HTTP status a shim answers with.
    @cvar message: the default human-readable message.
    @cvar fault_kind: C{"Client"} when the caller is at fault, C{"Server"} when
        we are (the SOAP 1.1 fault code class).
    """

    code = "InternalError"
    http_status = 500
    message = "We encountered an internal error. Please try again."
    fault_kind = "Server"

    def __init__(self, message=None):
        Exception.__init__(self, message or self.message)
        self.message = message or self.message

    def __str__(self):
        return self.message


class ConfigError(EucalyptusError):
    """
    The configuration is wrong; the message says which key and why.
    """

    code = "InvalidConfiguration"


class SecurityError(EucalyptusError):
    """
    A WS-Security check failed.  Always refuses the message.
    """

    code = "wsse:InvalidSecurity"
    http_status = 500
    message = "An error was discovered processing the <wsse:Security> header."
    fault_kind = "Client"


class InvalidSecurity(SecurityError):
    """
    The security header is missing, malformed, or does not sign what it must.
    """


class FailedCheck(SecurityError):
    """
    The signature does not verify, or was made by a key we do not trust.
    """

    code = "wsse:FailedCheck"
    message = "The signature or decryption was invalid."


class MessageExpired(SecurityError):
    """
    The timestamp is outside its validity window (allowing for clock skew).
    """

    code = "wsse:MessageExpired"
    message = "The message has expired."


class ReplayedMessage(SecurityError):
    """
    A message with this MessageID was already accepted within its lifetime.
    """

    code = "wsse:InvalidSecurity"
    message = "The message was already received (replay)."


class ClientError(EucalyptusError):
    """
    The request is wrong in a way the caller can fix.
    """

    code = "Client"
    http_status = 400
    message = "The request is invalid."
    fault_kind = "Client"


class MalformedMessage(ClientError):
    """
    The request is not well-formed XML, or uses forbidden XML features
    (DTDs, entities).
    """

    code = "MalformedMessage"
    message = "The request is not a well-formed SOAP message."


class EntityTooLarge(ClientError):
    """
    The request body is larger than the configured limit.
    """

    code = "EntityTooLarge"
    http_status = 413
    message = "The request body is larger than the configured limit."


class UnknownOperation(ClientError):
    """
    The operation is not part of this service's WSDL.
    """

    code = "UnknownOperation"
    message = "The operation is not defined by this service."


class NotImplementedOperation(EucalyptusError):
    """
    The operation is declared by the WSDL but this component does not do it
    yet.
    """

    code = "NotImplemented"
    http_status = 501
    message = "The operation is declared but not implemented by this component."


class InternalError(EucalyptusError):
    """
    Something unexpected went wrong on our side; details are in our log.
    """


class ServiceUnavailable(EucalyptusError):
    """
    A peer component could not be reached.
    """

    code = "ServiceUnavailable"
    http_status = 503
    message = "The service is unavailable."


class RequestTimeout(ServiceUnavailable):
    """
    A peer component did not answer in time.
    """

    code = "RequestTimeout"
    message = "The peer did not answer in time."


class InstanceNotFound(ClientError):
    """
    No instance of that id (on this node, in this cloud).
    """

    code = "InvalidInstanceID.NotFound"
    message = "The instance ID does not exist."


class InvalidParameterValue(ClientError):
    """
    A parameter has a value that cannot be used; the message says which.
    """

    code = "InvalidParameterValue"


class InsufficientInstanceCapacity(ClientError):
    """
    Not enough cores, memory or disk for the requested instance type.
    """

    code = "InsufficientInstanceCapacity"
    message = "There is not enough capacity for the requested instance type."


class IncorrectInstanceState(ClientError):
    """
    The instance is not in a state that allows the operation.
    """

    code = "IncorrectInstanceState"


class VolumeInUse(ClientError):
    """
    The volume is already attached.
    """

    code = "VolumeInUse"


class AttachmentNotFound(ClientError):
    """
    The volume is not attached to that instance.
    """

    code = "InvalidAttachment.NotFound"


class InvalidVolumeID(ClientError):
    """
    A volume id that is not C{vol-} and 8 or 17 hexadecimal digits.
    """

    code = "InvalidVolumeID.Malformed"
    message = "The volume ID is malformed."


class InvalidSnapshotID(ClientError):
    """
    A snapshot id that is not C{snap-} and 8 or 17 hexadecimal digits.
    """

    code = "InvalidSnapshotID.Malformed"
    message = "The snapshot ID is malformed."


class VolumeNotFound(ClientError):
    """
    No volume of that id (in this storage controller's store).
    """

    code = "InvalidVolume.NotFound"
    message = "The volume does not exist."


class SnapshotNotFound(ClientError):
    """
    No snapshot of that id.
    """

    code = "InvalidSnapshot.NotFound"
    message = "The snapshot does not exist."


class VolumeAlreadyExists(ClientError):
    """
    A volume of that id exists already; creating it again is refused rather
    than overwriting it.
    """

    code = "InvalidVolumeID.Duplicate"
    message = "The volume already exists."


class VolumeLimitExceeded(ClientError):
    """
    The volume would take the storage controller past its configured total
    (C{SC_MAX_TOTAL_VOLUME_GB}).
    """

    code = "VolumeLimitExceeded"
    message = "The volume would exceed the storage limit of this availability zone."


class InsufficientVolumeCapacity(EucalyptusError):
    """
    The store itself is full: the volume group has too few free extents, or
    the volumes directory's file system ran out of space.
    """

    code = "InsufficientVolumeCapacity"
    http_status = 503
    message = "There is not enough storage capacity for the volume."


class StorageError(EucalyptusError):
    """
    A storage tool (C{tgtadm}, C{lvcreate}, ...) or the volume store failed;
    the message names the command and what it printed.
    """

    code = "StorageError"
    message = "A storage operation failed."


class StorageTimeout(StorageError):
    """
    A storage tool did not finish in time (the original SC's fault 2000,
    "tgtadm timeout").
    """

    code = "StorageTimeout"
    message = "A storage tool did not finish in time."


class AwsError(ClientError):
    """
    An error a user-facing AWS API (EC2 Query, S3) reports.  Besides the
    message it may carry details that the shim adds to the error document
    (S3's C{StringToSign}, C{BucketName}, ...).

    @ivar details: element name to text, in the order given.
    """

    code = "InvalidRequest"

    def __init__(self, message=None, **details):
        ClientError.__init__(self, message)
        self.details = details


class AccessDenied(AwsError):
    """
    The caller may not do this (no grant, expired presigned URL, ...).
    """

    code = "AccessDenied"
    http_status = 403
    message = "Access Denied"


class InvalidAccessKeyId(AwsError):
    """
    The access key id is unknown or inactive.
    """

    code = "InvalidAccessKeyId"
    http_status = 403
    message = "The AWS Access Key Id you provided does not exist in our records."


class SignatureDoesNotMatch(AwsError):
    """
    The signature the caller sent is not the one we computed; the details
    carry the string to sign so the caller can compare.
    """

    code = "SignatureDoesNotMatch"
    http_status = 403
    message = "The request signature we calculated does not match the signature you provided. Check your key and signing method."


class RequestTimeTooSkewed(AwsError):
    """
    The request's date is too far from ours.
    """

    code = "RequestTimeTooSkewed"
    http_status = 403
    message = "The difference between the request time and the current time is too large."


class AuthorizationHeaderMalformed(AwsError):
    """
    The Authorization header cannot be parsed.
    """

    code = "AuthorizationHeaderMalformed"
    message = "The authorization header is malformed."


class AuthorizationQueryParametersError(AwsError):
    """
    The signing parameters of a presigned URL are missing or wrong.
    """

    code = "AuthorizationQueryParametersError"
    message = "The authorization query parameters are malformed."


class MissingSecurityHeader(AwsError):
    """
    A header the signature needs (a date, the payload hash) is missing.
    """

    code = "MissingSecurityHeader"
    message = "Your request is missing a required header."


class XAmzContentSHA256Mismatch(AwsError):
    """
    The body's SHA-256 is not the one the caller declared and signed.
    """

    code = "XAmzContentSHA256Mismatch"
    message = "The provided 'x-amz-content-sha256' header does not match what was computed."


class IncompleteSignature(AwsError):
    """
    The signature is incomplete: a part of it is missing.
    """

    code = "IncompleteSignature"
    message = "The request signature does not conform to AWS standards."


class RequestExpired(AwsError):
    """
    A query-signed request (EC2 and the other query APIs) is dated too far
    from our clock, or is past its C{Expires}.
    """

    code = "RequestExpired"
    message = "The request has expired or is dated too far from the server's time."


__all__ += ["IncorrectState", "UnauthorizedOperation", "SnapshotAlreadyExists"]


class IncorrectState(ClientError):
    """
    The volume or snapshot is not in a state that allows the operation
    (still being created, failed, a snapshot still pending).
    """

    code = "IncorrectState"
    message = "The resource is not in a state that allows this operation."


class UnauthorizedOperation(ClientError):
    """
    The caller's credentials do not allow this operation: a node signing a
    call only the cloud may make, or a volume token that does not match.
    """

    code = "UnauthorizedOperation"
    http_status = 403
    message = "You are not authorized to perform this operation."


class SnapshotAlreadyExists(ClientError):
    """
    A snapshot of that id exists already, of another volume.
    """

    code = "InvalidSnapshotID.Duplicate"
    message = "The snapshot already exists."
