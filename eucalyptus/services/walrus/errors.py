# -*- test-case-name: tests.services.walrus.test_rest -*-
"""
The errors S3 clients expect from Walrus, one class per S3 error code.

Authentication errors shared with the EC2 API (C{AccessDenied},
C{SignatureDoesNotMatch}, ...) live in L{eucalyptus.errors}.
"""

from eucalyptus.errors import AwsError

__all__ = [
    "BadDigest",
    "BucketAlreadyExists",
    "BucketAlreadyOwnedByYou",
    "BucketNotEmpty",
    "EntityTooSmall",
    "EntityTooLarge",
    "IncompleteBody",
    "InvalidArgument",
    "InvalidBucketName",
    "InvalidDigest",
    "InvalidLocationConstraint",
    "InvalidPart",
    "InvalidPartNumber",
    "InvalidPartOrder",
    "InvalidRange",
    "InvalidRequest",
    "KeyTooLongError",
    "MalformedACLError",
    "MalformedXML",
    "MethodNotAllowed",
    "MissingContentLength",
    "MissingRequestBodyError",
    "NoSuchBucket",
    "NoSuchKey",
    "NoSuchUpload",
    "NoSuchVersion",
    "NoSuchCORSConfiguration",
    "Unimplemented",
    "PreconditionFailed",
    "NotModified",
    "RequestTimeout",
    "CORSForbidden",
    "CORSBadRequest",
    "UnresolvableGrantByEmailAddress",
    "InvalidObjectState",
    "IllegalVersioningConfigurationException",
    "TooManyBuckets",
]


class BadDigest(AwsError):
    """
    The Content-MD5 you specified did not match what we received.
    """

    code = "BadDigest"
    http_status = 400
    message = 'The Content-MD5 you specified did not match what we received.'


class BucketAlreadyExists(AwsError):
    """
    The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.
    """

    code = "BucketAlreadyExists"
    http_status = 409
    message = 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.'


class BucketAlreadyOwnedByYou(AwsError):
    """
    Your previous request to create the named bucket succeeded and you already own it.
    """

    code = "BucketAlreadyOwnedByYou"
    http_status = 409
    message = 'Your previous request to create the named bucket succeeded and you already own it.'


class BucketNotEmpty(AwsError):
    """
    The bucket you tried to delete is not empty.
    """

    code = "BucketNotEmpty"
    http_status = 409
    message = 'The bucket you tried to delete is not empty.'


class EntityTooSmall(AwsError):
    """
    Your proposed upload is smaller than the minimum allowed object size.
    """

    code = "EntityTooSmall"
    http_status = 400
    message = 'Your proposed upload is smaller than the minimum allowed object size.'


class EntityTooLarge(AwsError):
    """
    Your proposed upload exceeds the maximum allowed object size.
    """

    code = "EntityTooLarge"
    http_status = 400
    message = 'Your proposed upload exceeds the maximum allowed object size.'


class IncompleteBody(AwsError):
    """
    You did not provide the number of bytes specified by the Content-Length HTTP header.
    """

    code = "IncompleteBody"
    http_status = 400
    message = 'You did not provide the number of bytes specified by the Content-Length HTTP header.'


class InvalidArgument(AwsError):
    """
    Invalid Argument
    """

    code = "InvalidArgument"
    http_status = 400
    message = 'Invalid Argument'


class InvalidBucketName(AwsError):
    """
    The specified bucket is not valid.
    """

    code = "InvalidBucketName"
    http_status = 400
    message = 'The specified bucket is not valid.'


class InvalidDigest(AwsError):
    """
    The Content-MD5 you specified is not valid.
    """

    code = "InvalidDigest"
    http_status = 400
    message = 'The Content-MD5 you specified is not valid.'


class InvalidLocationConstraint(AwsError):
    """
    The specified location constraint is not valid.
    """

    code = "InvalidLocationConstraint"
    http_status = 400
    message = 'The specified location constraint is not valid.'


class InvalidPart(AwsError):
    """
    One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.
    """

    code = "InvalidPart"
    http_status = 400
    message = "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag."


class InvalidPartOrder(AwsError):
    """
    The list of parts was not in ascending order. The parts list must be specified in order by part number.
    """

    code = "InvalidPartOrder"
    http_status = 400
    message = 'The list of parts was not in ascending order. The parts list must be specified in order by part number.'


class InvalidPartNumber(AwsError):
    """
    The requested partnumber is not satisfiable
    """

    code = "InvalidPartNumber"
    http_status = 416
    message = 'The requested partnumber is not satisfiable'


class InvalidRange(AwsError):
    """
    The requested range is not satisfiable
    """

    code = "InvalidRange"
    http_status = 416
    message = 'The requested range is not satisfiable'


