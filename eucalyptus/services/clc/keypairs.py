# -*- test-case-name: tests.services.clc.test_keypairs -*-
"""
Key pairs: C{CreateKeyPair}, C{ImportKeyPair}, C{DeleteKeyPair},
C{DescribeKeyPairs}.

The cloud keeps a key pair's OpenSSH public key (C{ssh-rsa AAAA... name}),
which instances' metadata serves (L{public_key}); the private key of a
created pair is given to the caller once and never stored.

Fingerprints are the ones EC2 gives: for a created RSA key the SHA-1 of
its PKCS#8 DER private key, for an imported RSA key the MD5 of its DER
SubjectPublicKeyInfo (both as colon-separated hex, what
C{openssl pkcs8 ... | openssl sha1 -c} and
C{openssl rsa -pubout -outform DER | openssl md5 -c} print), and for
ED25519 keys the base64 SHA-256 of the OpenSSH key blob (OpenSSH's own
fingerprint, with base64's padding, as EC2 shows it).
"""

import base64
import binascii
import hashlib
import re
from datetime import datetime, timezone

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy import Column, DateTime, String, Table, Text, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError

from eucalyptus.errors import InvalidParameterValue
from eucalyptus.services.clc import db, tags
from eucalyptus.services.clc.ec2.dispatch import blocking
from eucalyptus.services.clc.ec2.errors import (
    KeyFormatInvalid,
    KeyPairDuplicate,
    KeyPairNotFound,
    MissingParameter,
)
from eucalyptus.services.clc.ec2.filters import select as select_items

__all__ = [
    "ACTIONS",
    "key_pairs",
    "generate",
    "read_public_key",
    "check_name",
    "public_key",
    "owns",
    "create_key_pair",
    "import_key_pair",
    "delete_key_pair",
    "describe_key_pairs",
]

