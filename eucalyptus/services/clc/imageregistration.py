# -*- test-case-name: tests.services.clc.test_images -*-
"""
Registering images (L{eucalyptus.services.clc.images}): C{RegisterImage}
and L{insert_image}, which records a verified manifest.

C{RegisterImage} reads the manifest at C{ImageLocation} from Walrus with
the caller's access key (L{eucalyptus.services.clc.manifests}) and checks
that it was signed by a certificate of the caller's account (a cloud
administrator's manifest may be signed by any account's, or by the
cloud's).  L{insert_image} checks the name, description and architecture,
and a machine image's default kernel and ramdisk (the request's, else its
manifest's), which must be images the caller can see; only the cloud
administrators register kernels and ramdisks.

The functions taking a connection are blocking; the action runs in a
thread.
"""

import json
import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from eucalyptus.errors import InvalidParameterValue
from eucalyptus.services.clc import manifests, tags
from eucalyptus.services.clc.db import new_id
from eucalyptus.services.clc.ec2.dispatch import blocking
from eucalyptus.services.clc.ec2.errors import (
    AuthFailure,
    InvalidAMINameDuplicate,
    InvalidAMINameMalformed,
    MissingParameter,
    UnauthorizedOperation,
)
from eucalyptus.services.clc.images import (
    _ID,
    ARCHITECTURES,
    AVAILABLE,
    DEFAULT_ROOT_DEVICE,
    DEREGISTERED,
    PREFIXES,
    _check_description,
    _now,
    _referenced_id,
    image_row,
    images,
    normalise_id,
)

__all__ = ["ACTIONS", "insert_image", "register_image"]


_NAME = re.compile(r"^[A-Za-z0-9()\[\] ./\-'@_]{3,128}$")


def _check_name(name):
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidAMINameMalformed(
            f"AMI names must be between 3 and 128 characters long, and may contain letters, numbers, "
            f"'(', ')', '.', '-', '/', '_', '[', ']', ' ', \"'\" and '@': {name!r}"
        )
    return name


def _check_architecture(architecture):
    if architecture not in ARCHITECTURES:
        raise InvalidParameterValue(f"Invalid architecture {architecture!r}: use {' or '.join(ARCHITECTURES)}.")
    return architecture


def _manifest_reference(value, kind):
    """
    The C{kernel_id} or C{ramdisk_id} a machine manifest gives, if it is
    an id of this cloud's kind (bundles made for other clouds name theirs,
    which mean nothing here).
    """
    if value and _ID.match(value) and value[:3].lower() == PREFIXES[kind]:
        return value.lower()
    return None


def insert_image(conn, caller, manifest, location, manifest_url, name, description=None, architecture=None,
                 kernel_id=None, ramdisk_id=None):  # fmt: skip
    """
    Record a verified manifest as a new image of the caller's account.

    @param manifest: the L{eucalyptus.bundle.Manifest}, its signature
        checked.
    @param location: C{bucket/key} of the manifest; C{manifest_url} where
        the nodes fetch it.
    @param architecture: the request's, else the manifest's, else
        C{i386} (as Eucalyptus defaults it).
    @param kernel_id: the request's default kernel for a machine image,
        else the manifest's; likewise C{ramdisk_id}.
    @return: the new image's id.
    @raise UnauthorizedOperation: a kernel or ramdisk registered by a user
        who is not a cloud administrator.
    @raise InvalidAMIIDNotFound: the default kernel or ramdisk is not an
        image the caller can see.
    @raise InvalidAMINameDuplicate: the account has an image of that name
        (a registration racing this one may instead fail the insert with
        an L{IntegrityError} when the transaction commits or inserts).
    """
    kind = manifest.kind
    if kind != "machine" and not caller.administrator:
        raise UnauthorizedOperation(f"Only administrators can register {kind} images.")
    _check_name(name)
    _check_description(description)
    architecture = _check_architecture(architecture or manifest.architecture or "i386")
    manifest_kernel = manifest_ramdisk = None
    root_device = None
    mapping = []
    if kind == "machine":
        manifest_kernel = _manifest_reference(manifest.kernel_id, "kernel")
        manifest_ramdisk = _manifest_reference(manifest.ramdisk_id, "ramdisk")
        kernel_id = _referenced_id(conn, caller, kernel_id or manifest_kernel, "kernel")
        ramdisk_id = _referenced_id(conn, caller, ramdisk_id or manifest_ramdisk, "ramdisk")
        devices = manifest.block_device_mapping
        root_device = devices.get("root", DEFAULT_ROOT_DEVICE)
        mapping = sorted((v, d) for v, d in devices.items() if v.startswith("ephemeral") or v == "swap")
    else:
        kernel_id = ramdisk_id = None
    duplicate = select(images.c.image_id).where(
        images.c.account_id == caller.account_id, images.c.name == name, images.c.state != DEREGISTERED
    )
    existing = conn.execute(duplicate).scalar()
    if existing is not None:
        raise InvalidAMINameDuplicate(f"AMI name {name} is already in use by AMI {existing}")
    now = _now()
    while True:
        image_id = new_id(PREFIXES[kind])
        if image_row(conn, image_id) is None:
            break
    values = dict(
        image_id=image_id, account_id=caller.account_id, kind=kind, name=name, description=description,
        architecture=architecture, location=location, manifest_url=manifest_url, kernel_id=kernel_id,
        ramdisk_id=ramdisk_id, manifest_kernel_id=manifest_kernel, manifest_ramdisk_id=manifest_ramdisk,
        root_device_name=root_device, block_devices=json.dumps(mapping), state=AVAILABLE, public=False,
        size=manifest.size, bundled_size=manifest.bundled_size, created=now, changed=now,
    )  # fmt: skip
    conn.execute(images.insert().values(**values))
    return image_id


