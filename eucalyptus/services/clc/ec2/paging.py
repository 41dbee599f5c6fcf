# -*- test-case-name: tests.services.clc.test_ec2_filters -*-
"""
C{MaxResults} and C{NextToken} of the C{Describe*} actions that page.

A listing is sorted by a key that identifies each item (its id); a page is
up to C{MaxResults} items, and its C{NextToken} names the key of the last
one, so the next page starts after it even if items came or went between
the calls.  Tokens are opaque to callers (URL-safe base64); one that this
code did not make is C{InvalidPaginationToken}.
"""

import base64
import binascii

from eucalyptus.errors import InvalidParameterValue
from eucalyptus.services.clc.ec2.errors import InvalidPaginationToken

__all__ = ["page", "make_token", "read_token"]

_PREFIX = "euca1:"


def make_token(key):
    """
    The C{NextToken} that continues after the item whose key is C{key}.

    @type key: L{str}
    """
    return base64.urlsafe_b64encode((_PREFIX + key).encode("utf-8")).decode("ascii")


def read_token(token):
    """
    The key a C{NextToken} continues after.

    @raise InvalidPaginationToken: it is not a token L{make_token} made.
    """
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidPaginationToken(f"The token '{token}' is invalid")
    if not text.startswith(_PREFIX):
        raise InvalidPaginationToken(f"The token '{token}' is invalid")
    return text[len(_PREFIX) :]


def page(items, key, max_results=None, next_token=None, minimum=5, maximum=1000):
    """
    One page of a listing.

    @param items: every item of the listing (after filtering), any order.
    @param key: C{function(item)} giving its unique L{str} key.
    @param max_results: the request's C{MaxResults}, or L{None} for
        everything after C{next_token}.
    @param next_token: the request's C{NextToken}, or L{None} to start at
        the beginning.
    @param minimum: the smallest C{MaxResults} the action allows.
    @param maximum: the largest.
    @return: C{(items of the page, NextToken or None)}; the token is
        L{None} on the last page.
    @raise InvalidParameterValue: C{max_results} is out of range.
    @raise InvalidPaginationToken: C{next_token} is not one of ours.
    """
    if max_results is not None and not minimum <= max_results <= maximum:
        raise InvalidParameterValue(
            f"Value ( {max_results} ) for parameter maxResults is invalid. "
            f"Expecting a value between {minimum} and {maximum}."
        )
    ordered = sorted(items, key=key)
    if next_token is not None:
        after = read_token(next_token)
        ordered = [item for item in ordered if key(item) > after]
    if max_results is None or len(ordered) <= max_results:
        return ordered, None
    chosen = ordered[:max_results]
    return chosen, make_token(key(chosen[-1]))
