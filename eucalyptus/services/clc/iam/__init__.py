"""
The IAM Query API of the Cloud Controller (Eucalyptus's "Euare"), at
C{/services/Euare}: accounts, users and access keys.

  - L{resource}: the HTTP side, L{resource.iam_resource} to mount;
  - L{actions}: the actions and the L{actions.Directory} they work on;
  - L{model}, L{serialize}, L{errors}: botocore's IAM model with
    Eucalyptus's account actions, IAM's answers and errors.

The protocol machinery (authentication, dispatch, parameters) is the EC2
Query API's (L{eucalyptus.services.clc.ec2}), driven by another model.
"""

__all__ = []