def _candidate_certificates(cloud, caller):
    """
    The certificates a manifest the caller registers may be signed with.
    """
    with cloud.accounts.engine.connect() as conn:
        found = manifests.account_certificates(conn, None if caller.administrator else caller.account_id)
    if caller.administrator:
        found.append(cloud.keystore.certificate("cloud"))
    return found


@blocking
def register_image(context, params):
    """
    C{RegisterImage}: read the manifest at C{ImageLocation} from Walrus as
    the caller, check its signature, and record the image.

    @raise MissingParameter: no C{ImageLocation} (EBS-backed images are not
        supported).
    @raise InvalidManifest: the manifest is missing, unreadable by the
        caller, not a bundle manifest, or not signed by the caller's
        account.
    @raise Unavailable: Walrus cannot be reached.
    @raise AwsError: see L{insert_image}.
    """
    cloud, caller = context.cloud, context.caller
    name = _check_name(params.get("Name"))
    description = _check_description(params.get("Description"))
    if params.get("BlockDeviceMappings") and any(m.get("Ebs") for m in params["BlockDeviceMappings"]):
        raise InvalidParameterValue("EBS-backed images are not supported: register a bundle's manifest.")
    if not params.get("ImageLocation"):
        raise MissingParameter("The request must contain the parameter ImageLocation")
    architecture = params.get("Architecture")
    if architecture is not None:
        _check_architecture(architecture)
    kernel_id = params.get("KernelId")
    ramdisk_id = params.get("RamdiskId")
    if kernel_id:
        normalise_id(kernel_id, "kernel")
    if ramdisk_id:
        normalise_id(ramdisk_id, "ramdisk")
    bucket, key = manifests.parse_location(params["ImageLocation"])
    url = manifests.object_url(manifests.walrus_url(cloud.settings), bucket, key)
    access = cloud.accounts.access_key(caller.access_key_id)
    if access is None or access.status != "Active":
        raise AuthFailure("Your access key is no longer active.")
    data = manifests.read_manifest(url, access.access_key_id, access.secret_key)
    manifest = manifests.verify_manifest(data, _candidate_certificates(cloud, caller))
    try:
        with cloud.db.begin() as conn:
            image_id = insert_image(
                conn, caller, manifest, f"{bucket}/{key}", url, name, description, architecture,
                kernel_id or None, ramdisk_id or None,
            )  # fmt: skip
            tags.apply_tag_specifications(conn, caller.account_id, "image", image_id, params.get("TagSpecifications"))
    except IntegrityError:
        # Another registration of the same name committed first.
        raise InvalidAMINameDuplicate(f"AMI name {name} is already in use by another AMI of your account") from None
    return {"ImageId": image_id}


#: EC2 action name to its function.
ACTIONS = {
    "RegisterImage": register_image,
}
