# -*- test-case-name: tests.wsdl.test_contract -*-
"""
Tests for L{eucalyptus.wsdl}: the checked-in WSDL files are the contract.

Three levels, as in spyne's own WSDL tests:
  1. the WSDL spyne generates today matches the checked-in file, operation by
     operation and field by field (compared with lxml, not as text);
  2. the checked-in files declare what the reference says the original
     services had, and every message extends C{eucalyptusMessage};
  3. another toolkit (zeep) loads the checked-in files and talks to the
     spyne application through them, and spyne's own serialisation round
     trips and validates against them.
"""

import io

import requests
import zeep
from lxml import etree
from requests.structures import CaseInsensitiveDict
from spyne.server.wsgi import WsgiApplication
from spyne.util.xml import get_object_as_xml, get_xml_as_object
from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase
from zeep.transports import Transport

from eucalyptus.wsdl import (
    NAMESPACE, SERVICES, SERVICE_NAMES, WSDL_FILES, make_application,
    soap_action, wsdl_path)
from eucalyptus.wsdl.binding import build_wsdl
from eucalyptus.wsdl.dump import DEFAULT_URLS, DOCUMENTS, main
from eucalyptus.wsdl.s3_types import S3_NAMESPACE
from eucalyptus.wsdl.types import (
    EucalyptusMessage, InstanceType, NcPowerDownResponseType,
    NcRunInstanceResponseType,
    NcRunInstanceType, NetConfigType, VirtualBootRecordType,
    VirtualMachineType)

XSD = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP_BINDING = "http://schemas.xmlsoap.org/wsdl/soap/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
MESSAGE_BASE = etree.QName(NAMESPACE, "eucalyptusMessage")

# The operation lists of the reference (eucalyptus-internals.md 1.4-1.6) are
# the specification: they are written out here, not derived from the code.
NC_OPERATIONS = [
    "ncRunInstance", "ncDescribeInstances", "ncTerminateInstance",
    "ncRebootInstance", "ncGetConsoleOutput", "ncDescribeResource",
    "ncStartNetwork", "ncAttachVolume", "ncDetachVolume", "ncPowerDown",
    "ncBundleInstance", "ncCancelBundleTask", "ncDescribeBundleTasks",
    "ncAssignAddress", "ncCreateImage", "ncBundleRestartInstance",
    "ncDescribeSensors", "ncModifyNode", "ncMigrateInstances",
    "ncStartInstance", "ncStopInstance", "ncBroadcastNetworkInfo",
    "ncAttachNetworkInterface", "ncDetachNetworkInterface",
    "DescribeServices",
]
CC_OPERATIONS = [
    "RunInstances", "DescribeInstances", "TerminateInstances",
    "RebootInstances", "GetConsoleOutput", "DescribeResources",
    "StartNetwork", "StopNetwork", "ConfigureNetwork", "AssignAddress",
    "UnassignAddress", "DescribePublicAddresses", "RegisterImage",
    "DescribeNetworks", "AttachVolume", "DetachVolume", "BundleInstance",
    "CancelBundleTask", "DescribeBundleTasks", "CreateImage",
    "DescribeServices", "StartService", "StopService", "EnableService",
    "DisableService", "ShutdownService", "BundleRestartInstance",
    "DescribeSensors", "ModifyNode", "MigrateInstances", "StartInstance",
    "StopInstance", "BroadcastNetworkInfo", "AttachNetworkInterface",
    "DetachNetworkInterface",
]
SC_OPERATIONS = [
    "CreateStorageVolume", "DeleteStorageVolume", "DescribeStorageVolumes",
    "CreateStorageSnapshot", "DeleteStorageSnapshot",
    "DescribeStorageSnapshots", "AttachStorageVolume", "DetachStorageVolume",
    "ExportVolume", "UnexportVolume", "GetVolumeToken", "GetStorageVolume",
    "CloneVolume", "ConvertVolumes", "GetStorageConfiguration",
    "UpdateStorageConfiguration", "DescribeServices",
]
EMPYREAN_OPERATIONS = ["DescribeServices"]
# Reference 1.7's S3 SOAP operations that Walrus answers.
S3_OPERATIONS = [
    "ListAllMyBuckets", "CreateBucket", "DeleteBucket", "ListBucket",
    "PutObjectInline", "GetObject", "GetObjectExtended", "CopyObject",
    "DeleteObject", "GetBucketAccessControlPolicy",
    "SetBucketAccessControlPolicy", "GetObjectAccessControlPolicy",
    "SetObjectAccessControlPolicy", "GetBucketLocation",
    "GetBucketVersioningStatus", "SetBucketVersioningStatus", "ListVersions",
]


