"""Z-API request bodies and response shapes (camelCase names live only here)."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fleetgate.api.bodies import NO_CONTROL
from fleetgate.domain.config import ConfigPatch
from fleetgate.domain.instances import InstanceView, State
from fleetgate.services import subscriptions

# Unknown keys are ignored (newer clients send more); known ones must have the right type.
_BODY = ConfigDict(extra="ignore", strict=True)
URL_MAX = 2048

# Z-API *CallbackUrl key -> (callback event, GREEN switches that must all be on for the
# default webhook URL to show there when the event has no URL of its own).
CALLBACK_URL_KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "deliveryCallbackUrl": ("delivery", ("outgoing_api_message_webhook",)),
    "receivedCallbackUrl": ("received", ("incoming_webhook",)),
    "disconnectedCallbackUrl": ("disconnected", ("state_webhook",)),
    "messageStatusCallbackUrl": ("message_status", ("outgoing_webhook",)),
    "receivedAndDeliveryCallbackUrl": (
        "received_delivery",
        ("incoming_webhook", "outgoing_message_webhook"),
    ),
    "presenceChatCallbackUrl": ("presence_chat", ()),
    "connectedCallbackUrl": ("connected", ("state_webhook",)),
}
# Z-API shows this key but has no setter for it: always empty.
RECEIVED_STATUS_KEY = "receivedStatusCallbackUrl"


class CreateBody(BaseModel):
    """POST /instances/integrator/on-demand."""

    model_config = _BODY
    name: str = Field(min_length=1, max_length=255)
    sessionName: str | None = Field(None, max_length=100)
    deliveryCallbackUrl: str | None = Field(None, max_length=URL_MAX)
    receivedCallbackUrl: str | None = Field(None, max_length=URL_MAX)
    receivedAndDeliveryCallbackUrl: str | None = Field(None, max_length=URL_MAX)
    messageStatusCallbackUrl: str | None = Field(None, max_length=URL_MAX)
    presenceChatCallbackUrl: str | None = Field(None, max_length=URL_MAX)
    connectedCallbackUrl: str | None = Field(None, max_length=URL_MAX)
    disconnectedCallbackUrl: str | None = Field(None, max_length=URL_MAX)
    callRejectAuto: bool | None = None
    callRejectMessage: str | None = Field(None, max_length=1000)
    autoReadMessage: bool | None = None
    autoReadStatus: bool | None = None
    isDevice: bool | None = None
    businessDevice: bool | None = None
    disableEnqueueWhenDisconnected: bool | None = None

    def patch(self) -> ConfigPatch:
        urls = {
            event: getattr(self, key)
            for key, (event, _) in CALLBACK_URL_KEYS.items()
            if getattr(self, key) is not None
        }
        options: dict[str, bool | str] = {
            name: value
            for name, value in (
                ("session_name", self.sessionName),
                ("call_reject_auto", self.callRejectAuto),
                ("call_reject_message", self.callRejectMessage),
                ("auto_read_status", self.autoReadStatus),
                ("business_device", self.businessDevice),
                ("disable_enqueue_when_disconnected", self.disableEnqueueWhenDisconnected),
            )
            if value is not None
        }
        if self.isDevice is not None:
            options["middleware"] = "mobile" if self.isDevice else "web"
        switches = {}
        if self.autoReadMessage is not None:
            switches["mark_incoming_messages_read"] = self.autoReadMessage
        return ConfigPatch(name=self.name, callbacks=urls, options=options, switches=switches)


class TextValue(BaseModel):
    model_config = _BODY
    value: str = Field(max_length=URL_MAX)


class NameValue(BaseModel):
    model_config = _BODY
    value: str = Field(min_length=1, max_length=255)


class MessageValue(BaseModel):
    model_config = _BODY
    value: str = Field(max_length=1000)


class BoolValue(BaseModel):
    model_config = _BODY
    value: bool


class EveryWebhooks(BaseModel):
    model_config = _BODY
    value: str = Field(max_length=URL_MAX)
    notifySentByMe: bool | None = None


class NotifySentByMe(BaseModel):
    model_config = _BODY
    notifySentByMe: bool


class WithCalls(BaseModel):
    model_config = _BODY
    withCalls: bool | None = None


class InstanceRef(BaseModel):
    model_config = _BODY
    id: str = Field(min_length=1, max_length=40)
    token: str = Field(min_length=1, max_length=200)


class BatchDelete(BaseModel):
    model_config = _BODY
    instances: list[InstanceRef] = Field(min_length=1, max_length=100)


class SendText(BaseModel):
    """POST send-text."""

    model_config = _BODY
    phone: str = Field(min_length=1, max_length=64)
    message: str = Field(min_length=1, max_length=20_000)
    delayMessage: int | None = Field(None, ge=1, le=15)
    delayTyping: int | None = Field(None, ge=0, le=15)
    editMessageId: str | None = Field(None, min_length=1, max_length=64, pattern=NO_CONTROL)
    messageId: str | None = Field(None, min_length=1, max_length=64, pattern=NO_CONTROL)


def callback_urls(instance: InstanceView) -> dict[str, str]:
    """The Z-API *CallbackUrl keys as a Z-API client reads them (see fallback rule).

    An event's own URL if set; else the GREEN-API default webhook URL when the GREEN switches
    for that event are on, so a GREEN-API setting shows through Z-API; else "". The fallback
    is only shown: zapi_callbacks posts to the instance's own callback URLs alone, since the
    default URL already gets the GREEN-API notifications.
    """
    urls: dict[str, str] = {}
    for key, (event, switches) in CALLBACK_URL_KEYS.items():
        own = instance.callbacks.get(event, "")
        if own:
            urls[key] = own
        elif switches and all(instance.switches.get(s, False) for s in switches):
            urls[key] = instance.webhook_url
        else:
            urls[key] = ""
    urls[RECEIVED_STATUS_KEY] = ""
    return urls


def iso_time(ms: int) -> str:
    """Epoch ms as ISO-8601 UTC with milliseconds (``2026-12-01T05:43:07.123Z``)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def list_item(instance: InstanceView, token: str, now: int) -> dict[str, Any]:
    """One instance of ``GET /instances`` (keys in the order Z-API shows them)."""
    connected = instance.state == State.AUTHORIZED
    return {
        "token": token,
        "tenant": str(instance.partner_id),
        "created": iso_time(instance.created_ms),
        "due": subscriptions.due_ms(instance, now),
        "paymentStatus": subscriptions.payment_status(instance, now),
        **callback_urls(instance),
        "phoneConnected": connected,
        "whatsappConnected": connected,
        "middleware": instance.options.get("middleware", "web"),
        "name": instance.name,
        "id": str(instance.id_instance),
    }


