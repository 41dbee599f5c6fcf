# -*- test-case-name: tests.wsdl.test_contract -*-
"""
Types shared by every Eucalyptus SOAP contract.

This module holds the C{eucalyptusMessage} header that every request and
response extends, the data types that more than one component puts on the
wire (virtual machine types, boot records, network configuration, volumes,
service topology, sensors, bundle tasks) and the C{DescribeServices}
operation that every component answers.

Python class names follow PEP 8 (C{VirtualMachineType}); the XSD type name
(C{virtualMachineType}) is set with C{__type_name__} and the field names are
the original camelCase wire names.

A note on spyne: a class attribute whose name starts with an underscore is not
a field, so the base message declares its fields with an explicit
C{_type_info} list, which is how C{_return} can carry the wire name
C{return}.  Message types that add no field of their own declare
C{_type_info = NO_FIELDS}; see L{NO_FIELDS} for why.

Another one: spyne records every subclass of a model as a polymorphic
substitute and writes all of them into the schema of any application that
uses the base.  As every message extends C{eucalyptusMessage}, the NC WSDL
would list the CC and SC messages too.  L{EucalyptusMessage} therefore uses a
metaclass that leaves its subclasses unrecorded.
"""

from spyne import Boolean, ComplexModel, DateTime, Double, Integer32, Integer64
from spyne import Unicode
from spyne.model.complex import ComplexModelMeta

__all__ = [
    "NAMESPACE",
    "NO_FIELDS",
    "repeated",
    "EucalyptusMessage",
    "ServiceInfoType",
    "ServiceStatusType",
    "VirtualBootRecordType",
    "VirtualMachineType",
    "NetConfigType",
    "VolumeType",
    "BundleTaskType",
    "MetricDimensionsValuesType",
    "MetricDimensionsType",
    "MetricCounterType",
    "MetricsResourceType",
    "SensorsResourceType",
    "DescribeServicesType",
    "DescribeServicesResponseType",
]

#: Target namespace of every Eucalyptus SOAP contract.
NAMESPACE = "http://eucalyptus.ucsb.edu/"

# Short local aliases for the XSD primitive types used below.
String = Unicode  # xs:string
Int = Integer32  # xs:int
Long = Integer64  # xs:long

#: C{_type_info} for a message type that adds nothing to C{eucalyptusMessage}.
#:
#: spyne refuses a bare-mode request type whose own C{_type_info} is empty,
#: even when it inherits fields (C{LogicError: body_style='bare' does not
#: allow empty model as param}).  This placeholder is a field that spyne
#: leaves out of the XML schema (C{exc_interface=True}) and never writes
#: while it is C{None}, so the wire contract stays an empty extension of
#: C{eucalyptusMessage}, exactly as in the original WSDL.
NO_FIELDS = [("_no_fields", Unicode(exc_interface=True))]


def repeated(model, max_occurs="unbounded"):
    """
    Declare a repeated element, the original WSDL's C{maxOccurs} array form.

    @param model: the spyne type of one element.
    @param max_occurs: the XSD C{maxOccurs}, C{"unbounded"} or an C{int}.
    @return: the customized spyne type (C{minOccurs=0}); its Python value is a
        list.
    """
    return model.customize(min_occurs=0, max_occurs=max_occurs)


class ServiceInfoType(ComplexModel):
    """
    One service in the topology: which component, in which partition, where.
    """

    __namespace__ = NAMESPACE
    __type_name__ = "serviceInfoType"

    partition = String
    type = String
    name = String
    uris = repeated(String)


class ServiceStatusType(ComplexModel):
    """
    The state of one service as reported by C{DescribeServices}.
    """

    __namespace__ = NAMESPACE
    __type_name__ = "serviceStatusType"

    serviceId = ServiceInfoType
    localState = String
    localEpoch = Int
    details = repeated(String)


class _UnlistedSubclassesMeta(ComplexModelMeta):
    """
    A spyne model metaclass that does not record a new model class among the
    polymorphic subclasses of the class it extends, so that an application
    schema holds only the types its operations use.
    """

    def __init__(cls, name, bases, namespace):
        super().__init__(name, bases, namespace)
        extends = cls.__extends__
        if extends is not None:
            subclasses = extends.Attributes._subclasses
            if subclasses and cls in subclasses:
                subclasses.remove(cls)


