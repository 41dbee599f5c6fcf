# -*- test-case-name: tests.services.clc.test_ec2_query,tests.services.clc.test_ec2_serialize -*-
"""
hypothesis strategies for values of botocore shapes, to drive the EC2 query
parser and response serialiser against botocore's own serialiser and
parser over the whole EC2 model.
"""

from datetime import datetime, timezone

from hypothesis import strategies as st

from eucalyptus.services.clc.ec2 import model

__all__ = ["OPERATIONS", "values_of", "prune", "has_required", "walk_structures"]

#: Every action of the EC2 model.
OPERATIONS = sorted(model.service_model().operation_names)

# Text XML 1.0 can carry, and that a form body carries unchanged.
_TEXT = st.text(
    st.characters(
        blacklist_categories=("Cs", "Cc"),
        blacklist_characters="\ufffe\uffff",
    )
    | st.sampled_from(" \t\n"),
    max_size=12,
)

_TIMES = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(2100, 1, 1),
    timezones=st.just(timezone.utc),
)


def values_of(shape, depth=4, times=_TIMES):
    """
    A strategy for values of C{shape}: required members always, optional
    ones sometimes, no deeper than C{depth} structures.

    @param times: the strategy for timestamps.
    """
    kind = shape.type_name
    if kind == "structure":
        if depth == 0:
            return st.just({})
        members = {
            name: values_of(member, depth - 1, times) for name, member in shape.members.items()
        }
        if shape.is_tagged_union:
            return st.sampled_from(sorted(members)).flatmap(lambda name: st.fixed_dictionaries({name: members[name]}))
        required = {name: members[name] for name in shape.required_members}
        optional = {name: strategy for name, strategy in members.items() if name not in required}
        return st.fixed_dictionaries(required, optional=optional)
    if kind == "list":
        if depth == 0:
            return st.just([])
        return st.lists(values_of(shape.member, depth - 1, times), max_size=3)
    if kind in ("integer", "long"):
        return st.integers(-(2**40), 2**40)
    if kind in ("float", "double"):
        return st.floats(allow_nan=False, allow_infinity=False)
    return {
        "string": _TEXT,
        "boolean": st.booleans(),
        "timestamp": times,
        "blob": st.binary(max_size=12),
    }[kind]


def prune(value):
    """
    C{value} without what the query protocol cannot carry: empty dicts, and
    empty lists (and the members that held them).
    """
    if isinstance(value, dict):
        pruned = {key: prune(item) for key, item in value.items()}
        return {key: item for key, item in pruned.items() if item != {} and item != []}
    if isinstance(value, list):
        pruned = [prune(item) for item in value]
        return [item for item in pruned if item != {} and item != []]
    return value


def has_required(shape, value):
    """
    Whether C{value} holds every required member of C{shape}, at every
    level (after L{prune}, a required but empty structure is gone).
    """
    if shape.type_name == "structure":
        return all(name in value for name in shape.required_members) and all(
            has_required(shape.members[name], item) for name, item in value.items()
        )
    if shape.type_name == "list":
        return all(has_required(shape.member, item) for item in value)
    return True


def walk_structures(output=False):
    """
    Every structure shape reachable from the actions' inputs (or outputs),
    once each by name.
    """
    service = model.service_model()
    seen = {}
    stack = []
    for name in OPERATIONS:
        operation = service.operation_model(name)
        shape = operation.output_shape if output else operation.input_shape
        if shape is not None:
            stack.append(shape)
    while stack:
        shape = stack.pop()
        if shape.name in seen:
            continue
        if shape.type_name == "list":
            stack.append(shape.member)
        elif shape.type_name == "structure":
            seen[shape.name] = shape
            stack.extend(shape.members.values())
    return list(seen.values())
