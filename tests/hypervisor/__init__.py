"""
Tests for L{eucalyptus.hypervisor}.
"""
