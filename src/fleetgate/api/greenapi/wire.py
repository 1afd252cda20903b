"""GREEN-API wire names and body models: camelCase keys and "yes"/"no" live only here."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from fleetgate.api.bodies import Int64
from fleetgate.domain.config import SWITCHES, ConfigPatch
from fleetgate.domain.instances import InstanceView

YesNo = Literal["yes", "no"]

# Wire key -> switch name of the settings model, in the order getSettings shows them.
WIRE_SWITCHES: dict[str, str] = {
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
assert sorted(WIRE_SWITCHES.values()) == sorted(SWITCHES)

# Keys getSettings shows but nobody can set; accepted and ignored so that a getSettings
# answer can be sent back as is.
READ_ONLY_KEYS = ("wid", "countryInstance", "typeAccount", "sharedSession", "proxyInstance")

_STRICT = ConfigDict(extra="forbid", strict=True)


class _SettingsBase(BaseModel):
    model_config = _STRICT

    webhookUrl: str | None = Field(None, description='Webhook target; "" = poll instead.')
    webhookUrlToken: str | None = Field(
        None, description="Sent to the webhook as `Authorization: Bearer <token>`."
    )
    delaySendMessagesMilliseconds: int | None = Field(
        None, description="Pause between two sends of the queue, 500..600000 ms."
    )


def _settings_model(name: str, base: type[BaseModel], doc: str) -> type[BaseModel]:
    fields: dict[str, Any] = {key: (YesNo | None, None) for key in WIRE_SWITCHES}
    fields |= {key: (Any, Field(None, description="read-only, ignored")) for key in READ_ONLY_KEYS}
    model = create_model(name, __base__=base, **fields)
    model.__doc__ = doc
    return model


class _CreateBase(_SettingsBase):
    name: str | None = Field(None, description="Display name; default `Instance <idInstance>`.")


CreateInstanceBody = _settings_model(
    "CreateInstanceBody", _CreateBase, "Settings of the new instance; every key is optional."
)


SetSettingsBody = _settings_model(
    "SetSettingsBody", _SettingsBase, "Settings to change; at least one key is required."
)


class AuthorizationCodeBody(BaseModel):
    """The phone that will type the pairing code, digits only with the country code."""

    model_config = _STRICT
    phoneNumber: int


class HistoryBody(BaseModel):
    """How many state changes to return (1..1000, default 100)."""

    model_config = _STRICT
    count: int | None = None


class DeleteInstanceBody(BaseModel):
    """Which instance to delete."""

    model_config = _STRICT
    idInstance: Int64


def to_patch(body: BaseModel) -> ConfigPatch:
    """The settings change a validated GREEN-API body asks for."""
    data = body.model_dump(exclude_none=True)
    return ConfigPatch(
        name=data.get("name"),
        webhook_url=data.get("webhookUrl"),
        webhook_url_token=data.get("webhookUrlToken"),
        delay_send_ms=data.get("delaySendMessagesMilliseconds"),
        switches={WIRE_SWITCHES[k]: v == "yes" for k, v in data.items() if k in WIRE_SWITCHES},
    )


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def settings_of(instance: InstanceView, *, webhook_url_token: str) -> dict[str, Any]:
    """The getSettings object, keys in the order real answers show them."""
    sw = instance.switches
    head: dict[str, Any] = {
        "wid": instance.wid,
        "countryInstance": "",
        "typeAccount": "",
        "webhookUrl": instance.webhook_url,
        "webhookUrlToken": webhook_url_token,
        "delaySendMessagesMilliseconds": instance.delay_send_ms,
        "markIncomingMessagesReaded": yes_no(sw["mark_incoming_messages_read"]),
        "markIncomingMessagesReadedOnReply": yes_no(sw["mark_incoming_messages_read_on_reply"]),
        "sharedSession": "no",
        "proxyInstance": "",
    }
    tail = {
        key: yes_no(sw[name])
        for key, name in WIRE_SWITCHES.items()
        if not key.startswith("markIncoming")
    }
    return head | tail
