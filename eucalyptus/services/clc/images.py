# -*- test-case-name: tests.services.clc.test_images -*-
"""
Images: their tables, who may see and launch them, C{DeregisterImage},
C{DescribeImages}, and L{image_for_launch} for C{RunInstances}.

An image is an Eucalyptus bundle in Walrus (L{eucalyptus.bundle}),
registered by the location of its manifest
(L{eucalyptus.services.clc.manifests}): a machine image (C{emi-}), a
kernel (C{eki-}) or a ramdisk (C{eri-}), backed by the instance store.
Only the cloud administrators register kernels and ramdisks, as in every
Eucalyptus release.  A machine image names its default kernel and ramdisk
(from its manifest or the request), which must exist and be visible to the
registering account.

Who may see and launch an image, as in EC2: its owner, every account when
it is public (launch permission group C{all}), and the accounts given
launch permission.  Images are private when registered.  Only the owner
(or a cloud administrator) deregisters an image or changes its
attributes.  A deregistered image keeps its row (state C{deregistered}) so
instances started from it still name it, but it is gone from
C{DescribeImages} and cannot be launched; a cloud administrator sees
every image of every account, deregistered ones too, by asking
C{DescribeImages} for the image id C{verbose} (Eucalyptus's convention).

An account's image names are unique among its registered images
(C{InvalidAMIName.Duplicate}); registering the same manifest again under
another name makes another image, as EC2 does.

Registration (C{RegisterImage}) is in
L{eucalyptus.services.clc.imageregistration}, and
C{Describe/Modify/ResetImageAttribute} in
L{eucalyptus.services.clc.imageattributes}: both build on this module, and
each has its own C{ACTIONS}.

The functions taking a connection are blocking; the actions run in a
thread.
"""

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    delete,
    or_,
    select,
    update,
)

from eucalyptus.errors import InvalidParameterValue
from eucalyptus.services.clc import manifests, tags
from eucalyptus.services.clc.db import metadata
from eucalyptus.services.clc.ec2.dispatch import blocking
from eucalyptus.services.clc.ec2.errors import (
    AuthFailure,
    InvalidAMIIDMalformed,
    InvalidAMIIDNotFound,
    InvalidParameterCombination,
    InvalidUserIDMalformed,
)
from eucalyptus.services.clc.ec2.filters import select as select_items
from eucalyptus.services.clc.ec2.paging import page
from eucalyptus.services.clc.ec2.serialize import timestamp_text

__all__ = [
    "ACTIONS",
    "PREFIXES",
    "AVAILABLE",
    "DEREGISTERED",
    "images",
    "launch_permissions",
    "LaunchImage",
    "normalise_id",
    "image_row",
    "visible_rows",
    "describe_item",
    "image_for_launch",
    "deregister_image",
    "describe_images",
]

#: Image type to the prefix of its ids.
PREFIXES = {"machine": "emi", "kernel": "eki", "ramdisk": "eri"}

AVAILABLE = "available"
DEREGISTERED = "deregistered"

ARCHITECTURES = ("i386", "x86_64")
ROOT_DEVICE_TYPE = "instance-store"
#: The root device of a machine image whose manifest does not name one.
DEFAULT_ROOT_DEVICE = "/dev/sda1"

_ID = re.compile(r"^(emi|eki|eri)-([0-9a-f]{8}|[0-9a-f]{17})$", re.IGNORECASE)
_ACCOUNT = re.compile(r"^\d{12}$")
_MAX_DESCRIPTION = 255
#: Owners that are aliases of no account of this cloud.
_ALIASES = ("amazon", "aws-marketplace", "aws-backup-vault")