class EucalyptusMessage(ComplexModel, metaclass=_UnlistedSubclassesMeta):
    """
    The header every Eucalyptus request and response extends.

    The Python attribute for the wire element C{return} is C{_return}.
    """

    __namespace__ = NAMESPACE
    __type_name__ = "eucalyptusMessage"

    _type_info = [
        ("correlationId", String),
        ("userId", String),
        ("statusMessage", String),
        ("_return", Boolean(sub_name="return")),
        ("epoch", Int),
        ("services", repeated(ServiceInfoType)),
        ("disabledServices", repeated(ServiceInfoType)),
        ("notreadyServices", repeated(ServiceInfoType)),
        ("nodeName", String),
    ]


class VirtualBootRecordType(ComplexModel):
    """
    One disk, kernel or ramdisk of an instance and where to fetch it.
    """

    __namespace__ = NAMESPACE
    __type_name__ = "virtualBootRecordType"

    resourceLocation = String
    guestDeviceName = String
    size = Long
    format = String
    id = String
    type = String


class VirtualMachineType(ComplexModel):
    """
    An instance type (C{m1.small}...) with the boot records of one instance.
    """

    __namespace__ = NAMESPACE
    __type_name__ = "virtualMachineType"

    name = String
    memory = Int
    cores = Int
    disk = Int
    virtualBootRecord = repeated(VirtualBootRecordType)


class NetConfigType(ComplexModel):
    """
    The network configuration of one interface of an instance.
    """

    __namespace__ = NAMESPACE
    __type_name__ = "netConfigType"

    interfaceId = String
    device = Int
    privateMacAddress = String
    privateIp = String
    publicIp = String
    vlan = Int
    networkIndex = Int
    attachmentId = String


class VolumeType(ComplexModel):
    """
    A volume attached to an instance, as the NC sees it.
    """

    __namespace__ = NAMESPACE
    __type_name__ = "volumeType"

    volumeId = String
    remoteDev = String
    localDev = String
    state = String


class BundleTaskType(ComplexModel):
    """
    The progress of one instance bundling task.
    """

    __namespace__ = NAMESPACE
    __type_name__ = "bundleTaskType"

    instanceId = String
    state = String
    manifest = String
    progress = Int


class MetricDimensionsValuesType(ComplexModel):
    """
    One sample of a metric dimension.
    """

    __namespace__ = NAMESPACE
    __type_name__ = "metricDimensionsValuesType"

    timestamp = DateTime
    value = Double


class MetricDimensionsType(ComplexModel):
    """
    The samples of one dimension (for example one disk) of a counter.
    """

    __namespace__ = NAMESPACE
    __type_name__ = "metricDimensionsType"

    dimensionName = String
    sequenceNum = Long
    values = repeated(MetricDimensionsValuesType)


class MetricCounterType(ComplexModel):
    """
    One counter (C{summation}, C{average}...) of a metric.
    """

    __namespace__ = NAMESPACE
    __type_name__ = "metricCounterType"

    type = String
    collectionIntervalMs = Long
    dimensions = repeated(MetricDimensionsType)


class MetricsResourceType(ComplexModel):
    """
    One metric (C{CPUUtilization}, C{DiskReadOps}...) of a resource.
    """

    __namespace__ = NAMESPACE
    __type_name__ = "metricsResourceType"

    metricName = String
    counters = repeated(MetricCounterType)


class SensorsResourceType(ComplexModel):
    """
    The sensor readings of one resource (an instance).
    """

    __namespace__ = NAMESPACE
    __type_name__ = "sensorsResourceType"

    resourceName = String
    resourceType = String
    resourceUuid = String
    metrics = repeated(MetricsResourceType)


class DescribeServicesType(EucalyptusMessage):
    """
    Request of C{DescribeServices}, answered by every component.
    """

    __type_name__ = "DescribeServicesType"

    serviceIds = repeated(ServiceInfoType)


class DescribeServicesResponseType(EucalyptusMessage):
    """
    Response of C{DescribeServices}.
    """

    __type_name__ = "DescribeServicesResponseType"

    serviceStatuses = repeated(ServiceStatusType)
