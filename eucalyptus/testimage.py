# -*- test-case-name: tests.test_testimage -*-
"""
The test image: a guest that boots in seconds under qemu TCG, built offline.

Only the Debian package registry is used (C{apt-get download}):

 - C{vmlinuz}: the kernel of the package C{linux-image-amd64} depends on;
 - C{initrd.img}: a gzip'd newc cpio holding C{/bin/busybox} from
   C{busybox-static}, the kernel modules the guest needs (virtio PCI, block
   and net, ext4, the ACPI power button and evdev, and what C{modules.dep} and
   C{modules.softdep} say they need) and an C{/init} shell script;
 - C{root.img}: a 16 MiB ext4 file system, no partition table, holding
   C{/marker}.

What C{/init} prints on the console (C{console=ttyS0}), each line starting
with L{PREFIX}::

    EUCALYPTUS-TEST-IMAGE: booted                  modules loaded
    EUCALYPTUS-TEST-IMAGE: root <line>             /dev/vda mounted read-only,
                                                   first line of its /marker
    EUCALYPTUS-TEST-IMAGE: disk vdb size=<bytes> [serial=<serial>]
                                                   another virtio disk, at boot
                                                   or when hot-plugged
    EUCALYPTUS-TEST-IMAGE: disk-gone vdb           a disk was unplugged
    EUCALYPTUS-TEST-IMAGE: eth0 <mac>              eth0 is up (no address yet)
    EUCALYPTUS-TEST-IMAGE: ready                   acpid listens: the power
                                                   button now powers off
    EUCALYPTUS-TEST-IMAGE: power button, powering off

The ACPI power button (what libvirt's shutdown and reboot press) makes
busybox C{acpid} run C{poweroff -f}; libvirt restarts the guest for a
reboot.  C{/init} never exits.

L{build_test_image} downloads the two packages once into a cache directory
and does nothing when the outputs are up to date.  C{euca-test-image} (the
L{main} function) does the same from the command line.
"""

import argparse
import fcntl
import glob
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from typing import NamedTuple

from eucalyptus.config import data_dir

__all__ = [
    "PREFIX",
    "BOOTED",
    "ROOT_MARKER",
    "MODULES",
    "ImagePaths",
    "TestImageError",
    "default_cache_dir",
    "build_test_image",
    "resolve_modules",
    "main",
]

PREFIX = "EUCALYPTUS-TEST-IMAGE:"
BOOTED = f"{PREFIX} booted"
#: The first line of C{/marker} on C{root.img}.
ROOT_MARKER = "eucalyptus test root filesystem"

KERNEL_PACKAGE = "linux-image-amd64"
BUSYBOX_PACKAGE = "busybox-static"
ROOT_SIZE = "16M"

#: The modules the guest loads, with whatever they depend on.
MODULES = (
    "virtio_pci",
    "virtio_blk",
    "virtio_net",
    "ext4",
    "button",
    "evdev",
)

_TOOLS = {
    "apt-get": "apt",
    "apt-cache": "apt",
    "dpkg-deb": "dpkg",
    "depmod": "kmod",
    "mke2fs": "e2fsprogs",
}

_INIT = r"""#!/bin/busybox sh
# The Eucalyptus test image's init, written by eucalyptus.testimage.
/bin/busybox mkdir -p /sbin /usr/bin /usr/sbin /proc /sys /dev /mnt/root /tmp /run /var/log
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Keep kernel chatter from splitting the lines below.
dmesg -n 4

say() { echo "@PREFIX@ $*"; }

for m in @MODULES@; do
    insmod "/lib/modules/$(uname -r)/$m" || say "cannot load $m"
done
say booted

if [ -e /sys/block/vda ]; then
    if mount -t ext4 -o ro /dev/vda /mnt/root; then
        line=$(head -n 1 /mnt/root/marker 2>/dev/null)
        say "root ${line:-(no /marker)}"
    else
        say "root (vda does not mount)"
    fi
fi

known=" "
scan() {
    for path in /sys/block/vd*; do
        [ -e "$path" ] || continue
        d=${path##*/}
        [ "$d" = vda ] && continue
        case "$known" in *" $d "*) continue ;; esac
        known="$known$d "
        serial=$(cat "$path/serial" 2>/dev/null)
        say "disk $d size=$(( $(cat "$path/size") * 512 ))${serial:+ serial=$serial}"
    done
    for d in $known; do
        [ -e "/sys/block/$d" ] && continue
        known=$(echo "$known" | sed "s/ $d / /")
        say "disk-gone $d"
    done
}
scan

ip link set lo up
if [ -e /sys/class/net/eth0 ]; then
    ip link set eth0 up && say "eth0 $(cat /sys/class/net/eth0/address)"
fi

acpid -c /etc/acpi -l /var/log/acpid.log
say ready

while true; do
    sleep 1
    scan
done
"""

