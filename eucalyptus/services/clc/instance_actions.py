# -*- test-case-name: tests.services.clc.test_clusters,tests.services.clc.test_cloud,tests.services.clc.test_authorization -*-
"""
The EC2 instance actions besides C{RunInstances} (L{launch}).

Descriptions come from the database, which the cluster poll keeps current;
nothing here waits for a node to describe.  Changes of state are written
first (C{shutting-down}, C{stopping}, C{pending}) and then asked of the
instance's cluster; when the cluster cannot be reached the state stays and
the poll asks again (L{eucalyptus.services.clc.clusters.reconcile}).
"""

import base64
from datetime import datetime, timezone

from sqlalchemy import update
from twisted.internet import defer, threads
from twisted.logger import Logger

from eucalyptus.errors import EucalyptusError, IncorrectInstanceState, InstanceNotFound, InvalidParameterValue
from eucalyptus.services.clc import instances as store
from eucalyptus.services.clc import launch, tags, vmtypes
from eucalyptus.services.clc.ec2.dispatch import blocking
from eucalyptus.services.clc.ec2.errors import UnsupportedOperation
from eucalyptus.services.clc.ec2.filters import select
from eucalyptus.services.clc.ec2.paging import page
from eucalyptus.wsdl import cc_types

__all__ = ["ACTIONS"]

_log = Logger()

_FILTERS = {
    "instance-id": lambda i: i["InstanceId"],
    "image-id": lambda i: i["ImageId"],
    "instance-state-name": lambda i: i["State"]["Name"],
    "instance-state-code": lambda i: i["State"]["Code"],
    "instance-type": lambda i: i["InstanceType"],
    "key-name": lambda i: i.get("KeyName", ""),
    "kernel-id": lambda i: i.get("KernelId", ""),
    "ramdisk-id": lambda i: i.get("RamdiskId", ""),
    "availability-zone": lambda i: i["Placement"]["AvailabilityZone"],
    "private-ip-address": lambda i: i.get("PrivateIpAddress", ""),
    "ip-address": lambda i: i.get("PublicIpAddress", ""),
    "launch-index": lambda i: i["AmiLaunchIndex"],
    "architecture": lambda i: i["Architecture"],
    "root-device-type": lambda i: i["RootDeviceType"],
    "client-token": lambda i: i["ClientToken"],
    "group-id": lambda i: [g["GroupId"] for g in i["SecurityGroups"]],
    "group-name": lambda i: [g["GroupName"] for g in i["SecurityGroups"]],
    "instance.group-id": lambda i: [g["GroupId"] for g in i["SecurityGroups"]],
    "instance.group-name": lambda i: [g["GroupName"] for g in i["SecurityGroups"]],
    "reservation-id": lambda i: i["_reservation"]["ReservationId"],
    "owner-id": lambda i: i["_reservation"]["OwnerId"],
    "requester-id": lambda i: i["_reservation"]["RequesterId"],
}


def _now():
    return datetime.now(timezone.utc)


def _wanted(context, ids):
    """
    The account whose instances are listed (C{None}: all, for an
    administrator asking C{verbose}) and the ids asked for.
    """
    ids = list(ids or ())
    if "verbose" in ids and context.caller.administrator:
        ids.remove("verbose")
        return None, ids
    return context.caller.account_id, ids


def _check_found(ids, rows):
    if not ids:
        return
    missing = sorted(set(ids) - {row["instance_id"] for row in rows})
    if missing:
        raise InstanceNotFound(f"The instance ID{'s' if len(missing) > 1 else ''} '{', '.join(missing)}' "
                               f"do{'' if len(missing) > 1 else 'es'} not exist")