class InvalidRequest(AwsError):
    """
    Invalid Request
    """

    code = "InvalidRequest"
    http_status = 400
    message = 'Invalid Request'


class KeyTooLongError(AwsError):
    """
    Your key is too long.
    """

    code = "KeyTooLongError"
    http_status = 400
    message = 'Your key is too long.'


class MalformedACLError(AwsError):
    """
    The XML you provided was not well-formed or did not validate against our published schema.
    """

    code = "MalformedACLError"
    http_status = 400
    message = 'The XML you provided was not well-formed or did not validate against our published schema.'


class MalformedXML(AwsError):
    """
    The XML you provided was not well-formed or did not validate against our published schema.
    """

    code = "MalformedXML"
    http_status = 400
    message = 'The XML you provided was not well-formed or did not validate against our published schema.'


class MethodNotAllowed(AwsError):
    """
    The specified method is not allowed against this resource.
    """

    code = "MethodNotAllowed"
    http_status = 405
    message = 'The specified method is not allowed against this resource.'


class MissingContentLength(AwsError):
    """
    You must provide the Content-Length HTTP header.
    """

    code = "MissingContentLength"
    http_status = 411
    message = 'You must provide the Content-Length HTTP header.'


class MissingRequestBodyError(AwsError):
    """
    Request Body is empty.
    """

    code = "MissingRequestBodyError"
    http_status = 400
    message = 'Request Body is empty.'


class NoSuchBucket(AwsError):
    """
    The specified bucket does not exist.
    """

    code = "NoSuchBucket"
    http_status = 404
    message = 'The specified bucket does not exist.'


class NoSuchKey(AwsError):
    """
    The specified key does not exist.
    """

    code = "NoSuchKey"
    http_status = 404
    message = 'The specified key does not exist.'


class NoSuchUpload(AwsError):
    """
    The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.
    """

    code = "NoSuchUpload"
    http_status = 404
    message = 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.'


class NoSuchVersion(AwsError):
    """
    The specified version does not exist.
    """

    code = "NoSuchVersion"
    http_status = 404
    message = 'The specified version does not exist.'


class NoSuchCORSConfiguration(AwsError):
    """
    The CORS configuration does not exist.
    """

    code = "NoSuchCORSConfiguration"
    http_status = 404
    message = 'The CORS configuration does not exist.'


class Unimplemented(AwsError):
    """
    A header you provided implies functionality that is not implemented.
    """

    code = "NotImplemented"
    http_status = 501
    message = 'A header you provided implies functionality that is not implemented.'


class PreconditionFailed(AwsError):
    """
    At least one of the pre-conditions you specified did not hold.
    """

    code = "PreconditionFailed"
    http_status = 412
    message = 'At least one of the pre-conditions you specified did not hold.'


class NotModified(AwsError):
    """
    A conditional GET whose condition says the client's copy is current (HTTP 304, no body).
    """

    code = "NotModified"
    http_status = 304
    message = 'Not Modified'


class RequestTimeout(AwsError):
    """
    Your socket connection to the server was not read from or written to within the timeout period.
    """

    code = "RequestTimeout"
    http_status = 400
    message = 'Your socket connection to the server was not read from or written to within the timeout period.'


class CORSForbidden(AwsError):
    """
    A CORS preflight request no rule of the bucket allows (S3 code C{AccessForbidden}).
    """

    code = "AccessForbidden"
    http_status = 403
    message = (
        "CORSResponse: This CORS request is not allowed. This is usually because the evaluation of Origin, "
        "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted "
        "by the resource's CORS spec."
    )


class CORSBadRequest(AwsError):
    """
    A CORS preflight request without an origin or a method (S3 code C{BadRequest}).
    """

    code = "BadRequest"
    http_status = 400
    message = "Insufficient information. Origin request header needed."


class UnresolvableGrantByEmailAddress(AwsError):
    """
    The email address you provided does not match any account on record.
    """

    code = "UnresolvableGrantByEmailAddress"
    http_status = 400
    message = 'The email address you provided does not match any account on record.'


class InvalidObjectState(AwsError):
    """
    The operation is not valid for the current state of the object.
    """

    code = "InvalidObjectState"
    http_status = 403
    message = 'The operation is not valid for the current state of the object.'


class IllegalVersioningConfigurationException(AwsError):
    """
    The versioning configuration specified in the request is invalid.
    """

    code = "IllegalVersioningConfigurationException"
    http_status = 400
    message = 'The versioning configuration specified in the request is invalid.'


class TooManyBuckets(AwsError):
    """
    You have attempted to create more buckets than allowed.
    """

    code = "TooManyBuckets"
    http_status = 400
    message = 'You have attempted to create more buckets than allowed.'