def _qname(element, value):
    """
    Resolve a C{prefix:local} attribute value in the scope of C{element}.
    """
    prefix, _, local = value.rpartition(":")
    return etree.QName(element.nsmap[prefix or None], local)


class Contract(object):
    """
    What two WSDL documents must agree on, read from one of them with lxml.

    @ivar port_operations: operation names of the portType.
    @ivar binding_operations: operation name to soapAction, from the binding.
    @ivar operation_messages: operation name to (input, output) message QName.
    @ivar message_parts: message QName to [(part name, element QName)].
    @ivar elements: global element QName to its type QName.
    @ivar types: complexType QName to (base QName or C{None},
        [(field, type QName, minOccurs, maxOccurs)]).
    @ivar location: the C{soap:address} location.
    """

    def __init__(self, document):
        root = etree.fromstring(document)
        tns = root.get("targetNamespace")
        self.port_operations = set()
        self.operation_messages = {}
        for op in root.iterfind("{%s}portType/{%s}operation" % (WSDL, WSDL)):
            name = op.get("name")
            self.port_operations.add(name)
            self.operation_messages[name] = tuple(
                _qname(op, op.find("{%s}%s" % (WSDL, io_)).get("message"))
                for io_ in ("input", "output"))
        self.binding_operations = {}
        for op in root.iterfind("{%s}binding/{%s}operation" % (WSDL, WSDL)):
            soap_op = op.find("{%s}operation" % (SOAP_BINDING,))
            self.binding_operations[op.get("name")] = soap_op.get("soapAction")
        self.message_parts = {}
        for message in root.iterfind("{%s}message" % (WSDL,)):
            self.message_parts[etree.QName(tns, message.get("name"))] = [
                (part.get("name"), _qname(part, part.get("element")))
                for part in message.iterfind("{%s}part" % (WSDL,))]
        self.elements = {}
        self.types = {}
        for schema in root.iterfind("{%s}types/{%s}schema" % (WSDL, XSD)):
            schema_tns = schema.get("targetNamespace")
            for element in schema.iterfind("{%s}element" % (XSD,)):
                self.elements[etree.QName(schema_tns, element.get("name"))] = (
                    _qname(element, element.get("type")))
            for complex_type in schema.iterfind("{%s}complexType" % (XSD,)):
                extension = complex_type.find(
                    "{%s}complexContent/{%s}extension" % (XSD, XSD))
                base = None
                if extension is not None:
                    base = _qname(extension, extension.get("base"))
                fields = [
                    (field.get("name"), _qname(field, field.get("type")),
                     field.get("minOccurs", "1"), field.get("maxOccurs", "1"))
                    for field in complex_type.iter("{%s}element" % (XSD,))]
                self.types[etree.QName(
                    schema_tns, complex_type.get("name"))] = (base, fields)
        address = root.find(
            "{%s}service/{%s}port/{%s}address" % (WSDL, WSDL, SOAP_BINDING))
        self.location = address.get("location")

    def request_types(self):
        """
        @return: the type QName of the input element of every operation.
        """
        return [self.elements[self.message_parts[inp][0][1]]
                for inp, _ in self.operation_messages.values()]

    def response_types(self):
        """
        @return: the type QName of the output element of every operation.
        """
        return [self.elements[self.message_parts[out][0][1]]
                for _, out in self.operation_messages.values()]


