# -*- test-case-name: tests.security.test_trust -*-
"""
Who signs with which key and who pins which certificate.

Each component signs what it sends (requests and replies) with one key and
accepts only messages signed by the certificates it pins, compared byte for
byte (no chains):

    component  signs with            pins (accepts calls from)
    clc        cloud                 cloud (admin tools on the CLC host)
    walrus     cloud                 cloud
    cc         cluster of its zone   cloud (the CLC)
    sc         cluster of its zone   cloud (the CLC), node of its zone (NCs)
    nc         node of its zone      cluster of its zone (its CC)

The original SC signed with the cloud key because it ran inside the CLC's
JVM; ours runs beside the CC, so it signs with the cluster key its host
already has, and its callers pin that.
"""

__all__ = ["SIGNS_WITH", "PINS", "own_credential", "pinned_certificates", "peer_certificate", "caller_credential"]

SIGNS_WITH = {"clc": "cloud", "walrus": "cloud", "cc": "cluster", "sc": "cluster", "nc": "node"}
PINS = {
    "clc": ("cloud",),
    "walrus": ("cloud",),
    "cc": ("cloud",),
    "sc": ("cloud", "node"),
    "nc": ("cluster",),
}


def _zone(role, zone):
    return None if role == "cloud" else zone


def own_credential(keystore, component, zone):
    """
    The key and certificate C{component} signs with.
    """
    role = SIGNS_WITH[component]
    return keystore.credential(role, _zone(role, zone))


def pinned_certificates(keystore, component, zone):
    """
    The certificates whose signatures C{component} accepts.
    """
    return [keystore.certificate(role, _zone(role, zone)) for role in PINS[component]]


def peer_certificate(keystore, component, zone):
    """
    The certificate a caller pins for the replies of C{component}.
    """
    role = SIGNS_WITH[component]
    return keystore.certificate(role, _zone(role, zone))


def caller_credential(keystore, component, zone):
    """
    A credential an administrator on the CLC host (which holds every key)
    can sign calls to C{component} with: the first role it pins.
    """
    role = PINS[component][0]
    return keystore.credential(role, _zone(role, zone))
