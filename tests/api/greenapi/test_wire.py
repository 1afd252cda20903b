"""GREEN-API body parsing: any JSON a client sends becomes a patch or a clear InvalidInput."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleetgate.api.bodies import parse_body
from fleetgate.api.greenapi.wire import (
    READ_ONLY_KEYS,
    CreateInstanceBody,
    DeleteInstanceBody,
    to_patch,
)
from fleetgate.domain.config import SWITCHES, ConfigPatch
from fleetgate.errors import InvalidInput
from tests.outcomes import Outcomes, counted

# Written out from spec/green-api.md §1.1 (and getSettings), independently of wire.py.
EXPECTED_SWITCHES = {
    "markIncomingMessagesReaded": "mark_incoming_messages_read",
    "markIncomingMessagesReadedOnReply": "mark_incoming_messages_read_on_reply",
    "outgoingWebhook": "outgoing_webhook",
    "outgoingMessageWebhook": "outgoing_message_webhook",
    "outgoingAPIMessageWebhook": "outgoing_api_message_webhook",
    "incomingWebhook": "incoming_webhook",
    "deviceWebhook": "device_webhook",
    "statusInstanceWebhook": "status_instance_webhook",
    "stateWebhook": "state_webhook",
    "enableMessagesHistory": "enable_messages_history",
    "keepOnlineStatus": "keep_online_status",
    "pollMessageWebhook": "poll_message_webhook",
    "incomingBlockWebhook": "incoming_block_webhook",
    "incomingCallWebhook": "incoming_call_webhook",
    "editedMessageWebhook": "edited_message_webhook",
    "deletedMessageWebhook": "deleted_message_webhook",
}
TEXT_KEYS = ("name", "webhookUrl", "webhookUrlToken")
KNOWN_KEYS = (
    *EXPECTED_SWITCHES,
    *TEXT_KEYS,
    "delaySendMessagesMilliseconds",
    *READ_ONLY_KEYS,
)

# Everything orjson can hand over after parsing a request body.
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
# Objects that mostly use the real keys, so validation gets past "unknown field".
yes_no_ish = st.sampled_from(["yes", "no", "Yes", "NO", "", "true", "y"]) | json_scalars
url_ish = st.sampled_from(
    [
        "",
        "http://example.com/hook",
        "https://h.example:8443/x?y=1",
        "http://[::1]:80/",
        "http://[::1",
        "http://host:99999/",
        "http://host:0/",
        "http://host:port/",
        "ftp://example.com/",
        "https://",
        "http://exa mple.com/",
        "http://a\u2100b.com/",
        "http://\uff21.com/",
        "//example.com/",
    ]
) | st.text(max_size=40).map(lambda s: "http://" + s)
field_values: dict[str, st.SearchStrategy[Any]] = {
    **{key: yes_no_ish for key in EXPECTED_SWITCHES},
    "name": st.text(max_size=300) | json_scalars,
    "webhookUrl": url_ish | json_scalars,
    "webhookUrlToken": st.text(max_size=1100) | json_scalars,
    "delaySendMessagesMilliseconds": st.integers(-(2**63), 2**64 - 1) | json_values,
    **{key: json_values for key in READ_ONLY_KEYS},
}
near_valid_bodies = st.fixed_dictionaries({}, optional=field_values)
valid_switches = st.fixed_dictionaries(
    {}, optional={key: st.sampled_from(["yes", "no"]) for key in EXPECTED_SWITCHES}
)
# Everything check_text lets through: no C0/C1 controls, DEL or bidirectional formatting.
printable = st.characters(
    min_codepoint=32,
    exclude_characters="".join(map(chr, [*range(0x7F, 0xA0), *range(0x202A, 0x202F)]))
    + "".join(map(chr, range(0x2066, 0x206A))),
)
valid_urls = st.sampled_from(["", "http://127.0.0.1:9/h", "https://example.com/hook?a=b"])
# Bodies every key of which is within the spec's bounds: each must become a patch.
valid_bodies = st.fixed_dictionaries(
    {},
    optional={
        **{key: st.sampled_from(["yes", "no"]) for key in EXPECTED_SWITCHES},
        "name": st.text(printable, max_size=255),
        "webhookUrl": valid_urls,
        "webhookUrlToken": st.text(printable, max_size=50),
        "delaySendMessagesMilliseconds": st.integers(min_value=500, max_value=600_000),
    },
)
valid_delete_bodies = st.fixed_dictionaries({"idInstance": st.integers(1, 2**63 - 1)})
# The counted properties below must reach both ends on every run, so they do not vary by seed.
COUNTED = settings(derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])


def parse_create(data: Any) -> ConfigPatch:
    """What createInstance does with a parsed body before anything touches the database."""
    return validated(to_patch(parse_body(CreateInstanceBody, data)))


def parse_delete(data: Any) -> DeleteInstanceBody:
    return parse_body(DeleteInstanceBody, data)


def validated(patch: ConfigPatch) -> ConfigPatch:
    patch.validate()
    return patch


def test_wire_switch_table_is_the_spec_table() -> None:
    from fleetgate.api.greenapi.wire import WIRE_SWITCHES

    assert WIRE_SWITCHES == EXPECTED_SWITCHES
    assert sorted(EXPECTED_SWITCHES.values()) == sorted(SWITCHES)


@counted(COUNTED, data=json_values | valid_bodies)
def test_any_json_value_is_a_patch_or_invalid_input(outcomes: Outcomes, data: Any) -> None:
    patch = outcomes.parsed(parse_create, data)
    assert patch is None or isinstance(patch, ConfigPatch)


@counted(COUNTED, data=near_valid_bodies)
def test_near_valid_objects_are_a_patch_or_invalid_input(
    outcomes: Outcomes, data: dict[str, Any]
) -> None:
    patch = outcomes.parsed(parse_create, data)
    if patch is not None:
        assert set(patch.switches) <= set(SWITCHES)
        assert patch.name == data.get("name")
        assert patch.webhook_url == data.get("webhookUrl")


@given(data=valid_bodies)
def test_a_body_within_the_spec_bounds_is_accepted(data: dict[str, Any]) -> None:
    patch = parse_create(data)
    assert patch.name == data.get("name")
    assert patch.webhook_url == data.get("webhookUrl")
    assert patch.webhook_url_token == data.get("webhookUrlToken")
    assert patch.delay_send_ms == data.get("delaySendMessagesMilliseconds")
    assert patch.switches == {
        EXPECTED_SWITCHES[k]: v == "yes" for k, v in data.items() if k in EXPECTED_SWITCHES
    }


@counted(COUNTED, data=json_values | valid_delete_bodies)
def test_delete_body_is_an_int_id_or_invalid_input(outcomes: Outcomes, data: Any) -> None:
    body = outcomes.parsed(parse_delete, data)
    if body is not None:
        assert isinstance(data, dict)
        assert type(data["idInstance"]) is int
        assert body.idInstance == data["idInstance"]


@given(data=valid_delete_bodies)
def test_a_delete_body_with_an_int_id_is_accepted(data: dict[str, int]) -> None:
    assert parse_body(DeleteInstanceBody, data).idInstance == data["idInstance"]


@given(switches=valid_switches)
def test_valid_switches_map_to_the_right_names(switches: dict[str, str]) -> None:
    patch = parse_create(switches)
    assert patch.switches == {EXPECTED_SWITCHES[k]: v == "yes" for k, v in switches.items()}
    assert patch.name is None
    assert patch.webhook_url is None
    assert patch.webhook_url_token is None
    assert patch.delay_send_ms is None
    assert patch.is_empty() is (not switches)


@given(
    switches=valid_switches,
    name=st.none() | st.text(printable, max_size=255),
    url=st.sampled_from([None, "", "http://127.0.0.1:9/h", "https://example.com/hook?a=b"]),
    token=st.none() | st.text(printable, max_size=50),
    delay=st.none() | st.integers(min_value=500, max_value=600_000),
)
def test_valid_bodies_map_every_key(
    switches: dict[str, str],
    name: str | None,
    url: str | None,
    token: str | None,
    delay: int | None,
) -> None:
    body: dict[str, Any] = dict(switches)
    for key, value in (
        ("name", name),
        ("webhookUrl", url),
        ("webhookUrlToken", token),
        ("delaySendMessagesMilliseconds", delay),
    ):
        if value is not None:
            body[key] = value
    patch = parse_create(body)
    assert patch == ConfigPatch(
        name=name,
        webhook_url=url,
        webhook_url_token=token,
        delay_send_ms=delay,
        switches={EXPECTED_SWITCHES[k]: v == "yes" for k, v in switches.items()},
    )


@pytest.mark.parametrize("key", list(EXPECTED_SWITCHES))
def test_each_switch_on_and_off(key: str) -> None:
    assert parse_create({key: "yes"}).switches == {EXPECTED_SWITCHES[key]: True}
    assert parse_create({key: "no"}).switches == {EXPECTED_SWITCHES[key]: False}


@pytest.mark.parametrize("value", ["Yes", "YES", "true", "", True, 1, None, ["yes"]])
def test_yes_no_is_exact(value: Any) -> None:
    if value is None:
        # JSON null means "leave as it is", like an absent key.
        assert parse_create({"incomingWebhook": value}).is_empty()
        return
    with pytest.raises(InvalidInput, match='incomingWebhook must be "yes" or "no"'):
        parse_create({"incomingWebhook": value})


def test_getsettings_answer_can_be_sent_back_as_is() -> None:
    answer = {
        "wid": "79001234567@c.us",
        "countryInstance": "",
        "typeAccount": "",
        "sharedSession": "no",
        "proxyInstance": {"host": "x"},
        "webhookUrl": "https://example.com/hook",
        "webhookUrlToken": "",
        "delaySendMessagesMilliseconds": 5000,
        **{key: "no" for key in EXPECTED_SWITCHES},
        "incomingWebhook": "yes",
    }
    patch = parse_create(answer)
    assert patch.webhook_url == "https://example.com/hook"
    assert patch.delay_send_ms == 5000
    assert patch.switches["incoming_webhook"] is True
    assert sum(patch.switches.values()) == 1
    assert len(patch.switches) == len(SWITCHES)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "request body must be a JSON object"),
        ("yes", "request body must be a JSON object"),
        (3, "request body must be a JSON object"),
        ({"nmae": "x"}, "unknown field nmae"),
        ({"name": 5}, "name must be a string"),
        (
            {"delaySendMessagesMilliseconds": "1000"},
            "delaySendMessagesMilliseconds must be an integer",
        ),
        (
            {"delaySendMessagesMilliseconds": 1000.0},
            "delaySendMessagesMilliseconds must be an integer",
        ),
        (
            {"delaySendMessagesMilliseconds": True},
            "delaySendMessagesMilliseconds must be an integer",
        ),
        ({"delaySendMessagesMilliseconds": 499}, "from 500 to 600000"),
        ({"delaySendMessagesMilliseconds": 600_001}, "from 500 to 600000"),
        ({"delaySendMessagesMilliseconds": 2**64 - 1}, "from 500 to 600000"),
        ({"webhookUrl": "ftp://example.com/"}, "http:// or https://"),
        ({"webhookUrl": "http://host:99999/"}, "not a valid URL"),
        ({"webhookUrl": "http://[::1/"}, "not a valid URL"),
        ({"webhookUrl": "http://user@host/"}, "user name or password"),
        ({"webhookUrl": "http://@host/"}, "user name or password"),
        ({"webhookUrl": "http://host\\@evil.example/"}, "user name or password"),
        ({"webhookUrl": "https://" + "a" * 2048}, "at most 2048"),
        ({"name": "a\nb"}, "control characters"),
        ({"name": "a\u202ab"}, "control characters"),
        ({"name": "a\u2068b"}, "control characters"),
        ({"name": "a\x9fb"}, "control characters"),
        ({"name": "x" * 256}, "at most 255"),
        ({"webhookUrlToken": "t\x00"}, "control characters"),
    ],
)
def test_bad_bodies_say_what_is_wrong(data: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        parse_create(data)


@pytest.mark.parametrize("data", [None, {}])
def test_empty_body_is_an_empty_patch(data: Any) -> None:
    assert parse_create(data).is_empty()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "field idInstance is required"),
        ({"idInstance": "1101000000"}, "idInstance must be an integer"),
        ({"idInstance": 1101000000.0}, "idInstance must be an integer"),
        ({"idInstance": 1, "x": 1}, "unknown field x"),
        (None, "field idInstance is required"),
    ],
)
def test_delete_body_errors(data: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_body(DeleteInstanceBody, data)


@counted(
    COUNTED,
    switches=st.dictionaries(st.text(max_size=20), st.booleans(), max_size=4)
    | st.dictionaries(st.sampled_from(sorted(SWITCHES)), st.booleans()),
    delay=st.none() | st.integers() | st.integers(min_value=500, max_value=600_000),
    name=st.none() | st.text(max_size=300) | st.text(printable, max_size=255),
    url=st.none() | url_ish | valid_urls,
)
def test_config_patch_validate_only_raises_invalid_input(
    outcomes: Outcomes,
    switches: dict[str, bool],
    delay: int | None,
    name: str | None,
    url: str | None,
) -> None:
    patch = ConfigPatch(name=name, webhook_url=url, delay_send_ms=delay, switches=switches)
    if outcomes.parsed(validated, patch) is not None:
        assert set(switches) <= set(SWITCHES)
        assert delay is None or 500 <= delay <= 600_000
        assert name is None or len(name) <= 255


@given(
    switches=st.dictionaries(st.sampled_from(sorted(SWITCHES)), st.booleans()),
    delay=st.none() | st.integers(min_value=500, max_value=600_000),
    name=st.none() | st.text(printable, max_size=255),
    url=st.none() | valid_urls,
)
def test_a_config_patch_within_bounds_validates(
    switches: dict[str, bool], delay: int | None, name: str | None, url: str | None
) -> None:
    ConfigPatch(name=name, webhook_url=url, delay_send_ms=delay, switches=switches).validate()