def _read(component):
    """
    @return: the bytes of the checked-in WSDL of C{component}.
    """
    with open(wsdl_path(component), "rb") as f:
        return f.read()


class _GoldenMixin(object):
    """
    The WSDL spyne builds for C{component} agrees with the checked-in one.

    @cvar component: the component name.
    @cvar url: the placeholder URL the checked-in file was dumped with.
    """

    component = None
    url = None

    def setUp(self):
        self.generated = Contract(
            build_wsdl(make_application(self.component), self.url))
        self.checked_in = Contract(_read(self.component))

    def test_port_type_operations(self):
        """
        The portType declares the same operations.
        """
        self.assertEqual(
            self.generated.port_operations, self.checked_in.port_operations)

    def test_binding_soap_actions(self):
        """
        The binding declares the same operations with the same soapActions.
        """
        self.assertEqual(
            self.generated.binding_operations,
            self.checked_in.binding_operations)

    def test_operation_messages(self):
        """
        Every operation uses the same input and output messages.
        """
        self.assertEqual(
            self.generated.operation_messages,
            self.checked_in.operation_messages)

    def test_message_parts(self):
        """
        Every message has the same parts, bound to the same element QNames.
        """
        self.assertEqual(
            self.generated.message_parts, self.checked_in.message_parts)

    def test_elements(self):
        """
        Every global element has the same type.
        """
        self.assertEqual(self.generated.elements, self.checked_in.elements)

    def test_complex_type_names(self):
        """
        The same complexTypes are declared.
        """
        self.assertEqual(
            sorted(self.generated.types), sorted(self.checked_in.types))

    def test_complex_type_fields(self):
        """
        Every complexType has the same base and the same fields: name, type
        QName, minOccurs and maxOccurs, in order.
        """
        for name, definition in self.checked_in.types.items():
            self.assertEqual(
                self.generated.types.get(name), definition, str(name))

    def test_location(self):
        """
        The checked-in file carries the placeholder location of C{dump}.
        """
        self.assertEqual(self.checked_in.location, self.url)

    def test_messages_extend_eucalyptus_message(self):
        """
        The request and response type of every operation extends
        C{eucalyptusMessage}.
        """
        types = self.checked_in.request_types() + (
            self.checked_in.response_types())
        self.assertEqual(
            {name: self.checked_in.types[name][0] for name in types},
            {name: MESSAGE_BASE for name in types})

    def test_zeep_loads(self):
        """
        zeep parses the checked-in file (offline: it is a local file with no
        imports) and finds every operation with its soapAction.
        """
        client = zeep.Client(wsdl_path(self.component))
        operations = client.service._binding._operations
        self.assertEqual(
            {name: op.soapaction for name, op in operations.items()},
            self.checked_in.binding_operations)


class NodeControllerGoldenTests(_GoldenMixin, SynchronousTestCase):
    component = "nc"
    url = DEFAULT_URLS["nc"]


class ClusterControllerGoldenTests(_GoldenMixin, SynchronousTestCase):
    component = "cc"
    url = DEFAULT_URLS["cc"]


class StorageControllerGoldenTests(_GoldenMixin, SynchronousTestCase):
    component = "sc"
    url = DEFAULT_URLS["sc"]


class EmpyreanGoldenTests(_GoldenMixin, SynchronousTestCase):
    component = "clc"
    url = DEFAULT_URLS["empyrean"]


class AmazonS3GoldenTests(_GoldenMixin, SynchronousTestCase):
    component = "s3"
    url = DEFAULT_URLS["s3"]

    def test_messages_extend_eucalyptus_message(self):
        """
        Amazon's S3 messages have no C{eucalyptusMessage} header: no request
        or response type extends it.
        """
        types = self.checked_in.request_types() + (
            self.checked_in.response_types())
        self.assertEqual(
            {name: self.checked_in.types[name][0] for name in types},
            {name: None for name in types})


