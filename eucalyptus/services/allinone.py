# -*- test-case-name: tests.services.test_daemons -*-
"""
The whole cloud in one process: C{twistd -n eucalyptus}.

The CLC, Walrus and the SC share the CLC's port (8773) at their own paths,
as in the original; Walrus also answers S3 at C{/} on its own port, and the
CC and the NC listen on their own ports.
"""

from twisted.application import service

from eucalyptus.services import taps
from eucalyptus.services.cc import service as cc
from eucalyptus.services.clc import service as clc
from eucalyptus.services.nc import service as nc
from eucalyptus.services.sc import service as sc
from eucalyptus.services.walrus import service as walrus

__all__ = ["Options", "makeService", "make_cloud"]

Options = taps.Options


def make_cloud(settings, keystore=None):
    """
    A C{MultiService} holding all five components.
    """
    cloud = service.MultiService()
    front = clc.make_service(settings, keystore=keystore)
    front.setName("clc")
    front.setServiceParent(cloud)
    child = walrus.make_service(settings, root=front.root, keystore=keystore, site=front.site)
    child.setName("walrus")
    child.setServiceParent(cloud)
    child = sc.make_service(settings, root=front.root, keystore=keystore)
    child.setName("sc")
    child.setServiceParent(cloud)
    for name, module in (("cc", cc), ("nc", nc)):
        child = module.make_service(settings, keystore=keystore)
        child.setName(name)
        child.setServiceParent(cloud)
    return cloud


def makeService(options):
    """
    Build the whole cloud from the options' configuration.
    """
    return make_cloud(taps.settings_from(options))