# busybox acpid maps the power button's KEY_POWER to "PWRF/00000080" and
# runs that file, relative to its -c directory.
_POWER_BUTTON = r"""#!/bin/sh
echo "@PREFIX@ power button, powering off" > /dev/console
sync
poweroff -f
"""


class TestImageError(Exception):
    """
    The test image cannot be built; the message says why and what to do.
    """


class ImagePaths(NamedTuple):
    """
    The three files of the test image.
    """

    kernel: str
    ramdisk: str
    root: str


def default_cache_dir(environ=os.environ):
    """
    Where downloaded packages are kept: C{$EUCALYPTUS_HOME/images/cache}.
    """
    return os.path.join(data_dir(environ), "images", "cache")


def _say(progress, text):
    if progress is not None:
        progress(text)


def _run(args, cwd=None):
    try:
        result = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError:
        raise TestImageError(f"{args[0]} is not installed (Debian package {_TOOLS.get(args[0], args[0])}).")
    if result.returncode:
        output = (result.stderr or result.stdout).strip()
        raise TestImageError(f"{' '.join(args)} failed ({result.returncode}): {output}")
    return result.stdout


def _check_tools():
    missing = sorted({package for tool, package in _TOOLS.items() if shutil.which(tool) is None})
    if missing:
        raise TestImageError(f"Building the test image needs the Debian packages {', '.join(missing)} (make deps).")


# Packages


def _kernel_package():
    """
    The versioned kernel package C{linux-image-amd64} depends on, or
    C{None} when apt does not know it.
    """
    try:
        output = _run(["apt-cache", "depends", KERNEL_PACKAGE])
    except TestImageError:
        return None
    for line in output.splitlines():
        kind, _, name = line.strip().lstrip("|").partition(":")
        name = name.strip()
        if kind == "Depends" and name.startswith("linux-image-") and not name.startswith("<"):
            return name
    return None


def _cached(debs, pattern):
    found = sorted(glob.glob(os.path.join(debs, pattern + "_*.deb")), key=os.path.getmtime)
    return found[-1] if found else None


def _download(debs, package):
    # Run as root, apt-get warns that its _apt user cannot write here and
    # downloads unsandboxed: harmless, and the output is only shown on error.
    with tempfile.TemporaryDirectory(dir=debs, prefix=".download-") as scratch:
        _run(["apt-get", "download", package], cwd=scratch)
        names = [name for name in os.listdir(scratch) if name.endswith(".deb")]
        if len(names) != 1:
            raise TestImageError(f"apt-get download {package} fetched {names or 'nothing'}")
        (name,) = names
        path = os.path.join(debs, name)
        os.replace(os.path.join(scratch, name), path)
        os.chmod(path, 0o644)
    return path


class _Packages:
    """
    Fetches packages into C{debs} once, running C{apt-get update} at most
    once and only when apt does not know a package.
    """

    def __init__(self, debs, progress):
        self.debs = debs
        self.progress = progress
        self.updated = False

    def update(self):
        if not self.updated:
            _say(self.progress, "apt-get update (apt does not know the packages yet)")
            _run(["apt-get", "update", "-qq"])
            self.updated = True

    def kernel_name(self):
        name = _kernel_package()
        if name is None and _cached(self.debs, "linux-image-[0-9]*-amd64") is None:
            self.update()
            name = _kernel_package()
        if name is None:
            cached = _cached(self.debs, "linux-image-[0-9]*-amd64")
            if cached is None:
                raise TestImageError(f"apt knows no package {KERNEL_PACKAGE} depends on, even after apt-get update.")
            name = os.path.basename(cached).split("_")[0]
        return name

    def fetch(self, package):
        cached = _cached(self.debs, glob.escape(package))
        if cached is not None:
            return cached
        _say(self.progress, f"downloading {package}")
        try:
            return _download(self.debs, package)
        except TestImageError:
            if self.updated:
                raise
        self.update()
        return _download(self.debs, package)


# Modules


def _module_name(path):
    name = os.path.basename(path)
    return name[: name.index(".ko")].replace("-", "_")


