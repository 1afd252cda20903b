"""A small Z-API client written from the curl examples of the Z-API docs, on httpx.

It only knows the wire (paths, headers, bodies), nothing of fleetgate, so tests that use it
check fleetgate the way a Z-API integrator's own code would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class ZapiPartner:
    """The integrator side: ``Authorization: Bearer <partner token>``."""

    http: httpx.AsyncClient
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def list(self, page: int = 1, page_size: int = 15, **params: str) -> httpx.Response:
        query = {"page": str(page), "pageSize": str(page_size), **params}
        return await self.http.get("/instances", params=query, headers=self.auth)

    async def create(self, name: str, **options: Any) -> httpx.Response:
        return await self.http.post(
            "/instances/integrator/on-demand", json={"name": name, **options}, headers=self.auth
        )

    async def new_instance(self, name: str = "test", **options: Any) -> ZapiInstance:
        r = await self.create(name, **options)
        assert r.status_code == 200, r.text
        body = r.json()
        return ZapiInstance(self.http, body["id"], body["token"])

    def _on_demand(self, inst: ZapiInstance, action: str) -> str:
        return f"/instances/{inst.id}/token/{inst.token}/integrator/on-demand/{action}"

    async def subscribe(self, inst: ZapiInstance, **body: Any) -> httpx.Response:
        return await self.http.post(
            self._on_demand(inst, "subscription"), json=body or None, headers=self.auth
        )

    async def cancel(self, inst: ZapiInstance) -> httpx.Response:
        return await self.http.post(self._on_demand(inst, "cancel"), headers=self.auth)

    async def update_subscription(self, inst: ZapiInstance, **body: Any) -> httpx.Response:
        return await self.http.put(
            self._on_demand(inst, "subscription/update"), json=body, headers=self.auth
        )

    async def delete(self, inst: ZapiInstance) -> httpx.Response:
        return await self.http.delete(self._on_demand(inst, "delete"), headers=self.auth)

    async def batch_delete(self, *insts: ZapiInstance) -> httpx.Response:
        body = {"instances": [{"id": i.id, "token": i.token} for i in insts]}
        return await self.http.post(
            "/instances/integrator/on-demand/batch-delete", json=body, headers=self.auth
        )


@dataclass
class ZapiInstance:
    """One instance: id and token in the path, the account Client-Token in a header if set."""

    http: httpx.AsyncClient
    id: str
    token: str
    client_token: str | None = None

    def path(self, action: str) -> str:
        return f"/instances/{self.id}/token/{self.token}/{action}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Client-Token": self.client_token} if self.client_token else {}

    async def get(self, action: str) -> httpx.Response:
        return await self.http.get(self.path(action), headers=self.headers)

    async def put(self, action: str, body: Any) -> httpx.Response:
        return await self.http.put(self.path(action), json=body, headers=self.headers)

    async def post(self, action: str, body: Any = None) -> httpx.Response:
        return await self.http.post(self.path(action), json=body, headers=self.headers)

    async def send_text(self, phone: str, message: str, **options: Any) -> httpx.Response:
        return await self.post("send-text", {"phone": phone, "message": message, **options})

    async def set_webhook(self, kind: str, url: str) -> httpx.Response:
        """``kind``: received, received-delivery, delivery, message-status, disconnected,
        connected, chat-presence."""
        return await self.put(f"update-webhook-{kind}", {"value": url})

    # --- chats, groups and contacts (spec §10-§12) ----------------------------------------

    async def get_with(self, action: str, **params: Any) -> httpx.Response:
        return await self.http.get(self.path(action), params=params, headers=self.headers)

    async def list_chats(self, page: Any = 1, page_size: Any = 50) -> httpx.Response:
        return await self.get_with("chats", page=page, pageSize=page_size)

    async def chat(self, phone: str) -> httpx.Response:
        return await self.get(f"chats/{phone}")

    async def modify_chat(self, phone: str, action: str) -> httpx.Response:
        return await self.post("modify-chat", {"phone": phone, "action": action})

    async def chat_expiration(self, phone: str, expiration: str) -> httpx.Response:
        body = {"phone": phone, "chatExpiration": expiration}
        return await self.post("send-chat-expiration", body)

    async def chat_messages(self, phone: str, **params: Any) -> httpx.Response:
        return await self.get_with(f"chat-messages/{phone}", **params)

    async def create_group(
        self, name: str, phones: list[str], auto_invite: bool = False
    ) -> httpx.Response:
        body = {"autoInvite": auto_invite, "groupName": name, "phones": phones}
        return await self.post("create-group", body)

    async def group_call(self, action: str, group_id: str, **body: Any) -> httpx.Response:
        """A group route whose body is ``groupId`` and more (update-group-name, add-admin,
        leave-group, ...)."""
        return await self.post(action, {"groupId": group_id, **body})

    async def group_metadata(self, group_id: str, light: bool = False) -> httpx.Response:
        return await self.get(f"{'light-' if light else ''}group-metadata/{group_id}")

    async def invitation_link(self, group_id: str, method: str = "GET") -> httpx.Response:
        if method == "POST":
            return await self.post(f"group-invitation-link/{group_id}")
        return await self.get(f"group-invitation-link/{group_id}")

    async def redefine_invitation_link(self, group_id: str) -> httpx.Response:
        return await self.post(f"redefine-invitation-link/{group_id}")

    async def invitation_metadata(self, url: str) -> httpx.Response:
        return await self.get_with("group-invitation-metadata", url=url)

    async def accept_invite(self, url: str) -> httpx.Response:
        return await self.get_with("accept-invite-group", url=url)

    async def list_groups(self, page: Any = 1, page_size: Any = 50) -> httpx.Response:
        return await self.get_with("groups", page=page, pageSize=page_size)

    async def list_contacts(self, page: Any = 1, page_size: Any = 100) -> httpx.Response:
        return await self.get_with("contacts", page=page, pageSize=page_size)

    async def contact(self, phone: str) -> httpx.Response:
        return await self.get(f"contacts/{phone}")

    async def phone_exists(self, phone: str) -> httpx.Response:
        return await self.get(f"phone-exists/{phone}")

    async def phone_exists_batch(self, phones: list[str]) -> httpx.Response:
        return await self.post("phone-exists-batch", {"phones": phones})

    async def profile_picture(self, phone: str) -> httpx.Response:
        return await self.get_with("profile-picture", phone=phone)

    async def modify_blocked(self, phone: str, action: str) -> httpx.Response:
        return await self.post("contacts/modify-blocked", {"phone": phone, "action": action})

    async def delete(self, action: str, **params: str) -> httpx.Response:
        return await self.http.delete(self.path(action), params=params, headers=self.headers)

    # Other sends and message actions (Z-API docs, "Messages")

    async def send_link(
        self, phone: str, message: str, link_url: str, **options: Any
    ) -> httpx.Response:
        body = {
            "phone": phone,
            "message": message,
            "image": "https://example.com/preview.png",
            "linkUrl": link_url,
            "title": "A title",
            "linkDescription": "A description",
        }
        return await self.post("send-link", body | options)

    async def send_location(
        self, phone: str, latitude: Any, longitude: Any, **options: Any
    ) -> httpx.Response:
        body = {"phone": phone, "title": "Office", "address": "Main St 1"}
        body |= {"latitude": latitude, "longitude": longitude}
        return await self.post("send-location", body | options)

    async def send_contact(
        self, phone: str, name: str, contact_phone: str, **options: Any
    ) -> httpx.Response:
        body = {"phone": phone, "contactName": name, "contactPhone": contact_phone}
        return await self.post("send-contact", body | options)

    async def send_contacts(
        self, phone: str, contacts: list[dict[str, Any]], **options: Any
    ) -> httpx.Response:
        return await self.post("send-contacts", {"phone": phone, "contacts": contacts} | options)

    async def send_poll(
        self, phone: str, question: str, options: list[str], **more: Any
    ) -> httpx.Response:
        poll = [{"name": o} for o in options]
        return await self.post(
            "send-poll", {"phone": phone, "message": question, "poll": poll} | more
        )

    async def send_poll_vote(
        self, phone: str, poll_message_id: str, options: list[str]
    ) -> httpx.Response:
        body = {
            "phone": phone,
            "pollMessageId": poll_message_id,
            "pollVote": [{"name": o} for o in options],
        }
        return await self.post("send-poll-vote", body)

    async def send_reaction(self, phone: str, message_id: str, reaction: str) -> httpx.Response:
        body = {"phone": phone, "messageId": message_id, "reaction": reaction}
        return await self.post("send-reaction", body)

    async def send_remove_reaction(self, phone: str, message_id: str) -> httpx.Response:
        return await self.post("send-remove-reaction", {"phone": phone, "messageId": message_id})

    async def forward_message(
        self, phone: str, message_id: str, message_phone: str
    ) -> httpx.Response:
        body = {"phone": phone, "messageId": message_id, "messagePhone": message_phone}
        return await self.post("forward-message", body)

    async def pin_message(
        self, phone: str, message_id: str, action: str = "pin", duration: str | None = "24_hours"
    ) -> httpx.Response:
        body = {"phone": phone, "messageId": message_id, "messageAction": action}
        if duration is not None:
            body["pinMessageDuration"] = duration
        return await self.post("pin-message", body)

    async def delete_message(self, phone: str, message_id: str, owner: bool) -> httpx.Response:
        return await self.delete(
            "messages", messageId=message_id, phone=phone, owner=str(owner).lower()
        )

    async def read_message(self, phone: str, message_id: str) -> httpx.Response:
        return await self.post("read-message", {"phone": phone, "messageId": message_id})
