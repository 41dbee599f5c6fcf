"""
The Node Controller.
"""

__all__ = []
