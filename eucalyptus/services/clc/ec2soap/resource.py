# -*- test-case-name: tests.services.clc.test_ec2_soap -*-
"""
The EC2 SOAP API over HTTP, beside the Query API and the CLC's internal
SOAP service at C{/services/Eucalyptus}.

L{Ec2SoapResource} answers a C{POST} of a SOAP 1.1 envelope whose body
element is in an EC2 namespace (L{is_ec2_soap}): it gives the request an
id, verifies its WS-Security signature and finds the caller
(L{auth.CertificateAuthority}), and runs the action the body element
names through a L{Dispatcher} over the Query API's action table, answering
the response envelope or a SOAP fault (HTTP 500) carrying EC2's error code.
C{GET ?wsdl=ec2} answers the checked-in WSDL.
"""

import io
import uuid

from lxml import etree
from twisted.internet import defer, threads
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from eucalyptus.errors import EucalyptusError, InternalError
from eucalyptus.services.clc.ec2.dispatch import Dispatcher
from eucalyptus.services.clc.ec2.errors import InvalidAction
from eucalyptus.services.clc.ec2soap import auth, shapes, wsdl
from eucalyptus.services.clc.ec2soap.shapes import REQUEST, SOAP_ENV

__all__ = ["Ec2SoapResource", "is_ec2_soap", "is_ec2_wsdl", "MalformedSoapRequest"]

_BODY = f"{{{SOAP_ENV}}}Body"
_ENVELOPE = f"{{{SOAP_ENV}}}Envelope"

# No entities, no DTDs, no network: the request is untrusted.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class MalformedSoapRequest(EucalyptusError):
    """
    The request is not a SOAP 1.1 envelope with one request element.
    """

    code = "InvalidRequest"
    http_status = 400
    message = "The request is not a SOAP 1.1 envelope holding one EC2 request element."


def is_ec2_wsdl(request):
    """
    Whether a request asks for the EC2 WSDL: C{GET ?wsdl=ec2}.
    """
    return request.method == b"GET" and request.uri.partition(b"?")[2].lower() == b"wsdl=ec2"


def is_ec2_soap(request):
    """
    Whether a C{POST} holds a SOAP envelope whose body element is in an EC2
    namespace (C{http://ec2.amazonaws.com/doc/<version>/}).  Only the start
    of the document is read, and the body is left to be read again.
    """
    if request.method != b"POST" or request.content is None:
        return False
    start = request.content.tell()
    try:
        head = request.content.read(64 * 1024)
    finally:
        request.content.seek(start)
    depth = 0
    try:
        for event, element in etree.iterparse(io.BytesIO(head), events=("start", "end"), resolve_entities=False,
                                              no_network=True, load_dtd=False):  # fmt: skip
            if event == "end":
                depth -= 1
                continue
            depth += 1
            if depth == 1 and element.tag != _ENVELOPE:
                return False
            if depth == 2 and element.tag not in (_BODY, f"{{{SOAP_ENV}}}Header"):
                return False
            if depth == 3 and element.getparent().tag == _BODY:
                return shapes.version_of(etree.QName(element).namespace) is not None
    except etree.XMLSyntaxError:
        return False
    return False


class Ec2SoapResource(Resource):
    """
    The EC2 SOAP API.
    """

    isLeaf = True
    _log = Logger()

    def __init__(self, dispatcher, authority, wsdl_document=None):
        """
        @param dispatcher: a L{Dispatcher} with L{shapes.SOAP_API}.
        @param authority: the L{auth.CertificateAuthority}.
        @param wsdl_document: the WSDL to serve (the checked-in one by
            default).
        """
        Resource.__init__(self)
        self.dispatcher = dispatcher
        self.authority = authority
        self.wsdl_document = wsdl_document

    @classmethod
    def beside(cls, query_dispatcher, store, run_in_thread=threads.deferToThread):
        """
        The EC2 SOAP API over the actions of the Query API's dispatcher.

        @param query_dispatcher: the Query API's L{Dispatcher}.
        @param store: the L{eucalyptus.accounts.AccountStore}.
        """
        dispatcher = Dispatcher(
            query_dispatcher.actions, query_dispatcher.region, run_in_thread=run_in_thread,
            cloud=query_dispatcher.cloud, api=shapes.SOAP_API,
        )  # fmt: skip
        return cls(dispatcher, auth.CertificateAuthority(store, lookup=run_in_thread))

    def render_GET(self, request):
        """
        Answer the WSDL.
        """
        if self.wsdl_document is None:
            self.wsdl_document = wsdl.checked_in()
        request.setHeader(b"content-type", b"text/xml; charset=utf-8")
        return self.wsdl_document

    def render_POST(self, request):
        """
        Answer one request; the envelope is written when it is ready.
        """
        request_id = str(uuid.uuid4())
        finished = []
        request.notifyFinish().addBoth(finished.append)
        d = defer.Deferred.fromCoroutine(self._answer(request, request_id))
        d.addCallbacks(lambda document: (200, document), self._fault, errbackArgs=(request_id,))
        d.addCallback(self._write, request, request_id, finished)
        d.addErrback(lambda f: self._log.failure("Writing an EC2 SOAP answer failed", f))
        return NOT_DONE_YET

    async def _answer(self, request, request_id):
        body = request.content.read() if request.content is not None else b""
        try:
            envelope = etree.fromstring(body, _PARSER)
        except etree.XMLSyntaxError:
            raise MalformedSoapRequest()
        signed = await self.authority.verify(envelope)
        children = list(signed.body.iterchildren(etree.Element))
        if len(children) != 1:
            raise MalformedSoapRequest()
        element = children[0]
        name = etree.QName(element)
        version = shapes.version_of(name.namespace)
        if version is None:
            raise InvalidAction(f"The element {name.text} is not an EC2 request.")
        params = {"Action": name.localname, "Version": version, REQUEST: element}
        return await self.dispatcher.dispatch(signed.caller, request_id, params)

    def _fault(self, failure, request_id):
        error = failure.value
        if not isinstance(error, EucalyptusError):
            self._log.failure("EC2 SOAP request {request_id} failed", failure, request_id=request_id)
            error = InternalError()
        return 500, shapes.fault_envelope(error, request_id)

    def _write(self, answer, request, request_id, finished):
        if finished:
            return
        status, document = answer
        request.setResponseCode(status)
        request.setHeader(b"content-type", b"text/xml; charset=utf-8")
        request.setHeader(b"x-amzn-requestid", request_id.encode("ascii"))
        request.setHeader(b"content-length", b"%d" % (len(document),))
        request.write(document)
        request.finish()
