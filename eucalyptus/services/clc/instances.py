# -*- test-case-name: tests.services.clc.test_clusters,tests.services.clc.test_cloud,tests.services.clc.test_authorization -*-
"""
Instances and reservations as the cloud database keeps them, and the EC2
states they go through.

A row is written (C{pending}) before its cluster is asked to start it, so
an instance the CLC acknowledged is never lost: from then on the state
follows what the cluster reports (L{reported_state}), or what a user asked
for and the cluster has not yet done (C{stopping}, C{shutting-down}).  An
instance no cluster reports any more for L{LOST_AFTER} seconds is
C{terminated}, saying so.  Terminated instances stay visible for
L{TERMINATED_VISIBLE} seconds (Eucalyptus's hour), then are forgotten.

The functions here are blocking (a connection in, rows out); the EC2
actions run them in a thread.
"""

from datetime import timezone

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table, Text, and_, delete, select, update

from eucalyptus.services.clc import groups, tags
from eucalyptus.services.clc.db import metadata

__all__ = [
    "reservations", "instances", "instance_groups", "STATE_CODES", "PENDING", "RUNNING", "SHUTTING_DOWN",
    "TERMINATED", "STOPPING", "STOPPED", "LIVE_STATES", "reported_state", "LOST_AFTER", "TERMINATED_VISIBLE",
    "DESCRIBED_COLUMNS", "rows", "groups_of", "groups_of_account", "tags_of_account", "set_state",
    "forget_terminated", "describe_item", "aware", "owns", "groups_in_use",
]

PENDING = "pending"
RUNNING = "running"
SHUTTING_DOWN = "shutting-down"
TERMINATED = "terminated"
STOPPING = "stopping"
STOPPED = "stopped"

#: EC2's state codes.
STATE_CODES = {PENDING: 0, RUNNING: 16, SHUTTING_DOWN: 32, TERMINATED: 48, STOPPING: 64, STOPPED: 80}

#: The states of an instance that still exists somewhere.
LIVE_STATES = (PENDING, RUNNING, SHUTTING_DOWN, STOPPING, STOPPED)

#: Seconds an instance may go unreported by its cluster before it is
#: declared terminated.
LOST_AFTER = 60

#: Seconds a terminated instance stays visible.
TERMINATED_VISIBLE = 3600

reservations = Table(
    "reservations",
    metadata,
    Column("reservation_id", String(32), primary_key=True),
    Column("account_id", String(12), nullable=False, index=True),
    Column("requester", String(64), nullable=False),
    Column("client_token", String(64)),
    Column("created", DateTime(timezone=True), nullable=False),
)

