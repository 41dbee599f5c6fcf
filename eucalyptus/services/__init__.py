"""
The five components, one sub-package each: C{clc}, C{walrus}, C{cc}, C{sc},
C{nc}.  Each has C{operations.py} (its logic, behind C{invoke}),
C{service.py} (its C{MultiService} factory) and C{tap.py} (its twistd
plugin).  L{eucalyptus.services.base} holds what they share.
"""

__all__ = []