def _items(conn, rows, account_id, whole):
    """
    The C{Instance} items of C{rows}, each with its reservation's ids.

    @param account_id: the account the rows are of (C{None}: every
        account's).
    @param whole: the rows are all the instances of C{account_id}: their
        groups and tags are found by joins, which cost less than lists of
        thousands of ids.
    """
    if whole:
        pairs = store.groups_of_account(conn, account_id)
        found = store.tags_of_account(conn, account_id)
    else:
        pairs = store.groups_of(conn, [row.instance_id for row in rows])
        by_account = {}
        for row in rows:
            by_account.setdefault(row.account_id, []).append(row.instance_id)
        found = {}
        for owner, owner_ids in by_account.items():
            found.update(tags.tags_of(conn, owner, owner_ids))
    items = []
    for row in rows:
        instance_id = row["instance_id"]
        item = store.describe_item(row, pairs.get(instance_id, []), found.get(instance_id, []))
        item["_reservation"] = {
            "ReservationId": row["reservation_id"], "OwnerId": row["account_id"], "RequesterId": row["requester"],
        }
        items.append(item)
    return items


@blocking
def describe_instances(context, params):
    """
    C{DescribeInstances}: the caller's instances (all accounts' for an
    administrator asking C{verbose}), grouped in reservations.
    """
    account_id, ids = _wanted(context, params.get("InstanceIds"))
    with context.cloud.db.connect() as conn:
        rows = store.rows(conn, account_id=account_id, ids=ids or None, described=True)
        _check_found(ids, rows)
        items = _items(conn, rows, account_id, whole=not ids)
    items = select(items, params.get("Filters"), _FILTERS, tags_of=lambda item: {t["Key"]: t["Value"] for t in item["Tags"]})
    items, token = page(items, lambda item: item["InstanceId"], params.get("MaxResults"), params.get("NextToken"))
    reservations = {}
    for item in items:
        owner = item.pop("_reservation")
        reservation = reservations.setdefault(owner["ReservationId"], dict(owner, Groups=item["SecurityGroups"],
                                                                          Instances=[]))
        reservation["Instances"].append(item)
    result = {"Reservations": list(reservations.values())}
    if token:
        result["NextToken"] = token
    return result


@blocking
def describe_instance_status(context, params):
    """
    C{DescribeInstanceStatus}: running instances (all, with
    C{IncludeAllInstances}) and their checks.
    """
    account_id, ids = _wanted(context, params.get("InstanceIds"))
    with context.cloud.db.connect() as conn:
        rows = store.rows(conn, account_id=account_id, ids=ids or None, described=True)
        _check_found(ids, rows)
    if not params.get("IncludeAllInstances"):
        rows = [row for row in rows if row.state == store.RUNNING]
    statuses = []
    for row in rows:
        check = "ok" if row.state == store.RUNNING else "not-applicable"
        statuses.append({
            "InstanceId": row.instance_id,
            "AvailabilityZone": row.zone,
            "InstanceState": {"Code": store.STATE_CODES[row.state], "Name": row.state},
            "InstanceStatus": {"Status": check, "Details": [{"Name": "reachability", "Status": "passed"}]
                               if check == "ok" else []},
            "SystemStatus": {"Status": check, "Details": [{"Name": "reachability", "Status": "passed"}]
                             if check == "ok" else []},
        })
    filters = {
        "availability-zone": lambda s: s["AvailabilityZone"],
        "instance-state-name": lambda s: s["InstanceState"]["Name"],
        "instance-state-code": lambda s: s["InstanceState"]["Code"],
        "instance-status.status": lambda s: s["InstanceStatus"]["Status"],
        "system-status.status": lambda s: s["SystemStatus"]["Status"],
    }
    statuses = select(statuses, params.get("Filters"), filters)
    statuses, token = page(statuses, lambda s: s["InstanceId"], params.get("MaxResults"), params.get("NextToken"))
    return dict({"InstanceStatuses": statuses}, **({"NextToken": token} if token else {}))


def _change(cloud, caller, ids, target, allowed, reason):
    """
    Move the caller's instances C{ids} to C{target} where their state is in
    C{allowed}; the others keep theirs.

    @return: a list of C{(row before, state after)}.
    @raise InstanceNotFound: an id is not the caller's.
    """
    with cloud.db.begin() as conn:
        rows = store.rows(conn, account_id=caller.account_id, ids=ids)
        _check_found(ids, rows)
        moving = [row.instance_id for row in rows if row.state in allowed]
        if moving:
            store.set_state(conn, moving, target, reason, _now(), only_from=allowed)
    return [(row, target if row.instance_id in moving else row.state) for row in rows]


