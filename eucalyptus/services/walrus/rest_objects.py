# -*- test-case-name: tests.services.walrus.test_rest -*-
"""
S3 REST handlers for objects: PUT, GET, HEAD, DELETE, copy, ACLs and
multipart uploads.  Each handler is C{async (objects, call)}.

Object bodies arrive in a spool (L{eucalyptus.services.walrus.upload}); GET
streams the stored bytes out with a push producer that reads a piece or two
ahead on a storage thread, so neither direction holds an object in memory
and no disk read runs on the reactor.
"""

import re
from collections import deque
from urllib.parse import unquote

from lxml import etree
from twisted.internet import defer
from twisted.internet.interfaces import IPushProducer
from zope.interface import implementer

from eucalyptus.services.walrus.call import reply_empty, reply_xml, xml_body
from eucalyptus.services.walrus.errors import (
    InvalidArgument,
    InvalidPartNumber,
    InvalidRange,
    InvalidRequest,
    MalformedXML,
    MethodNotAllowed,
    NoSuchKey,
    Unimplemented,
    NotModified,
    PreconditionFailed,
)
from eucalyptus.services.walrus.rest_buckets import acl_body, max_count, owner_element
from eucalyptus.services.walrus.s3xml import S3, http_date, iso_time, parse_http_date, parse_xml, text_of
from eucalyptus.services.walrus.upload import received_body

__all__ = [
    "put_object",
    "get_object",
    "head_object",
    "delete_object",
    "get_object_acl",
    "put_object_acl",
    "create_upload",
    "upload_part",
    "complete_upload",
    "abort_upload",
    "list_parts",
    "CONTENT_HEADERS",
    "content_headers",
    "user_metadata",
    "parse_range",
    "check_conditions",
]

CONTENT_HEADERS = ("content-type", "content-encoding", "content-disposition", "cache-control", "expires", "content-language")
_OVERRIDES = {
    "response-content-type": "content-type",
    "response-content-language": "content-language",
    "response-expires": "expires",
    "response-cache-control": "cache-control",
    "response-content-disposition": "content-disposition",
    "response-content-encoding": "content-encoding",
}
_READ_SIZE = 1 << 20
_AHEAD = 2
_COPY_RANGE = re.compile(r"^bytes=([0-9]+)-([0-9]+)$")
_METADATA_LIMIT = 2048


class MetadataTooLarge(InvalidArgument):
    """
    User metadata over 2 KB.
    """

    code = "MetadataTooLarge"
    message = "Your metadata headers exceed the maximum allowed metadata size."


def content_headers(call):
    """
    The content headers of a PUT, to keep with the object.
    """
    headers = {name: call.header(name) for name in CONTENT_HEADERS if call.header(name) is not None}
    encodings = [e.strip() for e in headers.get("content-encoding", "").split(",") if e.strip() not in ("", "aws-chunked")]
    if encodings:
        headers["content-encoding"] = ", ".join(encodings)
    else:
        headers.pop("content-encoding", None)
    headers.setdefault("content-type", "binary/octet-stream")
    return headers


def user_metadata(call):
    """
    The C{x-amz-meta-*} headers, without the prefix.

    @raise MetadataTooLarge: over 2 KB in all.
    """
    metadata = {name[len("x-amz-meta-") :]: value for name, value in call.headers.items() if name.startswith("x-amz-meta-")}
    if sum(len(k) + len(v) for k, v in metadata.items()) > _METADATA_LIMIT:
        raise MetadataTooLarge(MaxSizeAllowed=str(_METADATA_LIMIT))
    return metadata


def _version_headers(version):
    headers = {}
    if version.version_id != "null":
        headers["x-amz-version-id"] = version.version_id
    return headers


