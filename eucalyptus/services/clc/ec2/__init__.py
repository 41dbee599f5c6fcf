"""
The EC2 Query API of the Cloud Controller.

  - L{resource}: the HTTP side: SigV2/SigV4 authentication, request ids,
    error documents, and the split between SOAP and Query at
    C{/services/Eucalyptus};
  - L{dispatch}: the one way into the actions, from the table in
    L{actions};
  - L{model}, L{query}, L{serialize}: botocore's EC2 model, and reading
    requests and writing responses from it;
  - L{filters}, L{paging}: what every C{Describe*} action shares;
  - L{regions}: the first actions.
"""

__all__ = []