def _transitions(changes, key):
    return {key: [
        {"InstanceId": row.instance_id, "CurrentState": {"Code": store.STATE_CODES[after], "Name": after},
         "PreviousState": {"Code": store.STATE_CODES[row.state], "Name": row.state}}
        for row, after in changes
    ]}


@defer.inlineCallbacks
def _tell_clusters(cloud, rows, operation, request_type, per_instance=False):
    """
    Ask each instance's cluster to do C{operation}; a cluster that cannot
    be reached is logged, and the poll asks again.
    """
    by_zone = {}
    for row in rows:
        by_zone.setdefault(row.zone, []).append(row.instance_id)
    for zone, ids in by_zone.items():
        cluster = cloud.clusters.get(zone)
        if cluster is None:
            continue
        calls = [dict(instanceId=i) for i in ids] if per_instance else [dict(instanceIds=ids)]
        for fields in calls:
            try:
                yield cluster.call(operation, request_type, **fields)
            except EucalyptusError as e:
                _log.warn("The cluster of {zone} did not take {operation} for {ids}: {error}; the poll retries",
                          zone=zone, operation=operation, ids=ids, error=e.message)


@defer.inlineCallbacks
def terminate_instances(context, params):
    """
    C{TerminateInstances}: C{shutting-down} now, C{terminated} once the
    node has torn the instance down.
    """
    ids = params["InstanceIds"]
    changes = yield threads.deferToThread(
        _change, context.cloud, context.caller, ids, store.SHUTTING_DOWN,
        (store.PENDING, store.RUNNING, store.STOPPING, store.STOPPED), "User initiated",
    )
    moved = [row for row, after in changes if after == store.SHUTTING_DOWN]
    yield _tell_clusters(context.cloud, moved, "TerminateInstances", cc_types.TerminateInstancesType)
    return _transitions(changes, "TerminatingInstances")


@defer.inlineCallbacks
def stop_instances(context, params):
    """
    C{StopInstances}: C{stopping} now, C{stopped} once the guest is off.
    """
    ids = params["InstanceIds"]
    changes = yield threads.deferToThread(
        _change, context.cloud, context.caller, ids, store.STOPPING, (store.RUNNING,), "User initiated",
    )
    for row, after in changes:
        if after not in (store.STOPPING, store.STOPPED):
            raise IncorrectInstanceState(f"The instance '{row.instance_id}' is not in a state from which it can be "
                                         "stopped.")
    moved = [row for row, after in changes if after == store.STOPPING and row.state != store.STOPPING]
    yield _tell_clusters(context.cloud, moved, "StopInstance", cc_types.StopInstanceType, per_instance=True)
    return _transitions(changes, "StoppingInstances")


@defer.inlineCallbacks
def start_instances(context, params):
    """
    C{StartInstances}: a stopped instance is C{pending} until it runs.
    """
    ids = params["InstanceIds"]
    changes = yield threads.deferToThread(
        _change, context.cloud, context.caller, ids, store.PENDING, (store.STOPPED,), "",
    )
    for row, after in changes:
        if after not in (store.PENDING, store.RUNNING):
            raise IncorrectInstanceState(f"The instance '{row.instance_id}' is not in a state from which it can be "
                                         "started.")
    moved = [row for row, after in changes if row.state == store.STOPPED]
    yield _tell_clusters(context.cloud, moved, "StartInstance", cc_types.StartInstanceType, per_instance=True)
    return _transitions(changes, "StartingInstances")


def _own_rows(cloud, caller, ids):
    with cloud.db.connect() as conn:
        rows = store.rows(conn, account_id=caller.account_id, ids=ids)
    _check_found(ids, rows)
    return rows


@defer.inlineCallbacks
def reboot_instances(context, params):
    """
    C{RebootInstances}: the running ones reboot; the state does not change.
    """
    rows = yield threads.deferToThread(_own_rows, context.cloud, context.caller, params["InstanceIds"])
    running = [row for row in rows if row.state == store.RUNNING]
    yield _tell_clusters(context.cloud, running, "RebootInstances", cc_types.RebootInstancesType)
    return {}


