# -*- test-case-name: tests.hypervisor.test_probe -*-
"""
Does hardware virtualisation work on this host?  Ask it, do not assume it.

L{kvm_works} boots a 512-byte boot sector under C{qemu -accel kvm} and
waits for the marker the sector writes to the serial port.  The sector
does what every guest kernel does before it prints anything: it switches
to 32-bit protected mode and runs code, here a loop of 2**26 iterations
(L{SPINS}), and only then writes the marker to port C{0x3f8} and halts.
A host where C{/dev/kvm} exists but guests barely move (nested KVM on
some clouds runs guest code about a thousand times slower than hardware,
slower than qemu's own TCG emulator) fails the probe, and its guests get
C{<domain type='qemu'>} instead of hanging.

Typical times to the marker: hardware KVM and TCG well under a second;
the nested KVM of the development machines about 35 seconds (its BIOS
alone takes 3 seconds), so the probe's 5 second timeout separates them.

The same sector under C{-accel tcg} (L{boots}) proves the probe itself
works: the marker must appear there.

Blocking: call these in a thread.
"""

import os
import secrets
import select
import struct
import subprocess
import tempfile
import time

from twisted.logger import Logger

__all__ = ["kvm_works", "boots", "boot_sector", "QEMU", "SPINS"]

_log = Logger()

#: The qemu binary probed.
QEMU = "qemu-system-x86_64"

#: Loop iterations the boot sector runs in protected mode before it writes
#: its marker.
SPINS = 1 << 26

# Loaded by the BIOS at 0x7c00; offsets below are from there.
_ORIGIN = 0x7C00
_GDT = 0x38
_GDTR = 0x50
_MESSAGE = 0x56


def boot_sector(marker, spins=SPINS):
    """
    A boot sector that enters protected mode, spins C{spins} times, writes
    C{marker} and CR LF to COM1 and halts with interrupts off.

    Assembled by hand; the mnemonics are beside the bytes.

    @param marker: ASCII text, at most 400 characters.
    @param spins: 1 to 2**32 - 1.
    @return: 512 bytes.
    """
    if not 0 < spins < 1 << 32:
        raise ValueError("spins must be between 1 and 2**32 - 1")
    message = marker.encode("ascii") + b"\r\n\0"
    if _MESSAGE + len(message) > 510:
        raise ValueError("marker too long for a boot sector")
    code = b"".join(
        [
            # 16-bit real mode
            b"\xfa",  # cli
            b"\x31\xc0",  # xor ax, ax
            b"\x8e\xd8",  # mov ds, ax
            b"\x0f\x01\x16" + struct.pack("<H", _ORIGIN + _GDTR),  # lgdt [gdtr]
            b"\x0f\x20\xc0",  # mov eax, cr0
            b"\x0c\x01",  # or al, 1 (PE)
            b"\x0f\x22\xc0",  # mov cr0, eax
            b"\xea" + struct.pack("<HH", _ORIGIN + 0x17, 0x08),  # jmp 0x08:pm
            # 32-bit protected mode (pm, offset 0x17)
            b"\x66\xb8\x10\x00",  # mov ax, 0x10 (flat data segment)
            b"\x8e\xd8",  # mov ds, ax
            b"\xb9" + struct.pack("<I", spins),  # mov ecx, spins
            b"\xe2\xfe",  # spin: loop spin
            b"\x66\xba\xf8\x03",  # mov dx, 0x3f8 (COM1)
            b"\xbe" + struct.pack("<I", _ORIGIN + _MESSAGE),  # mov esi, message
            b"\xac",  # next: lodsb
            b"\x84\xc0",  # test al, al
            b"\x74\x03",  # jz halt
            b"\xee",  # out dx, al
            b"\xeb\xf8",  # jmp next
            b"\xf4",  # halt: hlt
            b"\xeb\xfd",  # jmp halt
        ]
    )
    assert len(code) == _GDT, len(code)
    gdt = struct.pack("<QQQ", 0, 0x00CF9A000000FFFF, 0x00CF92000000FFFF)  # null, flat code, flat data
    gdtr = struct.pack("<HI", len(gdt) - 1, _ORIGIN + _GDT)
    sector = code + gdt + gdtr + message
    return sector + b"\0" * (510 - len(sector)) + b"\x55\xaa"


def boots(accel, timeout=5.0, qemu=QEMU):
    """
    Boot the probe sector under C{-accel accel} and say whether its marker
    reached the serial port within C{timeout} seconds.  qemu is killed
    before this returns, whatever happened.

    @param accel: C{kvm} or C{tcg}.
    @return: C{True} when the marker was seen.
    """
    marker = f"EUCA-PROBE-{accel}-{secrets.token_hex(8)}"
    with tempfile.TemporaryDirectory(prefix="euca-probe-") as directory:
        path = os.path.join(directory, "boot.img")
        with open(path, "wb") as f:
            f.write(boot_sector(marker))
        command = [
            qemu,
            "-accel", accel,
            "-machine", "pc",
            "-m", "16",
            "-nodefaults",
            "-display", "none",
            "-monitor", "none",
            "-no-reboot",
            "-serial", "stdio",
            "-drive", f"file={path},format=raw,if=ide",
        ]  # fmt: skip
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as e:
            _log.warn("Cannot run {qemu}: {error}", qemu=qemu, error=e)
            return False
        try:
            return _wait_for(process.stdout, marker.encode("ascii"), time.monotonic() + timeout)
        finally:
            process.kill()
            process.wait()
            process.stdout.close()


def _wait_for(stream, marker, deadline):
    seen = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        readable, _, _ = select.select([stream], [], [], left)
        if not readable:
            return False
        chunk = os.read(stream.fileno(), 4096)
        if not chunk:
            return False
        seen = seen[-len(marker) :] + chunk
        if marker in seen:
            return True


def kvm_works(timeout=5.0, qemu=QEMU):
    """
    Whether guests can use KVM here: C{/dev/kvm} opens read/write and the
    probe sector prints its marker under C{-accel kvm} within C{timeout}
    seconds.  Blocking (up to C{timeout} seconds); run it in a thread.

    @return: C{True} or C{False}.
    """
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC))
    except OSError as e:
        _log.info("KVM unusable: /dev/kvm: {error}", error=e)
        return False
    started = time.monotonic()
    works = boots("kvm", timeout, qemu)
    _log.info(
        "KVM probe: {verdict} after {seconds:.1f} s",
        verdict="guest ran" if works else "guest did not reach its marker; guests will use TCG",
        seconds=time.monotonic() - started,
    )
    return works
