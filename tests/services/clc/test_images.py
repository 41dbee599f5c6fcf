# -*- test-case-name: tests.services.clc.test_images -*-
"""
Tests for L{eucalyptus.services.clc.images},
L{eucalyptus.services.clc.imageregistration},
L{eucalyptus.services.clc.imageattributes} and
L{eucalyptus.services.clc.manifests}: manifest locations and signatures,
the image tables on SQLite and PostgreSQL (registration, visibility,
attributes, deregistration, L{images.image_for_launch}), and the whole
path through boto3: bundles made with L{eucalyptus.bundle.make_bundle},
uploaded to a real Walrus, registered with a live Cloud Controller, and
fetched the way a Node Controller fetches them.
"""

import io
import os
import socket
import tempfile
from dataclasses import dataclass

import boto3
from botocore.config import Config
from twisted.internet import defer, reactor
from twisted.internet.task import deferLater
from twisted.protocols.policies import WrappingFactory
from twisted.trial import unittest
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus import admin, bundle
from eucalyptus.accounts import ADMIN_ACCOUNT, ADMIN_USER, AccountStore
from eucalyptus.config import CloudConfig, WalrusConfig
from eucalyptus.errors import InvalidParameterValue
from eucalyptus.security import keys
from eucalyptus.services.clc import imageattributes, imageregistration, images, manifests, tags
from eucalyptus.services.clc.cloud import Cloud
from eucalyptus.services.clc.db import open_cloud_database
from eucalyptus.services.clc.ec2.dispatch import Caller, RequestContext
from eucalyptus.services.clc.ec2.errors import (
    AuthFailure,
    InvalidAMIAttributeItemValue,
    InvalidAMIIDMalformed,
    InvalidAMIIDNotFound,
    InvalidAMINameDuplicate,
    InvalidAMINameMalformed,
    InvalidParameterCombination,
    InvalidUserIDMalformed,
    MissingParameter,
    Unavailable,
    UnauthorizedOperation,
)
from eucalyptus.services.nc.fetch import Fetcher
from eucalyptus.services.walrus.body import StreamingSite
from eucalyptus.services.walrus.identities import Identities
from eucalyptus.services.walrus.operations import ObjectOperations
from eucalyptus.services.walrus.rest import WalrusResource
from eucalyptus.services.walrus.store import LocalObjectStore
from tests.dbs import on_both_databases
from tests.services.clc.ec2_harness import LiveCloudController, error_of, in_thread

_MAPPING = {"ami": "sda1", "root": "/dev/sda1", "ephemeral0": "sda2", "swap": "sda3"}


def _manifest(kind="machine", kernel_id=None, ramdisk_id=None, architecture="x86_64", size=4096):
    """
    A parsed manifest as registration receives it once verified.
    """
    return bundle.Manifest(
        name="image", kind=kind, size=size, bundled_size=size + 32, digest="0" * 40, parts=[],
        ec2_encrypted_key="00", ec2_encrypted_iv="00", user_encrypted_key=None, user_encrypted_iv=None,
        kernel_id="true" if kind == "kernel" else kernel_id, ramdisk_id="true" if kind == "ramdisk" else ramdisk_id,
        architecture=architecture, account="000000000000", signature=b"", signed_data=b"",
        block_device_mapping=dict(_MAPPING) if kind == "machine" else {},
    )  # fmt: skip


_PAIRS = {}


def _pair(name):
    """
    A user's key and certificate, made once per test run.
    """
    if name not in _PAIRS:
        _PAIRS[name] = keys.create_pair(f"{ADMIN_USER}@{name}")
    return _PAIRS[name]


# -- manifests.py --------------------------------------------------------------------


class LocationTests(SynchronousTestCase):
    """
    L{manifests.parse_location}, L{manifests.object_url} and
    L{manifests.walrus_url}.
    """

    def test_parse(self):
        """
        A location is a bucket and a key ending in C{.manifest.xml};
        leading slashes are dropped.
        """
        self.assertEqual(manifests.parse_location("b/x.manifest.xml"), ("b", "x.manifest.xml"))
        self.assertEqual(manifests.parse_location("//b/p/q/x.img.manifest.xml"), ("b", "p/q/x.img.manifest.xml"))

    def test_refused(self):
        """
        Anything else is C{InvalidParameterValue}.
        """
        for location in ["", "bucket", "b/", "/x.manifest.xml", "b/x.xml", "b/p/.manifest.xml", "b/a\nb.manifest.xml",
                         None]:  # fmt: skip
            self.assertRaises(InvalidParameterValue, manifests.parse_location, location)

    def test_urls(self):
        """
        Object URLs are path style with the key percent-encoded;
        an IPv6 Walrus host is bracketed.
        """
        self.assertEqual(
            manifests.object_url("http://w:8776/", "b", "a dir/x+y.manifest.xml"),
            "http://w:8776/b/a%20dir/x%2By.manifest.xml",
        )
        self.assertEqual(manifests.walrus_url({"WALRUS_HOST": "10.0.0.1", "WALRUS_PORT": 8776}), "http://10.0.0.1:8776")
        self.assertEqual(manifests.walrus_url({"WALRUS_HOST": "::1", "WALRUS_PORT": 8776}), "http://[::1]:8776")