@defer.inlineCallbacks
def get_console_output(context, params):
    """
    C{GetConsoleOutput}: what the guest printed, base64, from its node.
    """
    (row,) = yield threads.deferToThread(_own_rows, context.cloud, context.caller, [params["InstanceId"]])
    output = ""
    cluster = context.cloud.clusters.get(row.zone)
    if row.state in (store.PENDING, store.RUNNING, store.STOPPING) and cluster is not None:
        answer = yield cluster.call("GetConsoleOutput", cc_types.GetConsoleOutputType, instanceId=row.instance_id)
        output = answer.consoleOutput or ""
    return {"InstanceId": row.instance_id, "Output": output, "Timestamp": _now()}


_ATTRIBUTES = {
    "instanceType": lambda row, groups: {"InstanceType": {"Value": row.instance_type}},
    "kernel": lambda row, groups: {"KernelId": {"Value": row.kernel_id or ""}},
    "ramdisk": lambda row, groups: {"RamdiskId": {"Value": row.ramdisk_id or ""}},
    "userData": lambda row, groups: {"UserData": {"Value": row.user_data or ""}},
    "disableApiTermination": lambda row, groups: {"DisableApiTermination": {"Value": False}},
    "instanceInitiatedShutdownBehavior": lambda row, groups: {"InstanceInitiatedShutdownBehavior": {"Value": "terminate"}},
    "rootDeviceName": lambda row, groups: {"RootDeviceName": {"Value": "/dev/sda1"}},
    "blockDeviceMapping": lambda row, groups: {"BlockDeviceMappings": []},
    "groupSet": lambda row, groups: {"Groups": [{"GroupId": gid, "GroupName": name} for gid, name in groups]},
}


@blocking
def describe_instance_attribute(context, params):
    """
    C{DescribeInstanceAttribute}.
    """
    attribute = params["Attribute"]
    if attribute not in _ATTRIBUTES:
        raise InvalidParameterValue(f"Value ({attribute}) for parameter attribute is invalid. "
                                    f"Supported: {', '.join(sorted(_ATTRIBUTES))}")
    (row,) = _own_rows(context.cloud, context.caller, [params["InstanceId"]])
    with context.cloud.db.connect() as conn:
        groups = store.groups_of(conn, [row.instance_id]).get(row.instance_id, [])
    return dict({"InstanceId": row.instance_id}, **_ATTRIBUTES[attribute](row, groups))


@blocking
def modify_instance_attribute(context, params):
    """
    C{ModifyInstanceAttribute}: the type or user data of a stopped
    instance.
    """
    instance_id = params["InstanceId"]
    changes = {}
    instance_type = (params.get("InstanceType") or {}).get("Value")
    if params.get("Attribute") == "instanceType":
        instance_type = params.get("Value")
    if instance_type:
        with context.cloud.db.connect() as conn:
            changes["instance_type"] = vmtypes.vm_type(conn, instance_type).name
    user_data = (params.get("UserData") or {}).get("Value")
    if user_data is not None:
        changes["user_data"] = base64.b64encode(user_data).decode("ascii") if isinstance(user_data, bytes) else user_data
    if not changes:
        raise UnsupportedOperation("Only the instanceType and userData attributes can be modified on this cloud.")
    with context.cloud.db.begin() as conn:
        (row,) = _own_rows(context.cloud, context.caller, [instance_id])
        if row.state != store.STOPPED:
            raise IncorrectInstanceState(f"The instance '{instance_id}' is not in the 'stopped' state.")
        conn.execute(update(store.instances).where(store.instances.c.instance_id == instance_id).values(**changes))
    return {}


#: EC2 action name to its function.
ACTIONS = {
    "RunInstances": launch.run_instances,
    "DescribeInstances": describe_instances,
    "DescribeInstanceStatus": describe_instance_status,
    "TerminateInstances": terminate_instances,
    "StopInstances": stop_instances,
    "StartInstances": start_instances,
    "RebootInstances": reboot_instances,
    "GetConsoleOutput": get_console_output,
    "DescribeInstanceAttribute": describe_instance_attribute,
    "ModifyInstanceAttribute": modify_instance_attribute,
}
