"""Hypothesis on the wire parsers: any JSON gives a parsed value or the façade's validation
error (InvalidInput, or NotFound for a Z-API path id), never another exception.

Inputs are what orjson can hand a parser: null, booleans, integers of any size, finite
floats, strings with any code point but lone surrogates, lists and objects, nested. Objects
are drawn both at random and with the model's own keys, so values reach every field check.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from fleetgate.api import sandbox
from fleetgate.api.admin.dead_letters import ReplayBody
from fleetgate.api.bodies import parse_body
from fleetgate.api.errors import error_response
from fleetgate.api.greenapi import sending_wire as sw
from fleetgate.api.greenapi import wire as gw
from fleetgate.api.greenapi.errors import INSTANCE_ERRORS, PARTNER_ERRORS
from fleetgate.api.zapi import wire as zw
from fleetgate.api.zapi.auth import instance_id
from fleetgate.api.zapi.sending import chat_id
from fleetgate.errors import FleetgateError, InvalidInput, NotFound
from fleetgate.ids import digits_value, is_digits
from tests.outcomes import Outcomes, counted

EXAMPLES = 150
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
# Strings shaped like the things fields hold, so that checks past the type are reached.
plausible = st.one_of(
    texts,
    st.from_regex(r"\A[0-9]{1,25}(@c\.us|@g\.us|-[0-9]{1,22}@g\.us|-group)?\Z"),
    st.from_regex(r"\Ahttps?://[a-z0-9.:\[\]@%\x00 -]{0,30}(/[^\s]{0,10})?\Z"),
    st.sampled_from(["yes", "no", "", "web", "mobile", "typing", "available", " "]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    plausible,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)

GREEN_MODELS: list[type[BaseModel]] = [
    gw.CreateInstanceBody,
    gw.SetSettingsBody,
    gw.AuthorizationCodeBody,
    gw.HistoryBody,
    gw.DeleteInstanceBody,
    sw.SendMessageBody,
    sw.SendFileByUrlBody,
    sw.SendLocationBody,
    sw.SendContactBody,
    sw.SendPollBody,
    sw.ForwardMessagesBody,
    sw.ChatBody,
    sw.ChatHistoryBody,
    sw.MessageRefBody,
    sw.PhoneBody,
]
ZAPI_MODELS: list[type[BaseModel]] = [
    zw.CreateBody,
    zw.TextValue,
    zw.NameValue,
    zw.MessageValue,
    zw.BoolValue,
    zw.EveryWebhooks,
    zw.NotifySentByMe,
    zw.WithCalls,
    zw.BatchDelete,
    zw.SendText,
]
PLAIN_MODELS: list[type[BaseModel]] = [
    sandbox.ScanBody,
    sandbox.CodeBody,
    sandbox.PhoneMessageBody,
    sandbox.PhoneReadBody,
    sandbox.PhonePresenceBody,
    ReplayBody,
]


def bodies(model: type[BaseModel]) -> st.SearchStrategy[Any]:
    """Any JSON, or objects with some of the model's keys (nested models' keys too)."""
    keys = sorted(_keys(model))
    shaped = st.dictionaries(st.sampled_from(keys), json_values | _nested(model), max_size=6)
    return st.one_of(json_values, shaped)


def _keys(model: type[BaseModel]) -> set[str]:
    found = set(model.model_fields)
    for field in model.model_fields.values():
        for arg in _model_args(field.annotation):
            found |= _keys(arg)
    return found


def _model_args(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _model_args(arg)]


def _nested(model: type[BaseModel]) -> st.SearchStrategy[Any]:
    inner = [arg for f in model.model_fields.values() for arg in _model_args(f.annotation)]
    if not inner:
        return st.nothing()
    shaped = st.one_of(
        *(st.dictionaries(st.sampled_from(sorted(m.model_fields)), json_values) for m in inner)
    )
    return shaped | st.lists(shaped, max_size=13)


def _is_clear(exc: FleetgateError) -> bool:
    return isinstance(exc.message, str) and exc.message.strip() != ""


def _use(body: BaseModel) -> None:
    """What the routes do with a parsed body: it must not fail either (but may refuse)."""
    if hasattr(body, "message_data"):
        orjson.dumps(body.message_data())
    if isinstance(body, sw.PhoneBody):
        body.phone()
    if isinstance(body, gw.CreateInstanceBody | gw.SetSettingsBody):
        gw.to_patch(body).validate()
    if isinstance(body, zw.CreateBody):
        body.patch().validate()


def _check(model: type[BaseModel], data: Any) -> None:
    try:
        _use(parse_body(model, data))
    except InvalidInput as exc:
        assert _is_clear(exc), exc
        for table in (PARTNER_ERRORS, INSTANCE_ERRORS):
            response = error_response(table, exc)
            assert response.status_code == 400, response.body
            assert orjson.loads(response.body)["description"] == exc.message


@pytest.mark.parametrize(
    "model", GREEN_MODELS + ZAPI_MODELS + PLAIN_MODELS, ids=lambda m: m.__name__
)
def test_a_body_parses_or_is_refused_clearly(model: type[BaseModel]) -> None:
    @FUZZ
    @given(data=bodies(model))
    def check(data: Any) -> None:
        _check(model, data)

    check()


# Chat ids as the spec writes them, independently of the parser's pattern: a phone with its
# country code, a group id new (120363...) or old (<creator phone>-<creation time>).
phones = st.from_regex(r"\A[1-9][0-9]{9,14}\Z")
groups = st.from_regex(r"\A120363[0-9]{12}\Z") | st.from_regex(r"\A[1-9][0-9]{10}-1[0-9]{9}\Z")
valid_chat_ids = st.one_of(phones.map(lambda p: f"{p}@c.us"), groups.map(lambda g: f"{g}@g.us"))


@FUZZ
@given(text=valid_chat_ids)
def test_a_green_chat_id_in_the_spec_format_is_accepted(text: str) -> None:
    assert sw.check_chat_id(text) == text


@counted(FUZZ, text=plausible | valid_chat_ids)
def test_a_green_chat_id_is_valid_or_refused(outcomes: Outcomes, text: str) -> None:
    found = outcomes.parsed(sw.check_chat_id, text)
    assert found in (None, text)


@FUZZ
@given(
    phone_and_chat=st.one_of(
        phones.map(lambda p: (p, f"{p}@c.us")),
        groups.map(lambda g: (f"{g}-group", f"{g}@g.us")),
        valid_chat_ids.map(lambda c: (c, c)),
    )
)
def test_a_zapi_phone_in_the_spec_format_becomes_its_chat_id(
    phone_and_chat: tuple[str, str],
) -> None:
    phone, expected = phone_and_chat
    assert chat_id(phone) == expected


@counted(FUZZ, text=plausible | phones | valid_chat_ids)
def test_a_zapi_phone_becomes_a_chat_id_or_is_refused(outcomes: Outcomes, text: str) -> None:
    found = outcomes.parsed(chat_id, text)
    if found is not None:  # what Z-API accepts, GREEN-API accepts too
        assert sw.check_chat_id(found) == found


@FUZZ
@given(value=st.integers(min_value=0, max_value=10**18 - 1))
def test_a_zapi_path_id_of_up_to_18_digits_is_its_value(value: int) -> None:
    assert instance_id(str(value)) == value


@counted(
    FUZZ,
    text=plausible
    | st.from_regex(r"\A[0-9]{15,30}\Z")
    | st.integers(min_value=0, max_value=10**18 - 1).map(str),
)
def test_a_zapi_path_id_is_a_64_bit_integer_or_not_found(outcomes: Outcomes, text: str) -> None:
    value = outcomes.parsed(instance_id, text, NotFound)
    if value is not None:
        assert 0 <= value < 2**63
        assert value == int(text)


@FUZZ
@given(text=plausible | st.integers(15, 5000).map(lambda n: "9" * n))
def test_digits_have_a_bounded_value(text: str) -> None:
    if is_digits(text):
        assert 0 <= digits_value(text) <= 10**19
        assert len(text) > 19 or digits_value(text) == int(text)