def me(instance: InstanceView, token: str, now: int) -> dict[str, Any]:
    """``GET me``: the instance, its subscription and its settings."""
    urls = callback_urls(instance)
    options = instance.options
    return {
        "id": str(instance.id_instance),
        "token": token,
        "name": instance.name,
        "due": subscriptions.due_ms(instance, now),
        "connected": instance.state == State.AUTHORIZED,
        "paymentStatus": subscriptions.payment_status(instance, now),
        "created": iso_time(instance.created_ms),
        "connectedCallbackUrl": urls["connectedCallbackUrl"],
        "deliveryCallbackUrl": urls["deliveryCallbackUrl"],
        "disconnectedCallbackUrl": urls["disconnectedCallbackUrl"],
        "messageStatusCallbackUrl": urls["messageStatusCallbackUrl"],
        "presenceChatCallbackUrl": urls["presenceChatCallbackUrl"],
        "receivedCallbackUrl": urls["receivedCallbackUrl"],
        "receivedAndDeliveryCallbackUrl": urls["receivedAndDeliveryCallbackUrl"],
        "receiveCallbackSentByMe": bool(options.get("notify_sent_by_me")),
        "callRejectAuto": bool(options.get("call_reject_auto")),
        "callRejectMessage": options.get("call_reject_message", ""),
        "autoReadMessage": instance.switches.get("mark_incoming_messages_read", False),
        "autoReadStatus": bool(options.get("auto_read_status")),
        "initialDataCallbackUrl": "",
        "middleware": options.get("middleware", "web"),
        "isDevice": options.get("middleware") == "mobile",
        "sessionName": options.get("session_name", ""),
        "businessDevice": bool(options.get("business_device")),
        "disableEnqueueWhenDisconnected": bool(options.get("disable_enqueue_when_disconnected")),
        "withCalls": instance.with_calls,
    }


def status(instance: InstanceView) -> dict[str, Any]:
    """``GET status``: connected, and Z-API's sentence for the state."""
    if instance.state == State.AUTHORIZED:
        text = "You are already connected."
    elif instance.state == State.NOT_AUTHORIZED:
        text = "You are not connected."
    else:
        text = "You need to restore the session."
    connected = instance.state == State.AUTHORIZED
    return {"connected": connected, "error": text, "smartphoneConnected": connected}
