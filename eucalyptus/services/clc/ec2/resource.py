# -*- test-case-name: tests.services.clc.test_ec2_resource,tests.services.clc.test_ec2_boto3,tests.services.clc.test_iam_protocol -*-
"""
The EC2 Query API over HTTP.

L{Ec2QueryResource} answers C{GET} (parameters in the query) and C{POST}
(parameters in a form body, or in the query): it gives the request an id,
authenticates it (SigV4 for service C{ec2} in the header or presigned, or
the query APIs' SigV2, with the keys of the cloud's account store), hands
the parameters to the L{Dispatcher}, and answers with the response
document or EC2's error document.  Every answer carries its request id in
the document and in the C{x-amzn-requestid} header.  Unexpected errors are
logged with their traceback and answered C{InternalError} (500) without it.

The other query APIs (IAM at C{/services/Euare}) are subclasses that name
their SigV4 service, their error document and how they report a failed
signature check.

At C{/services/Eucalyptus} the CLC also serves its internal SOAP service;
L{SoapOrQueryResource} sends SOAP there (a C{POST} of an XML document or
with a C{SOAPAction} header, a C{GET ?wsdl}) and everything else to the
Query API, except EC2 SOAP requests (a body element in an EC2 namespace)
and C{GET ?wsdl=ec2}, which go to the EC2 SOAP API
(L{eucalyptus.services.clc.ec2soap}).
"""

import time
import uuid

from twisted.internet import defer
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from eucalyptus.errors import AwsError, EntityTooLarge, EucalyptusError, InternalError
from eucalyptus.security import awsauth
from eucalyptus.services.clc.ec2 import query, serialize
from eucalyptus.services.clc.ec2.dispatch import Caller
from eucalyptus.services.clc.ec2.errors import AuthFailure, from_auth_error
from eucalyptus.services.clc.ec2soap.resource import Ec2SoapResource, is_ec2_soap, is_ec2_wsdl

__all__ = ["Ec2QueryResource", "SoapOrQueryResource", "is_soap"]

_SOAP_TYPES = (b"text/xml", b"application/soap+xml")


class Ec2QueryResource(Resource):
    """
    The EC2 Query API at one path.

    @cvar service: the service SigV4 credential scopes must name.
    @cvar auth_error: C{auth_error(error)}: the error to answer for a
        failed signature check (an L{AwsError} in S3's words).
    @cvar error_document: C{error_document(error, request_id)}: the body
        of an error answer.
    """

    isLeaf = True
    _log = Logger()

    service = "ec2"
    auth_error = staticmethod(from_auth_error)
    error_document = staticmethod(serialize.error_document)

    def __init__(self, dispatcher, identities, clock=time.time):
        """
        @param dispatcher: the L{eucalyptus.services.clc.ec2.dispatch.Dispatcher}.
        @param identities: the
            L{eucalyptus.services.walrus.identities.Identities} holding the
            cloud's access keys (shared with Walrus's S3 API).
        @param clock: seconds since the epoch, for signature dates.
        """
        Resource.__init__(self)
        self.dispatcher = dispatcher
        self.identities = identities
        self.clock = clock

    def render_GET(self, request):
        """
        Answer a request; the document is written when it is ready.
        """
        request_id = str(uuid.uuid4())
        finished = []
        request.notifyFinish().addBoth(finished.append)
        d = defer.Deferred.fromCoroutine(self._answer(request, request_id))
        d.addCallbacks(lambda document: (200, document), self._error_document, errbackArgs=(request_id,))
        d.addCallback(self._write, request, request_id, finished)
        d.addErrback(lambda f: self._log.failure("Writing an {service} answer failed", f, service=self.service))
        return NOT_DONE_YET

    render_POST = render_GET

    async def _answer(self, request, request_id):
        """
        Authenticate and dispatch one request.

        @return: the response document.
        """
        body = _body_of(request)
        headers = ((name, value) for name, values in request.requestHeaders.getAllRawHeaders() for value in values)
        signed = awsauth.SignedRequest.from_target(request.method, request.uri, headers, body=body)
        caller = await self._authenticate(signed)
        params = query.request_parameters(request.uri.partition(b"?")[2], signed.form_body)
        return await self.dispatcher.dispatch(caller, request_id, params)

    async def _authenticate(self, signed):
        """
        The L{Caller} who signed a request.

        @raise AwsError: C{AuthFailure} (not signed, badly signed, unknown
            key), C{RequestExpired} (dated too far from our clock).
        """
        try:
            identity, auth = await self.identities.authenticate(signed, self.clock(), service=self.service)
        except AwsError as error:
            raise self.auth_error(error)
        if auth is None:
            raise self.auth_error(
                AuthFailure(
                    f"The request is not signed: sign it with Signature Version 4 (service {self.service}) "
                    "or Version 2."
                )
            )
        key = await self.identities.key_for(auth.access_key_id)
        return Caller(
            key.account_id, key.account_name, key.user_id, key.user_name, key.access_key_id, identity.privileged
        )

    def _error_document(self, failure, request_id):
        """
        The status and error document of a failed request.
        """
        error = failure.value
        if not isinstance(error, EucalyptusError):
            self._log.failure("{service} request {request_id} failed", failure, service=self.service,
                              request_id=request_id)
            error = InternalError()
        return error.http_status, self.error_document(error, request_id)

    def _write(self, answer, request, request_id, finished):
        """
        Send the answer, unless the client has gone.
        """
        if finished:
            return
        status, document = answer
        request.setResponseCode(status)
        request.setHeader(b"content-type", serialize.CONTENT_TYPE)
        request.setHeader(b"x-amzn-requestid", request_id.encode("ascii"))
        request.setHeader(b"content-length", b"%d" % (len(document),))
        request.write(document)
        request.finish()