class ManifestVerificationTests(SynchronousTestCase):
    """
    L{manifests.verify_manifest} accepts a manifest signed by one of the
    candidate certificates and nothing else.
    """

    def setUp(self):
        self.directory = self.mktemp()
        os.makedirs(self.directory)
        image = os.path.join(self.directory, "disk.img")
        with open(image, "wb") as f:
            f.write(os.urandom(3000))
        self.cloud, self.alice, self.bob = _pair("cloud"), _pair("alice"), _pair("bob")
        path = bundle.make_bundle(image, self.directory, self.cloud.certificate, self.alice, account="111111111111")
        with open(path, "rb") as f:
            self.data = f.read()

    def test_signed(self):
        """
        The signer's certificate among the candidates: the parsed manifest.
        """
        manifest = manifests.verify_manifest(self.data, [self.bob.certificate, self.alice.certificate])
        self.assertEqual((manifest.name, manifest.kind, manifest.size), ("disk.img", "machine", 3000))

    def test_other_signer(self):
        """
        Certificates that did not sign it: C{InvalidManifest}, saying why.
        """
        error = self.assertRaises(bundle.BundleError, manifests.verify_manifest, self.data, [self.bob.certificate])
        self.assertEqual(error.code, "InvalidManifest")
        self.assertIn("does not verify", error.message)
        self.assertRaises(bundle.BundleError, manifests.verify_manifest, self.data, [])

    def test_tampered(self):
        """
        A manifest changed after signing does not verify.
        """
        tampered = self.data.replace(b"<size>3000</size>", b"<size>3001</size>")
        self.assertNotEqual(tampered, self.data)
        self.assertRaises(bundle.BundleError, manifests.verify_manifest, tampered, [self.alice.certificate])

    def test_not_a_manifest(self):
        """
        Something that is not a manifest is C{InvalidManifest}.
        """
        for data in [b"", b"<html/>", b"not xml"]:
            error = self.assertRaises(bundle.BundleError, manifests.verify_manifest, data, [self.alice.certificate])
            self.assertEqual(error.code, "InvalidManifest")


class ReadManifestTests(SynchronousTestCase):
    """
    L{manifests.read_manifest} when Walrus is not there.
    """

    def test_unreachable(self):
        """
        Nothing listening: C{Unavailable}, naming the manifest.
        """
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        error = self.assertRaises(
            Unavailable, manifests.read_manifest, f"http://127.0.0.1:{port}/b/x.manifest.xml", "AKI", "secret", 5
        )
        self.assertIn("b/x.manifest.xml", error.message)


class ImageIdTests(SynchronousTestCase):
    """
    L{images.normalise_id}.
    """

    def test_ids(self):
        """
        C{emi-}, C{eki-} and C{eri-} ids of 8 or 17 hex digits, in any
        case, are written in lower case; anything else is
        C{InvalidAMIID.Malformed}.
        """
        self.assertEqual(images.normalise_id("EMI-ABCDEF01"), "emi-abcdef01")
        self.assertEqual(images.normalise_id("eki-0123456789abcdef0"), "eki-0123456789abcdef0")
        for bad in ["ami-12345678", "emi-1234567", "emi-1234567g", "emi_12345678", "", None, "verbose"]:
            self.assertRaises(InvalidAMIIDMalformed, images.normalise_id, bad)


# -- the tables and actions, on both databases -----------------------------------------


