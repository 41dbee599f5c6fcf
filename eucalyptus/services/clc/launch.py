# -*- test-case-name: tests.services.clc.test_cloud,tests.services.clc.test_ec2_fuzz -*-
"""
C{RunInstances}: check what was asked, choose a zone with room, write the
reservation and its instances (C{pending}) to the database, then ask the
zone's cluster to start them.

The rows are committed before the cluster is called, so an acknowledged
instance is never lost.  The cluster starts between C{MinCount} and
C{MaxCount} of them or none: the ones it did not start are deleted (they
never existed for the user), and when it started none the request fails
with the cluster's reason and the rows are deleted too.  When the cluster
does not answer in time the outcome is unknown: the instances stay
C{pending} and the next polls settle them (running, or terminated once the
cluster has not reported them for L{instances.LOST_AFTER} seconds).  A C{ClientToken}
the account used before answers with that reservation instead of starting
more instances.
"""

import base64
import binascii
import re
from datetime import datetime, timezone

from sqlalchemy import delete, select
from twisted.internet import defer, threads

from eucalyptus.errors import InsufficientInstanceCapacity, InvalidParameterValue, RequestTimeout
from eucalyptus.services.cc.network import mac_for
from eucalyptus.services.clc import groups, images, keypairs, manifests, tags, vmtypes
from eucalyptus.services.clc import instances as store
from eucalyptus.services.clc.db import new_id
from eucalyptus.services.clc.ec2.errors import KeyPairNotFound, MissingParameter, Unavailable
from eucalyptus.wsdl import cc_types, common

__all__ = ["run_instances", "MAX_USER_DATA"]

#: The most user data an instance takes, bytes after base64 decoding.
MAX_USER_DATA = 16 * 1024

_TOKEN = re.compile(r"^[\x20-\x7e]{1,64}$")


def _now():
    return datetime.now(timezone.utc)


def _counts(params):
    minimum, maximum = params.get("MinCount"), params.get("MaxCount")
    if minimum is None or maximum is None:
        raise InvalidParameterValue("MinCount and MaxCount are required.")
    if minimum < 1:
        raise InvalidParameterValue(f"Value ({minimum}) for parameter minCount is invalid. Expected a positive number.")
    if maximum < minimum:
        raise InvalidParameterValue(f"Value ({maximum}) for parameter maxCount is invalid. maxCount must be >= minCount.")
    return minimum, maximum


def _user_data(params):
    data = params.get("UserData")
    if not data:
        return None
    try:
        decoded = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidParameterValue("Invalid BASE64 encoding of user data.") from None
    if len(decoded) > MAX_USER_DATA:
        raise InvalidParameterValue(f"User data is limited to {MAX_USER_DATA} bytes.")
    return data


def _room(cluster, vm_name):
    """
    How many more instances of the type the zone had room for at its last
    poll.
    """
    resources = cluster.resources.get(vm_name)
    return resources.available if resources else 0


def _choose_zone(cloud, asked, vm_name, minimum):
    """
    The zone to launch in: the one asked for, else the enabled one with the
    most room for the type.

    @raise InvalidParameterValue: an unknown zone.
    @raise Unavailable: no zone (or not the one asked for) is enabled.
    @raise InsufficientInstanceCapacity: the zone has no room for
        C{minimum}.
    """
    if asked:
        if asked not in cloud.clusters:
            raise InvalidParameterValue(f"Invalid availability zone: [{asked}]")
        usable = [cloud.clusters[asked]] if cloud.clusters[asked].state == "ENABLED" else []
        if not usable:
            raise Unavailable(f"The availability zone {asked} is not available right now; try again shortly.")
    else:
        usable = [c for c in cloud.clusters.values() if c.state == "ENABLED"]
        if not usable:
            raise Unavailable("No availability zone is available right now; try again shortly.")
    best = max(usable, key=lambda cluster: _room(cluster, vm_name))
    if _room(best, vm_name) < minimum:
        raise InsufficientInstanceCapacity(
            f"There is not enough capacity to fulfill your request for {minimum} {vm_name} instance(s)."
        )
    return best


def _existing(conn, caller, token):
    if not token:
        return None
    query = select(store.reservations.c.reservation_id).where(
        store.reservations.c.account_id == caller.account_id, store.reservations.c.client_token == token
    )
    return conn.execute(query).scalar()


def _prepare(cloud, caller, params, zone_name):
    """
    Check the request against the database and write the pending rows.

    @return: the launch plan (a dict), or the existing reservation id when
        the client token was used before.
    """
    minimum, maximum = _counts(params)
    token = params.get("ClientToken")
    if token is not None and not _TOKEN.match(token):
        raise InvalidParameterValue("ClientToken must be 1 to 64 printable ASCII characters.")
    user_data = _user_data(params)
    with cloud.db.begin() as conn:
        existing = _existing(conn, caller, token)
        if existing is not None:
            return existing
        vm = vmtypes.vm_type(conn, params.get("InstanceType") or vmtypes.DEFAULT_TYPE)
        launch = images.image_for_launch(
            conn, caller, params["ImageId"], kernel_id=params.get("KernelId"), ramdisk_id=params.get("RamdiskId"),
            walrus_url=manifests.walrus_url(cloud.settings),
        )
        key_name = params.get("KeyName")
        if key_name and keypairs.public_key(conn, caller.account_id, key_name) is None:
            raise KeyPairNotFound(f"The key pair '{key_name}' does not exist")
        chosen = [
            (group["GroupId"], group["GroupName"])
            for group in groups.groups_for_launch(
                conn, caller.account_id, params.get("SecurityGroups", ()), params.get("SecurityGroupIds", ())
            )
        ]
        now = _now()
        reservation_id = new_id("r")
        ids = [new_id("i") for _ in range(maximum)]
        conn.execute(store.reservations.insert().values(
            reservation_id=reservation_id, account_id=caller.account_id, requester=caller.user_id,
            client_token=token, created=now,
        ))
        for index, instance_id in enumerate(ids):
            conn.execute(store.instances.insert().values(
                instance_id=instance_id, reservation_id=reservation_id, account_id=caller.account_id,
                image_id=launch.image_id, kernel_id=launch.kernel_id, ramdisk_id=launch.ramdisk_id,
                instance_type=vm.name, key_name=key_name, zone=zone_name, launch_index=index,
                state=store.PENDING, reason="", mac=mac_for(instance_id, cloud.settings["VNET_MACPREFIX"]),
                user_data=user_data, architecture=launch.architecture, launched=now, changed=now,
            ))
            for group_id, group_name in chosen:
                conn.execute(store.instance_groups.insert().values(
                    instance_id=instance_id, group_id=group_id, group_name=group_name,
                ))
            for spec in params.get("TagSpecifications", ()):
                if spec.get("ResourceType") == "instance":
                    tags.apply_tag_specifications(conn, caller.account_id, "instance", instance_id, [spec])
    return dict(
        reservation_id=reservation_id, ids=ids, minimum=minimum, vm=vm, launch=launch, key_name=key_name,
        groups=chosen, user_data=user_data, account_id=caller.account_id,
    )