key_pairs = Table(
    "key_pairs",
    db.metadata,
    Column("key_pair_id", String(32), primary_key=True),
    Column("account_id", String(12), nullable=False),
    Column("name", String(255), nullable=False),
    Column("key_type", String(16), nullable=False),
    Column("fingerprint", String(128), nullable=False),
    Column("public_key", Text, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    UniqueConstraint("account_id", "name"),
)

_RSA_BITS = 2048
_RSA_MIN_BITS = 1024
_RSA_MAX_BITS = 16384
_NAME = re.compile(r"[\x20-\x7e]{1,255}")


def _colon_hex(digest):
    return ":".join(f"{byte:02x}" for byte in digest)


def _openssh(public):
    """
    The OpenSSH text of a public key (C{ssh-rsa AAAA...}), no comment.
    """
    return public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode("ascii")


def _ed25519_fingerprint(public):
    blob = base64.b64decode(_openssh(public).split()[1])
    return base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii")


def generate(key_type="rsa"):
    """
    A new key pair.

    @param key_type: C{rsa} (2048 bits) or C{ed25519}.
    @return: C{(private key PEM text, OpenSSH public key text,
        fingerprint)}; RSA private keys are PKCS#1 PEM
        (C{BEGIN RSA PRIVATE KEY}), ED25519 ones OpenSSH's format, as EC2
        gives them.
    """
    if key_type == "ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
        return pem.decode("ascii"), _openssh(private.public_key()), _ed25519_fingerprint(private.public_key())
    private = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    pkcs8 = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem.decode("ascii"), _openssh(private.public_key()), _colon_hex(hashlib.sha1(pkcs8).digest())


_FORMATS = (
    "an OpenSSH public key (the line of a .pub file: ssh-rsa AAAA... or ssh-ed25519 AAAA...), "
    "an RFC 4716 SSH2 public key, or a base64 DER or PEM public key"
)


def read_public_key(material):
    """
    Read the public key of C{ImportKeyPair}.

    @param material: the C{PublicKeyMaterial}, already base64-decoded by
        the query protocol: the bytes of the user's key file.
    @return: C{(key type, OpenSSH public key text, fingerprint)}.
    @raise KeyFormatInvalid: it is no key of a format and type EC2 takes
        (RSA of 1024 to 16384 bits, ED25519).
    """
    try:
        text = material.decode("ascii").strip()
    except UnicodeDecodeError:
        raise KeyFormatInvalid(f"Key is not in valid OpenSSH public key format: give {_FORMATS}.")
    public = _load(text)
    if isinstance(public, rsa.RSAPublicKey):
        if not _RSA_MIN_BITS <= public.key_size <= _RSA_MAX_BITS:
            raise KeyFormatInvalid(
                f"The RSA key has {public.key_size} bits; "
                f"keys of {_RSA_MIN_BITS} to {_RSA_MAX_BITS} bits can be imported."
            )
        spki = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return "rsa", _openssh(public), _colon_hex(hashlib.md5(spki).digest())
    if isinstance(public, ed25519.Ed25519PublicKey):
        return "ed25519", _openssh(public), _ed25519_fingerprint(public)
    raise KeyFormatInvalid("Only RSA and ED25519 keys can be imported; make one with ssh-keygen -t rsa or -t ed25519.")


def _load(text):
    """
    The public key in C{text}, of any format L{read_public_key} takes.
    """
    try:
        if text.startswith("---- BEGIN SSH2 PUBLIC KEY ----"):
            return _load_openssh_blob(_rfc4716_blob(text))
        if text.startswith("-----BEGIN"):
            return serialization.load_pem_public_key(text.encode("ascii"))
        if text.startswith(("ssh-", "ecdsa-", "sk-")):
            return serialization.load_ssh_public_key(" ".join(text.split()[:2]).encode("ascii"))
        return serialization.load_der_public_key(base64.b64decode("".join(text.split()), validate=True))
    except (ValueError, IndexError, binascii.Error, UnsupportedAlgorithm):
        raise KeyFormatInvalid(f"Key is not in valid OpenSSH public key format: give {_FORMATS}.")


def _rfc4716_blob(text):
    """
    The key blob of an RFC 4716 public key file: the base64 between the
    BEGIN and END lines, after the headers (C{Name: value}, continued by
    a trailing backslash).
    """
    lines = text.splitlines()[1:]
    body, continued = [], False
    for line in lines:
        line = line.strip()
        if line.startswith("---- END SSH2 PUBLIC KEY ----"):
            return base64.b64decode("".join(body), validate=True)
        if continued or (":" in line and not body):
            continued = line.endswith("\\")
            continue
        body.append(line)
    raise ValueError("no END line")


def _load_openssh_blob(blob):
    kind_length = int.from_bytes(blob[:4], "big")
    kind = blob[4 : 4 + kind_length].decode("ascii")
    return serialization.load_ssh_public_key(f"{kind} {base64.b64encode(blob).decode('ascii')}".encode("ascii"))


def check_name(name):
    """
    Check a key pair's name: 1 to 255 printable ASCII characters.

    @raise InvalidParameterValue: it is not.
    """
    if not _NAME.fullmatch(name or ""):
        raise InvalidParameterValue(
            f"Value ({name}) for parameter KeyName is invalid: "
            "key pair names are 1 to 255 printable ASCII characters."
        )


def public_key(conn, account_id, key_name):
    """
    The OpenSSH public key of an account's key pair, as instances'
    metadata serves it (C{ssh-rsa AAAA... name}), or L{None} if the
    account has no key pair of that name.
    """
    query = select(key_pairs.c.public_key).where(key_pairs.c.account_id == account_id, key_pairs.c.name == key_name)
    return conn.execute(query).scalar()


def owns(conn, account_id, key_pair_id):
    """
    Whether the account has the key pair of this id (for tags).
    """
    query = select(key_pairs.c.key_pair_id).where(
        key_pairs.c.account_id == account_id, key_pairs.c.key_pair_id == key_pair_id
    )
    return conn.execute(query).first() is not None


tags.register_owner(("key",), owns)


def _store(context, params, key_type, openssh, fingerprint):
    """
    Record a new key pair of the caller and tag it.

    @return: C{(key pair id, the tags applied)}.
    @raise KeyPairDuplicate: the account has one of that name.
    """
    name = params["KeyName"]
    account_id = context.caller.account_id
    key_pair_id = db.new_id("key")
    row = dict(
        key_pair_id=key_pair_id,
        account_id=account_id,
        name=name,
        key_type=key_type,
        fingerprint=fingerprint,
        public_key=f"{openssh} {name}",
        created=datetime.now(timezone.utc),
    )
    try:
        with context.cloud.db.begin() as conn:
            if public_key(conn, account_id, name) is not None:
                raise KeyPairDuplicate(f"The keypair '{name}' already exists.")
            conn.execute(key_pairs.insert().values(**row))
            applied = tags.apply_tag_specifications(
                conn, account_id, "key-pair", key_pair_id, params.get("TagSpecifications")
            )
    except IntegrityError:
        # Another request made a key pair of that name in the meantime.
        raise KeyPairDuplicate(f"The keypair '{name}' already exists.")
    return key_pair_id, applied


@blocking
def create_key_pair(context, params):
    """
    C{CreateKeyPair}: a new RSA (2048 bits) or ED25519 key pair whose
    private key is answered once, in PEM.

    @raise InvalidParameterValue: a bad name, or C{KeyFormat} C{ppk}.
    @raise KeyPairDuplicate: the caller has a key pair of that name.
    """
    check_name(params["KeyName"])
    if params.get("KeyFormat", "pem") != "pem":
        raise InvalidParameterValue(
            "This cloud gives private keys in pem format only; convert the key with puttygen for PuTTY."
        )
    key_type = params.get("KeyType", "rsa")
    if key_type not in ("rsa", "ed25519"):
        raise InvalidParameterValue(f"Value ({key_type}) for parameter KeyType is invalid: use rsa or ed25519.")
    private, openssh, fingerprint = generate(key_type)
    key_pair_id, applied = _store(context, params, key_type, openssh, fingerprint)
    return {
        "KeyName": params["KeyName"],
        "KeyPairId": key_pair_id,
        "KeyFingerprint": fingerprint,
        "KeyMaterial": private,
        "Tags": applied or None,
    }


@blocking
def import_key_pair(context, params):
    """
    C{ImportKeyPair}: record the public key of a key pair the caller made.

    @raise InvalidParameterValue: a bad name.
    @raise KeyFormatInvalid: the key cannot be read (see
        L{read_public_key}).
    @raise KeyPairDuplicate: the caller has a key pair of that name.
    """
    check_name(params["KeyName"])
    key_type, openssh, fingerprint = read_public_key(params["PublicKeyMaterial"])
    key_pair_id, applied = _store(context, params, key_type, openssh, fingerprint)
    return {
        "KeyName": params["KeyName"],
        "KeyPairId": key_pair_id,
        "KeyFingerprint": fingerprint,
        "Tags": applied or None,
    }


@blocking
def delete_key_pair(context, params):
    """
    C{DeleteKeyPair}: by C{KeyName} or C{KeyPairId}.  As in EC2, deleting a
    key pair that does not exist (or is another account's) succeeds and
    changes nothing.

    @raise MissingParameter: neither is given.
    """
    name, key_pair_id = params.get("KeyName"), params.get("KeyPairId")
    if not name and not key_pair_id:
        raise MissingParameter("The request must contain the parameter KeyName or KeyPairId")
    table = key_pairs.c
    condition = table.key_pair_id == key_pair_id if key_pair_id else table.name == name
    account_id = context.caller.account_id
    with context.cloud.db.begin() as conn:
        found = conn.execute(select(table.key_pair_id).where(table.account_id == account_id, condition)).scalar()
        if found is not None:
            conn.execute(delete(key_pairs).where(table.key_pair_id == found))
            tags.delete_all_tags(conn, account_id, [found])
    return {"Return": True, "KeyPairId": found}


_KEY_PAIR_FILTERS = {
    "key-name": lambda pair: pair["KeyName"],
    "key-pair-id": lambda pair: pair["KeyPairId"],
    "fingerprint": lambda pair: pair["KeyFingerprint"],
    "key-type": lambda pair: pair["KeyType"],
}


@blocking
def describe_key_pairs(context, params):
    """
    C{DescribeKeyPairs}: the caller's key pairs, those named by
    C{KeyNames} and C{KeyPairIds} if given, that match the filters
    C{key-name}, C{key-pair-id}, C{fingerprint}, C{key-type} and C{tag:};
    with their public keys if C{IncludePublicKey}.

    @raise KeyPairNotFound: a named key pair is not the caller's.
    """
    account_id = context.caller.account_id
    names, ids = params.get("KeyNames") or [], params.get("KeyPairIds") or []
    with context.cloud.db.begin() as conn:
        rows = conn.execute(select(key_pairs).where(key_pairs.c.account_id == account_id)).all()
        tagged = tags.tags_of(conn, account_id, [row.key_pair_id for row in rows])
    for wanted, column in ((names, "name"), (ids, "key_pair_id")):
        have = {getattr(row, column) for row in rows}
        for value in wanted:
            if value not in have:
                raise KeyPairNotFound(f"The key pair '{value}' does not exist")
    if names or ids:
        rows = [row for row in rows if row.name in names or row.key_pair_id in ids]
    pairs = [_describe(row, tagged[row.key_pair_id], params.get("IncludePublicKey")) for row in rows]
    pairs.sort(key=lambda pair: pair["KeyName"])
    return {"KeyPairs": select_items(pairs, params.get("Filters"), _KEY_PAIR_FILTERS, tags_of=tags.item_tags)}


def _describe(row, tag_list, include_public_key):
    created = row.created if row.created.tzinfo else row.created.replace(tzinfo=timezone.utc)
    return {
        "KeyPairId": row.key_pair_id,
        "KeyName": row.name,
        "KeyType": row.key_type,
        "KeyFingerprint": row.fingerprint,
        "CreateTime": created,
        "Tags": tag_list,
        "PublicKey": row.public_key if include_public_key else None,
    }


#: EC2 action name to its function.
ACTIONS = {
    "CreateKeyPair": create_key_pair,
    "ImportKeyPair": import_key_pair,
    "DeleteKeyPair": delete_key_pair,
    "DescribeKeyPairs": describe_key_pairs,
}