images = Table(
    "images",
    metadata,
    Column("image_id", String(32), primary_key=True),
    Column("account_id", String(12), nullable=False, index=True),
    Column("kind", String(8), nullable=False),
    Column("name", String(128), nullable=False),
    Column("description", String(_MAX_DESCRIPTION)),
    Column("architecture", String(16), nullable=False),
    Column("location", String(1024), nullable=False),
    Column("manifest_url", String(2048), nullable=False),
    Column("kernel_id", String(32)),
    Column("ramdisk_id", String(32)),
    Column("manifest_kernel_id", String(32)),
    Column("manifest_ramdisk_id", String(32)),
    Column("root_device_name", String(64)),
    Column("block_devices", Text, nullable=False, default="[]"),
    Column("state", String(16), nullable=False),
    Column("public", Boolean, nullable=False, default=False),
    Column("size", BigInteger, nullable=False),
    Column("bundled_size", BigInteger, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("changed", DateTime(timezone=True), nullable=False),
)

# An account's registered images have distinct names.
Index(
    "images_account_name",
    images.c.account_id,
    images.c.name,
    unique=True,
    sqlite_where=images.c.state != DEREGISTERED,
    postgresql_where=images.c.state != DEREGISTERED,
)

launch_permissions = Table(
    "image_launch_permissions",
    metadata,
    Column("image_id", String(32), ForeignKey("images.image_id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", String(12), primary_key=True),
)


def _now():
    return datetime.now(timezone.utc)


# -- ids, rows, visibility --------------------------------------------------------


def normalise_id(image_id, what="image"):
    """
    An image id as this cloud writes it (lower case).

    @param what: how a message names the id (C{image}, C{kernel}).
    @raise InvalidAMIIDMalformed: not C{emi-}, C{eki-} or C{eri-} and 8 (or
        17) hex digits.
    """
    if not isinstance(image_id, str) or not _ID.match(image_id):
        raise InvalidAMIIDMalformed(f"Invalid id: \"{image_id}\" (expecting \"emi-...\", \"eki-...\" or \"eri-...\")")
    return image_id.lower()


def image_row(conn, image_id):
    """
    The row of an image, whatever its state, or L{None}.
    """
    return conn.execute(select(images).where(images.c.image_id == image_id)).first()


def _shared_with(account_id):
    return select(launch_permissions.c.image_id).where(launch_permissions.c.account_id == account_id)


def visible_rows(conn, caller, everything=False):
    """
    The registered images a caller may see (and launch): its own, the
    public ones and those it was given launch permission for.

    @param caller: the L{eucalyptus.services.clc.ec2.dispatch.Caller}.
    @param everything: every image of every account, deregistered ones
        too (for administrators).
    @return: rows sorted by image id.
    """
    query = select(images)
    if not everything:
        query = query.where(
            images.c.state != DEREGISTERED,
            or_(
                images.c.account_id == caller.account_id,
                images.c.public.is_(True),
                images.c.image_id.in_(_shared_with(caller.account_id)),
            ),
        )
    return conn.execute(query.order_by(images.c.image_id)).all()


def _visible(conn, caller, image_id, what="image"):
    """
    A registered image the caller may see and launch.

    @raise InvalidAMIIDNotFound: there is none (or the caller may not).
    """
    row = image_row(conn, image_id)
    if row is not None and row.state != DEREGISTERED and (caller.administrator or _may_launch(conn, caller, row)):
        return row
    raise InvalidAMIIDNotFound(f"The {what} id '[{image_id}]' does not exist")


def _may_launch(conn, caller, row):
    if row.account_id == caller.account_id or row.public:
        return True
    query = select(launch_permissions.c.account_id).where(
        launch_permissions.c.image_id == row.image_id, launch_permissions.c.account_id == caller.account_id
    )
    return conn.execute(query).first() is not None


def _owned(conn, caller, image_id):
    """
    A registered image the caller may change: its own, or any for the
    cloud administrators.

    @raise InvalidAMIIDNotFound: the caller cannot see it.
    @raise AuthFailure: it can, but it is another account's.
    """
    row = _visible(conn, caller, normalise_id(image_id))
    if row.account_id != caller.account_id and not caller.administrator:
        raise AuthFailure(f"Not authorized for image:{row.image_id}")
    return row


def _owns(conn, account_id, image_id):
    row = image_row(conn, image_id.lower())
    return row is not None and row.state != DEREGISTERED and row.account_id == account_id


tags.register_owner(("emi", "eki", "eri"), _owns)


def _block_device_mappings(row):
    return [{"DeviceName": device, "VirtualName": virtual} for virtual, device in json.loads(row.block_devices)]


def describe_item(row, item_tags=()):
    """
    An image as C{DescribeImages} describes it.

    @param item_tags: its tags (for the caller), C{{"Key", "Value"}} dicts.
    """
    item = {
        "ImageId": row.image_id,
        "ImageLocation": row.location,
        "State": row.state,
        "OwnerId": row.account_id,
        "CreationDate": timestamp_text(row.created),
        "Public": bool(row.public),
        "Architecture": row.architecture,
        "ImageType": row.kind,
        "Name": row.name,
        "Description": row.description,
        "RootDeviceType": ROOT_DEVICE_TYPE,
        "RootDeviceName": row.root_device_name,
        "BlockDeviceMappings": _block_device_mappings(row),
        "VirtualizationType": "paravirtual",
        "PlatformDetails": "Linux/UNIX",
        "UsageOperation": "RunInstances",
        "ProductCodes": [],
        "Tags": list(item_tags),
    }
    if row.kind == "machine":
        item["KernelId"] = row.kernel_id
        item["RamdiskId"] = row.ramdisk_id
    return item


# -- checks shared by registration and attributes --------------------------------


def _check_description(description):
    if description is not None and len(description) > _MAX_DESCRIPTION:
        raise InvalidParameterValue(f"The description may be at most {_MAX_DESCRIPTION} characters long.")
    return description


def _referenced(conn, caller, given, kind):
    """
    The kernel or ramdisk a machine image names, checked.

    @param given: its id, or L{None}.
    @param kind: C{kernel} or C{ramdisk}.
    @return: its row, or L{None}.
    @raise InvalidAMIIDNotFound: the caller cannot see such an image.
    @raise InvalidParameterValue: it is not a C{kind} image.
    """
    if not given:
        return None
    row = _visible(conn, caller, normalise_id(given, kind), kind)
    if row.kind != kind:
        raise InvalidParameterValue(f"The image {row.image_id} is a {row.kind} image, not a {kind}.")
    return row


def _referenced_id(conn, caller, given, kind):
    row = _referenced(conn, caller, given, kind)
    return row.image_id if row is not None else None


# -- deregistration -------------------------------------------------------------------


@blocking
def deregister_image(context, params):
    """
    C{DeregisterImage}: the image can no longer be seen or launched;
    instances started from it keep running.

    @raise InvalidAMIIDNotFound: the caller cannot see it.
    @raise AuthFailure: it is another account's.
    """
    caller = context.caller
    with context.cloud.db.begin() as conn:
        row = _owned(conn, caller, params["ImageId"])
        conn.execute(
            update(images).where(images.c.image_id == row.image_id).values(state=DEREGISTERED, changed=_now())
        )
        conn.execute(delete(launch_permissions).where(launch_permissions.c.image_id == row.image_id))
        tags.delete_all_tags(conn, row.account_id, [row.image_id])
    return {"Return": True}


# -- describing ----------------------------------------------------------------------


_FILTERS = {
    "architecture": lambda i: i["Architecture"],
    "block-device-mapping.device-name": lambda i: [m["DeviceName"] for m in i["BlockDeviceMappings"]],
    "block-device-mapping.virtual-name": lambda i: [m["VirtualName"] for m in i["BlockDeviceMappings"]],
    "creation-date": lambda i: i["CreationDate"],
    "description": lambda i: i.get("Description"),
    "image-id": lambda i: i["ImageId"],
    "image-type": lambda i: i["ImageType"],
    "is-public": lambda i: i["Public"],
    "kernel-id": lambda i: i.get("KernelId"),
    "manifest-location": lambda i: i["ImageLocation"],
    "name": lambda i: i["Name"],
    "owner-alias": lambda i: None,
    "owner-id": lambda i: i["OwnerId"],
    "platform": lambda i: None,
    "platform-details": lambda i: i["PlatformDetails"],
    "product-code": lambda i: [],
    "ramdisk-id": lambda i: i.get("RamdiskId"),
    "root-device-name": lambda i: i.get("RootDeviceName"),
    "root-device-type": lambda i: i["RootDeviceType"],
    "state": lambda i: i["State"],
    "usage-operation": lambda i: i["UsageOperation"],
    "virtualization-type": lambda i: i["VirtualizationType"],
}


def _owner_set(caller, owners):
    """
    The account ids C{Owners} names (C{self} is the caller; aliases of
    AWS's own accounts name none).

    @raise InvalidUserIDMalformed: a value that is none of those.
    """
    wanted = set()
    for owner in owners:
        if owner == "self":
            wanted.add(caller.account_id)
        elif _ACCOUNT.match(owner):
            wanted.add(owner)
        elif owner not in _ALIASES:
            raise InvalidUserIDMalformed(f"Invalid user id: '{owner}'")
    return wanted


def _executable_by(conn, caller, rows, executable):
    """
    The rows that C{ExecutableUsers} keeps: C{all} the public ones, C{self}
    those the caller may launch by ownership or explicit permission, an
    account id those with explicit launch permission for it.

    @raise InvalidUserIDMalformed: a value that is none of those.
    """
    accounts = set()
    keep_public = keep_self = False
    for user in executable:
        if user == "all":
            keep_public = True
        elif user == "self":
            keep_self = True
        elif _ACCOUNT.match(user):
            accounts.add(user)
        else:
            raise InvalidUserIDMalformed(f"Invalid user id: '{user}'")
    if caller.account_id in accounts:
        keep_self = True
    explicit = {}
    ids = [row.image_id for row in rows]
    if ids:
        query = select(launch_permissions).where(launch_permissions.c.image_id.in_(ids))
        for image_id, account_id in conn.execute(query):
            explicit.setdefault(image_id, set()).add(account_id)
    kept = []
    for row in rows:
        granted = explicit.get(row.image_id, set())
        if (
            (keep_public and row.public)
            or (keep_self and (row.account_id == caller.account_id or caller.account_id in granted))
            or granted & accounts
        ):
            kept.append(row)
    return kept


@blocking
def describe_images(context, params):
    """
    C{DescribeImages}: the images the caller may see, narrowed by
    C{ImageIds}, C{Owners}, C{ExecutableUsers} and C{Filters}, sorted by
    id, paged by C{MaxResults} (5 to 1000) and C{NextToken}.

    @raise InvalidAMIIDMalformed: a malformed id in C{ImageIds}.
    @raise InvalidAMIIDNotFound: an id of C{ImageIds} the caller cannot
        see.
    @raise InvalidUserIDMalformed: a bad C{Owners} or C{ExecutableUsers}
        value.
    @raise InvalidParameterCombination: C{MaxResults} with C{ImageIds}.
    """
    caller = context.caller
    asked = list(params.get("ImageIds") or [])
    everything = caller.administrator and "verbose" in asked
    asked = [normalise_id(image_id) for image_id in asked if image_id != "verbose" or not everything]
    if asked and params.get("MaxResults") is not None:
        raise InvalidParameterCombination("The parameter ImageIds cannot be used with the parameter MaxResults")
    owners = params.get("Owners")
    wanted_owners = _owner_set(caller, owners) if owners else None
    with context.cloud.db.connect() as conn:
        rows = visible_rows(conn, caller, everything)
        if asked:
            by_id = {row.image_id: row for row in rows}
            missing = [image_id for image_id in dict.fromkeys(asked) if image_id not in by_id]
            if missing:
                raise InvalidAMIIDNotFound(f"The image id '[{', '.join(missing)}]' does not exist")
            rows = [by_id[image_id] for image_id in sorted(set(asked))]
        if wanted_owners is not None:
            rows = [row for row in rows if row.account_id in wanted_owners]
        if params.get("ExecutableUsers"):
            rows = _executable_by(conn, caller, rows, params["ExecutableUsers"])
        found = tags.tags_of(conn, caller.account_id, [row.image_id for row in rows])
    items = [describe_item(row, found.get(row.image_id, ())) for row in rows]
    items = select_items(items, params.get("Filters"), _FILTERS, tags_of=tags.item_tags)
    chosen, token = page(items, lambda i: i["ImageId"], params.get("MaxResults"), params.get("NextToken"), 5, 1000)
    return {"Images": chosen, "NextToken": token}


# -- launching -------------------------------------------------------------------------


@dataclass(frozen=True)
class LaunchImage:
    """
    What C{RunInstances} needs of an image: the ids of the machine image,
    kernel and ramdisk it boots, and the URLs of their manifests in Walrus,
    which the Node Controller fetches (signed with its node key) together
    with the parts next to them.

    @ivar ramdisk_id: L{None} when the instance boots without one; likewise
        C{ramdisk_url}.
    @ivar size: the machine image's size in bytes.
    """

    image_id: str
    kernel_id: str
    ramdisk_id: str
    architecture: str
    image_url: str
    kernel_url: str
    ramdisk_url: str
    owner_id: str
    size: int
    root_device_name: str = DEFAULT_ROOT_DEVICE
    platform: str = "linux"

    def boot_records(self):
        """
        Role (C{machine}, C{kernel}, C{ramdisk}) to C{(image id, URL)}, for
        the C{virtualBootRecord}s of the cluster's C{RunInstances}; roles
        without an image are left out.
        """
        records = {
            "machine": (self.image_id, self.image_url),
            "kernel": (self.kernel_id, self.kernel_url),
            "ramdisk": (self.ramdisk_id, self.ramdisk_url),
        }
        return {role: pair for role, pair in records.items() if pair[0]}


def _url(row, walrus_url):
    if walrus_url is None:
        return row.manifest_url
    bucket, _, key = row.location.partition("/")
    return manifests.object_url(walrus_url, bucket, key)


def image_for_launch(conn, caller, image_id, kernel_id=None, ramdisk_id=None, walrus_url=None):
    """
    The image an instance boots, for C{RunInstances}: the machine image and
    the kernel and ramdisk it boots with (the request's, else the image's
    defaults; a request naming a kernel but no ramdisk boots without the
    image's default ramdisk, which goes with its default kernel), each
    checked to be registered and launchable by the caller.

    @param conn: a connection to the cloud database.
    @param caller: the L{eucalyptus.services.clc.ec2.dispatch.Caller}.
    @param kernel_id: the request's C{KernelId}, or L{None}; likewise
        C{ramdisk_id}.
    @param walrus_url: Walrus's URL now (L{manifests.walrus_url} of the
        cloud's settings); by default the URLs the images were registered
        from.
    @return: a L{LaunchImage}.
    @raise InvalidAMIIDMalformed: an id that is not one of an image.
    @raise InvalidAMIIDNotFound: the caller may not launch the image, its
        kernel or its ramdisk (or they do not exist).
    @raise InvalidParameterValue: the image is not a machine image, the
        kernel is not a kernel, or there is no kernel to boot.
    """
    row = _visible(conn, caller, normalise_id(image_id))
    if row.kind != "machine":
        raise InvalidParameterValue(
            f"The image {row.image_id} is a {row.kind} image: instances boot machine images (emi-)."
        )
    chosen_kernel = kernel_id or row.kernel_id
    if not chosen_kernel:
        raise InvalidParameterValue(f"The image {row.image_id} has no default kernel: give a KernelId (eki-...).")
    if ramdisk_id:
        chosen_ramdisk = ramdisk_id
    else:
        chosen_ramdisk = None if kernel_id else row.ramdisk_id
    kernel = _referenced(conn, caller, chosen_kernel, "kernel")
    ramdisk = _referenced(conn, caller, chosen_ramdisk, "ramdisk")
    return LaunchImage(
        image_id=row.image_id,
        kernel_id=kernel.image_id,
        ramdisk_id=ramdisk.image_id if ramdisk is not None else None,
        architecture=row.architecture,
        image_url=_url(row, walrus_url),
        kernel_url=_url(kernel, walrus_url),
        ramdisk_url=_url(ramdisk, walrus_url) if ramdisk is not None else None,
        owner_id=row.account_id,
        size=row.size,
        root_device_name=row.root_device_name or DEFAULT_ROOT_DEVICE,
    )


#: EC2 action name to its function (C{RegisterImage} and the attribute
#: actions are in the C{ACTIONS} of
#: L{eucalyptus.services.clc.imageregistration} and
#: L{eucalyptus.services.clc.imageattributes}).
ACTIONS = {
    "DeregisterImage": deregister_image,
    "DescribeImages": describe_images,
}
