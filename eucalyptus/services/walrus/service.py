# -*- test-case-name: tests.services.walrus.test_rest -*-
"""
The Walrus as a service tree: the object store, the S3 REST API (with the
component's SOAP service at the same address) on Walrus's own port, and,
when the cloud runs in one process, the same resource below
C{/services/Walrus} on the cloud's port.
"""

from twisted.application import service, strports
from twisted.internet import defer
from twisted.logger import Logger

from eucalyptus.accounts import AccountStore
from eucalyptus.config import WalrusConfig
from eucalyptus.security.keys import KeyStore
from eucalyptus.services.base import mount, soap_endpoint
from eucalyptus.services.build import endpoint_url
from eucalyptus.services.walrus.body import StreamingRequest, StreamingSite
from eucalyptus.services.walrus.identities import Identities
from eucalyptus.services.walrus.operations import ObjectOperations, WalrusOperations
from eucalyptus.services.walrus.rest import WalrusResource
from eucalyptus.services.walrus.soap import S3SoapResource
from eucalyptus.services.walrus.store import LocalObjectStore
from eucalyptus.soap.resource import SoapResource
from eucalyptus.wsdl import SERVICE_NAMES, make_application

__all__ = ["make_service", "WalrusService", "PATH"]

PATH = "services/Walrus"


class WalrusService(service.MultiService):
    """
    Walrus: opens its store before it listens and closes it after.

    @ivar store: the L{LocalObjectStore}.
    @ivar operations: the component's L{WalrusOperations}.
    @ivar objects: the S3 L{ObjectOperations}.
    @ivar resource: the L{WalrusResource}.
    """

    def __init__(self, store):
        service.MultiService.__init__(self)
        self.store = store

    _log = Logger()

    def startService(self):
        """
        Open the store (sweeping what a crash left), then listen.
        """
        self.running = 1
        self._started = self.store.start()
        self._started.addCallback(lambda _: service.MultiService.startService(self))
        self._started.addErrback(lambda f: self._log.failure("Walrus could not open its store", f))

    def listening(self):
        """
        @return: a Deferred firing once the store is open and the site
            listens (after L{startService}).
        """
        d = defer.Deferred()
        self._started.addBoth(lambda result: (d.callback(None), result)[1])
        return d

    async def _stop(self):
        await self._started
        await service.MultiService.stopService(self)
        await self.store.stop()

    def stopService(self):
        """
        Stop listening, then close the store.
        """
        return defer.Deferred.fromCoroutine(self._stop())


def make_service(settings, root=None, keystore=None, site=None):
    """
    The Walrus's C{MultiService}.

    @param settings: the parsed L{eucalyptus.config.Settings}.
    @param root: the cloud port's resource tree when the cloud runs in one
        process; Walrus is mounted there too.
    @param site: that port's site, which then spools object bodies into
        Walrus's store.
    @param keystore: a L{eucalyptus.security.keys.KeyStore} (for tests).
    """
    config = WalrusConfig.from_settings(settings)
    keystore = keystore or KeyStore(config.keys_dir)
    store = LocalObjectStore(config.storage_dir)
    identities = Identities(AccountStore(config.database_url), keys_dir=keystore.path)
    objects = ObjectOperations(store, identities)
    operations = WalrusOperations(config, endpoint_url(settings["WALRUS_HOST"], config.port, PATH))
    endpoint = soap_endpoint(config, keystore, "walrus", operations, make_application("walrus"), SERVICE_NAMES["walrus"])
    soap = SoapResource(endpoint)
    s3soap = S3SoapResource(objects, identities)
    walrus = WalrusService(store)
    walrus.operations, walrus.objects = operations, objects
    walrus.resource = WalrusResource(
        objects, identities, soap, config.domains, prefix=b"/" + PATH.encode("ascii"), s3soap=s3soap
    )
    own_site = StreamingSite(walrus.resource, config.max_body, store.spool)
    listen = f"tcp:{config.port}:interface={config.listen_address}"
    strports.service(listen, own_site).setServiceParent(walrus)
    if root is not None:
        mount(root, PATH, WalrusResource(objects, identities, soap, (), s3soap=s3soap))
    if site is not None:
        site.requestFactory = StreamingRequest
        site.spool_factory = store.spool
    return walrus
