# -*- test-case-name: tests.services.clc.test_iam_boto3,tests.services.clc.test_iam_actions -*-
"""
The IAM actions: accounts (for the cloud administrators), users and
access keys.

Each action is a function C{action(context, params)} of the kind
L{eucalyptus.services.clc.ec2.dispatch} runs; C{context.cloud} is the
L{Directory}.  Every action works inside one account: the caller's, or the
one an administrator names with C{DelegateAccount} (acting as its C{admin}
user).  A user, a key of another account is C{NoSuchEntity}, as if it did
not exist.

There are no policies yet: every user of an account may do every action on
its own account; only C{CreateAccount}, C{ListAccounts} and
C{DelegateAccount} are the administrators' (the C{eucalyptus} account's).
"""

from dataclasses import dataclass

from twisted.internet import threads

from eucalyptus.accounts import ADMIN_USER, NoSuchEntity
from eucalyptus.services.clc.ec2 import paging
from eucalyptus.services.clc.ec2.dispatch import blocking
from eucalyptus.services.clc.ec2.errors import InvalidPaginationToken
from eucalyptus.services.clc.iam.errors import AccessDenied, InvalidInput
from eucalyptus.services.clc.iam.model import DELEGATE

__all__ = ["ACTIONS", "Directory"]

#: Items a listing answers when C{MaxItems} is not given, as IAM.
DEFAULT_MAX_ITEMS = 100


class Directory:
    """
    What the IAM actions work on.

    @ivar accounts: the L{eucalyptus.accounts.AccountStore}.
    @ivar key_caches: the L{eucalyptus.services.walrus.identities.Identities}
        of this process, told to forget a key as soon as it is deactivated
        or deleted.
    """

    def __init__(self, accounts, key_caches=(), run_in_thread=threads.deferToThread):
        """
        @param run_in_thread: how blocking calls run (C{deferToThread};
            tests run them inline).
        """
        self.accounts = accounts
        self.key_caches = tuple(key_caches)
        self._run_in_thread = run_in_thread

    def run(self, function, *args):
        """
        Run a blocking call off the reactor.

        @return: a Deferred of its result.
        """
        return self._run_in_thread(function, *args)

    def forget(self, access_key_id):
        """
        Make every key cache read this key again (in the reactor thread).
        """
        for cache in self.key_caches:
            cache.forget(access_key_id)


@dataclass(frozen=True)
class _Scope:
    """
    The account an action works in, and the user it works for when the
    request names none.
    """

    account_id: str
    user_name: str


def _scope(context, params):
    """
    The caller's account, or the one an administrator acts as (blocking).

    @raise AccessDenied: C{DelegateAccount} from a caller who is not an
        administrator.
    @raise NoSuchEntity: it names no account.
    """
    caller = context.caller
    delegate = params.get(DELEGATE)
    if delegate is None:
        return _Scope(caller.account_id, caller.user_name)
    _require_administrator(context, DELEGATE)
    account = context.cloud.accounts.account(delegate)
    if account is None:
        raise NoSuchEntity(f"The account {delegate} cannot be found.")
    return _Scope(account.account_id, ADMIN_USER)


def _require_administrator(context, what=None):
    """
    @raise AccessDenied: the caller is not of the administrators' account.
    """
    if not context.caller.administrator:
        raise AccessDenied(f"Only the cloud administrators may use {what or context.action}.")


def _page(items, key, params):
    """
    One page of a listing, as IAM pages: C{MaxItems} (100 by default)
    items after C{Marker}.

    @return: the items and the members C{IsTruncated} and C{Marker}.
    @raise InvalidInput: the marker is not one this cloud gave.
    """
    try:
        chosen, marker = paging.page(
            items, key, params.get("MaxItems", DEFAULT_MAX_ITEMS), params.get("Marker"), minimum=1
        )
    except InvalidPaginationToken:
        raise InvalidInput(f"Invalid Marker: {params['Marker']}")
    return chosen, {"IsTruncated": marker is not None, "Marker": marker}


def _user(user):
    return {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.user_id,
        "Arn": user.arn,
        "CreateDate": user.created,
    }


def _key_metadata(key):
    return {
        "UserName": key.user_name,
        "AccessKeyId": key.access_key_id,
        "Status": key.status,
        "CreateDate": key.created,
    }


