# -*- test-case-name: tests.services.clc.test_ec2_dispatch,tests.services.clc.test_iam_protocol -*-
"""
The one way into the EC2 actions.

An action is a plain function C{action(context, params)} taking a
L{RequestContext} and the input parsed by L{query.parse_input} (keyed by
botocore's member names) and returning the result dict (keyed by the output
shape's member names), or a Deferred of it.  Actions raise
L{eucalyptus.errors.EucalyptusError}s for what the caller did wrong.  A
function marked L{blocking} (it uses the database, the disk) runs in a
thread; every other one runs in the reactor thread.

L{Dispatcher.dispatch} checks C{Action} and C{Version}, looks the action up
in the explicit table it was given (never by attribute name), parses the
input against botocore's model, answers C{DryRun} requests, calls the
action, and writes its response document.

The model and the wire format are an L{Api}: L{EC2} by default; the IAM
API (L{eucalyptus.services.clc.iam}) brings its own.
"""

from dataclasses import dataclass

from twisted.internet import defer, threads

from eucalyptus.services.clc.ec2 import model, query, serialize
from eucalyptus.services.clc.ec2.errors import DryRunOperation, InvalidAction, MissingAction, UnsupportedOperation

__all__ = ["Api", "EC2", "Caller", "Region", "RequestContext", "Dispatcher", "blocking"]


@dataclass(frozen=True)
class Api:
    """
    A query API as the dispatcher needs it: its model and its wire format.

    @ivar name: its name in messages (C{EC2}).
    @ivar operation: C{operation(action)}: the botocore C{OperationModel}
        of an action, or L{None} if the API has no such action.
    @ivar check_version: C{check_version(version)} raises the API's error
        for a missing or unknown C{Version}.
    @ivar parse_input: C{parse_input(operation_model, params)}: the
        action's input from the request's flat parameters.
    @ivar response_document: C{response_document(operation_model, result,
        request_id, version)}: the answer, as L{bytes}.
    """

    name: str
    operation: object
    check_version: object
    parse_input: object
    response_document: object


#: The EC2 Query API.
EC2 = Api("EC2", model.operation, model.check_version, query.parse_input, serialize.response_document)


@dataclass(frozen=True)
class Caller:
    """
    Who signed a request.

    @ivar administrator: the caller is of the cloud administrators'
        account (C{eucalyptus}).
    """

    account_id: str
    account_name: str
    user_id: str
    user_name: str
    access_key_id: str
    administrator: bool = False


@dataclass(frozen=True)
class Region:
    """
    The cloud as EC2 describes it: one region.

    @ivar name: the region's name (C{eucalyptus}).
    @ivar endpoint: the URL of its EC2 API.
    @ivar zones: the names of its availability zones.
    """

    name: str
    endpoint: str
    zones: tuple


@dataclass(frozen=True)
class RequestContext:
    """
    What an action knows of the request besides its input.

    @ivar request_id: the id the response carries.
    @ivar action: the C{Action}.
    @ivar version: the API version the request named.
    @ivar caller: the L{Caller}.
    @ivar region: the L{Region}.
    @ivar cloud: the L{eucalyptus.services.clc.cloud.Cloud} (database,
        clusters, keys), or C{None} in tests of the protocol alone; for
        another L{Api}, what its actions work on.
    """

    request_id: str
    action: str
    version: str
    caller: Caller
    region: Region
    cloud: object = None


def blocking(action):
    """
    Mark an action as blocking: the dispatcher runs it in a thread.

    @return: C{action}.
    """
    action.blocking = True
    return action


class Dispatcher:
    """
    Runs EC2 actions from a table.

    @ivar actions: action name to function.
    @ivar region: the L{Region} every context carries.
    """

    def __init__(self, actions, region, run_in_thread=threads.deferToThread, cloud=None, api=EC2):
        """
        @param actions: action name to function; every name must be an
            action of the API's model (botocore's EC2 model by default).
        @param region: the L{Region}.
        @param run_in_thread: how blocking actions run (C{deferToThread};
            tests run them inline).
        @param cloud: the L{Cloud} every context carries.
        @param api: the L{Api} the actions belong to.
        @raise ValueError: the table names an action the API does not have.
        """
        unknown = sorted(name for name in actions if api.operation(name) is None)
        if unknown:
            raise ValueError(f"Not {api.name} actions: {unknown}")
        self.api = api
        self.actions = dict(actions)
        self.region = region
        self.cloud = cloud
        self._run_in_thread = run_in_thread

    def dispatch(self, caller, request_id, params):
        """
        Answer one request.

        @param caller: the authenticated L{Caller}.
        @param request_id: the request's id.
        @param params: the request's flat parameters, name to value.
        @return: a Deferred firing with the response document (L{bytes}),
            or failing with the L{eucalyptus.errors.EucalyptusError} to
            answer with (or any other exception: a bug).
        """
        return defer.maybeDeferred(self._start, caller, request_id, params)

    def _start(self, caller, request_id, params):
        action = params.get("Action")
        if not action:
            raise MissingAction()
        version = params.get("Version")
        self.api.check_version(version)
        operation = self.api.operation(action)
        if operation is None:
            raise InvalidAction(f"The action {action} is not valid for this web service.")
        function = self.actions.get(action)
        if function is None:
            raise UnsupportedOperation(f"The action {action} is not supported by this cloud.")
        arguments = self.api.parse_input(operation, params)
        if arguments.get("DryRun"):
            raise DryRunOperation()
        context = RequestContext(request_id, action, version, caller, self.region, self.cloud)
        if getattr(function, "blocking", False):
            answer = self._run_in_thread(function, context, arguments)
        else:
            answer = defer.maybeDeferred(function, context, arguments)
        return answer.addCallback(lambda result: self.api.response_document(operation, result, request_id, version))
