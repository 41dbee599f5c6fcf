# -*- test-case-name: tests.test_bundle -*-
"""
The Eucalyptus/EC2 image bundle, manifest version C{2007-10-10}.

A bundle is what C{euca-bundle-image} makes of an image file and what
C{RegisterImage} points at::

    image -> tar (one member) -> gzip -> AES-128-CBC -> parts of 10 MiB

The AES key and IV are random; PKCS#7 pads the last block (what C{openssl enc
-aes-128-cbc -K <hex> -iv <hex>} does, so C{openssl enc -d} and C{tar xzO}
undo a bundle).  The parts are C{<name>.part.<n>}, C{n} counting from 0, and
C{<name>.manifest.xml} describes them::

    <manifest>
      <version>2007-10-10</version>
      <bundler><name/><version/><release/></bundler>
      <machine_configuration>
        <architecture>x86_64</architecture>
        <kernel_id/> <ramdisk_id/>             (optional; "true" in kernel
                                                and ramdisk bundles)
        <block_device_mapping><mapping><virtual/><device/></mapping>...
      </machine_configuration>
      <image>
        <name/> <user>account id</user> <type>machine|kernel|ramdisk</type>
        <digest algorithm="SHA1"/> <size/> <bundled_size/>
        <ec2_encrypted_key algorithm="AES-128-CBC"/> <user_encrypted_key .../>
        <ec2_encrypted_iv/> <user_encrypted_iv/>
        <parts count="N"><part index="0"><filename/><digest algorithm="SHA1"/>
        </part>...</parts>
      </image>
      <signature/>
    </manifest>

Conventions, as euca2ools 3 (C{euca2ools/bundle/manifest.py},
C{commands/bundle/bundle.py}, C{bundle/pipes/core.py}) has them:

 - C{image/digest} is the SHA-1 of the I{uncompressed tar stream}, every byte
   of it including the headers and the end-of-archive padding: euca2ools
   hashes between C{tar} and C{gzip} when bundling and between C{gunzip} and
   C{tar} when unbundling.  It is not the digest of the image file itself.
 - C{size} is the image file's size, C{bundled_size} the sum of the parts'
   sizes (the encrypted stream), each part's C{digest} the SHA-1 of its bytes.
 - What the RSA keys encrypt (PKCS#1 v1.5) is the key and IV I{as 32
   lower-case hex characters}, the strings given to C{openssl enc -K/-iv};
   the encrypted bytes are hex in the manifest.  C{ec2_*} are encrypted to
   the cloud certificate, C{user_*} to the bundling user's.
 - The signature is hex RSA-SHA1 (PKCS#1 v1.5) by the user's key over the
   serialised C{<machine_configuration>} element followed by the serialised
   C{<image>} element, exactly as they stand in the manifest.

When reading, L{parse_manifest} re-serialises the two parsed elements with
lxml to get the signed bytes, so what is verified is exactly what is then
interpreted (never a substring found by searching the text, which a
manifest could fool).  Manifests written by lxml (euca2ools 3, this package)
re-serialise byte for byte.

L{make_bundle} and L{Unbundler} stream: memory use does not grow with the
image.

The package's modules: L{manifest <eucalyptus.bundle.manifest>} (the format's
constants, L{BundleError}, L{Manifest}, reading, verifying and writing
manifests), L{keys <eucalyptus.bundle.keys>} (the AES key and IV and their
RSA encryption), L{readers <eucalyptus.bundle.readers>} (the push gunzip and
tar readers), L{unbundle <eucalyptus.bundle.unbundle>} and
L{make <eucalyptus.bundle.make>}.  Import the names below from here.
"""

from eucalyptus.bundle.keys import decrypt_key
from eucalyptus.bundle.make import make_bundle
from eucalyptus.bundle.manifest import (
    KINDS,
    MANIFEST_VERSION,
    PART_SIZE,
    BundleError,
    Manifest,
    Part,
    parse_manifest,
    verify_signature,
)
from eucalyptus.bundle.unbundle import Unbundler, unbundle

__all__ = [
    "MANIFEST_VERSION",
    "PART_SIZE",
    "KINDS",
    "BundleError",
    "Part",
    "Manifest",
    "parse_manifest",
    "verify_signature",
    "decrypt_key",
    "Unbundler",
    "unbundle",
    "make_bundle",
]