instances = Table(
    "instances",
    metadata,
    Column("instance_id", String(32), primary_key=True),
    Column("reservation_id", String(32), ForeignKey("reservations.reservation_id"), nullable=False, index=True),
    Column("account_id", String(12), nullable=False, index=True),
    Column("image_id", String(32), nullable=False),
    Column("kernel_id", String(32)),
    Column("ramdisk_id", String(32)),
    Column("instance_type", String(32), nullable=False),
    Column("key_name", String(255)),
    Column("zone", String(64), nullable=False, index=True),
    Column("launch_index", Integer, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("reason", String(255), nullable=False, default=""),
    Column("mac", String(17)),
    Column("private_ip", String(45)),
    Column("public_ip", String(45)),
    Column("node", String(255)),
    Column("user_data", Text),
    Column("architecture", String(16)),
    Column("launched", DateTime(timezone=True), nullable=False),
    Column("changed", DateTime(timezone=True), nullable=False),
    Column("missing_since", DateTime(timezone=True)),
)

instance_groups = Table(
    "instance_groups",
    metadata,
    Column("instance_id", String(32), ForeignKey("instances.instance_id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", String(32), primary_key=True),
    Column("group_name", String(255), nullable=False),
)


def reported_state(current, reported, powered_on):
    """
    The EC2 state of an instance whose cluster reports it.

    @param current: its state in the database.
    @param reported: the state the node reports (C{Pending}, C{Extant},
        C{Teardown}).
    @param powered_on: whether the node says the guest is running.
    @return: the new state: a guest found off is C{stopped} (unless it is
        still being started: C{pending}); one found on is C{running}
        unless a stop is under way.
    """
    if current == TERMINATED or reported == "Teardown":
        return TERMINATED
    if current == SHUTTING_DOWN:
        return SHUTTING_DOWN
    if reported != "Extant":
        return current if current in (STOPPING, STOPPED) else PENDING
    if powered_on:
        return STOPPING if current == STOPPING else RUNNING
    return PENDING if current == PENDING else STOPPED


#: The columns of an instance that L{describe_item} and the listings read.
DESCRIBED_COLUMNS = (
    "instance_id", "reservation_id", "account_id", "image_id", "kernel_id", "ramdisk_id", "instance_type", "key_name",
    "zone", "launch_index", "state", "reason", "private_ip", "public_ip", "architecture", "launched",
)


def rows(conn, account_id=None, ids=None, zone=None, states=None, described=False):
    """
    Instance rows, joined with their reservation's requester, sorted by
    instance id.

    @param account_id: only this account's (C{None}: every account's).
    @param ids: only these instance ids.
    @param zone: only this zone's.
    @param states: only these states.
    @param described: only the columns of L{DESCRIBED_COLUMNS}: not the
        user data (up to 16 KB an instance, which a listing of thousands
        would read for nothing).
    """
    columns = [instances.c[name] for name in DESCRIBED_COLUMNS] if described else [instances]
    query = select(*columns, reservations.c.requester, reservations.c.client_token).join(reservations)
    if account_id is not None:
        query = query.where(instances.c.account_id == account_id)
    if ids is not None:
        query = query.where(instances.c.instance_id.in_(list(ids)))
    if zone is not None:
        query = query.where(instances.c.zone == zone)
    if states is not None:
        query = query.where(instances.c.state.in_(list(states)))
    return conn.execute(query.order_by(instances.c.instance_id)).mappings().all()


def groups_of(conn, instance_ids):
    """
    @return: instance id to its C{(group id, group name)} pairs.
    """
    found = {}
    query = select(instance_groups).where(instance_groups.c.instance_id.in_(list(instance_ids)))
    for row in conn.execute(query.order_by(instance_groups.c.group_name)):
        found.setdefault(row.instance_id, []).append((row.group_id, row.group_name))
    return found


def groups_of_account(conn, account_id=None):
    """
    L{groups_of} every instance of an account (of every account: C{None}),
    found by a join rather than a list of ids.

    @return: instance id to its C{(group id, group name)} pairs.
    """
    query = select(instance_groups.c.instance_id, instance_groups.c.group_id, instance_groups.c.group_name)
    if account_id is not None:
        query = query.join(instances).where(instances.c.account_id == account_id)
    found = {}
    for instance_id, group_id, group_name in conn.execute(query.order_by(instance_groups.c.group_name)):
        found.setdefault(instance_id, []).append((group_id, group_name))
    return found


def tags_of_account(conn, account_id=None):
    """
    The tags of every instance of an account (of every account: C{None}),
    as L{tags.tags_of} gives them (each instance's tags are its account's),
    found by a join rather than a list of ids.

    @return: instance id to its tags, a list of C{{"Key": ..., "Value":
        ...}} sorted by key; instances without tags are left out.
    """
    table = tags.resource_tags
    query = select(table.c.resource_id, table.c.key, table.c.value).join(
        instances, and_(table.c.resource_id == instances.c.instance_id, table.c.account_id == instances.c.account_id)
    )
    if account_id is not None:
        query = query.where(instances.c.account_id == account_id)
    found = {}
    for instance_id, key, value in conn.execute(query.order_by(table.c.resource_id, table.c.key)):
        found.setdefault(instance_id, []).append({"Key": key, "Value": value})
    return found


def set_state(conn, instance_ids, state, reason, now, only_from=None):
    """
    Move instances to C{state}, saying why.

    @param only_from: when given, only instances in one of these states
        move.
    @return: how many moved.
    """
    statement = update(instances).where(instances.c.instance_id.in_(list(instance_ids)))
    if only_from is not None:
        statement = statement.where(instances.c.state.in_(list(only_from)))
    result = conn.execute(statement.values(state=state, reason=reason, changed=now, missing_since=None))
    return result.rowcount


def forget_terminated(conn, before):
    """
    Delete instances terminated before C{before}, and reservations left
    empty.

    @return: how many instances were forgotten.
    """
    old = select(instances.c.instance_id).where(and_(instances.c.state == TERMINATED, instances.c.changed < before))
    ids = conn.execute(old).scalars().all()
    if not ids:
        return 0
    conn.execute(delete(instance_groups).where(instance_groups.c.instance_id.in_(ids)))
    conn.execute(delete(instances).where(instances.c.instance_id.in_(ids)))
    used = select(instances.c.reservation_id)
    conn.execute(delete(reservations).where(reservations.c.reservation_id.not_in(used)))
    return len(ids)


def aware(moment):
    """
    A datetime from the database, in UTC: SQLite gives back naive ones for
    timezone-aware columns.
    """
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def describe_item(row, groups, tags):
    """
    An instance as EC2's C{Instance} shape, from its row (a mapping, as
    L{rows} gives), its C{(group id, name)} pairs and its tags.
    """
    state, reason = row["state"], row["reason"]
    private_ip, public_ip = row["private_ip"], row["public_ip"]
    item = {
        "InstanceId": row["instance_id"],
        "ImageId": row["image_id"],
        "State": {"Code": STATE_CODES[state], "Name": state},
        "PrivateDnsName": private_ip or "",
        "PublicDnsName": public_ip or "",
        "StateTransitionReason": reason or "",
        "AmiLaunchIndex": row["launch_index"],
        "InstanceType": row["instance_type"],
        "LaunchTime": aware(row["launched"]),
        "Placement": {"AvailabilityZone": row["zone"], "Tenancy": "default"},
        "Monitoring": {"State": "disabled"},
        "Architecture": row["architecture"] or "x86_64",
        "RootDeviceType": "instance-store",
        "VirtualizationType": "paravirtual",
        "Hypervisor": "xen",
        "SecurityGroups": [{"GroupId": gid, "GroupName": name} for gid, name in groups],
        "Tags": tags,
        "ClientToken": row["client_token"] or "",
    }
    for key, value in (("KernelId", row["kernel_id"]), ("RamdiskId", row["ramdisk_id"]), ("KeyName", row["key_name"]),
                       ("PrivateIpAddress", private_ip), ("PublicIpAddress", public_ip)):
        if value:
            item[key] = value
    if reason and state in (TERMINATED, STOPPED, SHUTTING_DOWN, STOPPING):
        code, _, message = reason.partition(": ")
        item["StateReason"] = {"Code": code, "Message": message or reason}
    return item


def owns(conn, account_id, instance_id):
    """
    Whether C{account_id} has instance C{instance_id} (for tagging).
    """
    query = select(instances.c.instance_id).where(
        instances.c.instance_id == instance_id, instances.c.account_id == account_id
    )
    return conn.execute(query).first() is not None


def groups_in_use(conn, account_id):
    """
    The ids of the account's groups that instances not yet terminated are
    in (a group in use cannot be deleted).
    """
    query = (
        select(instance_groups.c.group_id)
        .join(instances)
        .where(instances.c.account_id == account_id, instances.c.state != TERMINATED)
    )
    return set(conn.execute(query).scalars())


tags.register_owner(("i",), owns)
groups.register_in_use(groups_in_use)
