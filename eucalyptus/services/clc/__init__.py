"""
The Cloud Controller.
"""

__all__ = []