class SpecificationTests(SynchronousTestCase):
    """
    The checked-in WSDLs declare the operations the reference lists.
    """

    def assert_operations(self, component, expected):
        """
        The checked-in WSDL of C{component} declares exactly C{expected},
        with element names equal to operation names and soapActions
        C{<Service>#<operation>}.
        """
        contract = Contract(_read(component))
        self.assertEqual(sorted(contract.port_operations), sorted(expected))
        service = SERVICE_NAMES[component]
        actions = {name: "%s#%s" % (service, name) for name in expected}
        self.assertEqual(contract.binding_operations, actions)
        for name, (inp, out) in contract.operation_messages.items():
            self.assertEqual(
                [part[1] for part in contract.message_parts[inp]],
                [etree.QName(NAMESPACE, name)])
            self.assertEqual(
                [part[1] for part in contract.message_parts[out]],
                [etree.QName(NAMESPACE, name + "Response")])

    def test_node_controller(self):
        """
        C{eucalyptus_nc.wsdl} has every NC operation of reference 1.4 plus
        C{DescribeServices}.
        """
        self.assert_operations("nc", NC_OPERATIONS)

    def test_node_controller_type_names(self):
        """
        NC messages use the original XSD type names, such as
        C{ncRunInstanceType} and the singular C{ncDescribeResourceType}.
        """
        contract = Contract(_read("nc"))
        self.assertEqual(
            contract.elements[etree.QName(NAMESPACE, "ncRunInstance")],
            etree.QName(NAMESPACE, "ncRunInstanceType"))
        self.assertEqual(
            contract.elements[etree.QName(NAMESPACE, "ncDescribeResource")],
            etree.QName(NAMESPACE, "ncDescribeResourceType"))
        fields = [f[0] for f in contract.types[
            etree.QName(NAMESPACE, "instanceType")][1]]
        self.assertIn("hasFloopy", fields)

    def test_cluster_controller(self):
        """
        C{eucalyptus_cc.wsdl} has every CC operation of reference 1.5.
        """
        self.assert_operations("cc", CC_OPERATIONS)

    def test_storage_controller(self):
        """
        C{eucalyptus_sc.wsdl} has every SC operation of reference 1.6.
        """
        self.assert_operations("sc", SC_OPERATIONS)

    def test_empyrean(self):
        """
        C{eucalyptus_empyrean.wsdl} has only C{DescribeServices}, and both
        the CLC and Walrus serve it.
        """
        self.assert_operations("clc", EMPYREAN_OPERATIONS)
        self.assertEqual(wsdl_path("clc"), wsdl_path("walrus"))

    def test_amazon_s3(self):
        """
        C{AmazonS3.wsdl} has the S3 SOAP operations of reference 1.7, in
        Amazon's namespace, with Amazon's element names (including its two
        irregular result elements) and empty soapActions.
        """
        contract = Contract(_read("s3"))
        self.assertEqual(
            sorted(contract.port_operations), sorted(S3_OPERATIONS))
        self.assertEqual(
            contract.binding_operations,
            {name: "" for name in S3_OPERATIONS})
        for name, (inp, out) in contract.operation_messages.items():
            self.assertEqual(
                [part[1] for part in contract.message_parts[inp]],
                [etree.QName(S3_NAMESPACE, name)])
            self.assertEqual(
                [part[1] for part in contract.message_parts[out]],
                [etree.QName(S3_NAMESPACE, name + "Response")])

        def fields(type_name):
            return [f[:2] for f in contract.types[
                etree.QName(S3_NAMESPACE, type_name)][1]]

        def s3(name):
            return etree.QName(S3_NAMESPACE, name)

        self.assertEqual(fields("ListAllMyBucketsResponseType"), [
            ("ListAllMyBucketsResponse", s3("ListAllMyBucketsResult"))])
        self.assertEqual(fields("GetObjectExtendedResponseType"), [
            ("GetObjectResponse", s3("GetObjectResult"))])
        self.assertEqual(fields("CopyObjectResponseType"), [
            ("CopyObjectResult", s3("CopyObjectResult"))])
        self.assertEqual(
            [f[0] for f in fields("ListAllMyBucketsType")],
            ["AWSAccessKeyId", "Timestamp", "Signature", "Credential"])
        self.assertEqual(
            fields("PutObjectInlineType")[:5],
            [("Bucket", etree.QName(XSD, "string")),
             ("Key", etree.QName(XSD, "string")),
             ("Metadata", s3("MetadataEntry")),
             ("Data", etree.QName(XSD, "base64Binary")),
             ("ContentLength", etree.QName(XSD, "long"))])
        self.assertEqual(
            contract.types[s3("CanonicalUser")][0], s3("User"))
        self.assertEqual(contract.types[s3("Group")][0], s3("Grantee"))

    def test_header_fields(self):
        """
        C{eucalyptusMessage} carries the header of reference 1.2, with the
        element C{return} (Python attribute C{_return}).
        """
        contract = Contract(_read("nc"))
        base, fields = contract.types[MESSAGE_BASE]
        self.assertIsNone(base)
        service_info = etree.QName(NAMESPACE, "serviceInfoType")
        string = etree.QName(XSD, "string")
        self.assertEqual([f[:2] for f in fields], [
            ("correlationId", string), ("userId", string),
            ("statusMessage", string), ("return", etree.QName(XSD, "boolean")),
            ("epoch", etree.QName(XSD, "int")),
            ("services", service_info), ("disabledServices", service_info),
            ("notreadyServices", service_info), ("nodeName", string)])