@blocking
def create_account(context, params):
    """
    A new account and its C{admin} user (no access key: an administrator
    makes one with C{CreateAccessKey} and C{DelegateAccount}, or gets the
    user's credentials from the CLC host).
    """
    _require_administrator(context)
    account = context.cloud.accounts.new_account(params["AccountName"])
    return {"Account": {"AccountName": account.name, "AccountId": account.account_id}}


@blocking
def list_accounts(context, params):
    """
    Every account of the cloud.
    """
    _require_administrator(context)
    accounts = context.cloud.accounts.all_accounts()
    return {
        "Accounts": [{"AccountName": a.name, "AccountId": a.account_id} for a in accounts],
        "IsTruncated": False,
    }


@blocking
def create_user(context, params):
    """
    A new user of the account.
    """
    scope = _scope(context, params)
    if params.get("Tags") or params.get("PermissionsBoundary"):
        raise InvalidInput("Tags and permissions boundaries on users are not supported by this cloud.")
    user = context.cloud.accounts.create_user(scope.account_id, params["UserName"], params.get("Path", "/"))
    return {"User": _user(user)}


@blocking
def get_user(context, params):
    """
    A user of the account: the caller when none is named.
    """
    scope = _scope(context, params)
    return {"User": _user(context.cloud.accounts.user(scope.account_id, params.get("UserName", scope.user_name)))}


@blocking
def delete_user(context, params):
    """
    Delete a user that has no access keys left.
    """
    scope = _scope(context, params)
    context.cloud.accounts.delete_user(scope.account_id, params["UserName"])


@blocking
def list_users(context, params):
    """
    The users of the account whose path starts with C{PathPrefix}, by
    name.
    """
    scope = _scope(context, params)
    users = context.cloud.accounts.users_of(scope.account_id, params.get("PathPrefix", "/"))
    chosen, more = _page(users, lambda user: user.name.lower(), params)
    return {"Users": [_user(user) for user in chosen], **more}


@blocking
def create_access_key(context, params):
    """
    A new active key for a user (the caller when none is named): the only
    answer that carries its secret.
    """
    scope = _scope(context, params)
    key = context.cloud.accounts.add_access_key(scope.account_id, params.get("UserName", scope.user_name))
    return {"AccessKey": dict(_key_metadata(key), SecretAccessKey=key.secret_key)}


@blocking
def list_access_keys(context, params):
    """
    The keys of a user (the caller when none is named), without secrets.
    """
    scope = _scope(context, params)
    keys = context.cloud.accounts.user_keys(scope.account_id, params.get("UserName", scope.user_name))
    chosen, more = _page(keys, lambda key: key.access_key_id, params)
    return {"AccessKeyMetadata": [_key_metadata(key) for key in chosen], **more}


def _set_key_status(context, params):
    scope = _scope(context, params)
    context.cloud.accounts.set_key_status(
        scope.account_id, params.get("UserName", scope.user_name), params["AccessKeyId"], params["Status"]
    )


def _delete_access_key(context, params):
    scope = _scope(context, params)
    context.cloud.accounts.delete_access_key(
        scope.account_id, params.get("UserName", scope.user_name), params["AccessKeyId"]
    )


def update_access_key(context, params):
    """
    Make a key of a user (the caller when none is named) C{Active} or
    C{Inactive}; an inactive key stops authenticating at once in this
    process (in another, such as Walrus's daemon, within its cache time).
    """
    return _then_forget(context, params, _set_key_status)


def delete_access_key(context, params):
    """
    Delete a key of a user (the caller when none is named); like
    deactivating, it takes effect at once in this process.
    """
    return _then_forget(context, params, _delete_access_key)


def _then_forget(context, params, change):
    directory = context.cloud
    d = directory.run(change, context, params)
    d.addCallback(lambda _: directory.forget(params["AccessKeyId"]))
    return d


#: Action name to the function that does it.
ACTIONS = {
    "CreateAccount": create_account,
    "ListAccounts": list_accounts,
    "CreateUser": create_user,
    "GetUser": get_user,
    "DeleteUser": delete_user,
    "ListUsers": list_users,
    "CreateAccessKey": create_access_key,
    "ListAccessKeys": list_access_keys,
    "UpdateAccessKey": update_access_key,
    "DeleteAccessKey": delete_access_key,
}