def _body_of(request):
    """
    The body of a request, as the site kept it.

    @raise EntityTooLarge: the site did not keep it: it passed the site's
        limit, or (the whole cloud in one process) Walrus's site sent it to
        its spool, which reads back nothing.
    """
    if getattr(request, "body_too_large", False):
        raise EntityTooLarge()
    if request.content is None:
        return b""
    body = request.content.read()
    if len(body) != request.content.tell():
        raise EntityTooLarge()
    return body


def is_soap(request):
    """
    Whether a request at C{/services/Eucalyptus} is for the SOAP service:
    a C{POST} of an XML document or with a C{SOAPAction} header, or a
    C{GET ?wsdl}.
    """
    if request.method == b"GET":
        return request.uri.partition(b"?")[2].lower() == b"wsdl"
    if request.method != b"POST":
        return False
    content_type = (request.getHeader(b"content-type") or b"").partition(b";")[0].strip().lower()
    return content_type in _SOAP_TYPES or request.requestHeaders.hasHeader(b"soapaction")


class SoapOrQueryResource(Resource):
    """
    One path, three APIs: EC2 SOAP requests go to the EC2 SOAP API, other
    SOAP requests to the SOAP resource, the rest to the Query API.
    """

    isLeaf = True

    def __init__(self, soap, query_api, ec2_soap=None):
        """
        @param soap: the L{eucalyptus.soap.resource.SoapResource}.
        @param query_api: the L{Ec2QueryResource}.
        @param ec2_soap: the L{Ec2SoapResource}; by default, made on first
            use over C{query_api}'s dispatcher and account store.
        """
        Resource.__init__(self)
        self.soap = soap
        self.query_api = query_api
        self.ec2_soap = ec2_soap

    def render(self, request):
        if is_ec2_wsdl(request) or is_ec2_soap(request):
            if self.ec2_soap is None:
                self.ec2_soap = Ec2SoapResource.beside(self.query_api.dispatcher, self.query_api.identities.accounts)
            return self.ec2_soap.render(request)
        target = self.soap if is_soap(request) else self.query_api
        return target.render(request)
