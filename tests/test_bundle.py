# -*- test-case-name: tests.test_bundle -*-
"""
Tests for L{eucalyptus.bundle}.
"""

import gzip
import hashlib
import io
import os
import shutil
import subprocess
import tarfile

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives import padding as sympadding
from lxml import etree
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus import bundle
from eucalyptus.errors import EucalyptusError
from eucalyptus.security.keys import create_pair

CLOUD = create_pair("eucalyptus")
USER = create_pair("admin@eucalyptus", issuer=CLOUD)
STRANGER = create_pair("stranger")
ACCOUNT = "123456789012"


def _image(size, seed=b"eucalyptus"):
    """
    Deterministic, poorly compressible bytes with a compressible tail.
    """
    out = bytearray()
    counter = 0
    while len(out) < size // 2:
        out += hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
        counter += 1
    del out[size // 2 :]
    return bytes(out) + b"\0" * (size - len(out))


class _BundleCase(SynchronousTestCase):
    """
    Makes bundles in a temporary directory.
    """

    def make(self, data, part_size=bundle.PART_SIZE, **kwargs):
        """
        Bundle C{data}; return the directory of the bundle, the manifest's
        path and the parsed manifest.
        """
        base = self.mktemp()
        os.makedirs(os.path.join(base, "out"))
        image = os.path.join(base, "disk.img")
        with open(image, "wb") as f:
            f.write(data)
        kwargs.setdefault("account", ACCOUNT)
        out = os.path.join(base, "out")
        path = bundle.make_bundle(image, out, CLOUD.certificate, USER, part_size=part_size, **kwargs)
        with open(path, "rb") as f:
            return os.path.join(base, "out"), path, bundle.parse_manifest(f.read())

    def concatenated(self, directory, manifest):
        """
        The bytes of all the parts, in order.
        """
        out = b""
        for part in manifest.parts:
            with open(os.path.join(directory, part.filename), "rb") as f:
                out += f.read()
        return out


class RoundTripTests(_BundleCase):
    """
    L{bundle.make_bundle} then L{bundle.unbundle} gives the image back.
    """

    def round_trip(self, size, part_size=bundle.PART_SIZE):
        data = _image(size)
        directory, path, manifest = self.make(data, part_size)
        bundle.verify_signature(manifest, USER.certificate)
        key, iv = bundle.decrypt_key(manifest, [CLOUD.key])
        out = io.BytesIO()
        digest = bundle.unbundle(manifest, directory, key, iv, out)
        self.assertEqual(out.getvalue(), data)
        self.assertEqual(digest, manifest.digest)
        self.assertEqual(manifest.size, size)
        names = [p.filename for p in manifest.parts]
        self.assertEqual(manifest.bundled_size, sum(os.path.getsize(os.path.join(directory, n)) for n in names))
        self.assertEqual(sorted(os.listdir(directory)), sorted(names + ["disk.img.manifest.xml"]))
        return manifest

    def test_empty(self):
        """
        An empty image bundles into one part and comes back empty.
        """
        manifest = self.round_trip(0)
        self.assertEqual(len(manifest.parts), 1)

    def test_one_byte(self):
        """
        A one-byte image.
        """
        self.round_trip(1)

    def test_exactly_one_part(self):
        """
        When the encrypted stream is exactly one part long, there is one part
        and no empty second one.
        """
        data = _image(5000)
        _, _, probe = self.make(data)
        manifest = self.round_trip(5000, part_size=probe.bundled_size)
        self.assertEqual(len(manifest.parts), 1)
        self.assertEqual(manifest.parts[0].filename, "disk.img.part.0")

    def test_several_parts(self):
        """
        A small part size makes several parts, named C{<name>.part.<n>}, all
        but the last of exactly that size.
        """
        manifest = self.round_trip(200000, part_size=4096)
        self.assertGreater(len(manifest.parts), 3)
        names = [f"disk.img.part.{i}" for i in range(len(manifest.parts))]
        self.assertEqual([p.filename for p in manifest.parts], names)

    def test_user_key_opens(self):
        """
        The user's private key opens the bundle too, through the
        C{user_encrypted_*} copy; a stranger's does not.
        """
        _, _, manifest = self.make(b"x")
        cloud_pair = bundle.decrypt_key(manifest, [CLOUD.key])
        self.assertEqual(bundle.decrypt_key(manifest, [STRANGER.key, USER.key]), cloud_pair)
        self.assertEqual([len(cloud_pair[0]), len(cloud_pair[1])], [16, 16])

    def test_manifest_shape(self):
        """
        The manifest has the 2007-10-10 shape, and the encrypted key is the
        key's hex string, as euca2ools and Walrus expect.
        """
        _, path, manifest = self.make(b"abc", architecture="i386", kernel_id="eki-12345678")
        with open(path, "rb") as f:
            root = etree.fromstring(f.read())
        tags = ["version", "bundler", "machine_configuration", "image", "signature"]
        self.assertEqual([child.tag for child in root], tags)
        self.assertEqual(root.findtext("version"), "2007-10-10")
        self.assertEqual(
            [child.tag for child in root.find("image")],
            [
                "name",
                "user",
                "digest",
                "size",
                "bundled_size",
                "type",
                "ec2_encrypted_key",
                "user_encrypted_key",
                "ec2_encrypted_iv",
                "user_encrypted_iv",
                "parts",
            ],
        )
        self.assertEqual(root.find("image/digest").get("algorithm"), "SHA1")
        self.assertEqual(root.find("image/ec2_encrypted_key").get("algorithm"), "AES-128-CBC")
        self.assertEqual(root.find("image/parts").get("count"), "1")
        self.assertEqual(root.find("image/parts/part").get("index"), "0")
        self.assertEqual(manifest.account, ACCOUNT)
        self.assertEqual(manifest.kind, "machine")
        self.assertEqual(manifest.architecture, "i386")
        self.assertEqual(manifest.kernel_id, "eki-12345678")
        self.assertIsNone(manifest.ramdisk_id)
        self.assertEqual(manifest.block_device_mapping["root"], "/dev/sda1")
        plain = CLOUD.key.decrypt(bytes.fromhex(manifest.ec2_encrypted_key), padding.PKCS1v15())
        self.assertRegex(plain.decode("ascii"), "^[0-9a-f]{32}$")

    def test_kernel_and_ramdisk(self):
        """
        Kernel and ramdisk bundles carry C{kernel_id} or C{ramdisk_id}
        C{"true"} and their type.
        """
        _, _, kernel = self.make(b"k", kind="kernel", name="vmlinuz")
        _, _, ramdisk = self.make(b"r", kind="ramdisk", name="initrd.img")
        self.assertEqual((kernel.kind, kernel.kernel_id, kernel.ramdisk_id), ("kernel", "true", None))
        self.assertEqual(kernel.name, "vmlinuz")
        self.assertEqual((ramdisk.kind, ramdisk.kernel_id, ramdisk.ramdisk_id), ("ramdisk", None, "true"))

    def test_digest_is_of_the_tar_stream(self):
        """
        C{image/digest} is the SHA-1 of the uncompressed tar stream, the
        euca2ools convention, not of the image file.
        """
        data = _image(3000)
        directory, _, manifest = self.make(data)
        key, iv = bundle.decrypt_key(manifest, [CLOUD.key])
        decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        unpadder = sympadding.PKCS7(128).unpadder()
        padded = decryptor.update(self.concatenated(directory, manifest)) + decryptor.finalize()
        tar = gzip.decompress(unpadder.update(padded) + unpadder.finalize())
        self.assertEqual(hashlib.sha1(tar).hexdigest(), manifest.digest)
        self.assertNotEqual(hashlib.sha1(data).hexdigest(), manifest.digest)

    def test_bad_arguments(self):
        """
        An unknown kind, a missing account or a name with a directory in it
        are refused before anything is written.
        """
        self.assertRaises(ValueError, self.make, b"", kind="disk")
        self.assertRaises(ValueError, self.make, b"", account=None)
        self.assertRaises(ValueError, self.make, b"", name="../evil")


class OpensslTests(_BundleCase):
    """
    A bundle is what C{openssl enc -aes-128-cbc} and C{tar z} make.
    """

    def test_openssl_decrypts(self):
        """
        C{openssl enc -d -aes-128-cbc -K <hex> -iv <hex>} of the concatenated
        parts, then C{tar xzO}, gives the image.
        """
        openssl, tar = shutil.which("openssl"), shutil.which("tar")
        if not openssl or not tar:
            raise AssertionError("this test needs the openssl and tar commands")
        data = _image(100000)
        directory, _, manifest = self.make(data, part_size=8192)
        key, iv = bundle.decrypt_key(manifest, [CLOUD.key])
        decrypted = subprocess.run(
            [openssl, "enc", "-d", "-aes-128-cbc", "-K", key.hex(), "-iv", iv.hex()],
            input=self.concatenated(directory, manifest),
            capture_output=True,
            check=True,
        ).stdout
        image = subprocess.run([tar, "xzO"], input=decrypted, capture_output=True, check=True).stdout
        self.assertEqual(image, data)

    def test_openssl_encrypts(self):
        """
        A stream made by C{tar czf -} and C{openssl enc -e} unbundles.
        """
        base = self.mktemp()
        os.makedirs(base)
        data = _image(5000)
        with open(os.path.join(base, "image"), "wb") as f:
            f.write(data)
        key, iv = os.urandom(16), os.urandom(16)
        tgz = subprocess.run(["tar", "czf", "-", "-C", base, "image"], capture_output=True, check=True).stdout
        encrypted = subprocess.run(
            ["openssl", "enc", "-e", "-aes-128-cbc", "-K", key.hex(), "-iv", iv.hex()],
            input=tgz,
            capture_output=True,
            check=True,
        ).stdout
        out = io.BytesIO()
        unbundler = bundle.Unbundler(key, iv, out, digest=hashlib.sha1(gzip.decompress(tgz)).hexdigest(), size=5000)
        unbundler.feed(encrypted)
        unbundler.finish()
        self.assertEqual(out.getvalue(), data)


class UnbundlerTests(_BundleCase):
    """
    L{bundle.Unbundler} streams and checks what it is fed.
    """

    def setUp(self):
        self.data = _image(70000)
        self.directory, _, self.manifest = self.make(self.data, part_size=10000)
        self.key, self.iv = bundle.decrypt_key(self.manifest, [CLOUD.key])
        self.stream = self.concatenated(self.directory, self.manifest)

    def unbundle(self, stream, chunk, key=None, **kwargs):
        kwargs.setdefault("digest", self.manifest.digest)
        kwargs.setdefault("size", self.manifest.size)
        out = io.BytesIO()
        unbundler = bundle.Unbundler(key or self.key, self.iv, out, **kwargs)
        for offset in range(0, len(stream), chunk):
            unbundler.feed(stream[offset : offset + chunk])
        unbundler.finish()
        return out.getvalue(), unbundler

    def test_odd_chunks(self):
        """
        Any chunking gives the same image: one byte, a prime, a block and a
        bit, everything at once.
        """
        for chunk in (1, 7, 17, 4093, 65537, len(self.stream)):
            image, unbundler = self.unbundle(self.stream, chunk)
            self.assertEqual(image, self.data, f"chunk {chunk}")
            self.assertEqual((unbundler.digest, unbundler.size), (self.manifest.digest, len(self.data)))

    def test_wrong_key(self):
        """
        Another key is refused with a L{bundle.BundleError}, which is a
        L{EucalyptusError} with a code.
        """
        error = self.assertRaises(bundle.BundleError, self.unbundle, self.stream, 4096, key=os.urandom(16))
        self.assertIsInstance(error, EucalyptusError)
        self.assertEqual(error.code, "InvalidManifest")
        self.assertIn("key", str(error))

    def test_wrong_digest(self):
        """
        A manifest digest that does not match the stream is refused.
        """
        error = self.assertRaises(bundle.BundleError, self.unbundle, self.stream, 4096, digest="0" * 40)
        self.assertIn("digest", str(error))

    def test_wrong_size(self):
        """
        A manifest size that does not match the image is refused.
        """
        self.assertRaises(bundle.BundleError, self.unbundle, self.stream, 4096, size=1)

    def test_truncated(self):
        """
        A stream missing its last block, or its last part, is refused.
        """
        self.assertRaises(bundle.BundleError, self.unbundle, self.stream[:-16], 4096)
        self.assertRaises(bundle.BundleError, self.unbundle, self.stream[:-10], 4096)
        self.assertRaises(bundle.BundleError, self.unbundle, self.stream[:30000], 4096)

    def test_fails_once(self):
        """
        After a failure, further calls fail too rather than carry on.
        """
        unbundler = bundle.Unbundler(os.urandom(16), self.iv, io.BytesIO())
        self.assertRaises(bundle.BundleError, unbundler.feed, self.stream[:4096])
        self.assertRaises(bundle.BundleError, unbundler.feed, self.stream[4096:8192])
        self.assertRaises(bundle.BundleError, unbundler.finish)

    def encrypt(self, plain):
        """
        Gzip and encrypt C{plain} (a tar stream) with the test key.
        """
        padder = sympadding.PKCS7(128).padder()
        encryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.iv)).encryptor()
        padded = padder.update(gzip.compress(plain)) + padder.finalize()
        return encryptor.update(padded) + encryptor.finalize()

    def tar(self, *members):
        """
        A tar stream of C{(TarInfo, bytes)} members.
        """
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for info, data in members:
                archive.addfile(info, io.BytesIO(data) if data is not None else None)
        return out.getvalue()

    def member(self, name, data=b"", kind=tarfile.REGTYPE):
        info = tarfile.TarInfo(name)
        info.type, info.size = kind, len(data)
        return info, data

    def test_two_files(self):
        """
        A tar with two files is refused.
        """
        stream = self.encrypt(self.tar(self.member("a", b"1"), self.member("b", b"2")))
        error = self.assertRaises(bundle.BundleError, self.unbundle, stream, 100, digest=None, size=None)
        self.assertIn("more than one file", str(error))

    def test_directory(self):
        """
        A tar holding a directory or a link is refused.
        """
        for kind in (tarfile.DIRTYPE, tarfile.SYMTYPE):
            stream = self.encrypt(self.tar(self.member("d", kind=kind)))
            error = self.assertRaises(bundle.BundleError, self.unbundle, stream, 100, digest=None, size=None)
            self.assertIn("exactly one regular file", str(error))

    def test_no_file(self):
        """
        An empty tar is refused.
        """
        stream = self.encrypt(self.tar())
        self.assertRaises(bundle.BundleError, self.unbundle, stream, 100, digest=None, size=None)

    def test_pax_long_name(self):
        """
        A pax tar with a long name (an extended header before the file)
        unbundles.
        """
        stream = self.encrypt(self.tar(self.member("n" * 300, b"payload")))
        image, _ = self.unbundle(stream, 3, digest=None, size=7)
        self.assertEqual(image, b"payload")

    def test_bad_key_length(self):
        """
        A key or IV that is not 16 bytes is refused at once.
        """
        self.assertRaises(bundle.BundleError, bundle.Unbundler, b"short", self.iv, io.BytesIO())


