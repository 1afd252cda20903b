"""Request bodies the OpenAPI schema does not declare, so that schemathesis fuzzes them too.

Many routes read their JSON body themselves (to answer in their façade's format) and so show
no requestBody in /openapi.json. The fuzz test adds the body model each of them parses.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from pydantic import BaseModel

from fleetgate.api import sandbox, sandbox_groups
from fleetgate.api.admin.dead_letters import ReplayBody
from fleetgate.api.greenapi import groups_wire as grw
from fleetgate.api.greenapi import sending_wire as sw
from fleetgate.api.greenapi import wire as gw
from fleetgate.api.zapi import chats_wire as zcw
from fleetgate.api.zapi import contacts as zct
from fleetgate.api.zapi import groups_wire as zgw
from fleetgate.api.zapi import wire as zw

_GREEN = "/waInstance{idInstance}/%s/{apiTokenInstance}"
_ZAPI = "/instances/{instanceId}/token/{token}/%s"
_PHONE = "/sandbox/phones/{phone}/%s"

_URL_SETTERS = (
    "update-webhook-received",
    "update-webhook-receive",
    "update-webhook-received-delivery",
    "update-webhook-delivery",
    "update-webhook-message-status",
    "update-webhook-status",
    "update-webhook-disconnected",
    "update-webhook-connected",
    "update-webhook-chat-presence",
)

BODIES: dict[str, type[BaseModel]] = {
    _GREEN % "setSettings": gw.SetSettingsBody,
    _GREEN % "getAuthorizationCode": gw.AuthorizationCodeBody,
    _GREEN % "forwardMessages": sw.ForwardMessagesBody,
    _GREEN % "getChatHistory": sw.ChatHistoryBody,
    _GREEN % "getMessage": sw.MessageRefBody,
    _GREEN % "downloadFile": sw.MessageRefBody,
    _GREEN % "readChat": sw.ChatBody,
    _GREEN % "checkWhatsapp": sw.PhoneBody,
    _GREEN % "getAvatar": sw.ChatBody,
    _GREEN % "getContactInfo": sw.ChatBody,
    _GREEN % "createGroup": grw.CreateGroupBody,
    _GREEN % "updateGroupName": grw.GroupNameBody,
    _GREEN % "getGroupData": grw.GroupBody,
    _GREEN % "leaveGroup": grw.GroupBody,
    _GREEN % "updateGroupSettings": grw.GroupSettingsBody,
    **{
        _GREEN % name: grw.ParticipantBody
        for name in (
            "addGroupParticipant",
            "removeGroupParticipant",
            "setGroupAdmin",
            "removeAdmin",
        )
    },
    _PHONE % "scan": sandbox.ScanBody,
    _PHONE % "link": sandbox.CodeBody,
    _PHONE % "messages": sandbox.PhoneMessageBody,
    _PHONE % "read": sandbox.PhoneReadBody,
    _PHONE % "presence": sandbox.PhonePresenceBody,
    _PHONE % "groups": sandbox_groups.NewGroupBody,
    _PHONE % "groups/{groupId}/invite": sandbox_groups.InviteBody,
    _PHONE % "groups/{groupId}/{action}": sandbox_groups.GroupActionBody,
    "/admin/dead-letters/replay": ReplayBody,
    "/instances/integrator/on-demand": zw.CreateBody,
    "/instances/integrator/on-demand/batch-delete": zw.BatchDelete,
    _ZAPI % "integrator/on-demand/subscription": zw.WithCalls,
    _ZAPI % "integrator/subscription/update": zw.WithCalls,
    _ZAPI % "integrator/on-demand/subscription/update": zw.WithCalls,
    _ZAPI % "update-name": zw.NameValue,
    _ZAPI % "update-every-webhooks": zw.EveryWebhooks,
    _ZAPI % "update-notify-sent-by-me": zw.NotifySentByMe,
    _ZAPI % "update-call-reject-auto": zw.BoolValue,
    _ZAPI % "update-call-reject-message": zw.MessageValue,
    _ZAPI % "update-auto-read-message": zw.BoolValue,
    _ZAPI % "update-auto-read-status": zw.BoolValue,
    _ZAPI % "send-text": zw.SendText,
    **{_ZAPI % path: zw.TextValue for path in _URL_SETTERS},
    _ZAPI % "modify-chat": zcw.ModifyChat,
    _ZAPI % "send-chat-expiration": zcw.ChatExpiration,
    _ZAPI % "create-group": zgw.CreateGroup,
    _ZAPI % "update-group-name": zgw.GroupNameBody,
    _ZAPI % "update-group-description": zgw.GroupDescription,
    _ZAPI % "update-group-photo": zgw.GroupPhoto,
    _ZAPI % "leave-group": zgw.GroupOnly,
    _ZAPI % "update-group-settings": zgw.GroupSettings,
    **{
        _ZAPI % name: zgw.Participants
        for name in (
            "add-participant",
            "remove-participant",
            "approve-participant",
            "reject-participant",
            "add-admin",
            "remove-admin",
        )
    },
    _ZAPI % "phone-exists-batch": zct.PhonesBody,
    _ZAPI % "contacts/modify-blocked": zct.BlockBody,
}


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """The schema with every local ``$ref`` replaced by what it names."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A model's JSON schema without references, fit to embed anywhere in a document."""
    raw = model.model_json_schema()
    inlined: dict[str, Any] = _inline(raw, raw.get("$defs", {}))
    return inlined


def with_bodies(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of an OpenAPI document where every body-reading operation declares its body."""
    document = deepcopy(schema)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method.lower() in ("post", "put") and "requestBody" not in operation:
                model = BODIES.get(path)
                if model is not None:
                    content = {"application/json": {"schema": json_schema(model)}}
                    operation["requestBody"] = {"content": content, "required": False}
            # Declared bodies may reference $defs of their own model: inline them as well.
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                body["schema"] = _inline(body["schema"], body["schema"].get("$defs", {}))
    return document