class _RecordingOperations(object):
    """
    A fake operations object: records each C{invoke} and answers with what
    C{respond} returns.
    """

    def __init__(self, respond):
        self.calls = []
        self._respond = respond

    def invoke(self, name, request):
        self.calls.append((name, request))
        return self._respond(name, request)


class DispatchTests(SynchronousTestCase):
    """
    Every operation is a bare delegation to C{ctx.udc.invoke}.
    """

    def test_every_operation_delegates(self):
        """
        Each operation calls C{ctx.udc.invoke} with its own name and the
        request, and returns the result untouched, even a Deferred.
        """
        for service in set(SERVICES.values()):
            for name, method in service.public_methods.items():
                result = Deferred()
                operations = _RecordingOperations(lambda n, r: result)
                context = type("Context", (), {"udc": operations})()
                request = object()
                self.assertIs(method.function(context, request), result)
                self.assertEqual(operations.calls, [(name, request)])
                self.assertEqual(method.operation_name, name)

    def test_soap_action(self):
        """
        L{soap_action} gives the soapAction the WSDL declares.
        """
        self.assertEqual(
            soap_action("nc", "ncRunInstance"), "EucalyptusNC#ncRunInstance")
        self.assertEqual(
            soap_action("cc", "RunInstances"), "EucalyptusCC#RunInstances")
        self.assertEqual(
            soap_action("sc", "ExportVolume"), "EucalyptusSC#ExportVolume")
        self.assertEqual(
            soap_action("walrus", "DescribeServices"),
            "Empyrean#DescribeServices")
        self.assertEqual(soap_action("s3", "ListBucket"), "")

    def test_unknown_component(self):
        """
        An unknown component name is refused with the list of known ones.
        """
        error = self.assertRaises(ValueError, make_application, "gl")
        self.assertIn("cc, clc, nc, s3, sc, walrus", str(error))
        self.assertRaises(ValueError, wsdl_path, "gl")

    def test_served_wsdl_has_soap_actions(self):
        """
        The document the hosting resource serves at C{?wsdl}
        (C{app.interface.docs.wsdl11}) has the C{<Service>#<operation>}
        soapActions too, not spyne's bare operation names.
        """
        application = make_application("nc")
        document = application.interface.docs.wsdl11
        document.build_interface_document(DEFAULT_URLS["nc"])
        served = Contract(document.get_interface_document())
        self.assertEqual(
            served.binding_operations,
            Contract(_read("nc")).binding_operations)

    def test_dump(self):
        """
        C{python -m eucalyptus.wsdl.dump} writes the WSDL of a document with
        the placeholder location, or the one given with C{--url}.
        """
        for document, component in DOCUMENTS.items():
            out = io.BytesIO()
            self.assertEqual(main([document], stdout=out), 0)
            self.assertEqual(
                WSDL_FILES[component],
                "AmazonS3.wsdl" if document == "s3"
                else "eucalyptus_%s.wsdl" % (document,))
            self.assertEqual(
                Contract(out.getvalue()).binding_operations,
                Contract(_read(component)).binding_operations)
        out = io.BytesIO()
        main(["cc", "--url", "http://cc.example:8774/x"], stdout=out)
        self.assertEqual(
            Contract(out.getvalue()).location, "http://cc.example:8774/x")