def check_conditions(call, version, prefix="", modified_error=NotModified):
    """
    S3's conditional headers (C{If-Match}, ...; with C{prefix}
    C{x-amz-copy-source-} for a copy's source).
    """
    etag = f'"{version.etag}"'
    modified = int(version.last_modified)

    def matches(header):
        return any(tag.strip() in (etag, version.etag, "*") for tag in header.split(","))

    if_match = call.header(prefix + "if-match")
    if if_match is not None and not matches(if_match):
        raise PreconditionFailed(Condition="If-Match")
    since = parse_http_date(call.header(prefix + "if-unmodified-since") or "")
    if if_match is None and since is not None and modified > since:
        raise PreconditionFailed(Condition="If-Unmodified-Since")
    if_none = call.header(prefix + "if-none-match")
    if if_none is not None and matches(if_none):
        raise modified_error(Condition="If-None-Match")
    since = parse_http_date(call.header(prefix + "if-modified-since") or "")
    if if_none is None and since is not None and modified <= since:
        raise modified_error(Condition="If-Modified-Since")


def parse_range(text, size):
    """
    The C{[start, end)} of a C{Range: bytes=...} header, or C{None} for the
    whole object (no header, or one S3 ignores).

    @raise InvalidRange: a well-formed range that lies beyond the object.
    """
    if not text or not text.startswith("bytes=") or "," in text:
        return None
    first, dash, last = text[len("bytes=") :].strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()) or (first and not first.isdigit()) or (last and not last.isdigit()):
        return None
    if not first:
        length = int(last)
        if length == 0:
            raise InvalidRange(RangeRequested=text, ActualObjectSize=str(size))
        return max(size - length, 0), size
    start = int(first)
    end = min(int(last) + 1, size) if last else size
    if last and int(last) < start:
        return None
    if start >= size:
        raise InvalidRange(RangeRequested=text, ActualObjectSize=str(size))
    return start, end


@implementer(IPushProducer)
class _Sender:
    """
    Sends an open file to a request.  With a file that can C{read_later}
    (a L{eucalyptus.services.walrus.blobs.BlobReader}) up to L{_AHEAD}
    pieces are read ahead on the file's own thread while the reactor sends,
    so a cold disk never stalls the reactor and memory stays bounded;
    otherwise each piece is read when the transport wants more.
    """

    def __init__(self, file, request):
        self.file = file
        self.request = request
        self.done = defer.Deferred()
        self._ready = deque()
        self._reading = 0
        self._paused = False
        self._ended = False
        self._stopped = False
        read_later = getattr(file, "read_later", None)
        self._read_later = read_later or (lambda size: defer.maybeDeferred(file.read, size))

    def start(self):
        """
        Register with the request and start reading.
        """
        self.request.registerProducer(self, True)
        self._fill()

    def _fill(self):
        while not self._ended and not self._stopped and self._reading + len(self._ready) < _AHEAD:
            self._reading += 1
            self._read_later(_READ_SIZE).addCallbacks(self._got, self._failed)

    def _got(self, data):
        self._reading -= 1
        if self._stopped:
            return
        if data:
            self._ready.append(data)
        else:
            self._ended = True
        self._send()

    def _failed(self, failure):
        self._reading -= 1
        if not self._stopped:
            self._finish(failure)

    def _send(self):
        while self._ready and not self._paused and not self._stopped:
            self.request.write(self._ready.popleft())
        if self._stopped:
            return
        if self._ended and not self._ready:
            self._finish(None)
        else:
            self._fill()

    def pauseProducing(self):
        self._paused = True

    def resumeProducing(self):
        self._paused = False
        self._send()

    def stopProducing(self):
        """
        The client went away: stop reading.  There is no one to tell, so
        L{done} simply fires.
        """
        if not self._stopped:
            self._finish(None)

    def _finish(self, error):
        self._stopped = True
        self._ready.clear()
        self.file.close()
        self.request.unregisterProducer()
        if error is None:
            self.done.callback(None)
        else:
            self.done.errback(error)


