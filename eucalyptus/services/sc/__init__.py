"""
The Storage Controller.
"""

__all__ = []
