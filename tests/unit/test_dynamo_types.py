"""core/dynamo_types.py converts as boto3's TypeSerializer and TypeDeserializer do (the layer
does not import boto3: docs/performance.md), values and refusals alike."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import given
from hypothesis import strategies as st
from qbo_sync.core.dynamo_types import deserialize, serialize


def values(nan: bool = True) -> st.SearchStrategy[Any]:
    """`nan`: with NaN numbers (boto3 stores "-NaN", and NaN equals nothing when read back)."""
    numbers = st.integers(min_value=-(10**40), max_value=10**40) | st.decimals(
        allow_nan=nan, allow_infinity=True, places=None
    )
    scalars = st.none() | st.booleans() | numbers | st.text() | st.binary()
    sets = (
        st.frozensets(st.text(), max_size=4)
        | st.sets(st.integers(), min_size=1, max_size=4)
        | st.sets(st.binary(), min_size=1, max_size=4)
    )
    return st.recursive(
        scalars | sets,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.tuples(inner, inner)
            | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    )


def _outcome(convert: Any, value: Any) -> Any:
    try:
        return ("value", convert(value))
    except Exception as error:  # the same refusal: its type and its words
        return ("refused", type(error), str(error))


@given(values())
def test_serialized_as_boto3_serializes(value: Any) -> None:
    assert _outcome(serialize, value) == _outcome(TypeSerializer().serialize, value)


@given(values(nan=False))
def test_read_back_as_boto3_reads(value: Any) -> None:
    try:
        stored = TypeSerializer().serialize(value)
    except Exception:
        return  # what DynamoDB cannot hold is never read back
    assert deserialize(stored) == TypeDeserializer().deserialize(stored)


def test_what_boto3_refuses_is_refused_with_its_reason() -> None:
    for value in (1.5, Decimal("NaN"), Decimal("1.0000000000000000000000000000000000000001"), {}):
        refusal = _outcome(TypeSerializer().serialize, value)
        if refusal[0] == "value":
            assert serialize(value) == refusal[1]
        else:
            assert _outcome(serialize, value) == refusal
    with pytest.raises(TypeError, match="not supported"):
        deserialize({"X": "1"})