async def _described(objects, call):
    """
    The version a GET or HEAD names.  When that is a delete marker (the
    newest version, answered C{NoSuchKey}, or one named by id, answered
    C{MethodNotAllowed}) the error carries C{x-amz-delete-marker} and the
    marker's C{x-amz-version-id}, as S3 sends them.
    """
    try:
        return await objects.get_object(call.identity, call.bucket, call.key, call.arg("versionId"))
    except (NoSuchKey, MethodNotAllowed) as e:
        e.details.pop("delete_marker", None)
        if getattr(e, "delete_marker", False):
            call.request.setHeader("x-amz-delete-marker", "true")
            version_id = getattr(e, "version_id", None)
            if version_id and version_id != "null":
                call.request.setHeader("x-amz-version-id", version_id)
        if isinstance(e, MethodNotAllowed):
            e.details = {"Method": call.method, "ResourceType": "DeleteMarker"}
        raise


def _object_headers(call, version):
    headers = dict(version.headers)
    headers.update({"x-amz-meta-" + k: v for k, v in version.metadata.items()})
    headers.update(_version_headers(version))
    headers["ETag"] = f'"{version.etag}"'
    headers["Last-Modified"] = http_date(version.last_modified)
    headers["Accept-Ranges"] = "bytes"
    if any(name in call.query for name in _OVERRIDES):
        if call.identity.anonymous:
            raise InvalidRequest("Request specific response headers cannot be used for anonymous GET requests.")
        for name, header in _OVERRIDES.items():
            if name in call.query:
                headers[header] = call.query[name]
    return headers


async def get_object(objects, call, send=True):
    version = await _described(objects, call)
    try:
        check_conditions(call, version)
    except NotModified:
        call.request.setHeader("ETag", f'"{version.etag}"')
        raise
    headers = _object_headers(call, version)
    span = _part_span(call, version, headers)
    if span is None:
        span = parse_range(call.header("range"), version.size)
    status = 200
    start, end = 0, version.size
    if span is not None:
        start, end = span
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{version.size}"
    reply_empty(call, status, headers)
    call.request.setHeader("content-length", str(end - start))
    if not send or end == start:
        return
    file = await objects.read(version, start, end)
    sender = _Sender(file, call.request)
    sender.start()
    await sender.done


def _part_span(call, version, headers):
    """
    The C{[start, end)} of the part a C{?partNumber=} GET or HEAD asks for
    (a single PUT is one part), or C{None} without one (or for an empty
    object, which has no bytes to name).  Sets
    C{x-amz-mp-parts-count} for a multipart object.

    @raise InvalidRequest: with a C{Range} too.
    @raise InvalidArgument: not a part number.
    @raise InvalidPartNumber: past the object's last part.
    """
    text = call.arg("partNumber")
    if text is None:
        return None
    if call.header("range") is not None:
        raise InvalidRequest("Cannot specify both Range header and partNumber query parameter")
    number = _part_number(call)
    sizes = version.parts or (version.size,)
    if version.parts:
        headers["x-amz-mp-parts-count"] = str(len(sizes))
    if number > len(sizes):
        raise InvalidPartNumber(PartNumberRequested=text, ActualPartCount=str(len(sizes)))
    if version.size == 0:
        return None
    start = sum(sizes[: number - 1])
    return start, start + sizes[number - 1]


async def head_object(objects, call):
    await get_object(objects, call, send=False)


def _refuse_conditional_write(call):
    """
    @raise Unimplemented: the write is conditional (C{If-Match},
        C{If-None-Match}); Walrus cannot make the check and the write one
        atomic step, and ignoring the condition would break the lock a
        client builds on it.
    """
    for name in ("if-match", "if-none-match"):
        if call.header(name) is not None:
            raise Unimplemented(f"Walrus does not implement conditional writes ({name}).", Header=name)


async def put_object(objects, call):
    _refuse_conditional_write(call)
    if call.header("x-amz-copy-source") is not None:
        await copy_object(objects, call)
        return
    headers, metadata = content_headers(call), user_metadata(call)
    spool = await received_body(objects.store, call)
    version = await objects.put_object(call.identity, call.bucket, call.key, spool, headers, metadata, call.headers)
    reply_empty(call, headers={"ETag": f'"{version.etag}"', **_version_headers(version)})


