# -*- test-case-name: tests.test_config -*-
"""
Reading C{eucalyptus.conf}.

The file keeps the original format: C{KEY="value"} assignments, read the way a
shell would (single and double quotes, backslash escapes and line
continuations, C{#} comments, an optional C{export}).  There is no variable
expansion: values are taken literally.  Every key the cloud knows is declared
once in L{KEYS}, with its default and its type; an unknown key is an error that
lists the allowed ones.

The parsed file becomes one frozen dataclass per component (L{NodeConfig},
L{ClusterConfig}, ...), passed down explicitly; there is no global
configuration object.
"""

import os
import re
import shlex
from dataclasses import dataclass, field, replace

from eucalyptus.errors import ConfigError

__all__ = [
    "KEYS",
    "Key",
    "parse",
    "config_from_string",
    "config_from_file",
    "default_config_path",
    "data_dir",
    "Settings",
    "CommonConfig",
    "CloudConfig",
    "WalrusConfig",
    "ClusterConfig",
    "StorageConfig",
    "NodeConfig",
]


def _yes(value):
    if value.upper() in ("Y", "YES", "1", "TRUE"):
        return True
    if value.upper() in ("N", "NO", "0", "FALSE", ""):
        return False
    raise ValueError("expected Y or N")


def _port(value):
    port = int(value)
    if not 0 <= port <= 65535:
        raise ValueError("a port is between 0 and 65535")
    return port


def _tgt_control_port(value):
    port = int(value)
    if not 0 <= port <= 32767:
        raise ValueError("tgtd's control port is between 0 and 32767")
    return port


def _words(value):
    return tuple(value.split())


def _choice(*allowed):
    def parse_choice(value):
        if value.upper() not in allowed:
            raise ValueError("expected one of " + ", ".join(allowed))
        return value.upper()

    return parse_choice


@dataclass(frozen=True)
class Key:
    """
    One configuration key.

    @ivar default: the value used when the file does not set the key, as text.
    @ivar parse: turns the text into the typed value; raises C{ValueError}.
    @ivar doc: what the key means (also written in conf/eucalyptus.conf).
    """

    default: str
    parse: object = str
    doc: str = ""