class ImageStoreTestsMixin:
    """
    Images in the cloud database, and the actions over them (called
    directly, the manifest already verified).
    """

    def setUp(self):
        url = self.database_url()
        self.db = open_cloud_database(url)
        self.accounts = AccountStore(url)
        callers = {}
        for name in (ADMIN_ACCOUNT, "alice", "bob", "carol"):
            key = self.accounts.create_account(name)
            callers[name] = Caller(key.account_id, name, key.user_id, ADMIN_USER, key.access_key_id,
                                   administrator=name == ADMIN_ACCOUNT)  # fmt: skip
        self.admin, self.alice, self.bob, self.carol = (callers[n] for n in (ADMIN_ACCOUNT, "alice", "bob", "carol"))
        self.cloud = Cloud(None, None, self.db, self.accounts, None)

    def call(self, action, caller, **params):
        return action(RequestContext("req", action.__name__, "2016-11-15", caller, None, self.cloud), params)

    def register(self, caller, name, kind="machine", **options):
        kernel_id, ramdisk_id = options.pop("manifest_kernel", None), options.pop("manifest_ramdisk", None)
        location = f"bucket/{name}.manifest.xml"
        with self.db.begin() as conn:
            return imageregistration.insert_image(
                conn, caller, _manifest(kind, kernel_id, ramdisk_id), location, f"http://walrus:8776/{location}",
                name, **options,
            )  # fmt: skip

    def boot_images(self):
        """
        A public kernel and ramdisk of the administrators.
        """
        eki = self.register(self.admin, "vmlinuz", "kernel")
        eri = self.register(self.admin, "initrd", "ramdisk")
        for image_id in (eki, eri):
            self.call(imageattributes.modify_image_attribute, self.admin, ImageId=image_id,
                      LaunchPermission={"Add": [{"Group": "all"}]})  # fmt: skip
        return eki, eri

    def ids(self, caller, **params):
        return [item["ImageId"] for item in self.call(images.describe_images, caller, **params)["Images"]]

    def launch(self, caller, image_id, **options):
        with self.db.connect() as conn:
            return images.image_for_launch(conn, caller, image_id, **options)

    def test_register_machine(self):
        """
        A machine image names the kernel and ramdisk of its manifest; it is
        described as an instance-store image of its owner, private and
        available.
        """
        eki, eri = self.boot_images()
        emi = self.register(self.alice, "debian", manifest_kernel=eki, manifest_ramdisk=eri, description="Debian")
        self.assertTrue(emi.startswith("emi-") and eki.startswith("eki-") and eri.startswith("eri-"))
        [item] = self.call(images.describe_images, self.alice, ImageIds=[emi])["Images"]
        created = item.pop("CreationDate")
        self.assertRegex(created, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(item, {
            "ImageId": emi, "ImageLocation": "bucket/debian.manifest.xml", "State": "available",
            "OwnerId": self.alice.account_id, "Public": False, "Architecture": "x86_64", "ImageType": "machine",
            "Name": "debian", "Description": "Debian", "RootDeviceType": "instance-store",
            "RootDeviceName": "/dev/sda1",
            "BlockDeviceMappings": [{"DeviceName": "sda2", "VirtualName": "ephemeral0"},
                                    {"DeviceName": "sda3", "VirtualName": "swap"}],
            "VirtualizationType": "paravirtual", "PlatformDetails": "Linux/UNIX", "UsageOperation": "RunInstances",
            "ProductCodes": [], "Tags": [], "KernelId": eki, "RamdiskId": eri,
        })  # fmt: skip

    def test_request_overrides(self):
        """
        The request's kernel, ramdisk and architecture win over the
        manifest's; a manifest's kernel id of another cloud is ignored; an
        image without an architecture is i386.
        """
        eki, eri = self.boot_images()
        eki2 = self.register(self.admin, "vmlinuz-2", "kernel")
        self.call(imageattributes.modify_image_attribute, self.admin, ImageId=eki2, UserIds=[self.alice.account_id],
                  OperationType="add")  # fmt: skip
        emi = self.register(self.alice, "one", manifest_kernel=eki, kernel_id=eki2, architecture="i386")
        foreign = self.register(self.alice, "two", manifest_kernel="aki-12345678", ramdisk_id=eri)
        with self.db.connect() as conn:
            row = images.image_row(conn, emi)
            self.assertEqual((row.kernel_id, row.manifest_kernel_id, row.architecture), (eki2, eki, "i386"))
            row = images.image_row(conn, foreign)
            self.assertEqual((row.kernel_id, row.ramdisk_id), (None, eri))
            plain = imageregistration.insert_image(
                conn, self.alice, _manifest(architecture=None), "b/p.manifest.xml", "u", "three"
            )
            self.assertEqual(images.image_row(conn, plain).architecture, "i386")

    def test_kernels_by_administrators(self):
        """
        Only the cloud administrators register kernels and ramdisks.
        """
        for kind in ("kernel", "ramdisk"):
            error = self.assertRaises(UnauthorizedOperation, self.register, self.alice, f"my-{kind}", kind)
            self.assertIn(kind, error.message)

    def test_default_kernel_checked(self):
        """
        A machine image's kernel and ramdisk must be images of their kind
        the registering account can see.
        """
        private = self.register(self.admin, "private-kernel", "kernel")
        eki, eri = self.boot_images()
        self.assertRaises(InvalidAMIIDNotFound, self.register, self.alice, "image-a", manifest_kernel=private)
        self.assertRaises(InvalidAMIIDNotFound, self.register, self.alice, "image-b", kernel_id="eki-00000000")
        self.assertRaises(InvalidAMIIDMalformed, self.register, self.alice, "image-c", kernel_id="kernel")
        self.assertRaises(InvalidParameterValue, self.register, self.alice, "image-d", kernel_id=eri)
        self.assertRaises(InvalidParameterValue, self.register, self.alice, "image-e", ramdisk_id=eki)
        self.assertEqual(self.ids(self.alice, Owners=["self"]), [])

    def test_names(self):
        """
        Names are 3 to 128 characters of EC2's set, and unique among an
        account's registered images; another account, or a name freed by
        deregistration, may use one again.
        """
        for bad in ["ab", "x" * 129, "star*", "tab\tname", None]:
            self.assertRaises(InvalidAMINameMalformed, self.register, self.alice, bad)
        name = "Debian 12 (bookworm) [x86_64] ./-'@_"
        first = self.register(self.alice, name)
        error = self.assertRaises(InvalidAMINameDuplicate, self.register, self.alice, name)
        self.assertIn(first, error.message)
        self.register(self.bob, name)
        self.call(images.deregister_image, self.alice, ImageId=first)
        self.register(self.alice, name)

    def test_private_until_shared(self):
        """
        An image is its owner's alone until it gives launch permission to
        an account (which then sees and launches it) or to C{all}; reset
        makes it private again.
        """
        eki, eri = self.boot_images()
        emi = self.register(self.alice, "private", kernel_id=eki)
        self.assertEqual(self.ids(self.alice), sorted([eki, eri, emi]))
        self.assertNotIn(emi, self.ids(self.bob))
        self.assertRaises(InvalidAMIIDNotFound, self.ids, self.bob, ImageIds=[emi])
        self.assertRaises(InvalidAMIIDNotFound, self.launch, self.bob, emi)

        self.call(imageattributes.modify_image_attribute, self.alice, ImageId=emi,
                  LaunchPermission={"Add": [{"UserId": self.bob.account_id}]})  # fmt: skip
        self.assertEqual(self.ids(self.bob, ImageIds=[emi]), [emi])
        self.assertEqual(self.ids(self.bob, ExecutableUsers=["self"]), [emi])
        self.assertEqual(self.ids(self.bob, Owners=[self.alice.account_id]), [emi])
        self.assertNotIn(emi, self.ids(self.bob, ExecutableUsers=["all"]))
        self.assertEqual(self.launch(self.bob, emi).image_id, emi)
        self.assertNotIn(emi, self.ids(self.carol))
        self.assertEqual(self.ids(self.alice, ExecutableUsers=[self.bob.account_id]), [emi])

        self.call(imageattributes.modify_image_attribute, self.alice, ImageId=emi,
                  LaunchPermission={"Add": [{"Group": "all"}]})  # fmt: skip
        self.assertIn(emi, self.ids(self.carol, ExecutableUsers=["all"]))
        self.assertTrue(self.call(images.describe_images, self.carol, ImageIds=[emi])["Images"][0]["Public"])
        answer = self.call(imageattributes.describe_image_attribute, self.alice, ImageId=emi,
                           Attribute="launchPermission")  # fmt: skip
        self.assertEqual(answer, {"ImageId": emi, "LaunchPermissions": [{"Group": "all"},
                                                                       {"UserId": self.bob.account_id}]})  # fmt: skip

        self.call(imageattributes.reset_image_attribute, self.alice, ImageId=emi, Attribute="launchPermission")
        self.assertNotIn(emi, self.ids(self.bob))
        self.assertNotIn(emi, self.ids(self.carol))
        answer = self.call(imageattributes.describe_image_attribute, self.alice, ImageId=emi,
                           Attribute="launchPermission")  # fmt: skip
        self.assertEqual(answer["LaunchPermissions"], [])

    def test_only_owner_changes(self):
        """
        Another account that can see an image cannot change it, see its
        launch permissions or deregister it (C{AuthFailure}); one that
        cannot see it gets C{InvalidAMIID.NotFound}; the cloud
        administrators can do everything.
        """
        emi = self.register(self.alice, "mine")
        self.call(imageattributes.modify_image_attribute, self.alice, ImageId=emi, UserIds=[self.bob.account_id],
                  OperationType="add")  # fmt: skip
        for action, params in [
            (imageattributes.modify_image_attribute, {"LaunchPermission": {"Add": [{"Group": "all"}]}}),
            (imageattributes.describe_image_attribute, {"Attribute": "launchPermission"}),
            (imageattributes.reset_image_attribute, {"Attribute": "launchPermission"}),
            (images.deregister_image, {}),
        ]:
            self.assertRaises(AuthFailure, self.call, action, self.bob, ImageId=emi, **params)
            self.assertRaises(InvalidAMIIDNotFound, self.call, action, self.carol, ImageId=emi, **params)
        answer = self.call(imageattributes.describe_image_attribute, self.bob, ImageId=emi, Attribute="description")
        self.assertEqual(answer, {"ImageId": emi, "Description": {}})
        self.call(imageattributes.modify_image_attribute, self.admin, ImageId=emi, Description={"Value": "checked"})
        self.call(images.deregister_image, self.admin, ImageId=emi)
        self.assertEqual(self.ids(self.alice), [])

    def test_permission_requests(self):
        """
        The C{UserIds}/C{UserGroups}/C{OperationType} form works as the
        structured one; unknown accounts and groups are
        C{InvalidAMIAttributeItemValue}; an operation type is needed.
        """
        emi = self.register(self.alice, "shared")
        modify = imageattributes.modify_image_attribute
        self.call(modify, self.alice, ImageId=emi, Attribute="launchPermission", OperationType="add",
                  UserIds=[self.bob.account_id, self.carol.account_id, self.alice.account_id])  # fmt: skip
        self.call(modify, self.alice, ImageId=emi, OperationType="remove", UserIds=[self.carol.account_id])
        self.call(modify, self.alice, ImageId=emi, OperationType="add", UserGroups=["all"])
        answer = self.call(imageattributes.describe_image_attribute, self.alice, ImageId=emi,
                           Attribute="launchPermission")  # fmt: skip
        self.assertEqual(answer["LaunchPermissions"], [{"Group": "all"}, {"UserId": self.bob.account_id}])
        self.call(modify, self.alice, ImageId=emi, LaunchPermission={"Remove": [{"Group": "all"}]})
        self.assertFalse(self.call(images.describe_images, self.alice, ImageIds=[emi])["Images"][0]["Public"])
        for params in [
            {"UserIds": ["999999999999"], "OperationType": "add"},
            {"UserIds": ["bob"], "OperationType": "add"},
            {"UserGroups": ["friends"], "OperationType": "add"},
            {"LaunchPermission": {"Add": [{"Group": "everyone"}]}},
        ]:
            self.assertRaises(InvalidAMIAttributeItemValue, self.call, modify, self.alice, ImageId=emi, **params)
        self.assertRaises(MissingParameter, self.call, modify, self.alice, ImageId=emi, UserIds=[self.bob.account_id])
        self.assertRaises(MissingParameter, self.call, modify, self.alice, ImageId=emi)

    def test_other_attributes(self):
        """
        The description, and a machine image's default kernel and ramdisk
        (reset to the manifest's), through the attribute actions.
        """
        eki, eri = self.boot_images()
        eki2 = self.register(self.admin, "vmlinuz-2", "kernel")
        emi = self.register(self.alice, "attrs", manifest_kernel=eki, manifest_ramdisk=eri)

        def attribute(name):
            answer = self.call(imageattributes.describe_image_attribute, self.alice, ImageId=emi, Attribute=name)
            answer.pop("ImageId")
            return answer

        modify = imageattributes.modify_image_attribute
        self.call(modify, self.alice, ImageId=emi, Description={"Value": "first"})
        self.assertEqual(attribute("description"), {"Description": {"Value": "first"}})
        self.call(modify, self.alice, ImageId=emi, Attribute="description", Value="second")
        self.assertEqual(attribute("description"), {"Description": {"Value": "second"}})
        self.assertRaises(InvalidAMIIDNotFound, self.call, modify, self.alice, ImageId=emi, Attribute="kernel",
                          Value=eki2)  # fmt: skip
        self.call(modify, self.admin, ImageId=eki2, LaunchPermission={"Add": [{"Group": "all"}]})
        self.call(modify, self.alice, ImageId=emi, Attribute="kernel", Value=eki2)
        self.call(modify, self.alice, ImageId=emi, Attribute="ramdisk", Value="")
        self.assertEqual(attribute("kernel"), {"KernelId": {"Value": eki2}})
        self.assertEqual(attribute("ramdisk"), {"RamdiskId": {}})
        self.call(imageattributes.reset_image_attribute, self.alice, ImageId=emi, Attribute="kernel")
        self.call(imageattributes.reset_image_attribute, self.alice, ImageId=emi, Attribute="ramdisk")
        self.assertEqual(attribute("kernel"), {"KernelId": {"Value": eki}})
        self.assertEqual(attribute("ramdisk"), {"RamdiskId": {"Value": eri}})
        self.assertEqual(attribute("productCodes"), {"ProductCodes": []})
        self.assertEqual(len(attribute("blockDeviceMapping")["BlockDeviceMappings"]), 2)
        self.assertEqual(attribute("sriovNetSupport"), {"SriovNetSupport": {}})
        self.assertRaises(InvalidParameterValue, attribute, "colour")
        self.assertRaises(InvalidParameterValue, self.call, modify, self.admin, ImageId=eki, Attribute="kernel",
                          Value=eki2)  # fmt: skip
        self.assertRaises(InvalidParameterValue, self.call, modify, self.alice, ImageId=emi, ProductCodes=["x"])
        self.assertRaises(InvalidParameterValue, self.call, modify, self.alice, ImageId=emi, Attribute="colour",
                          Value="x")  # fmt: skip
        self.assertRaises(InvalidParameterValue, self.call, imageattributes.reset_image_attribute, self.alice,
                          ImageId=emi, Attribute="description")  # fmt: skip

    def test_deregister(self):
        """
        A deregistered image is gone from C{DescribeImages} and cannot be
        launched; its row stays, seen by administrators asking for
        C{verbose}; deregistering it again is C{InvalidAMIID.NotFound}.
        """
        eki, _ = self.boot_images()
        emi = self.register(self.alice, "short-lived", kernel_id=eki)
        self.assertEqual(self.call(images.deregister_image, self.alice, ImageId=emi), {"Return": True})
        self.assertNotIn(emi, self.ids(self.alice))
        self.assertRaises(InvalidAMIIDNotFound, self.ids, self.alice, ImageIds=[emi])
        self.assertRaises(InvalidAMIIDNotFound, self.launch, self.alice, emi)
        self.assertRaises(InvalidAMIIDNotFound, self.call, images.deregister_image, self.alice, ImageId=emi)
        everything = self.call(images.describe_images, self.admin, ImageIds=["verbose"])["Images"]
        self.assertEqual({i["ImageId"]: i["State"] for i in everything}[emi], "deregistered")
        self.assertRaises(InvalidAMIIDMalformed, self.ids, self.alice, ImageIds=["verbose"])

    def test_describe_filters(self):
        """
        C{Filters}, C{Owners}, malformed values, and paging.
        """
        eki, eri = self.boot_images()
        emis = [self.register(self.alice, f"image-{n}", kernel_id=eki, ramdisk_id=eri if n % 2 else None,
                              architecture="i386" if n == 3 else None) for n in range(6)]  # fmt: skip

        def ids(*filters, **params):
            return self.ids(self.alice, Filters=[{"Name": n, "Values": v} for n, v in filters], **params)

        self.assertEqual(ids(("image-type", ["kernel", "ramdisk"])), sorted([eki, eri]))
        self.assertEqual(ids(("name", ["image-[1]"])), [])
        self.assertEqual(ids(("name", ["image-?"]), ("architecture", ["i386"])), [emis[3]])
        self.assertEqual(ids(("ramdisk-id", [eri])), sorted(emis[1::2]))
        self.assertEqual(ids(("kernel-id", [eki]), ("is-public", ["false"])), sorted(emis))
        self.assertEqual(ids(("is-public", ["true"])), sorted([eki, eri]))
        self.assertEqual(ids(("manifest-location", ["bucket/image-2.*"])), [emis[2]])
        self.assertEqual(ids(("owner-id", [self.admin.account_id])), sorted([eki, eri]))
        self.assertEqual(ids(("state", ["available"]), ("root-device-type", ["instance-store"]),
                             ("image-id", ["emi-*"])), sorted(emis))  # fmt: skip
        self.assertEqual(ids(Owners=["self"]), sorted(emis))
        self.assertEqual(ids(Owners=["amazon"]), [])
        self.assertEqual(ids(ImageIds=[emis[0].upper(), emis[1]]), sorted(emis[:2]))
        self.assertRaises(InvalidUserIDMalformed, ids, Owners=["alice"])
        self.assertRaises(InvalidUserIDMalformed, ids, ExecutableUsers=["everyone"])
        self.assertRaises(InvalidAMIIDMalformed, ids, ImageIds=["ami-1"])
        self.assertRaises(InvalidParameterValue, ids, ("colour", ["red"]))
        self.assertRaises(InvalidParameterCombination, ids, ImageIds=[emis[0]], MaxResults=5)
        seen, token = [], None
        while True:
            more = {"NextToken": token} if token else {}
            answer = self.call(images.describe_images, self.alice, MaxResults=5, **more)
            seen.extend(i["ImageId"] for i in answer["Images"])
            token = answer["NextToken"]
            if not token:
                break
        self.assertEqual(seen, sorted(emis + [eki, eri]))

    def test_tags(self):
        """
        An owner's tags on its image show in C{DescribeImages} and its
        C{tag:} filters; images are taggable by their owner only; they go
        with the image.
        """
        emi = self.register(self.alice, "tagged")
        with self.db.begin() as conn:
            tags.check_owned(conn, self.alice.account_id, [emi])
            self.assertRaises(InvalidAMIIDNotFound, tags.check_owned, conn, self.bob.account_id, [emi])
            tags.set_tags(conn, self.alice.account_id, [emi], {"Name": "web"})
        answer = self.call(images.describe_images, self.alice, Filters=[{"Name": "tag:Name", "Values": ["w*"]}])
        [item] = answer["Images"]
        self.assertEqual(item["Tags"], [{"Key": "Name", "Value": "web"}])
        self.call(images.deregister_image, self.alice, ImageId=emi)
        with self.db.connect() as conn:
            self.assertEqual(tags.tags_of(conn, self.alice.account_id, [emi]), {emi: []})

    def test_image_for_launch(self):
        """
        L{images.image_for_launch}: the image's default kernel and ramdisk,
        or the request's (a kernel alone drops the default ramdisk), with
        the URLs they were registered from or under a new Walrus URL.
        """
        eki, eri = self.boot_images()
        eki2 = self.register(self.admin, "vmlinuz-2", "kernel")
        self.call(imageattributes.modify_image_attribute, self.admin, ImageId=eki2,
                  LaunchPermission={"Add": [{"Group": "all"}]})  # fmt: skip
        emi = self.register(self.alice, "bootable", kernel_id=eki, ramdisk_id=eri)
        launch = self.launch(self.alice, emi)
        self.assertEqual((launch.image_id, launch.kernel_id, launch.ramdisk_id), (emi, eki, eri))
        self.assertEqual(launch.image_url, "http://walrus:8776/bucket/bootable.manifest.xml")
        self.assertEqual(launch.boot_records(), {
            "machine": (emi, "http://walrus:8776/bucket/bootable.manifest.xml"),
            "kernel": (eki, "http://walrus:8776/bucket/vmlinuz.manifest.xml"),
            "ramdisk": (eri, "http://walrus:8776/bucket/initrd.manifest.xml"),
        })  # fmt: skip
        self.assertEqual((launch.architecture, launch.owner_id, launch.size), ("x86_64", self.alice.account_id, 4096))
        other = self.launch(self.alice, emi.upper(), kernel_id=eki2, walrus_url="http://10.1.1.1:8776")
        self.assertEqual((other.kernel_id, other.ramdisk_id, other.ramdisk_url), (eki2, None, None))
        self.assertEqual(other.kernel_url, "http://10.1.1.1:8776/bucket/vmlinuz-2.manifest.xml")
        self.assertNotIn("ramdisk", other.boot_records())
        self.assertEqual(self.launch(self.alice, emi, kernel_id=eki2, ramdisk_id=eri).ramdisk_id, eri)
        self.assertRaises(InvalidParameterValue, self.launch, self.alice, eki)
        self.assertRaises(InvalidParameterValue, self.launch, self.alice, emi, kernel_id=eri)
        self.assertRaises(InvalidAMIIDNotFound, self.launch, self.alice, emi, kernel_id="eki-00000000")
        self.assertRaises(InvalidAMIIDMalformed, self.launch, self.alice, "ami-00000000")
        kernelless = self.register(self.alice, "no-kernel")
        error = self.assertRaises(InvalidParameterValue, self.launch, self.alice, kernelless)
        self.assertIn("KernelId", error.message)
        self.call(images.deregister_image, self.admin, ImageId=eki)
        self.assertRaises(InvalidAMIIDNotFound, self.launch, self.alice, emi)
        self.assertEqual(self.launch(self.alice, emi, kernel_id=eki2).kernel_id, eki2)


ImageStoreSQLiteTests, ImageStorePostgreSQLTests = on_both_databases(ImageStoreTestsMixin)


# -- live: boto3, a Cloud Controller and a Walrus --------------------------------------


class CloudWalrus:
    """
    A Walrus on the C{WALRUS_PORT} of a live cloud's settings, sharing its
    account database and key directory (so node-signed downloads work).
    """

    def __init__(self, testcase, settings):
        self.testcase = testcase
        self.settings = settings

    @defer.inlineCallbacks
    def start(self):
        """
        Open the store and listen; cleanups close both.
        """
        config = WalrusConfig.from_settings(self.settings)
        self.store = LocalObjectStore(config.storage_dir)
        yield self.store.start()
        self.testcase.addCleanup(self.store.stop)
        keys_dir = os.path.join(self.settings.data_dir, "keys")
        identities = Identities(AccountStore(config.database_url), keys_dir=keys_dir)
        resource = WalrusResource(ObjectOperations(self.store, identities), identities, None, ("localhost",),
                                  prefix=b"/services/Walrus")  # fmt: skip
        site = StreamingSite(resource, 64 << 20, self.store.spool)
        site.timeOut = None
        self.connections = WrappingFactory(site)
        self.port = reactor.listenTCP(config.port, self.connections, interface="127.0.0.1")
        self.testcase.addCleanup(self._disconnect)
        self.testcase.addCleanup(self.port.stopListening)
        self.url = f"http://127.0.0.1:{config.port}"
        return self

    @defer.inlineCallbacks
    def _disconnect(self):
        for wrapper in list(self.connections.protocols):
            wrapper.transport.abortConnection()
        for _ in range(1000):
            if not self.connections.protocols:
                return
            yield deferLater(reactor, 0, lambda: None)


@dataclass
class User:
    """
    An account of the live cloud as its user holds it: access key, bundling
    key and certificate, EC2 and S3 clients.
    """

    name: str
    key: object
    credential: keys.Credential
    ec2: object
    s3: object

    @property
    def caller(self):
        return Caller(self.key.account_id, self.name, self.key.user_id, ADMIN_USER, self.key.access_key_id,
                      administrator=self.name == ADMIN_ACCOUNT)  # fmt: skip


class LiveImageTests(unittest.TestCase):
    """
    Bundles uploaded to Walrus and registered through boto3 with a live
    Cloud Controller, by the administrators and two accounts.
    """

    timeout = 180

    @defer.inlineCallbacks
    def setUp(self):
        self.live = LiveCloudController(self)
        self.walrus = yield CloudWalrus(self, self.live.settings).start()
        self.keystore = keys.KeyStore(os.path.join(self.live.settings.data_dir, "keys"))
        self.users = {}
        for name in (ADMIN_ACCOUNT, "alice", "bob"):
            self.users[name] = yield in_thread(self._user, name)
        self.admin, self.alice, self.bob = (self.users[n] for n in (ADMIN_ACCOUNT, "alice", "bob"))
        self.work = os.path.abspath(self.mktemp())
        os.makedirs(self.work)

    def _user(self, name):
        settings = self.live.settings
        directory = os.path.join(settings.data_dir, "credentials", ADMIN_USER if name == ADMIN_ACCOUNT else name)
        if name != ADMIN_ACCOUNT:
            admin.account_credentials(settings, self.keystore, name, directory, io.StringIO())
        key = AccountStore(CloudConfig.from_settings(settings).database_url).keys_of(name)[0]
        credential = keys.Credential(
            keys.load_private_key(os.path.join(directory, f"{ADMIN_USER}-pk.pem")),
            keys.load_certificate(os.path.join(directory, f"{ADMIN_USER}-cert.pem")),
        )
        options = Config(retries={"max_attempts": 1})
        ec2 = boto3.client("ec2", endpoint_url=self.live.ec2_url, region_name="eucalyptus",
                           aws_access_key_id=key.access_key_id, aws_secret_access_key=key.secret_key, config=options)
        s3 = boto3.client("s3", endpoint_url=self.walrus.url, region_name="us-east-1",
                          aws_access_key_id=key.access_key_id, aws_secret_access_key=key.secret_key,
                          config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}))  # fmt: skip
        self.addCleanup(s3.close)
        self.addCleanup(ec2.close)
        return User(name, key, credential, ec2, s3)

    def upload(self, user, name, kind="machine", contents=None, bucket=None, acl=None, **options):
        """
        Bundle an image as C{user} and upload it (blocking).

        @return: the manifest's location and the image's bytes.
        """
        contents = contents if contents is not None else os.urandom(9000)
        directory = tempfile.mkdtemp(dir=self.work)
        image = os.path.join(directory, name)
        with open(image, "wb") as f:
            f.write(contents)
        out = os.path.join(directory, "bundle")
        os.makedirs(out)
        manifest = bundle.make_bundle(image, out, self.keystore.certificate("cloud"), user.credential, kind=kind,
                                      part_size=4096, account=user.key.account_id, **options)  # fmt: skip
        bucket = bucket or f"{user.name}-images"
        existing = [b["Name"] for b in user.s3.list_buckets()["Buckets"]]
        if bucket not in existing:
            user.s3.create_bucket(Bucket=bucket)
        for filename in sorted(os.listdir(out)):
            extra = {"ACL": acl} if acl else {}
            user.s3.upload_file(os.path.join(out, filename), bucket, f"{name}/{filename}", ExtraArgs=extra)
        return f"{bucket}/{name}/{os.path.basename(manifest)}", contents

    def register(self, user, name, kind="machine", public=False, **options):
        """
        Upload a bundle and register it (blocking).

        @return: the image id and the image's bytes.
        """
        location, contents = self.upload(user, name, kind, **options)
        image_id = user.ec2.register_image(ImageLocation=location, Name=name)["ImageId"]
        if public:
            user.ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"Group": "all"}]})
        return image_id, contents

    def boot_images(self):
        """
        The administrators' public kernel and ramdisk (blocking).
        """
        eki, _ = self.register(self.admin, "vmlinuz-6.1", "kernel", public=True)
        eri, _ = self.register(self.admin, "initrd-6.1", "ramdisk", public=True)
        return eki, eri

    def launch(self, user, image_id, **options):
        with self.live.service.cloud.db.connect() as conn:
            return images.image_for_launch(conn, user.caller, image_id, **options)

    @defer.inlineCallbacks
    def test_register_and_fetch(self):
        """
        The administrators register a kernel and a ramdisk and make them
        public; alice registers a machine image whose manifest names them;
        C{DescribeImages} shows all three as boto3 reads them; the URLs
        L{images.image_for_launch} gives are what a Node Controller
        downloads and unbundles, byte for byte.
        """
        eki, eri = yield in_thread(self.boot_images)
        (emi, contents) = yield in_thread(self.register, self.alice, "debian.img", kernel_id=eki, ramdisk_id=eri)
        self.assertTrue(emi.startswith("emi-") and eki.startswith("eki-") and eri.startswith("eri-"))
        answer = yield in_thread(self.alice.ec2.describe_images, ImageIds=[emi])
        [image] = answer["Images"]
        self.assertEqual(
            {k: image[k] for k in ("ImageId", "ImageLocation", "State", "OwnerId", "Public", "Architecture",
                                   "ImageType", "KernelId", "RamdiskId", "Name", "RootDeviceType")},
            {"ImageId": emi, "ImageLocation": "alice-images/debian.img/debian.img.manifest.xml",
             "State": "available", "OwnerId": self.alice.key.account_id, "Public": False, "Architecture": "x86_64",
             "ImageType": "machine", "KernelId": eki, "RamdiskId": eri, "Name": "debian.img",
             "RootDeviceType": "instance-store"},
        )  # fmt: skip
        answer = yield in_thread(self.alice.ec2.describe_images)
        self.assertEqual(sorted(i["ImageId"] for i in answer["Images"]), sorted([emi, eki, eri]))
        answer = yield in_thread(
            self.alice.ec2.describe_images, Filters=[{"Name": "image-type", "Values": ["kernel"]}]
        )
        self.assertEqual([(i["ImageId"], i["Public"]) for i in answer["Images"]], [(eki, True)])
        answer = yield in_thread(self.alice.ec2.describe_images, Owners=["self"])
        self.assertEqual([i["ImageId"] for i in answer["Images"]], [emi])

        launch = yield in_thread(self.launch, self.alice, emi)
        walrus = f"http://127.0.0.1:{self.live.settings['WALRUS_PORT']}"
        self.assertEqual(launch.image_url, f"{walrus}/alice-images/debian.img/debian.img.manifest.xml")
        self.assertEqual((launch.kernel_id, launch.ramdisk_id), (eki, eri))
        fetcher = Fetcher(self.keystore.credential("node", "east"), max_attempts=1, reactor=reactor,
                          private_keys=[self.keystore.credential("cloud").key])  # fmt: skip
        destination = os.path.join(self.work, "fetched")
        size = yield fetcher.fetch(launch.image_url, destination)
        self.assertEqual(size, len(contents))
        with open(destination, "rb") as f:
            self.assertEqual(f.read(), contents)

    @defer.inlineCallbacks
    def test_two_accounts(self):
        """
        bob can neither see nor launch alice's image until she gives him
        launch permission; C{all} makes it public; only alice changes it.
        """
        eki, _ = yield in_thread(self.boot_images)
        emi, _ = yield in_thread(self.register, self.alice, "private.img", kernel_id=eki)
        answer = yield in_thread(self.bob.ec2.describe_images)
        self.assertNotIn(emi, [i["ImageId"] for i in answer["Images"]])
        code, status, _, _, _ = yield in_thread(error_of, self.bob.ec2.describe_images, ImageIds=[emi])
        self.assertEqual((code, status), ("InvalidAMIID.NotFound", 400))
        yield self.assertFailure(in_thread(self.launch, self.bob, emi), InvalidAMIIDNotFound)

        yield in_thread(self.alice.ec2.modify_image_attribute, ImageId=emi,
                        LaunchPermission={"Add": [{"UserId": self.bob.key.account_id}]})  # fmt: skip
        answer = yield in_thread(self.bob.ec2.describe_images, ExecutableUsers=["self"])
        self.assertEqual([i["ImageId"] for i in answer["Images"]], [emi])
        launch = yield in_thread(self.launch, self.bob, emi)
        self.assertEqual(launch.kernel_id, eki)
        answer = yield in_thread(self.alice.ec2.describe_image_attribute, ImageId=emi, Attribute="launchPermission")
        self.assertEqual(answer["LaunchPermissions"], [{"UserId": self.bob.key.account_id}])
        code, status, message, _, _ = yield in_thread(
            error_of, self.bob.ec2.modify_image_attribute, ImageId=emi, LaunchPermission={"Add": [{"Group": "all"}]}
        )
        self.assertEqual(code, "AuthFailure")
        self.assertIn(emi, message)
        code, _, _, _, _ = yield in_thread(
            error_of, self.alice.ec2.modify_image_attribute, ImageId=emi,
            LaunchPermission={"Add": [{"UserId": "000000000042"}]},
        )  # fmt: skip
        self.assertEqual(code, "InvalidAMIAttributeItemValue")

        yield in_thread(self.alice.ec2.modify_image_attribute, ImageId=emi, Attribute="launchPermission",
                        OperationType="remove", UserIds=[self.bob.key.account_id])  # fmt: skip
        yield in_thread(self.alice.ec2.modify_image_attribute, ImageId=emi,
                        LaunchPermission={"Add": [{"Group": "all"}]})  # fmt: skip
        answer = yield in_thread(self.bob.ec2.describe_images, ExecutableUsers=["all"],
                                 Filters=[{"Name": "image-type", "Values": ["machine"]}])  # fmt: skip
        self.assertEqual([(i["ImageId"], i["Public"]) for i in answer["Images"]], [(emi, True)])
        yield in_thread(self.alice.ec2.reset_image_attribute, ImageId=emi, Attribute="launchPermission")
        answer = yield in_thread(self.bob.ec2.describe_images, Owners=[self.alice.key.account_id])
        self.assertEqual(answer["Images"], [])

    @defer.inlineCallbacks
    def test_deregister(self):
        """
        Deregistering takes the image out of C{DescribeImages}; bob cannot
        deregister alice's image; the name can be registered again.
        """
        emi, _ = yield in_thread(self.register, self.alice, "old.img", public=True)
        code, _, _, _, _ = yield in_thread(error_of, self.bob.ec2.deregister_image, ImageId=emi)
        self.assertEqual(code, "AuthFailure")
        yield in_thread(self.alice.ec2.deregister_image, ImageId=emi)
        answer = yield in_thread(self.alice.ec2.describe_images)
        self.assertEqual(answer["Images"], [])
        code, _, _, _, _ = yield in_thread(error_of, self.alice.ec2.describe_images, ImageIds=[emi])
        self.assertEqual(code, "InvalidAMIID.NotFound")
        location = "alice-images/old.img/old.img.manifest.xml"
        again = yield in_thread(self.alice.ec2.register_image, ImageLocation=location, Name="old.img")
        self.assertNotEqual(again["ImageId"], emi)
        answer = yield in_thread(self.admin.ec2.describe_images, ImageIds=["verbose"])
        states = {i["ImageId"]: i["State"] for i in answer["Images"]}
        self.assertEqual((states[emi], states[again["ImageId"]]), ("deregistered", "available"))

    @defer.inlineCallbacks
    def test_registration_errors(self):
        """
        Each way a registration fails, with its EC2 error code.
        """
        location, _ = yield in_thread(self.upload, self.alice, "good.img")
        manifest_key = location.partition("/")[2]

        def tamper():
            data = self.alice.s3.get_object(Bucket="alice-images", Key=manifest_key)["Body"].read()
            self.alice.s3.put_object(Bucket="alice-images", Key="good.img/tampered.manifest.xml",
                                     Body=data.replace(b"<architecture>x86_64", b"<architecture>i386"))  # fmt: skip

        yield in_thread(tamper)
        bob_private, _ = yield in_thread(self.upload, self.bob, "secret.img")
        bob_public, _ = yield in_thread(self.upload, self.bob, "open.img", bucket="bob-open", acl="public-read")

        def refused(user, **params):
            params.setdefault("Name", "some-image")
            return error_of(user.ec2.register_image, **params)

        cases = [
            ({"ImageLocation": "alice-images/missing.img.manifest.xml"}, "InvalidManifest", "does not exist"),
            ({"ImageLocation": "no-such-bucket/x.manifest.xml"}, "InvalidManifest", "does not exist"),
            ({"ImageLocation": "alice-images/good.img/tampered.manifest.xml"}, "InvalidManifest", "signature"),
            ({"ImageLocation": bob_private}, "InvalidManifest", "may not read"),
            ({"ImageLocation": bob_public}, "InvalidManifest", "signature"),
            ({"ImageLocation": location, "KernelId": "eki-00000000"}, "InvalidAMIID.NotFound", "eki-00000000"),
            ({"ImageLocation": location, "KernelId": "vmlinuz"}, "InvalidAMIID.Malformed", "vmlinuz"),
            ({"ImageLocation": location, "Name": "star*name"}, "InvalidAMIName.Malformed", "3 and 128"),
            ({"ImageLocation": location, "Architecture": "arm64"}, "InvalidParameterValue", "arm64"),
            ({"ImageLocation": "alice-images"}, "InvalidParameterValue", "bucket/path"),
            ({}, "MissingParameter", "ImageLocation"),
        ]
        for params, code, words in cases:
            found, status, message, _, _ = yield in_thread(refused, self.alice, **params)
            self.assertEqual((found, status), (code, 400), (params, message))
            self.assertIn(words, message, params)

        kernel, _ = yield in_thread(self.upload, self.alice, "my-kernel", "kernel")
        code, status, message, _, _ = yield in_thread(refused, self.alice, ImageLocation=kernel)
        self.assertEqual((code, status), ("UnauthorizedOperation", 403))

        first = yield in_thread(self.alice.ec2.register_image, ImageLocation=location, Name="good.img")
        code, _, message, _, _ = yield in_thread(refused, self.alice, ImageLocation=location, Name="good.img")
        self.assertEqual(code, "InvalidAMIName.Duplicate")
        self.assertIn(first["ImageId"], message)
        # bob may register a manifest alice signed once he can read it?  No:
        # it must be signed by his own account.
        yield in_thread(self.alice.s3.put_object_acl, Bucket="alice-images", Key=manifest_key, ACL="public-read")
        code, _, _, _, _ = yield in_thread(refused, self.bob, ImageLocation=location)
        self.assertEqual(code, "InvalidManifest")
        # The cloud administrators may register any user's bundle.
        answer = yield in_thread(self.admin.ec2.register_image, ImageLocation=location, Name="adopted")
        self.assertTrue(answer["ImageId"].startswith("emi-"))

    @defer.inlineCallbacks
    def test_tag_specifications(self):
        """
        C{RegisterImage}'s C{TagSpecifications} tag the new image, which
        C{DescribeImages} shows and filters on.
        """
        location, _ = yield in_thread(self.upload, self.alice, "tagged.img")
        answer = yield in_thread(
            self.alice.ec2.register_image, ImageLocation=location, Name="tagged",
            TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "role", "Value": "web"}]}],
        )  # fmt: skip
        found = yield in_thread(self.alice.ec2.describe_images, Filters=[{"Name": "tag:role", "Values": ["web"]}])
        self.assertEqual([(i["ImageId"], i["Tags"]) for i in found["Images"]],
                         [(answer["ImageId"], [{"Key": "role", "Value": "web"}])])  # fmt: skip
