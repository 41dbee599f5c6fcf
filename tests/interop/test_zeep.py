# -*- test-case-name: tests.interop.test_zeep -*-
"""
Interoperability with zeep: another SOAP stack and, through xmlsec, another
XML-DSig implementation.

Each component is served on a real loopback port.  A zeep client is
generated from the WSDL the component serves, adds WS-Addressing with zeep's
own L{WsAddressingPlugin}, and signs with zeep's own L{BinarySignature},
extended only to put a C{wsu:Timestamp} in the security header and to add
the C{To}, C{Action} and C{MessageID} references our verifier demands; every
digest and signature is computed by xmlsec.  The signed reply must pass
zeep's own C{verify_envelope} against the certificate the component signs
with; a client signing with a key the component does not pin, with the
right certificate but the wrong key, with zeep's default RSA-SHA1, or not at
all is refused with the WS-Security fault code.

zeep is blocking, so every zeep call runs in a thread (C{deferToThread}); the
services run on the real reactor.
"""

import copy
import datetime
import io
import os

import requests
import xmlsec
from lxml import etree
from lxml.etree import QName
from twisted.internet import reactor, threads
from twisted.trial import unittest
from twisted.web.resource import Resource
from zeep import Client, ns
from zeep.exceptions import Fault, SignatureVerificationFailed
from zeep.transports import Transport
from zeep.utils import detect_soap_env
from zeep.wsa import WsAddressingPlugin
from zeep.wsse.signature import BinarySignature, _make_sign_key, _sign_node, verify_envelope
from zeep.wsse.utils import WSU, ensure_id, get_security_header, get_timestamp

from eucalyptus import admin
from eucalyptus.config import config_from_string
from eucalyptus.security import keys, trust
from eucalyptus.services.cc import service as cc_service
from eucalyptus.services.clc import service as clc_service
from eucalyptus.services.nc import service as nc_service
from eucalyptus.services.sc import service as sc_service
from eucalyptus.services.walrus import service as walrus_service
from eucalyptus.soap.resource import SoapSite

__all__ = [
    "AddressedBinarySignature",
    "CloudControllerZeepTests",
    "WalrusZeepTests",
    "ClusterControllerZeepTests",
    "StorageControllerZeepTests",
    "NodeControllerZeepTests",
]

ZONE = "zone-1"
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
BASE64 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
_ADDRESSING = ("To", "Action", "MessageID")

SETTINGS = f'LISTEN_ADDRESS="127.0.0.1"\nZONE="{ZONE}"\nWALRUS_PORT="0"\nHYPERVISOR="test"\n'

#: Component name to (its make_service, its service path).
COMPONENTS = {
    "clc": (clc_service.make_service, "services/Eucalyptus"),
    "walrus": (walrus_service.make_service, "services/Walrus"),
    "sc": (sc_service.make_service, "services/Storage"),
    "cc": (cc_service.make_service, "axis2/services/EucalyptusCC"),
    "nc": (nc_service.make_service, "axis2/services/EucalyptusNC"),
}


class AddressedBinarySignature(BinarySignature):
    """
    zeep's L{BinarySignature} (C{BinarySecurityToken}, direct reference) that
    also adds a C{wsu:Timestamp} and signs the Body, the Timestamp and the
    C{wsa:To}, C{wsa:Action} and C{wsa:MessageID} headers zeep's
    L{WsAddressingPlugin} added.

    zeep's own plug-in signs only the Body and a Timestamp that something
    else must have added; the signing steps below are zeep's
    C{_signature_prepare} and C{_sign_envelope_with_key_binary} with three
    more C{_sign_node} calls.  xmlsec builds the references, the digests and
    the signature value.

    @ivar peer_certfile: the PEM certificate replies must be signed with.
    @ivar sent: the request envelopes signed, in order.
    @ivar verified: the reply envelopes that passed C{verify_envelope}.
    """

    def __init__(self, key_file, certfile, peer_certfile, sha1=False):
        """
        @param key_file: the PEM private key to sign with.
        @param certfile: the PEM certificate to put in the token.
        @param peer_certfile: the PEM certificate replies must verify with.
        @param sha1: sign with zeep's defaults, RSA-SHA1 and SHA-1.
        """
        if sha1:
            method, digest = xmlsec.Transform.RSA_SHA1, xmlsec.Transform.SHA1
        else:
            method, digest = xmlsec.Transform.RSA_SHA256, xmlsec.Transform.SHA256
        BinarySignature.__init__(self, key_file, certfile, signature_method=method, digest_method=digest)
        self.peer_certfile = peer_certfile
        self.sent = []
        self.verified = []

    def apply(self, envelope, headers):
        soap_env = detect_soap_env(envelope)
        security = get_security_header(envelope)
        now = datetime.datetime.now(datetime.timezone.utc)
        timestamp = WSU.Timestamp(
            WSU.Created(get_timestamp(now, zulu_timestamp=True)),
            WSU.Expires(get_timestamp(now + datetime.timedelta(minutes=5), zulu_timestamp=True)),
        )
        security.append(timestamp)
        header = envelope.find(QName(soap_env, "Header"))
        parts = [envelope.find(QName(soap_env, "Body")), timestamp]
        parts += [header.find(QName(ns.WSA, name)) for name in _ADDRESSING]

        signature = xmlsec.template.create(envelope, xmlsec.Transform.EXCL_C14N, self.signature_method)
        key_info = xmlsec.template.ensure_key_info(signature)
        x509_data = xmlsec.template.add_x509_data(key_info)
        xmlsec.template.x509_data_add_certificate(x509_data)
        security.insert(0, signature)
        ctx = xmlsec.SignatureContext()
        ctx.key = _make_sign_key(self.key_data, self.cert_data, self.password)
        for part in parts:
            _sign_node(ctx, signature, part, self.digest_method)
        ctx.sign(signature)

        # As zeep's _sign_envelope_with_key_binary: the certificate xmlsec
        # wrote into X509Data moves to a BinarySecurityToken that KeyInfo
        # references directly.
        token = etree.Element(QName(ns.WSSE, "BinarySecurityToken"), {"ValueType": X509V3, "EncodingType": BASE64})
        token.text = x509_data.findtext(QName(ns.DS, "X509Certificate"))
        security.insert(1, token)
        reference = etree.SubElement(
            etree.SubElement(key_info, QName(ns.WSSE, "SecurityTokenReference")),
            QName(ns.WSSE, "Reference"),
            {"ValueType": X509V3},
        )
        reference.set("URI", "#" + ensure_id(token))
        key_info.remove(x509_data)
        self.sent.append(copy.deepcopy(envelope))
        return envelope, headers

    def verify(self, envelope):
        verify_envelope(envelope, self.peer_certfile)
        self.verified.append(copy.deepcopy(envelope))
        return envelope