class TamperTests(_BundleCase):
    """
    Changed bundles and manifests are refused.
    """

    def test_tampered_part(self):
        """
        A part with one byte changed fails its digest, and the message names
        the part.
        """
        directory, _, manifest = self.make(_image(50000), part_size=8192)
        path = os.path.join(directory, manifest.parts[2].filename)
        with open(path, "r+b") as f:
            f.seek(100)
            byte = f.read(1)
            f.seek(100)
            f.write(bytes([byte[0] ^ 1]))
        key, iv = bundle.decrypt_key(manifest, [CLOUD.key])
        error = self.assertRaises(bundle.BundleError, bundle.unbundle, manifest, directory, key, iv, io.BytesIO())
        self.assertIn("Part 2", str(error))
        self.assertIn("SHA-1", str(error))

    def test_missing_part(self):
        """
        A missing part file is named.
        """
        directory, _, manifest = self.make(_image(50000), part_size=8192)
        os.unlink(os.path.join(directory, manifest.parts[1].filename))
        key, iv = bundle.decrypt_key(manifest, [CLOUD.key])
        error = self.assertRaises(bundle.BundleError, bundle.unbundle, manifest, directory, key, iv, io.BytesIO())
        self.assertIn("missing", str(error))

    def test_wrong_private_key(self):
        """
        A private key the bundle was not encrypted to does not open it.
        """
        _, _, manifest = self.make(b"secret")
        error = self.assertRaises(bundle.BundleError, bundle.decrypt_key, manifest, [STRANGER.key])
        self.assertIn("another cloud certificate", str(error))

    def test_signature(self):
        """
        The manifest verifies with the user's certificate and not with
        another one.
        """
        _, _, manifest = self.make(b"signed")
        bundle.verify_signature(manifest, USER.certificate)
        self.assertRaises(bundle.BundleError, bundle.verify_signature, manifest, STRANGER.certificate)

    def test_signed_data(self):
        """
        The signature covers the serialised machine configuration and image
        elements.
        """
        _, path, manifest = self.make(b"signed")
        with open(path, "rb") as f:
            text = f.read()
        start = text.index(b"<machine_configuration>")
        end = text.index(b"</image>") + len(b"</image>")
        self.assertEqual(manifest.signed_data, text[start:end])
        key = USER.certificate.public_key()
        key.verify(manifest.signature, manifest.signed_data, padding.PKCS1v15(), hashes.SHA1())

    def test_tampered_manifest(self):
        """
        A manifest changed after signing (another part digest, another
        kernel) no longer verifies.
        """
        _, path, _ = self.make(b"signed", kernel_id="eki-11111111")
        with open(path, "rb") as f:
            text = f.read()
        for old, new in ((b"eki-11111111", b"eki-22222222"), (b"<type>machine<", b"<type>kernel<")):
            manifest = bundle.parse_manifest(text.replace(old, new))
            self.assertRaises(bundle.BundleError, bundle.verify_signature, manifest, USER.certificate)

    def test_moved_signature_refused(self):
        """
        A second C{<image>} (a signature-wrapping attempt) is refused at
        parsing.
        """
        _, path, _ = self.make(b"signed")
        with open(path, "rb") as f:
            text = f.read()
        start, end = text.index(b"<image>"), text.index(b"</image>") + len(b"</image>")
        wrapped = text[:end] + text[start:end] + text[end:]
        error = self.assertRaises(bundle.BundleError, bundle.parse_manifest, wrapped)
        self.assertIn("2 <image>", str(error))


