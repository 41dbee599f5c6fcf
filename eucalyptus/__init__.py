"""
Eucalyptus rebuilt in Python: an AWS-compatible private cloud on Twisted.

The five components (CLC, Walrus, CC, SC, NC) live under L{eucalyptus.services};
what they share (configuration, errors, keys, WS-Security, SOAP hosting) lives
beside this module.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
