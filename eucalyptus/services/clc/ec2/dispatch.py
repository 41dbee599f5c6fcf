# -*- test-case-name: tests.services.clc.test_ec2_dispatch -*-
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
"""

from dataclasses import dataclass

from twisted.internet import defer, threads

from eucalyptus.services.clc.ec2 import model, query, serialize
from eucalyptus.services.clc.ec2.errors import DryRunOperation, InvalidAction, MissingAction, UnsupportedOperation

__all__ = ["Caller", "Region", "RequestContext", "Dispatcher", "blocking"]


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
    """

    request_id: str
    action: str
    version: str
    caller: Caller
    region: Region


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

    def __init__(self, actions, region, run_in_thread=threads.deferToThread):
        """
        @param actions: action name to function; every name must be an
            action of botocore's EC2 model.
        @param region: the L{Region}.
        @param run_in_thread: how blocking actions run (C{deferToThread};
            tests run them inline).
        @raise ValueError: the table names an action EC2 does not have.
        """
        unknown = sorted(name for name in actions if model.operation(name) is None)
        if unknown:
            raise ValueError(f"Not EC2 actions: {unknown}")
        self.actions = dict(actions)
        self.region = region
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
        model.check_version(version)
        operation = model.operation(action)
        if operation is None:
            raise InvalidAction(f"The action {action} is not valid for this web service.")
        function = self.actions.get(action)
        if function is None:
            raise UnsupportedOperation(f"The action {action} is not supported by this cloud.")
        arguments = query.parse_input(operation, params)
        if arguments.get("DryRun"):
            raise DryRunOperation()
        context = RequestContext(request_id, action, version, caller, self.region)
        if getattr(function, "blocking", False):
            answer = self._run_in_thread(function, context, arguments)
        else:
            answer = defer.maybeDeferred(function, context, arguments)
        return answer.addCallback(lambda result: serialize.response_document(operation, result, request_id, version))
