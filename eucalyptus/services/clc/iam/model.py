# -*- test-case-name: tests.services.clc.test_iam_protocol -*-
"""
The IAM API this cloud answers: botocore's C{iam} model (protocol C{query},
version C{2010-05-08}) with Eucalyptus's account actions added, which AWS
does not have and botocore does not know:

  - C{CreateAccount} (C{AccountName}): answers
    C{<Account><AccountName/><AccountId/></Account>};
  - C{ListAccounts}: answers C{<Accounts><member>...</member></Accounts>}.

Both are for the cloud administrators (the C{eucalyptus} account) only,
as C{euare-accountcreate} and C{euare-accountlist} use them.

Besides parsing parameters as botocore's C{QuerySerializer} writes them
(L{eucalyptus.services.clc.ec2.query}), L{parse_input} checks the
constraints the model puts on top-level strings and integers (length,
pattern, enumeration, range), as IAM does with a C{ValidationError}, and
takes out C{DelegateAccount}: Eucalyptus's way for an administrator to act
as another account's C{admin} user (C{euare-* --as-account}), which every
action accepts.
"""

import copy
import functools
import re

import botocore.model
import botocore.session

from eucalyptus.services.clc.ec2 import query
from eucalyptus.services.clc.ec2.errors import MissingParameter
from eucalyptus.services.clc.iam.errors import InvalidAction, ValidationError

__all__ = ["VERSION", "NAMESPACE", "DELEGATE", "service_model", "operation", "check_version", "parse_input"]

#: The one IAM API version.
VERSION = "2010-05-08"

#: The namespace of every answer.
NAMESPACE = f"https://iam.amazonaws.com/doc/{VERSION}/"

#: The parameter, and the key of L{parse_input}'s result, naming the
#: account an administrator acts as.
DELEGATE = "DelegateAccount"

_ACCOUNT = {
    "type": "structure",
    "members": {"AccountName": {"shape": "eucaAccountNameType"}, "AccountId": {"shape": "accountIdType"}},
}

#: Eucalyptus's account actions, in botocore's model format.
EXTENSION = {
    "operations": {
        "CreateAccount": {
            "name": "CreateAccount",
            "http": {"method": "POST", "requestUri": "/"},
            "input": {"shape": "CreateAccountRequest"},
            "output": {"shape": "CreateAccountResponse", "resultWrapper": "CreateAccountResult"},
        },
        "ListAccounts": {
            "name": "ListAccounts",
            "http": {"method": "POST", "requestUri": "/"},
            "input": {"shape": "ListAccountsRequest"},
            "output": {"shape": "ListAccountsResponse", "resultWrapper": "ListAccountsResult"},
        },
    },
    "shapes": {
        "eucaAccountNameType": {"type": "string", "min": 1, "max": 63, "pattern": "[a-z0-9][a-z0-9-]*"},
        "eucaAccountType": _ACCOUNT,
        "eucaAccountListType": {"type": "list", "member": {"shape": "eucaAccountType"}},
        "CreateAccountRequest": {
            "type": "structure",
            "required": ["AccountName"],
            "members": {"AccountName": {"shape": "eucaAccountNameType"}},
        },
        "CreateAccountResponse": {"type": "structure", "members": {"Account": {"shape": "eucaAccountType"}}},
        "ListAccountsRequest": {"type": "structure", "members": {}},
        "ListAccountsResponse": {
            "type": "structure",
            "members": {"Accounts": {"shape": "eucaAccountListType"}, "IsTruncated": {"shape": "booleanType"}},
        },
    },
}


def model_data():
    """
    botocore's C{iam} model with L{EXTENSION}, as the JSON data botocore
    loads (a fresh copy).
    """
    loader = botocore.session.get_session().get_component("data_loader")
    data = copy.deepcopy(loader.load_service_model("iam", "service-2", api_version=VERSION))
    for section in ("operations", "shapes"):
        clash = set(EXTENSION[section]) & set(data[section])
        if clash:
            raise ValueError(f"botocore's IAM model now has {sorted(clash)}: review the Eucalyptus extension")
        data[section].update(copy.deepcopy(EXTENSION[section]))
    return data


@functools.cache
def service_model():
    """
    The IAM service model with Eucalyptus's actions, loaded once.

    @rtype: C{botocore.model.ServiceModel}
    """
    return botocore.model.ServiceModel(model_data(), service_name="iam")


def operation(action):
    """
    The model of an IAM action, or L{None} if there is no such action.
    """
    if action not in _action_names():
        return None
    return _operation(action)


@functools.cache
def _action_names():
    return frozenset(service_model().operation_names)


@functools.cache
def _operation(action):
    return service_model().operation_model(action)


def check_version(version):
    """
    Check the C{Version} of a request.

    @raise MissingParameter: there is none.
    @raise InvalidAction: it is not L{VERSION}.
    """
    if not version:
        raise MissingParameter("The request must contain the parameter Version")
    if version != VERSION:
        raise InvalidAction(f"Could not find operations for version {version}: this cloud's IAM answers {VERSION}.")


def parse_input(operation_model, params):
    """
    The input of an IAM action, from the request's flat parameters.

    @return: a dict keyed by the input shape's member names, plus
        L{DELEGATE} when the request named an account to act as.
    @raise ValidationError: a value breaks a constraint of the model.
    @raise eucalyptus.errors.AwsError: see
        L{eucalyptus.services.clc.ec2.query.parse_input}.
    """
    params = dict(params)
    delegate = params.pop(DELEGATE, None)
    arguments = query.parse_input(operation_model, params)
    if operation_model.input_shape is not None:
        problems = [
            problem
            for member, value in arguments.items()
            for problem in _problems(member, operation_model.input_shape.members[member], value)
        ]
        if problems:
            raise ValidationError(
                f"{len(problems)} validation error{'s' if len(problems) > 1 else ''} detected: " + "; ".join(problems)
            )
    if delegate is not None:
        arguments[DELEGATE] = delegate
    return arguments


def _problems(member, shape, value):
    """
    What is wrong with a top-level value, in IAM's words.
    """
    where = f"Value '{value}' at '{member[0].lower()}{member[1:]}' failed to satisfy constraint: Member must"
    found = []
    metadata = shape.metadata
    if shape.type_name == "string":
        if "min" in metadata and len(value) < metadata["min"]:
            found.append(f"{where} have length greater than or equal to {metadata['min']}")
        if "max" in metadata and len(value) > metadata["max"]:
            found.append(f"{where} have length less than or equal to {metadata['max']}")
        if "pattern" in metadata and not _pattern(metadata["pattern"]).fullmatch(value):
            found.append(f"{where} satisfy regular expression pattern: {metadata['pattern']}")
        if "enum" in metadata and value not in metadata["enum"]:
            found.append(f"{where} satisfy enum value set: [{', '.join(metadata['enum'])}]")
    elif shape.type_name in ("integer", "long"):
        if "min" in metadata and value < metadata["min"]:
            found.append(f"{where} have value greater than or equal to {metadata['min']}")
        if "max" in metadata and value > metadata["max"]:
            found.append(f"{where} have value less than or equal to {metadata['max']}")
    return found


@functools.cache
def _pattern(pattern):
    # The model's patterns are Java's: \w is ASCII there.
    return re.compile(pattern, re.ASCII)
