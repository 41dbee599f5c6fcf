# -*- test-case-name: tests.test_admin -*-
"""
C{euca-admin}: the administrator's command on the CLC host.

    euca-admin init [--zone ZONE ...]   create keys, the admin account, its eucarc
    euca-admin add-account NAME         a user account and its eucarc (credentials/NAME/)
    euca-admin status [--wait SECONDS]  each component's state, by signed DescribeServices
    euca-admin register-node, deregister-node, modify-node, nodes
                                        the CC's nodes (see eucalyptus.nodeadmin)
    euca-admin credentials ACCOUNT [USER]  a user's eucarc, key and certificate
    euca-admin instance-types, modify-instance-type NAME [--cores N] [--memory MB] [--disk GB]

C{init} never overwrites anything: it says what already exists and makes only
what is missing.
"""

import argparse
import os
import sys
import time

from twisted.internet import defer, task

from eucalyptus import credentials
from eucalyptus.accounts import ADMIN_ACCOUNT, ADMIN_USER, AccountStore, valid_account_name
from eucalyptus.config import CloudConfig, config_from_file, data_dir, default_config_path
from eucalyptus.errors import ClientError, EucalyptusError
from eucalyptus.security import keys, trust
from eucalyptus.security.wssec import Verifier
from eucalyptus.services.build import endpoint_url
from eucalyptus.services.clc import vmtypes
from eucalyptus.services.clc.db import open_cloud_database
from eucalyptus.soap.client import SoapClient
from eucalyptus.wsdl import SERVICE_NAMES, common, make_application

__all__ = ["main", "initialise", "component_endpoints", "describe_services"]


def _say(out, text):
    out.write(text + "\n")


def _make_pair(keystore, role, zone, common_name, out):
    cert_path, key_path = keystore.cert_path(role, zone), keystore.key_path(role, zone)
    if os.path.exists(cert_path) or os.path.exists(key_path):
        _say(out, f"exists, kept: {key_path}")
        return
    pair = keys.create_pair(common_name)
    keys.write_private_key(key_path, pair.key)
    keys.write_certificate(cert_path, pair.certificate)
    _say(out, f"created: {key_path}")


def check_account_name(name):
    """
    @raise ClientError: not 1 to 63 lower-case letters, digits and hyphens,
        starting with a letter or digit (the name becomes a directory).
    """
    if not valid_account_name(name):
        raise ClientError(f"{name!r} is not an account name: use 1 to 63 lower-case letters, digits and hyphens.")


def account_credentials(settings, keystore, account, directory, out):
    """
    An account, its admin user's first access key and certificate, and its
    eucarc in C{directory}; nothing is changed if the account exists.

    @return: the path of the eucarc.
    """
    eucarc = os.path.join(directory, "eucarc")
    store = AccountStore(CloudConfig.from_settings(settings).database_url)
    if store.account_id(account) is not None:
        _say(out, f"exists, kept: the {account} account and {eucarc}")
        return eucarc
    store.new_account(account)
    credentials.user_credentials(
        store, keystore.credential("cloud"), account, ADMIN_USER, directory, credentials.endpoints(settings)
    )
    _say(out, f"created: the {account} account, {ADMIN_USER}'s access key and certificate, {eucarc}")
    return eucarc


def initialise(settings, zones=(), out=sys.stdout):
    """
    Create whatever is missing of the cloud's keys and the admin account.

    @param settings: the parsed configuration.
    @param zones: the availability zones to make cluster and node keys for,
        besides the configured C{ZONE}.
    @return: the path of the admin's eucarc.
    """
    keystore = keys.KeyStore(os.path.join(settings.data_dir, "keys"))
    _make_pair(keystore, "cloud", None, "eucalyptus", out)
    for zone in dict.fromkeys((settings["ZONE"],) + tuple(zones)):
        _make_pair(keystore, "cluster", zone, f"cc-{zone}", out)
        _make_pair(keystore, "node", zone, f"nc-{zone}", out)
    directory = os.path.join(settings.data_dir, "credentials", ADMIN_USER)
    return account_credentials(settings, keystore, ADMIN_ACCOUNT, directory, out)


