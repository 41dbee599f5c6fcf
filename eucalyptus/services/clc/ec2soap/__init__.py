# -*- test-case-name: tests.services.clc.test_ec2_soap -*-
"""
The EC2 SOAP API: the EC2 actions of the Query API, as document/literal
SOAP 1.1 messages signed with WS-Security by the user's X.509 certificate
(C{EC2_CERT}, C{EC2_PRIVATE_KEY} of an C{eucarc}).

  - L{shapes}: request bodies to action inputs, results to response
    envelopes, errors to faults, by botocore's model;
  - L{wsdl}: the WSDL of the implemented actions, generated from the same
    model and checked in as C{eucalyptus/wsdl/ec2.wsdl};
  - L{auth}: who signed a request, by the certificates the cloud issued;
  - L{resource}: the HTTP resource at C{/services/Eucalyptus}.
"""

__all__ = []
