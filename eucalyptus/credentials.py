# -*- test-case-name: tests.services.clc.test_iam_credentials -*-
"""
A user's credentials, as C{euca-get-credentials} gave them: a directory
holding

  - C{eucarc}: the shell settings a user C{source}s before running
    C{aws --endpoint-url "$EC2_URL" ...}, boto3 or euca2ools (C{EC2_URL},
    C{S3_URL}, C{EUARE_URL} and C{AWS_IAM_URL}, the access key, the
    certificate paths, C{EC2_USER_ID} (the account id));
  - C{iamrc}: the access key in euca2ools' C{AWS_CREDENTIAL_FILE} format;
  - C{<user>-pk.pem}, C{<user>-cert.pem}: a new private key and X.509
    certificate for the user, signed by the cloud's key and recorded in the
    account store;
  - C{cloud-cert.pem}: the cloud's certificate.

The access key is the user's first active one, or a new one when it has
none.  Nothing is overwritten: a directory that already holds an C{eucarc}
is refused.  The calls are blocking.
"""

import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization

from eucalyptus.accounts import NoSuchEntity
from eucalyptus.errors import ClientError
from eucalyptus.security import keys
from eucalyptus.services.build import endpoint_url

__all__ = ["Endpoints", "endpoints", "eucarc", "iamrc", "write_credentials", "user_credentials"]

#: Where the CLC answers EC2, where Walrus answers S3, where the CLC
#: answers IAM (C{eucalyptus.services.clc.service.PATH},
#: C{eucalyptus.services.walrus.service.PATH},
#: C{eucalyptus.services.clc.iam.resource.PATH}, not imported to keep this
#: module light).
EC2_PATH, S3_PATH, IAM_PATH = "services/Eucalyptus", "services/Walrus", "services/Euare"


@dataclass(frozen=True)
class Endpoints:
    """
    The URLs a user's tools talk to.
    """

    ec2: str
    s3: str
    iam: str


def endpoints(settings):
    """
    The L{Endpoints} of the cloud that C{settings} configure
    (C{CLC_HOST}, C{CLC_PORT}, C{WALRUS_HOST}, C{WALRUS_PORT}).
    """
    return Endpoints(
        endpoint_url(settings["CLC_HOST"], settings["CLC_PORT"], EC2_PATH),
        endpoint_url(settings["WALRUS_HOST"], settings["WALRUS_PORT"], S3_PATH),
        endpoint_url(settings["CLC_HOST"], settings["CLC_PORT"], IAM_PATH),
    )


def eucarc(urls, access_key, user_name, account_id):
    """
    The text of an C{eucarc}; the key and certificate files are named
    after C{user_name} and found next to it.

    @param urls: the L{Endpoints}.
    @param access_key: the L{eucalyptus.accounts.AccessKey}.
    """
    lines = [
        'EUCA_KEY_DIR=$(cd "$(dirname "${BASH_SOURCE:-$0}")" && pwd -P)',
        f"export EC2_URL={urls.ec2}",
        f"export S3_URL={urls.s3}",
        f"export EUARE_URL={urls.iam}",
        f"export AWS_IAM_URL={urls.iam}",
        f"export AWS_ACCESS_KEY_ID={access_key.access_key_id}",
        f"export AWS_SECRET_ACCESS_KEY={access_key.secret_key}",
        f"export EC2_ACCESS_KEY={access_key.access_key_id}",
        f"export EC2_SECRET_KEY={access_key.secret_key}",
        f"export EC2_CERT=${{EUCA_KEY_DIR}}/{user_name}-cert.pem",
        f"export EC2_PRIVATE_KEY=${{EUCA_KEY_DIR}}/{user_name}-pk.pem",
        "export EUCALYPTUS_CERT=${EUCA_KEY_DIR}/cloud-cert.pem",
        "export AWS_CREDENTIAL_FILE=${EUCA_KEY_DIR}/iamrc",
        f"export EC2_USER_ID={account_id}",
        "export AWS_DEFAULT_REGION=eucalyptus",
    ]
    return "\n".join(lines) + "\n"


def iamrc(access_key):
    """
    The text of an C{iamrc}.
    """
    return f"AWSAccessKeyId={access_key.access_key_id}\nAWSSecretKey={access_key.secret_key}\n"


def _write(path, data, mode):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w") as f:
        f.write(data)


def write_credentials(directory, urls, access_key, user, cloud_certificate):
    """
    Write a user's credentials into C{directory} (made, mode 0700, if
    missing); no file is overwritten.

    @param urls: the L{Endpoints}.
    @param access_key: the user's L{eucalyptus.accounts.AccessKey}.
    @param user: the user's L{keys.Credential} (key and certificate).
    @param cloud_certificate: the cloud's certificate.
    @return: the path of the C{eucarc}.
    @raise FileExistsError: one of the files exists.
    """
    os.makedirs(directory, mode=0o700, exist_ok=True)
    name = access_key.user_name
    keys.write_private_key(os.path.join(directory, f"{name}-pk.pem"), user.key)
    keys.write_certificate(os.path.join(directory, f"{name}-cert.pem"), user.certificate)
    keys.write_certificate(os.path.join(directory, "cloud-cert.pem"), cloud_certificate)
    _write(os.path.join(directory, "iamrc"), iamrc(access_key), 0o600)
    path = os.path.join(directory, "eucarc")
    _write(path, eucarc(urls, access_key, name, access_key.account_id), 0o600)
    return path


def user_credentials(store, cloud, account_name, user_name, directory, urls):
    """
    Make a user's credentials: its first active access key (a new one if it
    has none), a new certificate signed by the cloud (recorded in the
    account store), and the files of L{write_credentials}.

    @param store: the L{eucalyptus.accounts.AccountStore}.
    @param cloud: the cloud's L{keys.Credential}.
    @param account_name: the account's name (or id).
    @param user_name: the user's name in it.
    @param directory: where to write them.
    @param urls: the L{Endpoints}.
    @return: the path of the C{eucarc}.
    @raise NoSuchEntity: no such account or user.
    @raise eucalyptus.accounts.LimitExceeded: the user has no active key
        and as many inactive ones as it may have.
    @raise ClientError: C{directory} already holds an C{eucarc}.
    """
    if os.path.exists(os.path.join(directory, "eucarc")):
        raise ClientError(f"{directory} already holds credentials; give another directory.")
    account = store.account(account_name)
    if account is None:
        raise NoSuchEntity(f"The account {account_name} cannot be found.")
    user = store.user(account.account_id, user_name)
    active = [key for key in store.user_keys(account.account_id, user.name) if key.status == "Active"]
    access_key = active[0] if active else store.add_access_key(account.account_id, user.name)
    pair = keys.create_pair(f"{user.name}@{account.name}", issuer=cloud)
    path = write_credentials(directory, urls, access_key, pair, cloud.certificate)
    store.add_certificate(user.user_id, pair.certificate.public_bytes(serialization.Encoding.PEM).decode())
    return path
