"""
The Cluster Controller.
"""

__all__ = []