def _run_instance_request():
    """
    @return: an L{NcRunInstanceType} using the header, a nested type,
        repeated scalars and repeated complex elements.
    """
    return NcRunInstanceType(
        correlationId="corr-1", userId="admin", _return=True, epoch=7,
        imageId="emi-12345678", instanceId="i-12345678",
        keyName="ssh-rsa AAAA user@host",
        instanceType=VirtualMachineType(
            name="m1.small", memory=256, cores=1, disk=5,
            virtualBootRecord=[
                VirtualBootRecordType(
                    resourceLocation="http://walrus/img",
                    guestDeviceName="sda1",
                    size=5368709120, format="ext3", id="emi-12345678",
                    type="machine"),
                VirtualBootRecordType(
                    resourceLocation="none", guestDeviceName="sda3",
                    size=536870912, format="swap", type="swap")]),
        netParams=NetConfigType(
            privateMacAddress="d0:0d:12:34:56:78", privateIp="10.0.0.2",
            vlan=10, networkIndex=2),
        groupNames=["default", "web"])


class SerializationTests(SynchronousTestCase):
    """
    spyne's XML for our models round-trips and obeys the checked-in schema.
    """

    def test_round_trip(self):
        """
        An C{ncRunInstance} body serialised by spyne parses back with every
        field intact, including C{return} and repeated C{groupNames}.
        """
        element = get_object_as_xml(
            _run_instance_request(), NcRunInstanceType,
            root_tag_name="ncRunInstance")
        self.assertEqual(
            element.findtext("{%s}return" % (NAMESPACE,)), "true")
        self.assertEqual(
            [e.text for e in element.iterfind(
                "{%s}groupNames" % (NAMESPACE,))],
            ["default", "web"])
        parsed = get_xml_as_object(element, NcRunInstanceType)
        self.assertIs(parsed._return, True)
        self.assertEqual(parsed.groupNames, ["default", "web"])
        self.assertEqual(parsed.epoch, 7)
        self.assertEqual(parsed.keyName, "ssh-rsa AAAA user@host")
        self.assertEqual(
            [(v.guestDeviceName, v.size, v.type)
             for v in parsed.instanceType.virtualBootRecord],
            [("sda1", 5368709120, "machine"), ("sda3", 536870912, "swap")])
        self.assertEqual(parsed.netParams.vlan, 10)

    def test_valid_against_checked_in_schema(self):
        """
        The serialised request is valid against the schema of the checked-in
        NC WSDL.
        """
        root = etree.fromstring(_read("nc"))
        # Serialising the subtree keeps the namespace declarations (tns:)
        # that the schema inherits from wsdl:definitions.
        schema = etree.XMLSchema(etree.fromstring(etree.tostring(
            root.find("{%s}types/{%s}schema" % (WSDL, XSD)))))
        element = get_object_as_xml(
            _run_instance_request(), NcRunInstanceType,
            root_tag_name="ncRunInstance")
        schema.assertValid(element)

    def test_message_subclasses_unlisted(self):
        """
        Message types are not registered as polymorphic substitutes of
        C{eucalyptusMessage}, so one component's schema does not list the
        messages of the others.
        """
        self.assertFalse(EucalyptusMessage.Attributes._subclasses)
        contract = Contract(_read("clc"))
        self.assertNotIn(
            etree.QName(NAMESPACE, "ncRunInstanceType"), contract.types)


