"""
Tests for L{eucalyptus.services.clc.ec2soap}: a zeep client, signing with
the X.509 certificate and key C{euca-admin init} wrote for the cloud's
administrator (or another account's user), against the live CLC.
"""

import copy
import datetime
import io
import os
import urllib.error
import urllib.request

import xmlsec
import zeep
from lxml import etree
from twisted.trial.unittest import TestCase
from zeep.exceptions import Fault
from zeep.transports import Transport
from zeep.wsse.signature import BinarySignature, Signature
from zeep.wsse.utils import WSU, get_security_header

from eucalyptus import admin
from eucalyptus.security import keys
from eucalyptus.services.clc.ec2.model import namespace
from eucalyptus.services.clc.ec2soap import wsdl
from tests.services.clc.ec2_harness import LiveCloudController, in_thread

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
BINDING = f"{{{namespace('2016-11-15')}}}AmazonEC2Binding"
SHA256 = {"signature_method": xmlsec.Transform.RSA_SHA256, "digest_method": xmlsec.Transform.SHA256}


def _add_timestamp(envelope, skew=0):
    """
    Add a C{wsu:Timestamp} (created C{skew} seconds from now, for five
    minutes) to the envelope's security header.
    """
    now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=skew)
    timestamp = WSU.Timestamp(
        WSU.Created(now.strftime("%Y-%m-%dT%H:%M:%SZ")),
        WSU.Expires((now + datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")),
    )
    get_security_header(envelope).append(timestamp)


def _get(url):
    """
    The body of a C{GET} (blocking).
    """
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


class UserSignature(BinarySignature):
    """
    zeep's BinarySignature, after a signed timestamp; responses are not
    signed, so not verified.

    @ivar tamper: called with the envelope after signing, if set.
    """

    tamper = None
    skew = 0

    def apply(self, envelope, headers):
        _add_timestamp(envelope, self.skew)
        envelope, headers = super().apply(envelope, headers)
        if self.tamper is not None:
            self.tamper(envelope)
        return envelope, headers

    def verify(self, envelope):
        return envelope


class X509DataSignature(Signature):
    """
    zeep's Signature (the certificate in the KeyInfo's X509Data), after a
    signed timestamp.
    """

    def apply(self, envelope, headers):
        _add_timestamp(envelope)
        return super().apply(envelope, headers)

    def verify(self, envelope):
        return envelope


class Ec2SoapTests(TestCase):
    """
    The EC2 SOAP API at C{/services/Eucalyptus}.
    """

    def setUp(self):
        self.clc = LiveCloudController(self)
        self.credentials = os.path.join(self.clc.data, "credentials", "admin")

    def service(self, wsse=None):
        """
        A zeep service proxy for the live CLC, signing with C{wsse}.
        """
        client = zeep.Client(wsdl.PATH, wsse=wsse, transport=Transport(timeout=30))
        return client.create_service(BINDING, self.clc.ec2_url)

    def signed(self, directory=None, user="admin", cls=UserSignature, **kwargs):
        """
        A service proxy signing with a user's key and certificate from its
        credentials directory.
        """
        directory = directory or self.credentials
        signature = cls(
            os.path.join(directory, f"{user}-pk.pem"), os.path.join(directory, f"{user}-cert.pem"), **SHA256
        )
        for name, value in kwargs.items():
            setattr(signature, name, value)
        return self.service(signature)

    async def fault_of(self, call, *args, **kwargs):
        """
        The fault code a call answers; its message is kept as
        C{fault_message}.
        """
        try:
            await in_thread(call, *args, **kwargs)
        except Fault as fault:
            self.fault_message = fault.message
            return fault.code
        self.fail(f"{call} did not fail")

    async def test_describe_regions(self):
        """
        C{DescribeRegions} signed with the administrator's certificate
        answers the cloud's region.
        """
        answer = await in_thread(self.signed().DescribeRegions)
        self.assertEqual([region.regionName for region in answer.regionInfo.item], ["eucalyptus"])
        self.assertEqual(answer.regionInfo.item[0].regionEndpoint, self.clc.service.operations.url)
        self.assertTrue(answer.requestId)

    async def test_describe_availability_zones(self):
        """
        C{DescribeAvailabilityZones} answers the configured zone.
        """
        answer = await in_thread(self.signed().DescribeAvailabilityZones)
        self.assertEqual([zone.zoneName for zone in answer.availabilityZoneInfo.item], ["east"])

    async def test_key_pairs(self):
        """
        C{CreateKeyPair} makes a key pair that C{DescribeKeyPairs} lists;
        a second one of the same name is C{Client.InvalidKeyPair.Duplicate}.
        """
        service = self.signed()
        created = await in_thread(service.CreateKeyPair, KeyName="soap-key")
        self.assertEqual(created.keyName, "soap-key")
        self.assertIn("PRIVATE KEY", created.keyMaterial)
        listed = await in_thread(service.DescribeKeyPairs, KeyName={"KeyName": ["soap-key"]})
        self.assertEqual([(k.keyName, k.keyFingerprint) for k in listed.keySet.item],
                         [("soap-key", created.keyFingerprint)])  # fmt: skip
        code = await self.fault_of(service.CreateKeyPair, KeyName="soap-key")
        self.assertEqual(code, "Client.InvalidKeyPair.Duplicate")

    async def test_describe_images(self):
        """
        C{DescribeImages} answers (no images are registered yet).
        """
        answer = await in_thread(self.signed().DescribeImages, Owner={"Owner": ["self"]})
        self.assertIsNone(answer.imagesSet)

    async def test_x509_data(self):
        """
        zeep's C{Signature}, which carries the certificate in the
        signature's C{X509Data}, is accepted too.
        """
        answer = await in_thread(self.signed(cls=X509DataSignature).DescribeRegions)
        self.assertEqual(answer.regionInfo.item[0].regionName, "eucalyptus")

    async def test_unsigned(self):
        """
        An unsigned request is C{Client.AuthFailure}.
        """
        self.assertEqual(await self.fault_of(self.service().DescribeRegions), "Client.AuthFailure")
        self.assertIn("soap:Header", self.fault_message)

    async def test_unknown_certificate(self):
        """
        A certificate the cloud did not issue (self-signed, or signed by
        the cloud's key but never recorded) is refused.
        """
        directory = self.mktemp()
        os.makedirs(directory)
        keystore = keys.KeyStore(os.path.join(self.clc.data, "keys"))
        for name, issuer in (("self", None), ("forged", keystore.credential("cloud"))):
            pair = keys.create_pair(f"admin@{name}", issuer=issuer)
            keys.write_private_key(os.path.join(directory, f"{name}-pk.pem"), pair.key)
            keys.write_certificate(os.path.join(directory, f"{name}-cert.pem"), pair.certificate)
            service = self.signed(directory, name)
            self.assertEqual(await self.fault_of(service.DescribeRegions), "Client.AuthFailure")
            self.assertIn("did not issue", self.fault_message)

    async def test_tampered_body(self):
        """
        A body changed after signing is refused.
        """

        def tamper(envelope):
            body = envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
            etree.SubElement(body[0], f"{{{namespace('2016-11-15')}}}AllRegions").text = "true"

        service = self.signed(tamper=tamper)
        self.assertEqual(await self.fault_of(service.DescribeRegions), "Client.AuthFailure")
        self.assertIn("Digest mismatch", self.fault_message)

    async def test_wrapped_body(self):
        """
        A signed Body moved into the header, with another Body in its
        place, is refused.
        """

        def wrap(envelope):
            body = envelope.find(f"{{{SOAP_ENV}}}Body")
            header = envelope.find(f"{{{SOAP_ENV}}}Header")
            etree.SubElement(header, "{urn:x}Wrapper").append(copy.deepcopy(body))
            del body.attrib[f"{{{WSU_NS}}}Id"]
            etree.SubElement(body[0], f"{{{namespace('2016-11-15')}}}AllRegions").text = "true"

        service = self.signed(tamper=wrap)
        self.assertEqual(await self.fault_of(service.DescribeRegions), "Client.AuthFailure")

    async def test_stale_timestamp(self):
        """
        A request created an hour ago is refused.
        """
        service = self.signed(skew=-3600)
        self.assertEqual(await self.fault_of(service.DescribeRegions), "Client.AuthFailure")
        self.assertIn("expired", self.fault_message)

    async def test_sha1_refused(self):
        """
        RSA-SHA1 signatures (zeep's default) are refused.
        """
        signature = UserSignature(
            os.path.join(self.credentials, "admin-pk.pem"), os.path.join(self.credentials, "admin-cert.pem")
        )
        self.assertEqual(await self.fault_of(self.service(signature).DescribeRegions), "Client.AuthFailure")
        self.assertIn("RSA_SHA1", self.fault_message)

    async def test_accounts_apart(self):
        """
        Another account's user, signing with its own certificate, sees
        only its own key pairs.
        """
        alice = os.path.join(self.clc.data, "credentials", "alice")
        keystore = keys.KeyStore(os.path.join(self.clc.data, "keys"))
        admin.account_credentials(self.clc.settings, keystore, "alice", alice, io.StringIO())
        await in_thread(self.signed().CreateKeyPair, KeyName="admins-key")
        await in_thread(self.signed(alice).CreateKeyPair, KeyName="alices-key")
        mine = await in_thread(self.signed(alice).DescribeKeyPairs)
        self.assertEqual([k.keyName for k in mine.keySet.item], ["alices-key"])
        theirs = await in_thread(self.signed().DescribeKeyPairs)
        self.assertEqual([k.keyName for k in theirs.keySet.item], ["admins-key"])
        code = await self.fault_of(self.signed(alice).DescribeKeyPairs, KeyName={"KeyName": ["admins-key"]})
        self.assertEqual(code, "Client.InvalidKeyPair.NotFound")

    async def test_served_wsdl(self):
        """
        C{GET ?wsdl=ec2} answers the checked-in WSDL, and the internal SOAP
        service still answers C{GET ?wsdl}.
        """
        served = await in_thread(_get, self.clc.ec2_url + "?wsdl=ec2")
        self.assertEqual(served, wsdl.checked_in())
        internal = await in_thread(_get, self.clc.ec2_url + "?wsdl")
        self.assertNotIn(b"AmazonEC2", internal)
        self.assertIn(b"definitions", internal)

    async def test_dry_run(self):
        """
        C{dryRun} is answered C{Client.DryRunOperation}.
        """
        code = await self.fault_of(self.signed().CreateKeyPair, KeyName="dry", dryRun=True)
        self.assertEqual(code, "Client.DryRunOperation")

    async def test_replay(self):
        """
        A signed request sent a second time is refused.
        """
        client = zeep.Client(wsdl.PATH)
        service = client.create_service(BINDING, self.clc.ec2_url)
        signature = UserSignature(
            os.path.join(self.credentials, "admin-pk.pem"), os.path.join(self.credentials, "admin-cert.pem"), **SHA256
        )
        envelope, _ = signature.apply(client.create_message(service, "DescribeRegions"), {})
        document = etree.tostring(envelope)
        first = await in_thread(_post, self.clc.ec2_url, document)
        second = await in_thread(_post, self.clc.ec2_url, document)
        self.assertEqual(first[0], 200)
        self.assertEqual(second[0], 500)
        self.assertEqual(etree.fromstring(second[1]).findtext(".//faultcode"), "Client.AuthFailure")
        self.assertIn("already received", etree.fromstring(second[1]).findtext(".//faultstring"))


def _post(url, document):
    """
    POST a SOAP document (blocking).

    @return: C{(status, body)}.
    """
    request = urllib.request.Request(
        url, data=document, headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
