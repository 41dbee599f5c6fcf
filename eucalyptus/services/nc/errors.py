# -*- test-case-name: tests.services.nc.test_fetch,tests.services.nc.test_images -*-
"""
The errors of the Node Controller's image downloads and image cache.

Each says what failed and what a person can do about it; the image's URL
is in the message, the image id where the cache knows it.
"""

from eucalyptus.errors import EucalyptusError

__all__ = ["ImageNotFound", "ImageCorrupt", "ImageFetchFailed", "CacheFull"]


class ImageNotFound(EucalyptusError):
    """
    Walrus has no such object (HTTP 404): the image was deleted or
    registered with a wrong manifest location.  Not retried.
    """

    code = "ImageNotFound"
    http_status = 404
    message = "The image is not in Walrus; check that its bucket and key exist and re-register it."
    fault_kind = "Client"


class ImageCorrupt(EucalyptusError):
    """
    The bytes received are not the image: a truncated body, an MD5 that is
    not the ETag, a bundle part or image whose digest is not the
    manifest's, a bundle that cannot be decrypted or unpacked.  Nothing of
    the download is kept.
    """

    code = "ImageCorrupt"
    message = "The downloaded image failed its integrity checks; re-upload or re-bundle it."


class ImageFetchFailed(EucalyptusError):
    """
    The image could not be downloaded: Walrus refused the node's
    credentials (HTTP 403, not retried), or every attempt failed (Walrus
    unreachable, server errors).
    """

    code = "ImageFetchFailed"
    http_status = 503
    message = "The image could not be downloaded from Walrus; check that Walrus is up and trusts this node's key."


class CacheFull(EucalyptusError):
    """
    The image does not fit in the node's image cache even with every image
    no instance uses removed.
    """

    code = "CacheFull"
    http_status = 507
    message = "The image does not fit in the node's image cache; raise NC_CACHE_SIZE or stop instances."
