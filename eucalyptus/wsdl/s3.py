# -*- test-case-name: tests.wsdl.test_contract -*-
"""
The Amazon S3 SOAP service of Walrus, C{AmazonS3} (C{AmazonS3.wsdl}).

Served at C{<Walrus>/soap} (C{http://<host>:8776/soap},
C{http://<host>:8773/services/Walrus/soap}), as Amazon served it at
C{https://s3.amazonaws.com/soap}.  Each row of L{S3_OPERATIONS} is one
operation; like every contract of L{eucalyptus.wsdl} it only delegates to
C{ctx.udc.invoke} (L{eucalyptus.wsdl.binding.operation}), here to
L{eucalyptus.services.walrus.soap}.  As in Amazon's WSDL, the soapAction of
every operation is empty.
"""

from eucalyptus.wsdl import s3_types as t
from eucalyptus.wsdl.binding import service_class

__all__ = ["S3_OPERATIONS", "AmazonS3"]

#: (operation, request type, response type), in reference 1.7's order.
S3_OPERATIONS = [
    ("ListAllMyBuckets", t.ListAllMyBucketsType, t.ListAllMyBucketsResponseType),
    ("CreateBucket", t.CreateBucketType, t.CreateBucketResponseType),
    ("DeleteBucket", t.DeleteBucketType, t.DeleteBucketResponseType),
    ("ListBucket", t.ListBucketType, t.ListBucketResponseType),
    ("PutObjectInline", t.PutObjectInlineType, t.PutObjectInlineResponseType),
    ("GetObject", t.GetObjectType, t.GetObjectResponseType),
    ("GetObjectExtended", t.GetObjectExtendedType, t.GetObjectExtendedResponseType),
    ("CopyObject", t.CopyObjectType, t.CopyObjectResponseType),
    ("DeleteObject", t.DeleteObjectType, t.DeleteObjectResponseType),
    ("GetBucketAccessControlPolicy", t.GetBucketAccessControlPolicyType,
     t.GetBucketAccessControlPolicyResponseType),
    ("SetBucketAccessControlPolicy", t.SetBucketAccessControlPolicyType,
     t.SetBucketAccessControlPolicyResponseType),
    ("GetObjectAccessControlPolicy", t.GetObjectAccessControlPolicyType,
     t.GetObjectAccessControlPolicyResponseType),
    ("SetObjectAccessControlPolicy", t.SetObjectAccessControlPolicyType,
     t.SetObjectAccessControlPolicyResponseType),
    ("GetBucketLocation", t.GetBucketLocationType, t.GetBucketLocationResponseType),
    ("GetBucketVersioningStatus", t.GetBucketVersioningStatusType,
     t.GetBucketVersioningStatusResponseType),
    ("SetBucketVersioningStatus", t.SetBucketVersioningStatusType,
     t.SetBucketVersioningStatusResponseType),
    ("ListVersions", t.ListVersionsType, t.ListVersionsResponseType),
]

AmazonS3 = service_class(
    "AmazonS3", S3_OPERATIONS, __name__,
    "The S3 SOAP operations (2006-03-01) Walrus answers.")

#: Amazon's WSDL declares an empty soapAction for every operation; see
#: L{eucalyptus.wsdl.binding.SOAP_ACTION_TEMPLATE}.
AmazonS3.soap_action_template = ""