def signed_parts(envelope):
    """
    The local names of the elements the envelope's signature references.
    """
    names = []
    for reference in envelope.iterfind(f".//{{{ns.DS}}}SignedInfo/{{{ns.DS}}}Reference"):
        (element,) = envelope.xpath("//*[@wsu:Id = $id]", namespaces={"wsu": ns.WSU}, id=reference.get("URI")[1:])
        names.append(QName(element).localname)
    return sorted(names)


def addressing(envelope, name):
    """
    The text of a WS-Addressing header of an envelope.
    """
    soap_env = detect_soap_env(envelope)
    return envelope.findtext(f"{{{soap_env}}}Header/{{{ns.WSA}}}{name}")


class ZeepInteropMixin:
    """
    A zeep client against one component served on a loopback port.

    @cvar component: the component under test.
    """

    component = None

    def setUp(self):
        data_dir = os.path.abspath(self.mktemp())
        settings = config_from_string(SETTINGS, data_dir)
        admin.initialise(settings, out=io.StringIO())
        self.keystore = keys.KeyStore(os.path.join(data_dir, "keys"))
        self.scratch = os.path.join(data_dir, "scratch")
        os.makedirs(self.scratch)

        make_service, path = COMPONENTS[self.component]
        root = Resource()
        service = make_service(settings, root=root)
        service.startService()
        self.addCleanup(service.stopService)
        port = reactor.listenTCP(0, SoapSite(root, max_body=1 << 20), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.url = f"http://127.0.0.1:{port.getHost().port}/{path}"

    def _role_paths(self, role):
        zone = None if role == "cloud" else ZONE
        return self.keystore.key_path(role, zone), self.keystore.cert_path(role, zone)

    def caller_files(self):
        """
        The (key, certificate) files of the first role the component pins.
        """
        return self._role_paths(trust.PINS[self.component][0])

    def peer_certfile(self):
        """
        The certificate file the component signs its replies with.
        """
        return self._role_paths(trust.SIGNS_WITH[self.component])[1]

    def stranger_files(self):
        """
        The (key, certificate) files of a new pair nobody pins.
        """
        pair = keys.create_pair("stranger")
        key_file = os.path.join(self.scratch, "stranger-pk.pem")
        cert_file = os.path.join(self.scratch, "stranger-cert.pem")
        keys.write_private_key(key_file, pair.key)
        keys.write_certificate(cert_file, pair.certificate)
        return key_file, cert_file

    def describe_services(self, wsse):
        """
        In a thread: build a zeep client from the served WSDL and call
        C{DescribeServices}.

        @param wsse: the client's WS-Security plug-in, or C{None}.
        @return: a Deferred firing with the zeep response object.
        """

        def call():
            session = requests.Session()
            # One request per connection, so no connection outlives a test.
            session.headers["Connection"] = "close"
            try:
                transport = Transport(session=session, timeout=10, operation_timeout=10)
                client = Client(self.url + "?wsdl", wsse=wsse, transport=transport, plugins=[WsAddressingPlugin()])
                return client.service.DescribeServices(correlationId="zeep-interop", userId="eucalyptus")
            finally:
                session.close()

        return threads.deferToThread(call)

    def assert_refused(self, wsse, code, reason):
        """
        The call is answered with a fault with C{code} whose string says
        C{reason}, and the fault itself is signed by the component when
        C{wsse} checks replies.
        """
        d = self.assertFailure(self.describe_services(wsse), Fault)

        def check(fault):
            self.assertEqual(fault.code, code)
            self.assertIn(reason, fault.message)
            if wsse is not None:
                self.assertEqual(len(wsse.verified), 1)
            return fault

        return d.addCallback(check)

    def test_signed_call(self):
        """
        A request signed by zeep and xmlsec with the caller key the
        component pins is answered, and the reply, signed over Body,
        Timestamp, To, Action, MessageID and RelatesTo, passes zeep's
        C{verify_envelope} with the component's certificate.
        """
        key_file, cert_file = self.caller_files()
        wsse = AddressedBinarySignature(key_file, cert_file, self.peer_certfile())
        d = self.describe_services(wsse)

        def check(response):
            (status,) = response.serviceStatuses
            self.assertEqual(status.localState, "ENABLED")
            self.assertEqual(response.correlationId, "zeep-interop")
            (request,) = wsse.sent
            self.assertEqual(signed_parts(request), ["Action", "Body", "MessageID", "Timestamp", "To"])
            self.assertEqual(addressing(request, "To"), self.url)
            (reply,) = wsse.verified
            self.assertEqual(
                signed_parts(reply), ["Action", "Body", "MessageID", "RelatesTo", "Timestamp", "To"]
            )
            self.assertEqual(addressing(reply, "RelatesTo"), addressing(request, "MessageID"))
            self.assertTrue(addressing(reply, "Action").endswith("#DescribeServicesResponse"))

            tampered = copy.deepcopy(reply)
            (state,) = tampered.xpath("//*[local-name() = 'localState']")
            state.text = "DISABLED"
            self.assertRaises(SignatureVerificationFailed, verify_envelope, tampered, self.peer_certfile())
            verify_envelope(copy.deepcopy(reply), self.peer_certfile())

        return d.addCallback(check)

    def test_unpinned_key(self):
        """
        The same client signing with a key the component does not pin is
        refused with C{wsse:FailedCheck}.
        """
        key_file, cert_file = self.stranger_files()
        return self.assert_refused(
            AddressedBinarySignature(key_file, cert_file, self.peer_certfile()), "wsse:FailedCheck", "key on disk"
        )

    def test_wrong_key_for_pinned_certificate(self):
        """
        A token holding the pinned certificate does not help a client that
        signs with another key: the signature does not verify, and the call
        is refused with C{wsse:FailedCheck}.
        """
        key_file, _ = self.stranger_files()
        _, cert_file = self.caller_files()
        return self.assert_refused(
            AddressedBinarySignature(key_file, cert_file, self.peer_certfile()), "wsse:FailedCheck", "does not verify"
        )

    def test_sha1_refused(self):
        """
        zeep's default algorithms, RSA-SHA1 and SHA-1, are refused with
        C{wsse:FailedCheck} while legacy SHA-1 is not allowed.
        """
        key_file, cert_file = self.caller_files()
        return self.assert_refused(
            AddressedBinarySignature(key_file, cert_file, self.peer_certfile(), sha1=True),
            "wsse:FailedCheck",
            "RSA_SHA1",
        )

    def test_unsigned_call(self):
        """
        A zeep client with WS-Addressing but no WS-Security is refused with
        C{wsse:InvalidSecurity}.
        """
        return self.assert_refused(None, "wsse:InvalidSecurity", "Security")

    def test_reply_from_unexpected_key(self):
        """
        zeep's C{verify_envelope} refuses a genuine reply when the client
        expects it to be signed by another certificate.
        """
        key_file, cert_file = self.caller_files()
        _, stranger_cert = self.stranger_files()
        wsse = AddressedBinarySignature(key_file, cert_file, stranger_cert)
        d = self.assertFailure(self.describe_services(wsse), SignatureVerificationFailed)
        return d.addCallback(lambda _: self.assertEqual((len(wsse.sent), wsse.verified), (1, [])))


class CloudControllerZeepTests(ZeepInteropMixin, unittest.TestCase):
    """
    zeep against the cloud controller's C{Empyrean} service.
    """

    component = "clc"


class WalrusZeepTests(ZeepInteropMixin, unittest.TestCase):
    """
    zeep against Walrus's C{Empyrean} service.
    """

    component = "walrus"


class StorageControllerZeepTests(ZeepInteropMixin, unittest.TestCase):
    """
    zeep against the storage controller.
    """

    component = "sc"


class ClusterControllerZeepTests(ZeepInteropMixin, unittest.TestCase):
    """
    zeep against the cluster controller.
    """

    component = "cc"


class NodeControllerZeepTests(ZeepInteropMixin, unittest.TestCase):
    """
    zeep against the node controller.
    """

    component = "nc"
