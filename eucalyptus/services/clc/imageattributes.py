# -*- test-case-name: tests.services.clc.test_images -*-
"""
The attributes of images (L{eucalyptus.services.clc.images}):
C{DescribeImageAttribute}, C{ModifyImageAttribute} and
C{ResetImageAttribute}.

Anyone who may see an image may describe its description, kernel,
ramdisk, block device mapping and product codes; only its owner (or a
cloud administrator) sees and changes its launch permissions (accounts of
this cloud, and the group C{all} that makes it public) and changes its
description.  As a Eucalyptus extension, a machine image's default kernel
and ramdisk can be changed, and reset to what its manifest said.

The actions run in a thread.
"""

from sqlalchemy import delete, select, update

from eucalyptus.errors import InvalidParameterValue
from eucalyptus.services.clc.ec2.dispatch import blocking
from eucalyptus.services.clc.ec2.errors import InvalidAMIAttributeItemValue, MissingParameter
from eucalyptus.services.clc.images import (
    _ACCOUNT,
    _block_device_mappings,
    _check_description,
    _now,
    _owned,
    _referenced_id,
    _visible,
    images,
    launch_permissions,
    normalise_id,
)

__all__ = ["ACTIONS", "describe_image_attribute", "modify_image_attribute", "reset_image_attribute"]


#: Attributes EC2 knows that mean nothing for these images: answered empty.
_EMPTY_ATTRIBUTES = {
    "sriovNetSupport": "SriovNetSupport",
    "bootMode": "BootMode",
    "tpmSupport": "TpmSupport",
    "uefiData": "UefiData",
    "lastLaunchedTime": "LastLaunchedTime",
    "imdsSupport": "ImdsSupport",
    "deregistrationProtection": "DeregistrationProtection",
}


def _permissions(conn, row):
    query = select(launch_permissions.c.account_id).where(launch_permissions.c.image_id == row.image_id)
    granted = [{"UserId": account_id} for account_id in sorted(conn.execute(query).scalars())]
    return ([{"Group": "all"}] if row.public else []) + granted


def _value(text):
    return {"Value": text} if text is not None else {}


@blocking
def describe_image_attribute(context, params):
    """
    C{DescribeImageAttribute}: C{description}, C{kernel}, C{ramdisk},
    C{blockDeviceMapping} and C{productCodes} of an image the caller may
    see; C{launchPermission} of one it owns.

    @raise InvalidAMIIDNotFound: the caller cannot see the image.
    @raise AuthFailure: C{launchPermission} of another account's image.
    @raise InvalidParameterValue: an unknown attribute.
    """
    caller, attribute = context.caller, params["Attribute"]
    with context.cloud.db.connect() as conn:
        row = _visible(conn, caller, normalise_id(params["ImageId"]))
        result = {"ImageId": row.image_id}
        if attribute == "launchPermission":
            row = _owned(conn, caller, row.image_id)
            result["LaunchPermissions"] = _permissions(conn, row)
        elif attribute == "description":
            result["Description"] = _value(row.description)
        elif attribute == "kernel":
            result["KernelId"] = _value(row.kernel_id)
        elif attribute == "ramdisk":
            result["RamdiskId"] = _value(row.ramdisk_id)
        elif attribute == "productCodes":
            result["ProductCodes"] = []
        elif attribute == "blockDeviceMapping":
            result["BlockDeviceMappings"] = _block_device_mappings(row)
        elif attribute in _EMPTY_ATTRIBUTES:
            result[_EMPTY_ATTRIBUTES[attribute]] = {}
        else:
            raise InvalidParameterValue(f"Value ({attribute}) for parameter attribute is invalid. Unknown attribute.")
    return result


def _check_accounts(cloud, account_ids):
    """
    @raise InvalidAMIAttributeItemValue: an id that is not 12 digits or
        names no account of this cloud.
    """
    for account_id in account_ids:
        if not _ACCOUNT.match(account_id or ""):
            raise InvalidAMIAttributeItemValue(f"Invalid attribute item value \"{account_id}\" for userId item type.")
    unknown = set(account_ids) - set(cloud.accounts.account_names(set(account_ids))) if account_ids else set()
    if unknown:
        raise InvalidAMIAttributeItemValue(f"The account(s) {', '.join(sorted(unknown))} do not exist in this cloud.")


def _permission_changes(params):
    """
    The launch permission changes a request asks for, in either of EC2's
    forms: C{LaunchPermission.Add/Remove}, or C{Attribute=launchPermission}
    with C{OperationType}, C{UserIds} and C{UserGroups}.

    @return: C{(add, remove)}, each a list of C{("user", id)} and
        C{("group", "all")}.
    """
    add, remove = [], []
    structured = params.get("LaunchPermission") or {}
    for target, entries in ((add, structured.get("Add") or []), (remove, structured.get("Remove") or [])):
        for entry in entries:
            if entry.get("Group") is not None:
                target.append(("group", entry["Group"]))
            if entry.get("UserId") is not None:
                target.append(("user", entry["UserId"]))
            if entry.get("OrganizationArn") or entry.get("OrganizationalUnitArn"):
                raise InvalidParameterValue("This cloud has no organizations: give user ids or the group all.")
    if params.get("UserIds") or params.get("UserGroups"):
        operation = params.get("OperationType")
        if operation not in ("add", "remove"):
            raise MissingParameter("The request must contain the parameter OperationType (add or remove)")
        target = add if operation == "add" else remove
        target.extend(("user", user) for user in params.get("UserIds") or [])
        target.extend(("group", group) for group in params.get("UserGroups") or [])
    for kind, value in add + remove:
        if kind == "group" and value != "all":
            raise InvalidAMIAttributeItemValue(f"Invalid attribute item value \"{value}\" for group item type.")
    return add, remove