def component_endpoints(settings, host="127.0.0.1"):
    """
    Where each component of a one-host cloud answers, in start order.

    @return: a list of (component, URL).
    """
    return [
        ("clc", endpoint_url(host, settings["CLC_PORT"], "services/Eucalyptus")),
        ("walrus", endpoint_url(host, settings["WALRUS_PORT"], "services/Walrus")),
        ("sc", endpoint_url(host, settings["SC_PORT"], "services/Storage")),
        ("cc", endpoint_url(host, settings["CC_PORT"], "axis2/services/EucalyptusCC")),
        ("nc", endpoint_url(host, settings["NC_PORT"], settings["NC_SERVICE"])),
    ]


def component_client(settings, component, url, reactor=None, timeout=10):
    """
    A SOAP client of C{component} at C{url} that signs as its usual caller
    (the cloud for a CC, the cluster for an NC, ...) and pins the
    component's certificate: what an administrator on the CLC host, which
    holds every key, uses.
    """
    keystore = keys.KeyStore(os.path.join(settings.data_dir, "keys"))
    zone = settings["ZONE"]
    return SoapClient(
        url,
        make_application(component),
        SERVICE_NAMES[component],
        credential=trust.caller_credential(keystore, component, zone),
        verifier=Verifier([trust.peer_certificate(keystore, component, zone)], allow_sha1=False),
        timeout=timeout,
        reactor=reactor,
    )


def describe_services(settings, component, url, reactor=None, timeout=10):
    """
    Ask one component for its state with a signed C{DescribeServices}.

    @return: a Deferred firing with its C{serviceStatusType} list.
    """
    client = component_client(settings, component, url, reactor, timeout)
    request = common.DescribeServicesType(correlationId="status", userId=ADMIN_ACCOUNT)
    d = client.call("DescribeServices", request)
    d.addBoth(lambda result: client.close().addCallback(lambda _: result))
    return d.addCallback(lambda response: response.serviceStatuses or [])


@defer.inlineCallbacks
def _status(reactor, settings, wait, out):
    deadline = time.monotonic() + wait
    while True:
        rows, down = [], 0
        for component, url in component_endpoints(settings):
            try:
                statuses = yield describe_services(settings, component, url, reactor)
                state = ", ".join(s.localState for s in statuses)
                if any(s.localState != "ENABLED" for s in statuses):
                    down += 1
            except EucalyptusError as e:
                state, down = f"DOWN ({e})", down + 1
            rows.append(f"{component:<7} {state:<10} {url}")
        if not down or time.monotonic() >= deadline:
            break
        yield task.deferLater(reactor, 1, lambda: None)
    for row in rows:
        _say(out, row)
    if down:
        raise SystemExit(1)


_NODE_COMMANDS = ("register-node", "deregister-node", "modify-node", "nodes")


def _user_credentials(args, settings):
    store = AccountStore(CloudConfig.from_settings(settings).database_url)
    directory = args.dir or os.path.join(settings.data_dir, "credentials", args.account, args.user)
    keystore = keys.KeyStore(os.path.join(settings.data_dir, "keys"))
    eucarc = credentials.user_credentials(
        store, keystore.credential("cloud"), args.account, args.user, directory, credentials.endpoints(settings)
    )
    return [f"credentials: {eucarc}"]


def _vm_type_lines(conn):
    return [f"{vm.name:<12} {vm.cores:>3} cores {vm.memory:>6} MB {vm.disk:>4} GB" for vm in vmtypes.all_vm_types(conn)]


def _instance_types(args, settings):
    with open_cloud_database(CloudConfig.from_settings(settings).database_url).connect() as conn:
        return _vm_type_lines(conn)


def _modify_instance_type(args, settings):
    with open_cloud_database(CloudConfig.from_settings(settings).database_url).begin() as conn:
        vmtypes.modify_vm_type(conn, args.name, cores=args.cores, memory=args.memory, disk=args.disk)
        return [line for line in _vm_type_lines(conn) if line.split()[0] == args.name]


_CLOUD_COMMANDS = {
    "credentials": _user_credentials,
    "instance-types": _instance_types,
    "modify-instance-type": _modify_instance_type,
}