class _WsgiTransport(Transport):
    """
    A zeep transport that hands each request to a WSGI application in
    process, with no socket.

    @ivar sent: the (headers, body) of every request.
    """

    def __init__(self, application):
        super().__init__()
        self._application = application
        self.sent = []

    def post(self, address, message, headers):
        self.sent.append((headers, message))
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": "/", "QUERY_STRING": "",
            "SERVER_NAME": "localhost", "SERVER_PORT": "8775",
            "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(message),
            "CONTENT_LENGTH": str(len(message)),
            "CONTENT_TYPE": headers.get("Content-Type", "text/xml"),
            "HTTP_SOAPACTION": headers.get("SOAPAction", ""),
        }
        started = []
        body = b"".join(self._application(
            environ, lambda status, header_list, exc_info=None: started.append(
                (status, header_list))))
        status, header_list = started[0]
        response = requests.Response()
        response.status_code = int(status.split()[0])
        response.headers = CaseInsensitiveDict(header_list)
        response._content = body
        response.encoding = "utf-8"
        return response


class ZeepInteropTests(SynchronousTestCase):
    """
    A zeep client built from the checked-in NC WSDL talks to the spyne NC
    application.
    """

    def setUp(self):
        def respond(name, request):
            return NcRunInstanceResponseType(
                correlationId=request.correlationId, _return=True,
                instance=InstanceType(
                    instanceId=request.instanceId, stateName="Pending",
                    groupNames=request.groupNames,
                    instanceType=request.instanceType))

        self.operations = _RecordingOperations(respond)
        application = make_application("nc")
        application.event_manager.add_listener(
            "method_call",
            lambda ctx: setattr(ctx, "udc", self.operations))
        self.transport = _WsgiTransport(WsgiApplication(application))
        self.client = zeep.Client(wsdl_path("nc"), transport=self.transport)

    def test_run_instance(self):
        """
        zeep sends C{ncRunInstance} with the declared soapAction; spyne
        dispatches it to C{invoke("ncRunInstance", request)}; zeep reads the
        reply, C{return} and repeated elements included.
        """
        result = self.client.service.ncRunInstance(
            correlationId="corr-1", userId="eucalyptus", instanceId="i-1",
            instanceType={"name": "m1.small", "memory": 256, "cores": 1,
                          "disk": 5, "virtualBootRecord": [
                              {"guestDeviceName": "sda1", "size": 10,
                               "type": "machine"}]},
            groupNames=["default", "web"])
        headers, body = self.transport.sent[0]
        self.assertEqual(headers["SOAPAction"], '"EucalyptusNC#ncRunInstance"')
        self.assertEqual(
            etree.fromstring(body).find("{%s}Body" % (SOAP_ENV,))[0].tag,
            "{%s}ncRunInstance" % (NAMESPACE,))
        [(name, request)] = self.operations.calls
        self.assertEqual(name, "ncRunInstance")
        self.assertIsInstance(request, NcRunInstanceType)
        self.assertEqual(request.groupNames, ["default", "web"])
        self.assertEqual(request.instanceType.virtualBootRecord[0].size, 10)
        self.assertIs(result["return"], True)
        self.assertEqual(result.correlationId, "corr-1")
        self.assertEqual(result.instance.groupNames, ["default", "web"])
        self.assertEqual(result.instance.stateName, "Pending")

    def test_empty_request(self):
        """
        C{ncPowerDown}, whose type adds nothing to the header, still reaches
        C{invoke} with the header fields.
        """
        self.operations._respond = lambda name, request: (
            NcPowerDownResponseType(correlationId=request.correlationId,
                                    _return=True))
        result = self.client.service.ncPowerDown(correlationId="corr-2")
        [(name, request)] = self.operations.calls
        self.assertEqual((name, request.correlationId),
                         ("ncPowerDown", "corr-2"))
        self.assertEqual((result.correlationId, result["return"]),
                         ("corr-2", True))