def _read_lines(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def resolve_modules(module_dir, wanted=MODULES):
    """
    The modules to load, in order, for C{wanted}.

    @param module_dir: C{lib/modules/<version>} of an unpacked kernel, with
        C{modules.dep}, C{modules.softdep} and C{modules.alias} (as C{depmod}
        writes them).
    @param wanted: module names.
    @return: paths relative to C{module_dir}, each after its dependencies.
    @raise TestImageError: a module is not in C{modules.dep} (nor built in).
    """
    dep_file = os.path.join(module_dir, "modules.dep")
    paths, depends = {}, {}
    for line in _read_lines(dep_file):
        path, _, deps = line.partition(":")
        name = _module_name(path)
        paths[name] = path
        depends[name] = [_module_name(dep) for dep in deps.split()]
    aliases = {}
    for line in _read_lines(os.path.join(module_dir, "modules.alias")):
        _, alias, name = line.split(None, 2)
        aliases.setdefault(alias, []).append(name.replace("-", "_"))
    soft = {}
    for line in _read_lines(os.path.join(module_dir, "modules.softdep")):
        words = line.split()
        if words[0] == "softdep" and len(words) > 2 and "pre:" in words:
            pre = words[words.index("pre:") + 1 :]
            pre = pre[: pre.index("post:")] if "post:" in pre else pre
            soft[words[1].replace("-", "_")] = pre
    builtin = {_module_name(line) for line in _read_lines(os.path.join(module_dir, "modules.builtin"))}

    def resolve(name):
        module = name.replace("-", "_")
        if module in paths or module in builtin:
            return [module]
        candidates = aliases.get(name, [])
        # An alias several modules provide (crypto-crc32c: crc32c_intel and
        # crc32c_generic): the generic one works on every CPU qemu emulates.
        generic = [candidate for candidate in candidates if candidate.endswith("_generic")]
        return generic or candidates

    order = []

    def visit(name, chain):
        if name in order or name in builtin:
            return
        if name not in paths:
            raise TestImageError(f"module {name} is not in {dep_file} ({' -> '.join(chain)})")
        if name in chain:
            return
        for dependency in [dep for soft_name in soft.get(name, []) for dep in resolve(soft_name)] + depends[name]:
            visit(dependency, chain + [name])
        order.append(name)

    for name in wanted:
        for module in resolve(name) or [name]:
            visit(module, [])
    return [paths[name] for name in order]


# The archive


class _Cpio:
    """
    A newc (C{070701}) cpio archive written to a binary file.
    """

    def __init__(self, out):
        self._out = out
        self._inode = 0
        self._directories = set()

    def _entry(self, name, mode, data=b"", rdev=(0, 0), nlink=1):
        self._inode += 1
        encoded = name.encode() + b"\0"
        fields = [self._inode, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(encoded), 0]
        header = b"070701" + b"".join(b"%08X" % value for value in fields)
        self._out.write(header + encoded + b"\0" * (-(len(header) + len(encoded)) % 4))
        self._out.write(data + b"\0" * (-len(data) % 4))

    def directory(self, name):
        if not name:
            return
        parent = os.path.dirname(name)
        if parent and parent not in self._directories:
            self.directory(parent)
        if name not in self._directories:
            self._directories.add(name)
            self._entry(name, 0o040755, nlink=2)

    def file(self, name, data, mode=0o644):
        self.directory(os.path.dirname(name))
        self._entry(name, 0o100000 | mode, data)

    def device(self, name, major, minor, mode=0o600):
        self.directory(os.path.dirname(name))
        self._entry(name, 0o020000 | mode, rdev=(major, minor))

    def close(self):
        self._entry("TRAILER!!!", 0)


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _init_script(module_paths):
    return _INIT.replace("@PREFIX@", PREFIX).replace("@MODULES@", " ".join(module_paths))


def _write_initramfs(path, busybox, version, module_dir, module_paths):
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as out:
        archive = _Cpio(out)
        archive.device("dev/console", 5, 1)
        archive.file("bin/busybox", _read(busybox), 0o755)
        archive.file("init", _init_script(module_paths).encode(), 0o755)
        archive.file("etc/acpi/PWRF/00000080", _POWER_BUTTON.replace("@PREFIX@", PREFIX).encode(), 0o755)
        for module in module_paths:
            archive.file(f"lib/modules/{version}/{module}", _read(os.path.join(module_dir, module)))
        archive.close()


def _write_root(path, scratch):
    tree = os.path.join(scratch, "root")
    os.makedirs(tree)
    with open(os.path.join(tree, "marker"), "w") as f:
        f.write(ROOT_MARKER + "\n")
    label = ["-L", "euca-test-root", "-E", "root_owner=0:0"]
    _run(["mke2fs", "-q", "-F", "-t", "ext4", *label, "-d", tree, path, ROOT_SIZE])


# The build


def _stamp(kernel_deb, busybox_deb):
    # The recipe is this module: any change to it rebuilds.
    with open(__file__.removesuffix("c"), "rb") as f:
        recipe = hashlib.sha256(f.read()).hexdigest()
    return {"kernel": os.path.basename(kernel_deb), "busybox": os.path.basename(busybox_deb), "recipe": recipe}


def _up_to_date(out_dir, paths, stamp):
    try:
        with open(os.path.join(out_dir, ".test-image.json")) as f:
            return json.load(f) == stamp and all(os.path.isfile(path) for path in paths)
    except (OSError, ValueError):
        return False


def _build(out_dir, paths, kernel_deb, busybox_deb, scratch, progress):
    _say(progress, f"unpacking {os.path.basename(kernel_deb)}")
    kernel_tree = os.path.join(scratch, "kernel")
    _run(["dpkg-deb", "-x", kernel_deb, kernel_tree])
    (version,) = os.listdir(os.path.join(kernel_tree, "lib", "modules"))
    module_dir = os.path.join(kernel_tree, "lib", "modules", version)
    if not os.path.exists(os.path.join(module_dir, "modules.dep")):
        _run(["depmod", "-b", kernel_tree, version])
    module_paths = resolve_modules(module_dir)
    _say(progress, f"modules, in load order: {' '.join(_module_name(path) for path in module_paths)}")

    busybox_tree = os.path.join(scratch, "busybox")
    _run(["dpkg-deb", "-x", busybox_deb, busybox_tree])
    busybox = os.path.join(busybox_tree, "bin", "busybox")
    if not os.path.isfile(busybox):
        raise TestImageError(f"{os.path.basename(busybox_deb)} has no /bin/busybox")

    _say(progress, f"writing {paths.kernel}")
    shutil.copyfile(os.path.join(kernel_tree, "boot", f"vmlinuz-{version}"), os.path.join(scratch, "vmlinuz"))
    _say(progress, f"writing {paths.ramdisk}")
    _write_initramfs(os.path.join(scratch, "initrd.img"), busybox, version, module_dir, module_paths)
    _say(progress, f"writing {paths.root}")
    _write_root(os.path.join(scratch, "root.img"), scratch)
    for path in paths:
        made = os.path.join(scratch, os.path.basename(path))
        os.chmod(made, 0o644)
        os.replace(made, path)


def build_test_image(out_dir, work_dir=None, progress=None):
    """
    Build the test image into C{out_dir}, or do nothing when it is up to
    date.

    @param out_dir: where C{vmlinuz}, C{initrd.img} and C{root.img} go
        (made if missing, mode 0755 so that libvirt's qemu can read them).
    @param work_dir: where downloaded packages are kept and reused;
        L{default_cache_dir} by default.
    @param progress: called with a line of text at each step, or C{None}.
    @return: the L{ImagePaths}.
    @raise TestImageError: a tool or package is missing, or a step failed.
    """
    _check_tools()
    out_dir = os.path.abspath(out_dir)
    work_dir = os.path.abspath(work_dir or default_cache_dir())
    debs = os.path.join(work_dir, "debs")
    os.makedirs(debs, exist_ok=True)
    os.makedirs(out_dir, mode=0o755, exist_ok=True)
    paths = ImagePaths(*(os.path.join(out_dir, name) for name in ("vmlinuz", "initrd.img", "root.img")))
    with open(os.path.join(work_dir, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        packages = _Packages(debs, progress)
        kernel_deb = packages.fetch(packages.kernel_name())
        busybox_deb = packages.fetch(BUSYBOX_PACKAGE)
        stamp = _stamp(kernel_deb, busybox_deb)
        if _up_to_date(out_dir, paths, stamp):
            _say(progress, f"the test image in {out_dir} is up to date")
            return paths
        with tempfile.TemporaryDirectory(dir=work_dir, prefix=".build-") as scratch:
            _build(out_dir, paths, kernel_deb, busybox_deb, scratch, progress)
        with open(os.path.join(out_dir, ".test-image.json"), "w") as f:
            json.dump(stamp, f)
    _say(progress, f"the test image is in {out_dir}")
    return paths


def main(argv=None):
    """
    C{euca-test-image [OUT_DIR] [--cache DIR]}: build the test image.
    """
    parser = argparse.ArgumentParser(
        prog="euca-test-image",
        description="Build the offline test image (vmlinuz, initrd.img, root.img) from Debian packages.",
    )
    parser.add_argument(
        "out_dir",
        nargs="?",
        default=os.path.join(data_dir(), "images", "test"),
        help="where the image goes (default: $EUCALYPTUS_HOME/images/test)",
    )
    parser.add_argument("--cache", help="where downloaded packages are kept (default: $EUCALYPTUS_HOME/images/cache)")
    options = parser.parse_args(argv)
    try:
        build_test_image(options.out_dir, options.cache, progress=print)
    except TestImageError as e:
        print(f"euca-test-image: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