def _copy_source(call):
    """
    The bucket, key and version id of C{x-amz-copy-source}.
    """
    text = call.header("x-amz-copy-source")
    path, _, query = text.partition("?")
    version_id = query[len("versionId=") :] if query.startswith("versionId=") else None
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    if not bucket or not key:
        raise InvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey", ArgumentName="x-amz-copy-source", ArgumentValue=text)
    return bucket, key, version_id


async def _source_version(objects, call):
    bucket, key, version_id = _copy_source(call)
    source = await objects.get_object(call.identity, bucket, key, version_id)
    check_conditions(call, source, "x-amz-copy-source-", PreconditionFailed)
    return source


async def copy_object(objects, call):
    source = await _source_version(objects, call)
    directive = call.header("x-amz-metadata-directive", "COPY")
    if directive not in ("COPY", "REPLACE"):
        raise InvalidArgument("Unknown metadata directive.", ArgumentName="x-amz-metadata-directive", ArgumentValue=directive)
    if directive == "COPY":
        headers, metadata = source.headers, source.metadata
        # Copying a named version onto its own key is how S3 users restore
        # an old version; copying the current object onto itself changes
        # nothing and is refused.
        if (source.bucket, source.key) == (call.bucket, call.key) and _copy_source(call)[2] is None:
            raise InvalidRequest(
                "This copy request is illegal because it is trying to copy an object to itself without changing "
                "the object's metadata, storage class, website redirect location or encryption attributes."
            )
    else:
        headers, metadata = content_headers(call), user_metadata(call)
    version = await objects.copy_object(call.identity, source, call.bucket, call.key, headers, metadata, call.headers)
    extra = _version_headers(version)
    if source.version_id != "null":
        extra["x-amz-copy-source-version-id"] = source.version_id
    for name, value in extra.items():
        call.request.setHeader(name, value)
    reply_xml(call, S3.CopyObjectResult(S3.LastModified(iso_time(version.last_modified)), S3.ETag(f'"{version.etag}"')))


async def delete_object(objects, call):
    removed = await objects.delete_object(call.identity, call.bucket, call.key, call.arg("versionId"))
    headers = {}
    if removed is not None and removed.delete_marker:
        headers["x-amz-delete-marker"] = "true"
    if removed is not None and removed.version_id != "null":
        headers["x-amz-version-id"] = removed.version_id
    reply_empty(call, 204, headers)


async def get_object_acl(objects, call):
    acl = await objects.get_object_acl(call.identity, call.bucket, call.key, call.arg("versionId"))
    reply_xml(call, acl.to_xml())


async def put_object_acl(objects, call):
    await objects.put_object_acl(call.identity, call.bucket, call.key, call.arg("versionId"), call.headers, acl_body(call))
    reply_empty(call)


async def create_upload(objects, call):
    upload = await objects.create_upload(
        call.identity, call.bucket, call.key, content_headers(call), user_metadata(call), call.headers
    )
    reply_xml(call, S3.InitiateMultipartUploadResult(S3.Bucket(call.bucket), S3.Key(call.key), S3.UploadId(upload.upload_id)))


def _part_number(call):
    text = call.arg("partNumber", "")
    if not text.isdigit() or not 1 <= int(text) <= 10000:
        raise InvalidArgument("Part number must be an integer between 1 and 10000, inclusive", ArgumentName="partNumber", ArgumentValue=text)
    return int(text)


