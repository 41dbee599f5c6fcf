# -*- test-case-name: tests.test_volume_connection -*-
"""
The connection string of an exported volume: what the Storage Controller
answers C{ExportVolume} with and what the Node Controller turns into a
libvirt network disk.  Written by the SC, read by the NC, passed through
by everyone else.

It is a URI whose parts are libvirt's::

    iscsi://<portal host>:<port>/<target IQN>/<LUN>?user=<CHAP user>&secret=<...>&cipher=rsa-oaep-sha256
    rbd://<monitor>:<port>,<monitor>:<port>/<pool>/<image>?user=<ceph user>&secret=<...>&cipher=...

  - the scheme is C{<source protocol=...>};
  - the hosts are the C{<host name=... port=...>} elements;
  - the path is C{<source name=...>} (C{<IQN>/<LUN>} for iSCSI, exactly as
    libvirt and qemu name a LUN; C{<pool>/<image>} for RBD);
  - C{user} is C{<auth username=...>} and the decrypted C{secret} the value
    of the libvirt secret (usage type C{iscsi} or C{ceph}) that C{<auth>}
    refers to.

The secret (the CHAP password) is encrypted to the zone's node certificate
with RSA-OAEP (SHA-256), base64url, so only a node (holder of
C{node-pk.pem}) can read it; the CLC and CC that relay the string cannot.
The original used RSA PKCS#1 v1.5 in a comma-separated string parsed by
C{connect_iscsitarget_main.pl}; only our own NC reads this string, so it
gets the padding without PKCS#1 v1.5's known weaknesses, and C{cipher}
names it so it can change without guessing.
"""

import base64
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from eucalyptus.errors import FailedCheck, InvalidParameterValue

__all__ = ["VolumeConnection", "encrypt_secret", "decrypt_secret", "CIPHER", "PROTOCOLS"]

CIPHER = "rsa-oaep-sha256"
PROTOCOLS = ("iscsi", "rbd")
_OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def encrypt_secret(certificate, secret):
    """
    Encrypt C{secret} (text) to C{certificate}'s public key.

    @param certificate: a C{cryptography} X.509 certificate (the node's).
    @return: base64url text.
    """
    ciphertext = certificate.public_key().encrypt(secret.encode("utf-8"), _OAEP)
    return base64.urlsafe_b64encode(ciphertext).decode("ascii")


def decrypt_secret(private_key, token):
    """
    Decrypt what L{encrypt_secret} made.

    @param private_key: the node's private key.
    @return: the secret, text.
    @raise FailedCheck: C{token} was not encrypted to this key.
    """
    try:
        return private_key.decrypt(base64.urlsafe_b64decode(token.encode("ascii")), _OAEP).decode("utf-8")
    except (ValueError, TypeError, UnicodeError) as e:
        raise FailedCheck(f"The volume's secret cannot be decrypted with this node's key: {e or 'wrong key'}.")


def _host(text):
    host, colon, port = text.rpartition(":")
    if not colon or not host or not port.isdigit():
        raise InvalidParameterValue(f"Connection string host {text!r} is not host:port.")
    return host.strip("[]"), int(port)


@dataclass(frozen=True)
class VolumeConnection:
    """
    Where and how a node reaches an exported volume.

    @ivar protocol: C{iscsi} or C{rbd}.
    @ivar hosts: C{(host, port)} pairs: the iSCSI portal, or the Ceph
        monitors.
    @ivar name: C{<IQN>/<LUN>} or C{<pool>/<image>}.
    @ivar user: the CHAP (or Ceph) user.
    @ivar secret: the password, encrypted (L{encrypt_secret}).
    """

    protocol: str
    hosts: tuple
    name: str
    user: str
    secret: str

    def __str__(self):
        hosts = ",".join(f"[{host}]:{port}" if ":" in host else f"{host}:{port}" for host, port in self.hosts)
        query = urlencode({"user": self.user, "secret": self.secret, "cipher": CIPHER})
        return f"{self.protocol}://{hosts}/{quote(self.name, safe=':/')}?{query}"

    @classmethod
    def parse(cls, text):
        """
        Read a connection string.

        @raise InvalidParameterValue: it is not one.
        """
        parts = urlsplit(text)
        if parts.scheme not in PROTOCOLS:
            raise InvalidParameterValue(f"Connection string {text!r} is not one of {', '.join(PROTOCOLS)}.")
        query = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        if query.get("cipher") != CIPHER:
            raise InvalidParameterValue(f"Connection string cipher {query.get('cipher')!r} is not {CIPHER}.")
        name = unquote(parts.path.lstrip("/"))
        if not parts.netloc or "/" not in name or not query.get("user") or not query.get("secret"):
            raise InvalidParameterValue(f"Connection string {text!r} lacks its hosts, name, user or secret.")
        hosts = tuple(_host(host) for host in parts.netloc.split(","))
        return cls(parts.scheme, hosts, name, query["user"], query["secret"])

    @property
    def target(self):
        """
        The iSCSI target's IQN (C{name} without its LUN).
        """
        return self.name.rpartition("/")[0]

    @property
    def lun(self):
        """
        The iSCSI LUN.
        """
        return int(self.name.rpartition("/")[2])

    def password(self, private_key):
        """
        The plain secret, decrypted with the node's C{private_key}.
        """
        return decrypt_secret(private_key, self.secret)