def _cluster_request(plan, mac_prefix):
    vm, launch = plan["vm"], plan["launch"]
    boot = [
        common.VirtualBootRecordType(type=role, resourceLocation=url, id=image_id, guestDeviceName="none",
                                     size=-1, format="none")
        for role, (image_id, url) in launch.boot_records().items()
    ]
    account = plan["account_id"]
    return cc_types.RunInstancesType(
        correlationId=plan["reservation_id"], userId=account, ownerId=account, accountId=account,
        reservationId=plan["reservation_id"], imageId=launch.image_id, kernelId=launch.kernel_id,
        ramdiskId=launch.ramdisk_id, imageURL=launch.image_url, kernelURL=launch.kernel_url,
        ramdiskURL=launch.ramdisk_url,
        instanceType=common.VirtualMachineType(name=vm.name, cores=vm.cores, memory=vm.memory, disk=vm.disk,
                                               virtualBootRecord=boot),
        keyName=plan["key_name"] or "", maxCount=len(plan["ids"]), minCount=plan["minimum"],
        instanceIds=plan["ids"], macAddresses=[mac_for(i, mac_prefix) for i in plan["ids"]],
        netNames=[name for _, name in plan["groups"]], userData=plan["user_data"] or "", launchIndex="0",
    )


def _settle(cloud, plan, started):
    """
    Keep the instances the cluster started; delete the others.
    """
    started = set(started)
    unstarted = [i for i in plan["ids"] if i not in started]
    with cloud.db.begin() as conn:
        if unstarted:
            conn.execute(delete(store.instance_groups).where(store.instance_groups.c.instance_id.in_(unstarted)))
            tags.delete_all_tags(conn, plan["account_id"], unstarted)
            conn.execute(delete(store.instances).where(store.instances.c.instance_id.in_(unstarted)))
        if not started:
            conn.execute(delete(store.reservations).where(
                store.reservations.c.reservation_id == plan["reservation_id"]
            ))


def _reservation(cloud, caller, reservation_id):
    with cloud.db.connect() as conn:
        rows = store.rows(conn, account_id=caller.account_id)
        rows = [row for row in rows if row.reservation_id == reservation_id]
        ids = [row.instance_id for row in rows]
        pairs = store.groups_of(conn, ids)
        found = tags.tags_of(conn, caller.account_id, ids)
    items = [store.describe_item(row, pairs.get(row.instance_id, []), found.get(row.instance_id, [])) for row in rows]
    first = pairs.get(ids[0], []) if ids else []
    return {
        "ReservationId": reservation_id,
        "OwnerId": caller.account_id,
        "RequesterId": caller.user_id,
        "Groups": [{"GroupId": gid, "GroupName": name} for gid, name in first],
        "Instances": items,
    }


@defer.inlineCallbacks
def run_instances(context, params):
    """
    C{RunInstances}.
    """
    cloud = context.cloud
    if not params.get("ImageId"):
        # botocore's model makes it optional, for launch templates, which
        # this cloud does not have.
        raise MissingParameter("The request must contain the parameter ImageId")
    vm_name = params.get("InstanceType") or vmtypes.DEFAULT_TYPE
    minimum, maximum = _counts(params)
    zone = _choose_zone(cloud, (params.get("Placement") or {}).get("AvailabilityZone"), vm_name, minimum)
    # The zone starts no more than it has room for, so ask it for no more:
    # a row is written for each instance asked for, and a MaxCount of
    # billions would otherwise be billions of rows.
    params = dict(params, MaxCount=min(maximum, _room(zone, vm_name)))
    plan = yield threads.deferToThread(_prepare, cloud, context.caller, params, zone.zone)
    if isinstance(plan, str):
        answer = yield threads.deferToThread(_reservation, cloud, context.caller, plan)
        return answer
    try:
        started = yield zone.client.call("RunInstances", _cluster_request(plan, cloud.settings["VNET_MACPREFIX"]))
    except RequestTimeout:
        # The cluster may have started them: they stay pending, and the poll
        # finds them running or, after LOST_AFTER, terminated.
        pass
    except Exception:
        yield threads.deferToThread(_settle, cloud, plan, [])
        raise
    else:
        yield threads.deferToThread(_settle, cloud, plan, [i.instanceId for i in started.instances or []])
    answer = yield threads.deferToThread(_reservation, cloud, context.caller, plan["reservation_id"])
    return answer
