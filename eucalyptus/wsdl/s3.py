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

from eucalyptus.wsdl import s3_messages as m
from eucalyptus.wsdl.binding import service_class

__all__ = ["S3_OPERATIONS", "AmazonS3"]

#: (operation, request type, response type), in reference 1.7's order.
S3_OPERATIONS = [
    ("ListAllMyBuckets", m.ListAllMyBucketsType, m.ListAllMyBucketsResponseType),
    ("CreateBucket", m.CreateBucketType, m.CreateBucketResponseType),
    ("DeleteBucket", m.DeleteBucketType, m.DeleteBucketResponseType),
    ("ListBucket", m.ListBucketType, m.ListBucketResponseType),
    ("PutObjectInline", m.PutObjectInlineType, m.PutObjectInlineResponseType),
    ("GetObject", m.GetObjectType, m.GetObjectResponseType),
    ("GetObjectExtended", m.GetObjectExtendedType, m.GetObjectExtendedResponseType),
    ("CopyObject", m.CopyObjectType, m.CopyObjectResponseType),
    ("DeleteObject", m.DeleteObjectType, m.DeleteObjectResponseType),
    ("GetBucketAccessControlPolicy", m.GetBucketAccessControlPolicyType,
     m.GetBucketAccessControlPolicyResponseType),
    ("SetBucketAccessControlPolicy", m.SetBucketAccessControlPolicyType,
     m.SetBucketAccessControlPolicyResponseType),
    ("GetObjectAccessControlPolicy", m.GetObjectAccessControlPolicyType,
     m.GetObjectAccessControlPolicyResponseType),
    ("SetObjectAccessControlPolicy", m.SetObjectAccessControlPolicyType,
     m.SetObjectAccessControlPolicyResponseType),
    ("GetBucketLocation", m.GetBucketLocationType, m.GetBucketLocationResponseType),
    ("GetBucketVersioningStatus", m.GetBucketVersioningStatusType,
     m.GetBucketVersioningStatusResponseType),
    ("SetBucketVersioningStatus", m.SetBucketVersioningStatusType,
     m.SetBucketVersioningStatusResponseType),
    ("ListVersions", m.ListVersionsType, m.ListVersionsResponseType),
]

AmazonS3 = service_class(
    "AmazonS3", S3_OPERATIONS, __name__,
    "The S3 SOAP operations (2006-03-01) Walrus answers.")

#: Amazon's WSDL declares an empty soapAction for every operation; see
#: L{eucalyptus.wsdl.binding.SOAP_ACTION_TEMPLATE}.
AmazonS3.soap_action_template = ""
