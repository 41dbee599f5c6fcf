"""
Tests for the Cloud Controller.
"""