def _modify_permissions(conn, row, add, remove):
    public = row.public
    for kind, value in remove:
        if kind == "group":
            public = False
        else:
            conn.execute(
                delete(launch_permissions).where(
                    launch_permissions.c.image_id == row.image_id, launch_permissions.c.account_id == value
                )
            )
    for kind, value in add:
        if kind == "group":
            public = True
        elif value != row.account_id:
            granted = select(launch_permissions).where(
                launch_permissions.c.image_id == row.image_id, launch_permissions.c.account_id == value
            )
            if conn.execute(granted).first() is None:
                conn.execute(launch_permissions.insert().values(image_id=row.image_id, account_id=value))
    if public != row.public:
        conn.execute(update(images).where(images.c.image_id == row.image_id).values(public=public, changed=_now()))


def _set_default(conn, caller, row, kind, value):
    """
    Change a machine image's default kernel or ramdisk (a Eucalyptus
    extension; EC2 does not let them change).
    """
    if row.kind != "machine":
        raise InvalidParameterValue(f"Only machine images have a default {kind}; {row.image_id} is a {row.kind}.")
    image_id = _referenced_id(conn, caller, value, kind)
    column = "kernel_id" if kind == "kernel" else "ramdisk_id"
    values = {column: image_id, "changed": _now()}
    conn.execute(update(images).where(images.c.image_id == row.image_id).values(**values))


@blocking
def modify_image_attribute(context, params):
    """
    C{ModifyImageAttribute}: launch permissions (accounts of this cloud and
    the group C{all}), the description, and (Eucalyptus's extension) a
    machine image's default C{kernel} or C{ramdisk} (C{Attribute} and
    C{Value}; an empty value clears it).

    @raise InvalidAMIIDNotFound: the caller cannot see the image.
    @raise AuthFailure: it is another account's.
    @raise InvalidAMIAttributeItemValue: an unknown account or group.
    @raise MissingParameter: nothing to change.
    """
    cloud, caller = context.cloud, context.caller
    attribute = params.get("Attribute")
    add, remove = _permission_changes(params)
    description = (params.get("Description") or {}).get("Value")
    if attribute == "description" and description is None:
        description = params.get("Value")
    if attribute == "productCodes" or params.get("ProductCodes"):
        raise InvalidParameterValue("Product codes cannot be added to images of this cloud.")
    if attribute not in (None, "launchPermission", "description", "kernel", "ramdisk"):
        raise InvalidParameterValue(f"Value ({attribute}) for parameter attribute is invalid. Unknown attribute.")
    default = attribute if attribute in ("kernel", "ramdisk") else None
    if default and params.get("Value") is None:
        raise MissingParameter("The request must contain the parameter Value")
    if not (add or remove or description is not None or default):
        raise MissingParameter(
            "The request must say what to change: LaunchPermission, Description, or Attribute and Value"
        )
    _check_description(description)
    _check_accounts(cloud, sorted({value for kind, value in add if kind == "user"}))
    with cloud.db.begin() as conn:
        row = _owned(conn, caller, params["ImageId"])
        if add or remove:
            _modify_permissions(conn, row, add, remove)
        if description is not None:
            conn.execute(
                update(images)
                .where(images.c.image_id == row.image_id)
                .values(description=description or None, changed=_now())
            )
        if default:
            _set_default(conn, caller, row, default, params["Value"])
    return None


@blocking
def reset_image_attribute(context, params):
    """
    C{ResetImageAttribute}: C{launchPermission} makes the image private
    again (its owner alone may launch it); C{kernel} and C{ramdisk} go back
    to what the manifest said.

    @raise InvalidAMIIDNotFound: the caller cannot see the image.
    @raise AuthFailure: it is another account's.
    @raise InvalidParameterValue: another attribute.
    """
    attribute = params["Attribute"]
    if attribute not in ("launchPermission", "kernel", "ramdisk"):
        raise InvalidParameterValue(
            f"The attribute {attribute} cannot be reset; only launchPermission, kernel and ramdisk."
        )
    with context.cloud.db.begin() as conn:
        row = _owned(conn, context.caller, params["ImageId"])
        if attribute == "launchPermission":
            conn.execute(delete(launch_permissions).where(launch_permissions.c.image_id == row.image_id))
            conn.execute(update(images).where(images.c.image_id == row.image_id).values(public=False, changed=_now()))
        elif row.kind == "machine":
            column = "kernel_id" if attribute == "kernel" else "ramdisk_id"
            value = row.manifest_kernel_id if attribute == "kernel" else row.manifest_ramdisk_id
            conn.execute(
                update(images).where(images.c.image_id == row.image_id).values(**{column: value, "changed": _now()})
            )
    return None


#: EC2 action name to its function.
ACTIONS = {
    "DescribeImageAttribute": describe_image_attribute,
    "ModifyImageAttribute": modify_image_attribute,
    "ResetImageAttribute": reset_image_attribute,
}
