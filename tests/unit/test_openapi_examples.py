"""The argument synthesizer the corpus and Prism tests rely on: values valid for their schemas, regex samples
that match their pattern within the length bounds, and a pattern check safe from catastrophic backtracking.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_docs import doc, op
from openapi_examples import Examples, NotExampleable
from openapi_regex import NoSample, matches, python_pattern, sample_regex
from openapi_schemas import REQUEST, RESPONSE

from myclient.openapi import SpecModel


@pytest.mark.parametrize(("pattern", "low", "high"), [
    (r"^\d{4}-\d{2}$", 0, None), (r"^[a-z0-9-]+$", 5, 10), (r"\d+", 12, 12), (r"^(foo|bar)+$", 0, 3),
    (r"^[\.\-_A-Za-z0-9]+$", 1, 64), (r"^(?<name>ab)c$", 0, None), (r"^[\p{L}\p{N}_.:/=+\-@]*$", 1, 128),
    (r"^[\w-.+]+@[\w-.+]+$", 0, None), (r"\p{XDigit}{8}-\p{XDigit}{4}", 0, None), (r"[\P{C}\s]+", 1, 10),
    (r"arn:aws(-[\w]+)*:codepipeline:.+:[0-9]{12}:.+", 0, None), (r"^ghp_[A-Za-z0-9]{36}$", 0, None),
    (r"[a-zA-Z0-9][a-zA-Z0-9-]*", 36, 36), (r"[\w :+=./\n-]*", 600, 2400),
])
def test_regex_samples_match_their_pattern_within_the_bounds(pattern: str, low: int, high: int | None) -> None:
    text = sample_regex(pattern, low, high)
    assert re.search(python_pattern(pattern), text)
    assert low <= len(text) and (high is None or len(text) <= high)
    assert text not in ("", ".", "..")  # usable as a path segment


def test_unsatisfiable_or_foreign_patterns_say_so() -> None:
    with pytest.raises(NoSample, match=r"no string of length 1\.\.50"):
        sample_regex("/^[a-z0-9._]+$/", 1, 50)  # a JavaScript regex literal, slashes included
    with pytest.raises(NoSample, match="is not a regular expression Python reads"):
        sample_regex(r"[\p{all}]*")


def test_matching_a_backtracking_pattern_is_bounded() -> None:
    started = time.process_time()
    assert matches(r"^(a+)+$", "a" * 40 + "b") is False
    assert matches(r"^([\w \.-]*)*\/?$", "https://example.com/a b/c-d.e/" * 3 + "?") is False
    assert time.process_time() - started < 2.0
    assert matches(r"^(a+)+$", "aaaa") is True
    assert matches(r"[", "anything") is True  # nothing to check against


def _model(schema: dict[str, Any]) -> Examples:
    return Examples(SpecModel(doc({"/x": {"post": op("x", requestBody={"required": True, "content": {
        "application/json": {"schema": schema}}})}})))


_SCALARS = st.one_of(
    st.builds(lambda low, extra: {"type": "string", "minLength": low, "maxLength": low + extra},
              st.integers(0, 40), st.integers(0, 10)),
    st.builds(lambda low, span, step: {"type": "integer", "minimum": low, "maximum": low + span * step,
                                       "multipleOf": step}, st.integers(-50, 50), st.integers(1, 5),
              st.integers(1, 7)),
    st.builds(lambda low, x: {"type": "number", "minimum": low, "exclusiveMinimum": x, "maximum": low + 3},
              st.floats(-100, 100, allow_nan=False), st.booleans()),
    st.sampled_from([{"type": "string", "format": f} for f in ("date-time", "date", "email", "uuid", "uri")]),
    st.lists(st.text("abc", min_size=1, max_size=3), min_size=1, max_size=4, unique=True).map(
        lambda values: {"type": "string", "enum": values}),
    st.just({"type": "boolean"}),
)
_SCHEMAS = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.builds(lambda items, low: {"type": "array", "items": items, "minItems": low}, inner, st.integers(0, 3)),
    st.dictionaries(st.sampled_from("abcde"), inner, min_size=1, max_size=4).flatmap(
        lambda props: st.builds(lambda required: {"type": "object", "properties": props, "required": required,
                                                  "additionalProperties": False},
                                st.lists(st.sampled_from(sorted(props)), unique=True))),
    st.lists(inner, min_size=1, max_size=3).map(lambda parts: {"allOf": parts}),
), max_leaves=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_SCHEMAS)
def test_values_made_for_a_schema_fit_it(schema: dict[str, Any]) -> None:
    examples = _model(schema)
    for mode in (REQUEST, RESPONSE):
        try:
            value = examples.value(schema, mode)
        except NotExampleable:
            continue  # allOf of contradicting parts: nothing valid exists
        assert examples.conforms(value, schema, mode), (value, examples.mismatch(value, schema, mode))


def test_arguments_hold_what_the_operation_requires_and_no_more() -> None:
    document = doc({"/w/{id}": {"post": op("w", parameters=[
        {"name": "id", "in": "path", "required": True, "schema": {"oneOf": [{"type": "integer"}, {"type": "string"}]}},
        {"name": "q", "in": "query", "schema": {"type": "string"}},
        {"name": "Accept", "in": "header", "schema": {"type": "string", "enum": ["application/json"]}},
        {"name": "n", "in": "query", "required": True, "example": 7, "schema": {"type": "integer", "minimum": 5}}],
        requestBody={"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["id", "name"], "properties": {
                "id": {"type": "integer", "readOnly": True}, "name": {"type": "string", "pattern": "^[A-Z]{3}$"},
                "note": {"type": "string"}}}}}})}})
    model = SpecModel(document)
    arguments = Examples(model).arguments(model.operations[0])
    assert set(arguments) == {"id", "accept", "n", "body"}
    assert isinstance(arguments["id"], str) and not arguments["id"].isdigit()  # "1" would fit both branches
    assert arguments["accept"] == "application/json" and arguments["n"] == 7
    assert arguments["body"] == {"name": "AAA"}  # readOnly left out, optional left out
