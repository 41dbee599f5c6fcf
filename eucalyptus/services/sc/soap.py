# -*- test-case-name: tests.services.sc.test_service -*-
"""
The Storage Controller's SOAP endpoint, which tells its operations who
signed each call.

The SC pins two certificates, the cloud's (the CLC) and its zone's node
certificate (every NC), and lets a node make only some calls
(L{eucalyptus.services.sc.operations.NODE_OPERATIONS}).  The shared SOAP
resource verifies the signature and keeps which pinned certificate made it
in L{eucalyptus.security.wssec.VerifiedMessage.certificate}, but passes
only the Body's operation element on to the operations.  So the SC's
verifier (L{CallerVerifier}) wraps the shared one and marks the operation
element of the verified envelope with the signer's role, in an attribute of
its own namespace set (never trusted from the wire: it is always
overwritten) after verification; L{StorageSoapResource} takes the mark off
again before spyne reads the element, and hands spyne the operations as
that caller may use them.
"""

from dataclasses import dataclass, fields

from cryptography.hazmat.primitives.serialization import Encoding

from eucalyptus.security.wssec import VerifiedMessage
from eucalyptus.soap.resource import SoapResource

__all__ = ["CallerVerifier", "StorageSoapResource", "CALLER"]

#: The attribute that carries the signer's role from the verifier to the
#: resource.
CALLER = "{urn:eucalyptus:sc:caller}role"
#: The role of a signature by a pinned certificate the SC has no role for.
UNKNOWN = "unknown"


@dataclass(frozen=True)
class _Signed(VerifiedMessage):
    role: str = UNKNOWN

    def envelope(self):
        envelope = VerifiedMessage.envelope(self)
        for operation in self.body:
            operation.set(CALLER, self.role)
        return envelope


class CallerVerifier:
    """
    A L{eucalyptus.security.wssec.Verifier} that also says which role
    signed.
    """

    def __init__(self, verifier, roles):
        """
        @param verifier: the L{Verifier} pinning the certificates.
        @param roles: role name to its certificate, e.g. C{{"cloud": ...,
            "node": ...}}.
        """
        self._verifier = verifier
        self._roles = {cert.public_bytes(Encoding.DER): role for role, cert in roles.items()}

    def verify(self, envelope, reply=False):
        verified = self._verifier.verify(envelope, reply)
        role = self._roles.get(verified.certificate.public_bytes(Encoding.DER), UNKNOWN)
        return _Signed(**{f.name: getattr(verified, f.name) for f in fields(VerifiedMessage)}, role=role)


class StorageSoapResource(SoapResource):
    """
    The SC's SOAP resource: each call runs through
    C{operations.for_caller(role)}.
    """

    def _operations_for(self, element):
        role = element.attrib.pop(CALLER, None)
        if self.endpoint.verifier is None:
            role = None
        elif role is None:
            role = UNKNOWN
        return self.endpoint.operations.for_caller(role)
