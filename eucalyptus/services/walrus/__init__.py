"""
The Walrus.
"""

__all__ = []
