# -*- test-case-name: tests.test_bundle -*-
"""
The push readers L{eucalyptus.bundle.Unbundler} feeds the
decrypted stream through: a gunzip of concatenated members and a tar reader
that accepts exactly one regular file.
"""

import zlib

from eucalyptus.bundle.manifest import _IO_CHUNK, BundleError


class _TarReader:
    """
    A push parser for a tar stream that must hold exactly one regular file,
    whose bytes go to C{write}.

    Understood besides plain ustar/GNU headers: pax extended headers (their
    C{size} overrides the header's), GNU long names, base-256 sizes.
    Anything else (directories, links, devices, a second file) is refused.
    """

    _HEADER, _DATA, _EXTENDED, _PADDING, _END = range(5)
    _NAMES = {
        b"1": "a hard link",
        b"2": "a symbolic link",
        b"3": "a character device",
        b"4": "a block device",
        b"5": "a directory",
        b"6": "a FIFO",
        b"S": "a sparse file",
    }
    _EXTENDED_LIMIT = 1024 * 1024

    def __init__(self, write):
        self._write = write
        self._state = self._HEADER
        self._block = bytearray()
        self._remaining = 0
        self._padding = 0
        self._extended = None
        self._extended_kind = None
        self._pax_size = None
        self.files = 0
        self.size = 0

    def feed(self, data):
        view = memoryview(data)
        while view:
            if self._state == self._HEADER:
                take = 512 - len(self._block)
                self._block += view[:take]
                view = view[take:]
                if len(self._block) == 512:
                    block, self._block = bytes(self._block), bytearray()
                    self._header(block)
            elif self._state == self._DATA:
                chunk = view[: self._remaining]
                self._write(chunk)
                self._remaining -= len(chunk)
                view = view[len(chunk) :]
                if not self._remaining:
                    self._state = self._PADDING
            elif self._state == self._EXTENDED:
                chunk = view[: self._remaining]
                self._extended += chunk
                self._remaining -= len(chunk)
                view = view[len(chunk) :]
                if not self._remaining:
                    self._extended_done()
                    self._state = self._PADDING
            elif self._state == self._PADDING:
                skip = min(self._padding, len(view))
                self._padding -= skip
                view = view[skip:]
            else:
                if any(view):
                    raise BundleError("The bundle's tar has data after its end-of-archive marker.")
                return
            if self._state == self._PADDING and not self._padding:
                self._state = self._HEADER

    def finish(self):
        if self._state not in (self._HEADER, self._END) or self._block:
            raise BundleError("The bundle's tar stream is truncated.")
        if self.files != 1:
            raise BundleError("The bundle's tar holds no file; an image bundle holds exactly one.")

    def _header(self, block):
        if not any(block):
            self._state = self._END
            return
        _check_header_checksum(block)
        kind = block[156:157]
        size = _tar_number(block[124:136])
        padding = -size % 512
        if kind in (b"0", b"\0", b"7"):
            if self.files:
                raise BundleError("The bundle's tar holds more than one file; an image bundle holds exactly one.")
            if self._pax_size is not None:
                size, self._pax_size = self._pax_size, None
                padding = -size % 512
            self.files = 1
            self.size = size
            self._remaining, self._padding = size, padding
            self._state = self._DATA if size else self._PADDING
        elif kind in (b"x", b"g", b"L", b"K"):
            if size > self._EXTENDED_LIMIT:
                raise BundleError("The bundle's tar has an extended header larger than 1 MiB.")
            self._extended, self._extended_kind = bytearray(), kind
            self._remaining, self._padding = size, padding
            if size:
                self._state = self._EXTENDED
            else:
                self._extended_done()
                self._state = self._PADDING
        else:
            what = self._NAMES.get(kind, f"an entry of type {kind!r}")
            raise BundleError(f"The bundle's tar holds {what}; an image bundle holds exactly one regular file.")

    def _extended_done(self):
        if self._extended_kind == b"x":
            size = _pax_records(bytes(self._extended)).get(b"size")
            if size is not None:
                if not size.isdigit():
                    raise BundleError("The bundle's tar has a pax size that is not a number.")
                self._pax_size = int(size)
        self._extended = None


def _check_header_checksum(block):
    stored = _tar_number(block[148:156])
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:])
    signed = unsigned - 2 * sum(b for b in block[:148] + block[156:] if b > 127)
    if stored not in (unsigned, signed):
        raise BundleError("The bundle's tar has a header with a bad checksum: the stream is corrupt.")


def _tar_number(field_bytes):
    if field_bytes[:1] == b"\x80":
        return int.from_bytes(field_bytes[1:], "big")
    if field_bytes[:1] == b"\xff":
        raise BundleError("The bundle's tar has a negative number in a header.")
    text = field_bytes.split(b"\0", 1)[0].strip()
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise BundleError("The bundle's tar has a header field that is not a number: the stream is corrupt.")


def _pax_records(data):
    records = {}
    while data:
        length, _, rest = data.partition(b" ")
        if not length.isdigit() or int(length) > len(data) or int(length) <= len(length) + 1:
            raise BundleError("The bundle's tar has a malformed pax header.")
        record, data = data[len(length) + 1 : int(length)], data[int(length) :]
        key, equals, value = record.rstrip(b"\n").partition(b"=")
        if not equals:
            raise BundleError("The bundle's tar has a malformed pax header.")
        records[key] = value
    return records


class _Gunzip:
    """
    Push gunzip of one or more concatenated gzip members, producing at most
    L{_IO_CHUNK} bytes of output at a time.
    """

    def __init__(self, write):
        self._write = write
        self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data):
        inflater = self._inflater
        try:
            while True:
                out = inflater.decompress(data, _IO_CHUNK)
                if out:
                    self._write(out)
                if inflater.eof:
                    data = inflater.unused_data
                    if not data:
                        return
                    inflater = self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    continue
                data = inflater.unconsumed_tail
                if not data and len(out) < _IO_CHUNK:
                    return
        except zlib.error as e:
            raise BundleError(
                "The bundle does not decrypt to gzip data: the key is wrong, "
                f"or the parts are corrupt or out of order ({e})."
            )

    def finish(self):
        self.feed(b"")
        if not self._inflater.eof:
            raise BundleError("The bundle's gzip stream is truncated: a part is missing or short.")