async def upload_part(objects, call):
    number = _part_number(call)
    upload_id = call.arg("uploadId")
    if call.header("x-amz-copy-source") is not None:
        source = await _source_version(objects, call)
        start, end = _copy_range(call.header("x-amz-copy-source-range"), source.size)
        part = await objects.copy_part(call.identity, call.bucket, call.key, upload_id, number, source, start, end)
        reply_xml(call, S3.CopyPartResult(S3.LastModified(iso_time(part.last_modified)), S3.ETag(f'"{part.etag}"')))
        return
    spool = await received_body(objects.store, call)
    part = await objects.put_part(call.identity, call.bucket, call.key, upload_id, number, spool)
    reply_empty(call, headers={"ETag": f'"{part.etag}"'})


def _copy_range(text, size):
    """
    The C{[start, end)} of an C{x-amz-copy-source-range}: unlike a GET's
    C{Range}, only C{bytes=first-last} inside the source is allowed.

    @raise InvalidArgument: another form, or a range not inside the source.
    """
    if text is None:
        return 0, size
    match = _COPY_RANGE.match(text.strip())
    if match is None:
        raise InvalidArgument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the "
            "zero-based offsets of the first and last bytes to copy",
            ArgumentName="x-amz-copy-source-range",
            ArgumentValue=text,
        )
    first, last = int(match.group(1)), int(match.group(2))
    if first > last or last >= size:
        raise InvalidArgument(
            f"Range specified is not valid for source object of size: {size}",
            ArgumentName="x-amz-copy-source-range",
            ArgumentValue=text,
        )
    return first, last + 1


async def complete_upload(objects, call):
    _refuse_conditional_write(call)
    root = parse_xml(xml_body(call))
    if etree.QName(root).localname != "CompleteMultipartUpload":
        raise MalformedXML()
    parts = []
    for element in root:
        if not isinstance(element.tag, str) or etree.QName(element).localname != "Part":
            continue
        number, etag = text_of(element, "PartNumber"), text_of(element, "ETag")
        if number is None or not number.strip().isdigit() or etag is None:
            raise MalformedXML("Each Part needs a PartNumber and an ETag.")
        parts.append((int(number), etag.strip().strip('"')))
    if not parts:
        raise MalformedXML("You must specify at least one part.")
    version = await objects.complete_upload(call.identity, call.bucket, call.key, call.arg("uploadId"), parts)
    for name, value in _version_headers(version).items():
        call.request.setHeader(name, value)
    location = f"/{call.bucket}/{call.key}"
    reply_xml(
        call,
        S3.CompleteMultipartUploadResult(
            S3.Location(location), S3.Bucket(call.bucket), S3.Key(call.key), S3.ETag(f'"{version.etag}"')
        ),
    )


async def abort_upload(objects, call):
    await objects.abort_upload(call.identity, call.bucket, call.key, call.arg("uploadId"))
    reply_empty(call, 204)


async def list_parts(objects, call):
    marker = call.arg("part-number-marker", "0")
    if not marker.isdigit():
        raise InvalidArgument("Invalid part-number-marker.", ArgumentName="part-number-marker", ArgumentValue=marker)
    limit = max_count(call, "max-parts")
    listing = await objects.list_parts(
        call.identity, call.bucket, call.key, call.arg("uploadId"), part_number_marker=int(marker), max_parts=limit
    )
    upload = listing.upload
    head = [S3.Bucket(call.bucket), S3.Key(call.key), S3.UploadId(upload.upload_id)]
    head += [owner_element(upload.owner, objects.names, "Initiator"), owner_element(upload.owner, objects.names)]
    head += [S3.StorageClass("STANDARD"), S3.PartNumberMarker(marker)]
    if listing.is_truncated:
        head.append(S3.NextPartNumberMarker(str(listing.next_part_number_marker)))
    head += [S3.MaxParts(str(limit)), S3.IsTruncated("true" if listing.is_truncated else "false")]
    parts = [
        S3.Part(
            S3.PartNumber(str(p.part_number)),
            S3.LastModified(iso_time(p.last_modified)),
            S3.ETag(f'"{p.etag}"'),
            S3.Size(str(p.size)),
        )
        for p in listing.parts
    ]
    reply_xml(call, S3.ListPartsResult(*head, *parts))