KEYS = {
    # Shared by every component.
    "LOGLEVEL": Key("INFO", _choice("DEBUG", "INFO", "WARN", "ERROR", "FATAL"), "log level"),
    "ENABLE_WS_SECURITY": Key("Y", _yes, "sign and verify every internal SOAP message"),
    "WS_SECURITY_ALLOW_SHA1": Key("N", _yes, "accept RSA-SHA1 signatures from legacy peers"),
    "WS_SECURITY_TTL": Key("300", int, "lifetime of a signed message, seconds"),
    "WS_SECURITY_SKEW": Key("20", int, "allowed clock skew, seconds"),
    "SOAP_MAX_BODY": Key("10485760", int, "largest SOAP request accepted, bytes"),
    "SOAP_TIMEOUT": Key("60", int, "seconds a SOAP client waits for an answer"),
    "LISTEN_ADDRESS": Key("0.0.0.0", str, "address every daemon listens on"),
    "ZONE": Key("zone-1", str, "availability zone (cluster) of this CC, SC and NC"),
    # Cloud controller.
    "CLC_PORT": Key("8773", _port, "port of the CLC (and of Walrus and the SC in one process)"),
    "CLC_HOST": Key("127.0.0.1", str, "address other components use to reach the CLC"),
    "DATABASE_URL": Key("", str, "SQLAlchemy URL of the cloud database; empty: SQLite in the data dir"),
    # Walrus.
    "WALRUS_PORT": Key("8776", _port, "port of Walrus's own S3 endpoint (it also answers below /services/Walrus)"),
    "WALRUS_HOST": Key("127.0.0.1", str, "address other components use to reach Walrus"),
    "WALRUS_STORAGE_DIR": Key("", str, "where Walrus keeps objects; empty: walrus/ in the data dir (original: /var/lib/eucalyptus/bukkits)"),
    "WALRUS_DOMAINS": Key("localhost", _words, "host names under which <bucket>.<name> is virtual-host S3 addressing"),
    # Storage controller.
    "SC_PORT": Key("8777", _port, "port of the SC when it runs as its own daemon"),
    "SC_HOST": Key("127.0.0.1", str, "address NCs and the CLC use to reach the SC"),
    "SC_BACKEND": Key("FILE", _choice("FILE", "LVM"), "where volumes live: FILE (a sparse raw file each) or LVM (a logical volume each in SC_VOLUME_GROUP)"),
    "SC_VOLUMES_DIR": Key("", str, "FILE: the volumes directory; empty: volumes/ in the data dir (original: /var/lib/eucalyptus/volumes)"),
    "SC_VOLUME_GROUP": Key("", str, "LVM: the volume group the SC creates its logical volumes in"),
    "SC_MAX_TOTAL_VOLUME_GB": Key("0", int, "most GiB of volumes the SC holds; 0: no limit but the store's own (original storage.maxtotalvolumesizeingb)"),
    "SC_ISCSI_HOST": Key("", str, "address NCs reach the SC's iSCSI target (tgtd) on; empty: SC_HOST"),
    "SC_ISCSI_PORT": Key("3260", _port, "port of that iSCSI portal (tgtd's, set by tgtd --iscsi portal=...)"),
    "SC_TGT_CONTROL_PORT": Key("0", _tgt_control_port, "control port of the tgtd the SC drives (tgtd -C / tgtadm -C); 0 is tgtd's default"),
    # Cluster controller.
    "CC_PORT": Key("8774", _port, "port of the cluster controller"),
    "CC_HOST": Key("127.0.0.1", str, "address the CLC uses to reach the CC"),
    "NODES": Key("", _words, "space-separated node controller hosts of this cluster"),
    "SCHEDPOLICY": Key("ROUNDROBIN", _choice("ROUNDROBIN", "GREEDY", "POWERSAVE"), "scheduling policy"),
    "NC_POLLING_FREQUENCY": Key("6", int, "seconds between polls of the nodes"),
    "CLC_POLLING_FREQUENCY": Key("6", int, "seconds between CLC polls of a CC"),
    "INSTANCE_TIMEOUT": Key("300", int, "seconds before an unreported instance is dropped"),
    "MAX_INSTANCES_PER_CC": Key("2048", int, "most instances a cluster runs"),
    "POWER_IDLETHRESH": Key("300", int, "POWERSAVE: idle seconds before a node is powered down"),
    "POWER_WAKETHRESH": Key("300", int, "POWERSAVE: seconds to wait for a node to wake"),
    # Node controller.
    "NC_PORT": Key("8775", _port, "port of the node controller"),
    "NC_SERVICE": Key("axis2/services/EucalyptusNC", str, "path of the NC service"),
    "NC_HOST": Key("127.0.0.1", str, "address the CC uses to reach this node"),
    "HYPERVISOR": Key("kvm", _choice("KVM", "TEST"), "kvm (libvirt qemu:///system) or test (test:///default)"),
    "INSTANCE_PATH": Key("", str, "instance and cache directory; empty: <data dir>/instances"),
    "MAX_CORES": Key("0", int, "cores offered to instances; 0: all"),
    "MAX_MEM": Key("0", int, "memory offered to instances, MB; 0: host total less 256"),
    "NC_CACHE_SIZE": Key("0", int, "image cache size, MB; 0: automatic"),
    "NC_WORK_SIZE": Key("0", int, "instance work space, MB; 0: automatic"),
    "USE_VIRTIO_ROOT": Key("1", int, "root disk on virtio"),
    "USE_VIRTIO_DISK": Key("1", int, "volumes on virtio"),
    "USE_VIRTIO_NET": Key("1", int, "network on virtio"),
    "CONCURRENT_DISK_OPS": Key("4", int, "disk-heavy operations run at once"),
    "WALRUS_DOWNLOAD_MAX_ATTEMPTS": Key("9", int, "image download attempts"),
    "SHUTDOWN_GRACE_PERIOD_SEC": Key("60", int, "seconds from shutdown to destroy"),
    "NC_POWERDOWN_COMMAND": Key("", str, "command the node runs on ncPowerDown once idle (original: powernap-now); empty: refuse"),
    "LIBVIRT_TIMEOUT_SEC": Key("300", int, "seconds a libvirt call may take before the node gives up on it (original CREATE_TIMEOUT_SEC)"),
    "NC_BOOTING_CLEANUP_THRESHOLD": Key("60", int, "seconds a domain may take to start"),
    "NC_STAGING_CLEANUP_THRESHOLD": Key("7200", int, "seconds an instance may stage"),
    "NC_TEARDOWN_STATE_DURATION": Key("180", int, "seconds a torn-down instance is remembered"),
    "SC_REQUEST_TIMEOUT": Key("45", int, "seconds an NC waits for the SC"),
    # VM networking.
    "VNET_MODE": Key("MANAGED-NOVLAN", _choice("SYSTEM", "MANAGED-NOVLAN", "EDGE"), "networking mode"),
    "VNET_BRIDGE": Key("eucabr0", str, "bridge guests attach to"),
    "VNET_PUBINTERFACE": Key("eth0", str, "public interface"),
    "VNET_PRIVINTERFACE": Key("eth0", str, "interface toward the nodes"),
    "VNET_SUBNET": Key("172.31.0.0", str, "private instance range"),
    "VNET_NETMASK": Key("255.255.0.0", str, "netmask of the private range"),
    "VNET_ADDRSPERNET": Key("32", int, "addresses per security-group segment"),
    "VNET_PUBLICIPS": Key("", _words, "elastic IP pool (addresses or a-b ranges)"),
    "VNET_PRIVATEIPS": Key("", _words, "EDGE: private addresses (addresses or a-b ranges)"),
    "VNET_DNS": Key("", str, "DNS server given to guests"),
    "VNET_DOMAINNAME": Key("eucalyptus.internal", str, "search domain given to guests"),
    "VNET_MACPREFIX": Key("d0:0d", str, "prefix of instance MAC addresses"),
    "VNET_ROUTER": Key("", str, "SYSTEM/EDGE: router given to guests"),
    "VNET_BROADCAST": Key("", str, "SYSTEM/EDGE: broadcast address"),
    "VNET_CLOUDIP": Key("", str, "CLC address for the metadata redirect; empty: CLC_HOST"),
}