def _node_command(args, settings):
    """
    Run a node command; the ones that ask the CC run under C{task.react},
    which exits the process.
    """
    from eucalyptus import nodeadmin

    if args.command == "register-node":
        for line in nodeadmin.register_node(settings, args.node, args.keys_to):
            _say(sys.stdout, line)
        return 0
    calls = {
        "deregister-node": lambda reactor: nodeadmin.deregister_node(settings, args.node, args.force, reactor),
        "modify-node": lambda reactor: nodeadmin.modify_node(settings, args.node, args.state, reactor),
        "nodes": lambda reactor: nodeadmin.node_states(settings, reactor),
    }

    def failed(failure):
        failure.trap(EucalyptusError)
        sys.stderr.write(f"euca-admin: {failure.value}\n")
        raise SystemExit(2)

    def run(reactor):
        d = calls[args.command](reactor)
        d.addCallback(lambda lines: [_say(sys.stdout, line) for line in lines])
        return d.addErrback(failed)

    task.react(run)


def main(argv=None):
    """
    The C{euca-admin} command.
    """
    parser = argparse.ArgumentParser(prog="euca-admin", description=__doc__.split("\n\n")[0].strip())
    parser.add_argument("--config", default=None, help="eucalyptus.conf (default: $EUCALYPTUS_CONF or conf/eucalyptus.conf)")
    parser.add_argument("--data-dir", default=None, help="data directory (default: $EUCALYPTUS_HOME or ./var)")
    commands = parser.add_subparsers(dest="command", required=True)
    init = commands.add_parser("init", help="create the cloud's keys and the admin account")
    init.add_argument("--zone", action="append", default=[], help="also make keys for this zone")
    account = commands.add_parser("add-account", help="create a user account and its credentials")
    account.add_argument("name", help="the account's name")
    status = commands.add_parser("status", help="show each component's state")
    status.add_argument("--wait", type=float, default=0, help="retry for this many seconds until all answer")
    register = commands.add_parser("register-node", help="add a node to NODES, placing its keys")
    register.add_argument("node", help="HOST or HOST:PORT")
    register.add_argument("--keys-to", help="the node's keys directory (<its data dir>/keys) to place its keys in")
    deregister = commands.add_parser("deregister-node", help="remove a node from NODES")
    deregister.add_argument("node", help="HOST or HOST:PORT, as registered")
    deregister.add_argument("--force", action="store_true", help="even while it runs instances")
    modify = commands.add_parser("modify-node", help="enable a node or disable it for maintenance")
    modify.add_argument("node", help="HOST or HOST:PORT, as registered")
    modify.add_argument("--state", required=True, choices=("enabled", "disabled"))
    commands.add_parser("nodes", help="each node's state and why, from the CC")
    user = commands.add_parser("credentials", help="write a user's credentials (eucarc, key, certificate)")
    user.add_argument("account", help="the account's name")
    user.add_argument("user", nargs="?", default=ADMIN_USER, help="the user's name (default: admin)")
    user.add_argument("--dir", help="where to write them (default: <data dir>/credentials/<account>/<user>)")
    commands.add_parser("instance-types", help="the VM types: cores, memory (MB), disk (GB)")
    vm = commands.add_parser("modify-instance-type", help="change a VM type's cores, memory or disk")
    vm.add_argument("name", help="the type, e.g. m1.small")
    vm.add_argument("--cores", type=int)
    vm.add_argument("--memory", type=int, help="MB")
    vm.add_argument("--disk", type=int, help="GB")
    args = parser.parse_args(argv)
    try:
        settings = config_from_file(args.config or default_config_path(), args.data_dir or data_dir())
        if args.command == "init":
            eucarc = initialise(settings, args.zone)
            _say(sys.stdout, f"credentials: {eucarc}")
            return 0
        if args.command == "add-account":
            check_account_name(args.name)
            keystore = keys.KeyStore(os.path.join(settings.data_dir, "keys"))
            directory = os.path.join(settings.data_dir, "credentials", args.name)
            eucarc = account_credentials(settings, keystore, args.name, directory, sys.stdout)
            _say(sys.stdout, f"credentials: {eucarc}")
            return 0
        if args.command in _NODE_COMMANDS:
            return _node_command(args, settings)
        if args.command in _CLOUD_COMMANDS:
            for line in _CLOUD_COMMANDS[args.command](args, settings):
                _say(sys.stdout, line)
            return 0
        # react() exits the process: 0, or 1 when a component is down.
        task.react(_status, (settings, args.wait, sys.stdout))
    except EucalyptusError as e:
        sys.stderr.write(f"euca-admin: {e}\n")
        return 2
