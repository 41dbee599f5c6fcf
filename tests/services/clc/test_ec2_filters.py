# -*- test-case-name: tests.services.clc.test_ec2_filters -*-
"""
Tests for L{eucalyptus.services.clc.ec2.filters} and
L{eucalyptus.services.clc.ec2.paging}.
"""

from hypothesis import given
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from eucalyptus.errors import InvalidParameterValue
from eucalyptus.services.clc.ec2.errors import InvalidPaginationToken
from eucalyptus.services.clc.ec2.filters import pattern, select
from eucalyptus.services.clc.ec2.paging import make_token, page, read_token

VOLUMES = [
    {
        "id": "vol-1",
        "zone": "east-1a",
        "size": 1,
        "encrypted": False,
        "attached": ["i-1", "i-2"],
        "tags": {"Name": "db"},
    },
    {"id": "vol-2", "zone": "east-1b", "size": 10, "encrypted": True, "attached": [], "tags": {"Name": "web*"}},
    {"id": "vol-3", "zone": "west-1a", "size": 100, "encrypted": False, "attached": ["i-3"], "tags": {}},
]

FIELDS = {
    "volume-id": lambda v: v["id"],
    "availability-zone": lambda v: v["zone"],
    "size": lambda v: v["size"],
    "encrypted": lambda v: v["encrypted"],
    "attachment.instance-id": lambda v: v["attached"],
    "snapshot-id": lambda v: None,
}


def ids(items):
    return [item["id"] for item in items]


class SelectTests(SynchronousTestCase):
    """
    L{select}: filters ANDed, values ORed, wildcards, tags.
    """

    def select(self, *filters):
        return ids(select(VOLUMES, [{"Name": n, "Values": v} for n, v in filters], FIELDS, lambda v: v["tags"]))

    def test_no_filters(self):
        """
        Without filters (or with an empty list) everything is kept, in order.
        """
        self.assertEqual(ids(select(VOLUMES, None, FIELDS)), ["vol-1", "vol-2", "vol-3"])
        self.assertEqual(ids(select(VOLUMES, [], FIELDS)), ["vol-1", "vol-2", "vol-3"])

    def test_values_or_filters_and(self):
        """
        One filter's values are alternatives; filters must all match.
        """
        self.assertEqual(self.select(("volume-id", ["vol-1", "vol-3"])), ["vol-1", "vol-3"])
        self.assertEqual(self.select(("volume-id", ["vol-1", "vol-3"]), ("availability-zone", ["west-1a"])), ["vol-3"])

    def test_wildcards(self):
        """
        C{*} is any run, C{?} one character; matches are whole and
        case-sensitive.
        """
        self.assertEqual(self.select(("availability-zone", ["east-*"])), ["vol-1", "vol-2"])
        self.assertEqual(self.select(("availability-zone", ["*-1?"])), ["vol-1", "vol-2", "vol-3"])
        self.assertEqual(self.select(("availability-zone", ["east"])), [])
        self.assertEqual(self.select(("availability-zone", ["EAST-1A"])), [])

    def test_escapes(self):
        """
        C{\\*} is a literal star; regular expression characters are literal.
        """
        self.assertEqual(self.select(("tag:Name", ["web\\*"])), ["vol-2"])
        self.assertEqual(self.select(("tag:Name", ["w.b*"])), [])
        self.assertTrue(pattern("a\\?b").fullmatch("a?b"))
        self.assertFalse(pattern("a\\?b").fullmatch("axb"))

    def test_types(self):
        """
        Numbers compare as their text, booleans as C{true}/C{false}; a list
        value matches when any member does; no value matches nothing.
        """
        self.assertEqual(self.select(("size", ["10", "100"])), ["vol-2", "vol-3"])
        self.assertEqual(self.select(("encrypted", ["true"])), ["vol-2"])
        self.assertEqual(self.select(("attachment.instance-id", ["i-2"])), ["vol-1"])
        self.assertEqual(self.select(("snapshot-id", ["*"])), [])

    def test_tags(self):
        """
        C{tag:<key>}, C{tag-key} and C{tag-value} read the item's tags.
        """
        self.assertEqual(self.select(("tag:Name", ["db"])), ["vol-1"])
        self.assertEqual(self.select(("tag-key", ["Name"])), ["vol-1", "vol-2"])
        self.assertEqual(self.select(("tag-value", ["web?"])), ["vol-2"])

    def test_refused(self):
        """
        Unknown names, tag filters where items have no tags, and filters
        without a name or values are C{InvalidParameterValue}.
        """
        for filters in (
            [{"Name": "colour", "Values": ["red"]}],
            [{"Values": ["red"]}],
            [{"Name": "size"}],
            [{"Name": "size", "Values": []}],
        ):
            self.assertRaises(InvalidParameterValue, select, VOLUMES, filters, FIELDS, lambda v: v["tags"])
        tagged = [{"Name": "tag:Name", "Values": ["x"]}]
        error = self.assertRaises(InvalidParameterValue, select, VOLUMES, tagged, FIELDS)
        self.assertEqual(error.message, "The filter 'tag:Name' is invalid")


class PageTests(SynchronousTestCase):
    """
    L{page}: C{MaxResults} and C{NextToken}.
    """

    def key(self, item):
        return item

    def test_everything(self):
        """
        Without C{MaxResults} everything comes, sorted, with no token.
        """
        self.assertEqual(page(["b", "c", "a"], self.key), (["a", "b", "c"], None))

    def test_pages(self):
        """
        Pages of C{MaxResults} follow each other by their tokens until the
        last, which has none.
        """
        items = [f"i-{n:02d}" for n in range(12)]
        seen, token = [], None
        while True:
            chunk, token = page(items, self.key, 5, token)
            seen.extend(chunk)
            if token is None:
                break
            self.assertEqual(len(chunk), 5)
        self.assertEqual(seen, items)

    def test_items_change(self):
        """
        A token continues after the last item given, even when items before
        it went away or new ones came.
        """
        chunk, token = page(["a", "b", "c", "d", "e", "f"], self.key, 5)
        self.assertEqual(page(["c", "f", "g", "aa"], self.key, 5, token), (["f", "g"], None))

    def test_range(self):
        """
        C{MaxResults} outside the action's range is C{InvalidParameterValue}.
        """
        self.assertRaises(InvalidParameterValue, page, [], self.key, 4)
        self.assertRaises(InvalidParameterValue, page, [], self.key, 1001)
        self.assertRaises(InvalidParameterValue, page, [], self.key, 0, minimum=1)

    def test_bad_token(self):
        """
        A token not made here is C{InvalidPaginationToken}.
        """
        for token in ("garbage!", "Zm9v", "\u00e9"):
            self.assertRaises(InvalidPaginationToken, read_token, token)
            self.assertRaises(InvalidPaginationToken, page, ["a"], self.key, 5, token)

    @given(st.text())
    def test_token_round_trip(self, key):
        """
        Any key survives its token.
        """
        self.assertEqual(read_token(make_token(key)), key)