_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def _join_continuations(text):
    """
    Drop every backslash-newline pair outside single quotes, as a shell does
    before it splits words.
    """
    out = []
    quote = None
    i = 0
    while i < len(text):
        char = text[i]
        if quote != "'" and char == "\\" and text[i + 1 : i + 2] == "\n":
            i += 2
            continue
        if quote != "'" and char == "\\":
            out.append(text[i : i + 2])
            i += 2
            continue
        if char in "'\"" and quote in (None, char):
            quote = None if quote else char
        out.append(char)
        i += 1
    return "".join(out)


def parse(text, source="<string>"):
    """
    Read C{KEY="value"} assignments the way a shell would.

    @param text: the file's content.
    @param source: the file name, for messages.
    @return: a C{dict} of key to raw string value.
    @raise ConfigError: on a syntax error or an unknown key; the message
        names the line and, for unknown keys, lists the allowed ones.
    """
    lexer = shlex.shlex(_join_continuations(text), posix=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    values = {}
    try:
        words = list(lexer)
    except ValueError as e:
        raise ConfigError(f"{source}: {e}")
    for word in words:
        if word == "export":
            continue
        name, equals, value = word.partition("=")
        if not equals or not _NAME.match(name):
            raise ConfigError(f"{source}: {word!r} is not a KEY=\"value\" assignment")
        if name not in KEYS:
            raise ConfigError(
                f"{source}: unknown key {name}; the allowed keys are: " + ", ".join(sorted(KEYS))
            )
        values[name] = value
    return values


def set_value(text, name, value):
    """
    The text of a configuration file with key C{name} set to C{value}: the
    first assignment of C{name} (with its continuation lines) is replaced
    and any later ones are dropped, or the assignment is appended; every
    other line stays as it was.  Used by the admin commands that edit the
    file, as the original C{euca_conf} did.

    @raise ConfigError: for an unknown key or a value that needs quoting
        beyond double quotes.
    """
    if name not in KEYS:
        raise ConfigError(f"unknown key {name}")
    if any(char in value for char in '"\\$`\n'):
        raise ConfigError(f"{name}: {value!r} cannot be written as a double-quoted value")
    assignment = re.compile(rf"^\s*(export\s+)?{name}=")
    lines = text.splitlines()
    out, placed, continuing = [], False, False
    for line in lines:
        if continuing or assignment.match(line):
            continuing = line.endswith("\\")
            if not placed:
                out.append(f'{name}="{value}"')
                placed = True
            continue
        out.append(line)
    if not placed:
        out.append(f'{name}="{value}"')
    result = "\n".join(out) + "\n"
    try:
        written = parse(result).get(name)
    except ConfigError:
        written = None
    if written != value:
        raise ConfigError(f"{name} is written across lines in a way this command cannot edit; set it by hand")
    return result


def data_dir(environ=os.environ):
    """
    The data directory: C{$EUCALYPTUS_HOME}, or C{./var}.
    """
    return os.path.abspath(environ.get("EUCALYPTUS_HOME") or "var")


def default_config_path(environ=os.environ):
    """
    The configuration file: C{$EUCALYPTUS_CONF}, or C{./conf/eucalyptus.conf}.
    """
    return os.path.abspath(environ.get("EUCALYPTUS_CONF") or os.path.join("conf", "eucalyptus.conf"))


@dataclass(frozen=True)
class Settings:
    """
    Every key, typed: the parsed file plus the defaults, and the data directory.

    Components do not read this directly; they take the view made for them by
    L{CloudConfig.from_settings} and its siblings.
    """

    values: dict = field(repr=False)
    data_dir: str
    path: str = ""

    def __getitem__(self, name):
        return self.values[name]


def _typed(raw, source):
    typed = {}
    for name, key in KEYS.items():
        text = raw.get(name, key.default)
        try:
            typed[name] = key.parse(text)
        except ValueError as e:
            raise ConfigError(f"{source}: {name}={text!r}: {e}")
    return typed


def config_from_string(text, data_dir_path=None, source="<string>"):
    """
    Build L{Settings} from the text of a configuration file (for tests).
    """
    return Settings(_typed(parse(text, source), source), os.path.abspath(data_dir_path or data_dir()))


def config_from_file(path=None, data_dir_path=None):
    """
    Build L{Settings} from a file; a missing file means all defaults.
    """
    path = path or default_config_path()
    text = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
    return replace(config_from_string(text, data_dir_path, source=path), path=path)


@dataclass(frozen=True)
class CommonConfig:
    """
    What every component needs: where its data and keys are, how it listens,
    and the WS-Security policy.
    """

    data_dir: str
    listen_address: str
    port: int
    log_level: str
    ws_security: bool
    allow_sha1: bool
    ttl: int
    skew: int
    max_body: int
    soap_timeout: int
    zone: str

    @property
    def keys_dir(self):
        return os.path.join(self.data_dir, "keys")

    @property
    def log_dir(self):
        return os.path.join(self.data_dir, "log")

    @classmethod
    def _common(cls, settings, port):
        return dict(
            data_dir=settings.data_dir,
            listen_address=settings["LISTEN_ADDRESS"],
            port=port,
            log_level=settings["LOGLEVEL"],
            ws_security=settings["ENABLE_WS_SECURITY"],
            allow_sha1=settings["WS_SECURITY_ALLOW_SHA1"],
            ttl=settings["WS_SECURITY_TTL"],
            skew=settings["WS_SECURITY_SKEW"],
            max_body=settings["SOAP_MAX_BODY"],
            soap_timeout=settings["SOAP_TIMEOUT"],
            zone=settings["ZONE"],
        )


@dataclass(frozen=True)
class CloudConfig(CommonConfig):
    """
    The cloud controller's configuration.
    """

    database_url: str = ""

    @classmethod
    def from_settings(cls, settings):
        url = settings["DATABASE_URL"] or "sqlite:///" + os.path.join(settings.data_dir, "db", "cloud.sqlite")
        return cls(database_url=url, **cls._common(settings, settings["CLC_PORT"]))


@dataclass(frozen=True)
class WalrusConfig(CommonConfig):
    """
    Walrus's configuration.
    """

    storage_dir: str = ""
    database_url: str = ""
    domains: tuple = ()

    @classmethod
    def from_settings(cls, settings):
        return cls(
            storage_dir=settings["WALRUS_STORAGE_DIR"] or os.path.join(settings.data_dir, "walrus"),
            database_url=CloudConfig.from_settings(settings).database_url,
            domains=tuple(settings["WALRUS_DOMAINS"]),
            **cls._common(settings, settings["WALRUS_PORT"]),
        )


@dataclass(frozen=True)
class StorageConfig(CommonConfig):
    """
    The storage controller's configuration.

    @ivar backend: C{FILE} or C{LVM}.
    @ivar volumes_dir: where the C{FILE} backend keeps volumes.
    @ivar volume_group: the C{LVM} backend's volume group.
    @ivar max_total_gib: most GiB of volumes held; 0 for no limit.
    @ivar iscsi_host: the portal address written into connection strings.
    @ivar iscsi_port: the portal port.
    @ivar tgt_control_port: the control port of the tgtd to drive.
    """

    backend: str = "FILE"
    volumes_dir: str = ""
    volume_group: str = ""
    max_total_gib: int = 0
    iscsi_host: str = "127.0.0.1"
    iscsi_port: int = 3260
    tgt_control_port: int = 0

    @classmethod
    def from_settings(cls, settings):
        return cls(
            backend=settings["SC_BACKEND"],
            volumes_dir=settings["SC_VOLUMES_DIR"] or os.path.join(settings.data_dir, "volumes"),
            volume_group=settings["SC_VOLUME_GROUP"],
            max_total_gib=settings["SC_MAX_TOTAL_VOLUME_GB"],
            iscsi_host=settings["SC_ISCSI_HOST"] or settings["SC_HOST"],
            iscsi_port=settings["SC_ISCSI_PORT"],
            tgt_control_port=settings["SC_TGT_CONTROL_PORT"],
            **cls._common(settings, settings["SC_PORT"]),
        )


@dataclass(frozen=True)
class ClusterConfig(CommonConfig):
    """
    The cluster controller's configuration.
    """

    nodes: tuple = ()
    node_port: int = 8775
    node_service: str = ""
    sched_policy: str = "ROUNDROBIN"
    poll_interval: int = 6
    instance_timeout: int = 300
    max_instances: int = 2048
    power_idle: int = 300
    power_wake: int = 300
    mac_prefix: str = "d0:0d"
    vnet_mode: str = "SYSTEM"
    vnet_subnet: str = ""
    vnet_netmask: str = ""
    addresses_per_net: int = 32
    config_path: str = ""

    @classmethod
    def from_settings(cls, settings):
        return cls(
            config_path=settings.path,
            power_idle=settings["POWER_IDLETHRESH"],
            power_wake=settings["POWER_WAKETHRESH"],
            mac_prefix=settings["VNET_MACPREFIX"],
            vnet_mode=settings["VNET_MODE"],
            vnet_subnet=settings["VNET_SUBNET"],
            vnet_netmask=settings["VNET_NETMASK"],
            addresses_per_net=settings["VNET_ADDRSPERNET"],
            nodes=settings["NODES"],
            node_port=settings["NC_PORT"],
            node_service=settings["NC_SERVICE"],
            sched_policy=settings["SCHEDPOLICY"],
            poll_interval=settings["NC_POLLING_FREQUENCY"],
            instance_timeout=settings["INSTANCE_TIMEOUT"],
            max_instances=settings["MAX_INSTANCES_PER_CC"],
            **cls._common(settings, settings["CC_PORT"]),
        )


@dataclass(frozen=True)
class NodeConfig(CommonConfig):
    """
    The node controller's configuration.
    """

    hypervisor: str = "KVM"
    instance_path: str = ""
    service_path: str = ""
    host: str = "127.0.0.1"
    max_cores: int = 0
    max_mem: int = 0
    cache_size_mb: int = 0
    work_size_mb: int = 0
    virtio_root: bool = True
    virtio_disk: bool = True
    virtio_net: bool = True
    concurrent_disk_ops: int = 4
    download_attempts: int = 9
    shutdown_grace: int = 60
    libvirt_timeout: int = 300
    booting_threshold: int = 60
    staging_threshold: int = 7200
    teardown_duration: int = 180
    bridge: str = ""
    mac_prefix: str = "d0:0d"

    @classmethod
    def from_settings(cls, settings):
        return cls(
            hypervisor=settings["HYPERVISOR"],
            instance_path=settings["INSTANCE_PATH"] or os.path.join(settings.data_dir, "instances"),
            service_path=settings["NC_SERVICE"],
            host=settings["NC_HOST"],
            max_cores=settings["MAX_CORES"],
            max_mem=settings["MAX_MEM"],
            cache_size_mb=settings["NC_CACHE_SIZE"],
            work_size_mb=settings["NC_WORK_SIZE"],
            virtio_root=bool(settings["USE_VIRTIO_ROOT"]),
            virtio_disk=bool(settings["USE_VIRTIO_DISK"]),
            virtio_net=bool(settings["USE_VIRTIO_NET"]),
            concurrent_disk_ops=settings["CONCURRENT_DISK_OPS"],
            download_attempts=settings["WALRUS_DOWNLOAD_MAX_ATTEMPTS"],
            shutdown_grace=settings["SHUTDOWN_GRACE_PERIOD_SEC"],
            libvirt_timeout=settings["LIBVIRT_TIMEOUT_SEC"],
            booting_threshold=settings["NC_BOOTING_CLEANUP_THRESHOLD"],
            staging_threshold=settings["NC_STAGING_CLEANUP_THRESHOLD"],
            teardown_duration=settings["NC_TEARDOWN_STATE_DURATION"],
            bridge=settings["VNET_BRIDGE"],
            mac_prefix=settings["VNET_MACPREFIX"],
            **cls._common(settings, settings["NC_PORT"]),
        )