class ParseTests(_BundleCase):
    """
    L{bundle.parse_manifest} refuses malformed manifests with a message a
    person can act on.
    """

    def setUp(self):
        _, path, _ = self.make(_image(30000), part_size=8192)
        with open(path, "rb") as f:
            self.text = f.read()

    def refused(self, text, fragment):
        error = self.assertRaises(bundle.BundleError, bundle.parse_manifest, text)
        self.assertIn(fragment, str(error))
        return error

    def edit(self, function):
        root = etree.fromstring(self.text)
        function(root)
        return etree.tostring(root)

    def test_parses(self):
        """
        A good manifest parses; parts are sorted by index whatever their
        order in the document.
        """
        def reverse(root):
            parts = root.find("image/parts")
            parts[:] = list(reversed(parts))

        manifest = bundle.parse_manifest(self.edit(reverse))
        self.assertEqual([p.index for p in manifest.parts], list(range(len(manifest.parts))))
        self.assertEqual(manifest.name, "disk.img")

    def test_not_xml(self):
        """
        Bytes that are not XML are refused.
        """
        self.refused(b"<manifest><version>", "not well-formed")

    def test_dtd(self):
        """
        A DTD (entity expansion) is refused.
        """
        self.refused(b'<!DOCTYPE manifest [<!ENTITY a "b">]><manifest>&a;</manifest>', "DTD")

    def test_not_a_manifest(self):
        """
        Another root element is refused.
        """
        self.refused(b"<ListBucketResult/>", "not an image <manifest>")

    def test_version(self):
        """
        Another manifest version is refused.
        """
        self.refused(self.text.replace(b"2007-10-10", b"2011-01-01"), "only 2007-10-10")

    def test_missing(self):
        """
        Each required element, when missing, is named.
        """
        required = ("image/digest", "image/parts", "image/ec2_encrypted_key", "image/user", "signature")
        for path in required + ("machine_configuration",):

            def remove(root, path=path):
                element = root.find(path)
                element.getparent().remove(element)

            self.refused(self.edit(remove), f"<{path.split('/')[-1]}>")

    def test_bad_values(self):
        """
        Wrong types, numbers, digests and algorithms are refused.
        """
        cases = [
            ("image/type", "disk", "machine, kernel or ramdisk"),
            ("image/size", "-1", "not a number"),
            ("image/digest", "abc", "not a hex SHA-1"),
            ("image/parts/part/digest", "zz", "not a hex SHA-1"),
            ("image/ec2_encrypted_key", "not hex", "not hexadecimal"),
            ("signature", "abc", "odd number"),
        ]
        for path, value, fragment in cases:

            def change(root, path=path, value=value):
                root.find(path).text = value

            self.refused(self.edit(change), fragment)

    def test_algorithms(self):
        """
        Digest and encryption algorithms other than SHA1 and AES-128-CBC are
        refused.
        """
        self.refused(self.edit(lambda root: root.find("image/digest").set("algorithm", "MD5")), "only SHA1")
        des = self.edit(lambda root: root.find("image/ec2_encrypted_key").set("algorithm", "DES"))
        self.refused(des, "AES-128-CBC")

    def test_part_filename(self):
        """
        A part file name with a directory in it is refused: it would name a
        file outside the bundle.
        """
        for name in ("../../etc/passwd", "/etc/passwd", "..", "a\\b"):

            def change(root, name=name):
                root.find("image/parts/part/filename").text = name

            self.refused(self.edit(change), "plain file name")

    def test_part_indexes(self):
        """
        Part indexes must be 0..n-1, each once, and match the count.
        """
        self.refused(self.edit(lambda root: root.find("image/parts/part").set("index", "7")), "part indexes")
        self.refused(self.edit(lambda root: root.find("image/parts/part").set("index", "x")), "not a number")
        self.refused(self.edit(lambda root: root.find("image/parts").set("count", "99")), "99 parts")

        def same_file(root):
            parts = root.findall("image/parts/part")
            parts[1].find("filename").text = parts[0].findtext("filename")

        self.refused(self.edit(same_file), "same part file twice")

    def test_user_copy_optional(self):
        """
        A manifest without the user's copy of the key parses; only the cloud
        key opens it then.
        """

        def remove(root):
            for tag in ("user_encrypted_key", "user_encrypted_iv"):
                root.find("image").remove(root.find(f"image/{tag}"))

        manifest = bundle.parse_manifest(self.edit(remove))
        self.assertIsNone(manifest.user_encrypted_key)
        bundle.decrypt_key(manifest, [CLOUD.key])
        self.assertRaises(bundle.BundleError, bundle.decrypt_key, manifest, [USER.key])
