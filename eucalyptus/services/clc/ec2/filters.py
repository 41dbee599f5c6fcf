# -*- test-case-name: tests.services.clc.test_ec2_filters -*-
"""
The C{Filter.N} of every C{Describe*} action.

A request's C{Filters} (C{[{"Name": "zone-name", "Values": ["east*"]}]}) keep
the items that match every filter; an item matches a filter when one of its
values for that name matches one of the filter's values.  Values match
whole and case-sensitively; C{*} stands for any run of characters, C{?} for
one, and C{\\} makes the next character literal (C{\\*} is a star).

Each action says which filter names it knows and how to read each from an
item (a L{dict} of name to function); C{tag:<key>}, C{tag-key} and
C{tag-value} are read from the item's tags when the action gives a way to
find them.  An unknown name, a filter without a name or without values is
C{InvalidParameterValue}, as EC2 answers.
"""

import re
from dataclasses import dataclass

from eucalyptus.errors import InvalidParameterValue

__all__ = ["Filter", "parse_filters", "select", "pattern"]


@dataclass(frozen=True)
class Filter:
    """
    One filter of a request.

    @ivar name: the filter name (C{zone-name}, C{tag:Name}).
    @ivar patterns: compiled patterns of its values.
    """

    name: str
    patterns: tuple

    def matches(self, values):
        """
        Whether one of C{values} matches one of the filter's values.

        @param values: the item's values for this filter (strings, numbers,
            booleans).
        """
        texts = [_text(value) for value in values]
        return any(p.fullmatch(text) for p in self.patterns for text in texts)


def _text(value):
    """
    A value as a filter compares it: booleans as C{true}/C{false}.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def pattern(value):
    """
    The regular expression of a filter value.

    @param value: the value with its wildcards (C{*}, C{?}, C{\\}).
    @rtype: L{re.Pattern}
    """
    out = []
    characters = iter(value)
    for character in characters:
        if character == "\\":
            out.append(re.escape(next(characters, "\\")))
        elif character == "*":
            out.append(".*")
        elif character == "?":
            out.append(".")
        else:
            out.append(re.escape(character))
    return re.compile("".join(out), re.DOTALL)


def parse_filters(filters, known, tags=False):
    """
    Check a request's C{Filters} and compile them.

    @param filters: the C{Filters} member of the input (or L{None}).
    @param known: the filter names the action knows.
    @param tags: whether C{tag:<key>}, C{tag-key} and C{tag-value} are known.
    @return: a list of L{Filter}.
    @raise InvalidParameterValue: an unknown filter, a filter without a name
        or without values.
    """
    parsed = []
    for number, given in enumerate(filters or (), 1):
        name = given.get("Name")
        if not name:
            raise InvalidParameterValue(f"Filter.{number} has no Name.")
        is_tag = name.startswith("tag:") or name in ("tag-key", "tag-value")
        if name not in known and not (tags and is_tag):
            raise InvalidParameterValue(f"The filter '{name}' is invalid")
        values = given.get("Values") or []
        if not values:
            raise InvalidParameterValue(f"The filter '{name}' has no values.")
        parsed.append(Filter(name, tuple(pattern(value) for value in values)))
    return parsed


def select(items, filters, fields, tags_of=None):
    """
    The items that match every filter of a request, in their order.

    @param items: the candidates.
    @param filters: the C{Filters} member of the input (or L{None}).
    @param fields: filter name to C{function(item)} giving the item's value,
        a list of values, or L{None} (no value: matches nothing); these are
        the filter names the action knows.
    @param tags_of: C{function(item)} giving the item's tags as a dict of
        key to value, for C{tag:} filters; without it they are unknown.
    @return: a list.
    @raise InvalidParameterValue: see L{parse_filters}.
    """
    parsed = parse_filters(filters, fields, tags=tags_of is not None)
    if not parsed:
        return list(items)
    return [item for item in items if all(f.matches(_values(f.name, item, fields, tags_of)) for f in parsed)]


def _values(name, item, fields, tags_of):
    if name in fields:
        value = fields[name](item)
    elif tags_of is None:
        value = None
    elif name == "tag-key":
        value = list(tags_of(item))
    elif name == "tag-value":
        value = list(tags_of(item).values())
    else:
        value = tags_of(item).get(name[len("tag:") :])
    if value is None:
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return [v for v in value if v is not None]
    return [value]
