"""A whatsapp-engine instance driven through `fleetgate serve`, on both databases: the real
server, its runner, real worker processes, and the stand-in client behind them (no network
here). It proves the façade's methods reach the engine and that WhatsApp's own message ids
line up with ours: the one sendMessage answered stays the message's id on the wire, receipts
naming WhatsApp's id move it on, and a quote of it reaches WhatsApp under WhatsApp's id. Files
go out byte for byte, and a received one is downloadable from fleetgate's link. Groups, edits,
deletions, typing, the timer and pictures reach the stand-in network through the official
client's groups and service methods."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from whatsapp_api_client_python.API import GreenAPI

from tests.processes import Cli, Served
from tests.support import until
from tests.whatsapp.fake_client import file_of
from tests.whatsapp.harness import REPO, STANDIN
from tests.whatsapp.standin import ENV_DIR, Network

ACCOUNT = "15550001111"
CONTACT = "15550002222"


@pytest.fixture
def network(tmp_path: Path) -> Network:
    return Network(tmp_path / "standin")


@pytest.fixture
def partner_token(cli: Cli) -> str:
    out = cli.ok("partner", "create", "real", "--engine", "whatsapp", "--json")
    return str(json.loads(out)["partnerToken"])


@pytest.fixture
def served(cli: Cli, network: Network, partner_token: str) -> Iterator[Served]:
    env = {
        "FLEETGATE_WHATSAPP__CLIENT_FACTORY": STANDIN,
        "FLEETGATE_WHATSAPP__RESTART_BACKOFF_MIN_S": "0.05",
        ENV_DIR: str(network.folder),
        "PYTHONPATH": str(REPO),
        # The test polls states as fast as it likes.
        "FLEETGATE_RATELIMITS__ENABLED": "false",
    }
    with cli.serve(**env) as srv:
        yield srv


class Api:
    """The instance's GREEN-API routes on the server."""

    def __init__(self, http: httpx.AsyncClient, id_instance: int, token: str) -> None:
        self.http, self.id, self.token = http, id_instance, token

    async def call(self, verb: str, method: str, body: Any = None, **params: Any) -> Any:
        r = await self.http.request(
            verb, f"/waInstance{self.id}/{method}/{self.token}", json=body, params=params
        )
        assert r.status_code == 200, r.text
        return r.json()

    async def state(self) -> str:
        return str((await self.call("GET", "getStateInstance"))["stateInstance"])

    async def notifications(self, wanted: int) -> list[dict[str, Any]]:
        """Take notifications off the queue (deleting each) until ``wanted`` came."""
        got: list[dict[str, Any]] = []
        for _ in range(12):
            if len(got) >= wanted:
                break
            item = await self.call("GET", "receiveNotification", receiveTimeout=5)
            if item is None:
                continue
            got.append(item["body"])
            await self.http.delete(
                f"/waInstance{self.id}/deleteNotification/{self.token}/{item['receiptId']}"
            )
        return got


async def test_an_instance_links_sends_receives_and_ids_line_up(
    cli: Cli, served: Served, network: Network, partner_token: str
) -> None:
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as http:
        made = await http.post(
            f"/partner/createInstance/{partner_token}",
            json={
                "incomingWebhook": "yes",
                "outgoingWebhook": "yes",
                "outgoingAPIMessageWebhook": "yes",
                "outgoingMessageWebhook": "yes",
            },
        )
        assert made.status_code == 200, made.text
        api = Api(http, made.json()["idInstance"], made.json()["apiTokenInstance"])
        assert json.loads(cli.ok("instance", "show", str(api.id)))["engine"] == "whatsapp"

        await until(lambda: _is(api, "notAuthorized"), "a new device waits to be linked")
        code = await api.call("POST", "getAuthorizationCode", {"phoneNumber": int(ACCOUNT)})
        assert code["status"] is True
        assert network.enter_code(ACCOUNT, code["code"])
        await until(lambda: _is(api, "authorized"), "linked by the pairing code")
        assert (await api.call("GET", "getSettings"))["wid"] == f"{ACCOUNT}@c.us"
        assert (await api.call("POST", "checkWhatsapp", {"phoneNumber": int(ACCOUNT)})) == {
            "existsWhatsapp": True
        }

        # Sent through the official client; WhatsApp gives the message an id of its own.
        green = GreenAPI(str(api.id), api.token, host=served.url)
        sent = await asyncio.to_thread(green.sending.sendMessage, f"{CONTACT}@c.us", "hello")
        assert sent.code == 200, sent.text
        ours = sent.data["idMessage"]
        await until(lambda: _count(network, 1), "the contact got it")
        [delivered] = network.messages_to(CONTACT)
        theirs = delivered["id"]
        assert theirs != ours and delivered["from"] == ACCOUNT

        # The contact's phone reads it: the receipt names WhatsApp's id, the wire shows ours.
        network.post_receipt(CONTACT, ACCOUNT, [theirs], "read")
        network.send(CONTACT, ACCOUNT, "hi back")
        bodies = await api.notifications(wanted=4)
        kinds = [(b["typeWebhook"], b.get("idMessage"), b.get("status")) for b in bodies]
        assert ("outgoingAPIMessageReceived", ours, None) in kinds
        assert ("outgoingMessageStatus", ours, "sent") in kinds
        assert ("outgoingMessageStatus", ours, "read") in kinds
        [incoming] = [b for b in bodies if b["typeWebhook"] == "incomingMessageReceived"]
        assert incoming["senderData"]["chatId"] == f"{CONTACT}@c.us"
        assert incoming["messageData"]["textMessageData"]["textMessage"] == "hi back"
        journal = await api.call(
            "POST", "getMessage", {"chatId": f"{CONTACT}@c.us", "idMessage": ours}
        )
        assert journal["idMessage"] == ours and journal["statusMessage"] == "read"

        # A reply quoting our message reaches WhatsApp quoting WhatsApp's id for it.
        await api.call(
            "POST",
            "sendMessage",
            {"chatId": f"{CONTACT}@c.us", "message": "see above", "quotedMessageId": ours},
        )
        await until(lambda: _count(network, 2), "the quoting reply")
        quoting = network.messages_to(CONTACT)[1]["message_data"]
        assert quoting["quotedMessage"]["stanzaId"] == theirs

        # Typed on the account's own phone: an outgoing message that was not sent by the API.
        typed = network.send_from_own_phone(ACCOUNT, CONTACT, "from my phone")
        # (behind the quoting reply's outgoingAPIMessageReceived and its status "sent")
        later = await api.notifications(wanted=3)
        [own] = [b for b in later if b["typeWebhook"] == "outgoingMessageReceived"]
        assert own["typeWebhook"] == "outgoingMessageReceived"
        assert own["idMessage"] == typed
        assert own["senderData"]["chatId"] == f"{CONTACT}@c.us"
        assert own["senderData"]["sender"] == f"{ACCOUNT}@c.us"
        assert own["messageData"]["textMessageData"]["textMessage"] == "from my phone"
        journal = await api.call(
            "POST", "getMessage", {"chatId": f"{CONTACT}@c.us", "idMessage": typed}
        )
        assert (journal["type"], journal["statusMessage"], journal["sendByApi"]) == (
            "outgoing",
            "sent",
            False,
        )

        assert (await api.call("GET", "logout")) == {"isLogout": True}
        await until(lambda: _is(api, "notAuthorized"), "logged out")


async def _is(api: Api, state: str) -> bool:
    return await api.state() == state


async def _count(network: Network, count: int) -> bool:
    return len(network.messages_to(CONTACT)) >= count


async def test_files_go_out_byte_for_byte_and_received_ones_can_be_downloaded(
    served: Served, network: Network, partner_token: str, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as http:
        api = await _linked_instance(http, partner_token, network, incomingWebhook="yes")

        # Uploaded through the official client: WhatsApp gets these very bytes.
        photo = tmp_path / "photo.jpg"
        photo.write_bytes(file_of(2 * 1024 * 1024))
        green = GreenAPI(str(api.id), api.token, host=served.url, media=served.url)
        sent = await asyncio.to_thread(
            green.sending.sendFileByUpload, f"{CONTACT}@c.us", str(photo), "photo.jpg", "look"
        )
        assert sent.code == 200, sent.text
        await until(lambda: _count(network, 1), "the contact got the file")
        [delivered] = network.messages_to(CONTACT)
        assert base64.b64decode(delivered["file"]) == photo.read_bytes()
        assert delivered["message_data"]["typeMessage"] == "imageMessage"
        assert delivered["message_data"]["fileMessageData"]["caption"] == "look"

        # A document from the contact's phone: notified with a link to fleetgate's copy.
        report = b"%PDF-1.7 " + bytes(range(256)) * 64
        phone_data = {"fileName": "q3.pdf", "mimeType": "application/pdf", "downloadUrl": ""}
        data = {"typeMessage": "documentMessage", "fileMessageData": phone_data}
        received = network.send_file(CONTACT, ACCOUNT, data, report)
        incoming: dict[str, Any] = {}
        for _ in range(10):  # behind whatever else is notified
            for body in await api.notifications(wanted=1):
                if body["typeWebhook"] == "incomingMessageReceived":
                    incoming = body
            if incoming:
                break
        assert incoming["idMessage"] == received
        notified = incoming["messageData"]["fileMessageData"]
        assert notified["fileName"] == "q3.pdf"
        assert notified["downloadUrl"].startswith(f"{served.url}/media/{api.id}/")
        download = await http.get(notified["downloadUrl"])
        assert download.status_code == 200 and download.content == report


async def _linked_instance(
    http: httpx.AsyncClient, partner_token: str, network: Network, **settings: str
) -> Api:
    """A new instance of the whatsapp partner, linked to ACCOUNT by a pairing code."""
    made = await http.post(f"/partner/createInstance/{partner_token}", json=settings)
    assert made.status_code == 200, made.text
    api = Api(http, made.json()["idInstance"], made.json()["apiTokenInstance"])
    await until(lambda: _is(api, "notAuthorized"), "a new device waits to be linked")
    code = await api.call("POST", "getAuthorizationCode", {"phoneNumber": int(ACCOUNT)})
    assert network.enter_code(ACCOUNT, code["code"])
    await until(lambda: _is(api, "authorized"), "linked by the pairing code")
    return api


async def test_groups_and_message_actions_reach_whatsapp_through_the_official_client(
    served: Served, network: Network, partner_token: str, tmp_path: Path
) -> None:
    """The official client's groups and service methods, on a whatsapp instance: each one's
    documented answer, and its effect on the other side (the stand-in network's groups, the
    contact's phone)."""
    contact = f"{CONTACT}@c.us"
    picture = tmp_path / "picture.jpg"
    picture.write_bytes(file_of(3000))
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as http:
        api = await _linked_instance(http, partner_token, network)
        green = GreenAPI(str(api.id), api.token, host=served.url, media=served.url)

        async def run(method: Any, *args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(method, *args, **kwargs)

        made = await run(green.groups.createGroup, "Team", [contact])
        assert made.code == 200, made.text
        assert made.data["created"] is True
        group = made.data["chatId"]
        assert network.members(group) == [(ACCOUNT, True), (CONTACT, False)]
        data = (await run(green.groups.getGroupData, group)).data
        assert (data["groupId"], data["owner"], data["subject"]) == (
            group,
            f"{ACCOUNT}@c.us",
            "Team",
        )
        assert data["groupInviteLink"] == made.data["groupInviteLink"]
        assert (await run(green.groups.updateGroupName, group, "Crew")).data == {
            "updateGroupName": True
        }
        assert (await run(green.groups.setGroupAdmin, group, contact)).data == {
            "setGroupAdmin": True
        }
        # A refusal is false with HTTP 200, as GREEN-API answers it.
        again = await run(green.groups.addGroupParticipant, group, contact)
        assert (again.code, again.data) == (200, {"addParticipant": False})
        pictured = await run(green.groups.setGroupPicture, group, str(picture))
        assert pictured.code == 200, pictured.text
        assert pictured.data["setGroupPicture"] is True
        locked = await run(
            green.groups.updateGroupSettings, group, allowParticipantsSendMessages=False
        )
        assert locked.data == {"updateGroupSettings": True}
        stored = network.group(group)
        assert stored is not None
        assert (stored["subject"], stored["announce"], stored["locked"]) == ("Crew", 1, 0)
        assert stored["picture"] == hashlib.sha256(picture.read_bytes()).hexdigest()
        assert network.members(group) == [(ACCOUNT, True), (CONTACT, True)]
        assert (await run(green.groups.leaveGroup, group)).data == {"leaveGroup": True}
        assert network.members(group) == [(CONTACT, True)]

        # A message sent, edited and deleted by fleetgate's id reaches WhatsApp by its own.
        sent = await run(green.sending.sendMessage, contact, "helo")
        ours = sent.data["idMessage"]
        await until(lambda: _count(network, 1), "the contact got it")
        theirs = network.messages_to(CONTACT)[0]["id"]

        async def journaled_sent() -> bool:  # off the queue: editable from now on
            found = await http.post(
                f"/waInstance{api.id}/getMessage/{api.token}",
                json={"chatId": contact, "idMessage": ours},
            )
            return found.status_code == 200 and found.json()["statusMessage"] != "pending"

        await until(journaled_sent, "the send is journaled")
        edited = await run(green.serviceMethods.editMessage, contact, ours, "hello")
        assert (edited.code, edited.data) == (200, {"idMessage": ours})
        # A reboot opens a new session, which remembers no sends: the deletion still names
        # WhatsApp's id, which the API looks up in the journal.
        assert (await api.call("GET", "reboot")) == {"isReboot": True}
        await until(lambda: _is(api, "authorized"), "back after the reboot")
        deleted = await run(green.serviceMethods.deleteMessage, contact, ours)
        assert deleted.code == 200, deleted.text
        changes = [m["message_data"] for m in network.messages_to(CONTACT)[1:]]
        assert changes == [
            {
                "typeMessage": "editedMessage",
                "editedMessageData": {"textMessage": "hello", "stanzaId": theirs},
            },
            {"typeMessage": "deletedMessage", "deletedMessageData": {"stanzaId": theirs}},
        ]
        typing = await run(green.serviceMethods.sendTyping, contact, 1000, "recording")
        assert typing.code == 200, typing.text
        assert (ACCOUNT, "RECORDING") in network.presences_to(CONTACT)
        timer = await run(green.serviceMethods.setDisappearingChat, contact, 86400)
        assert timer.data["ephemeralExpiration"] == 86400
        assert network.timer(ACCOUNT, contact) == 86400
        profile = await run(green.account.setProfilePicture, str(picture))
        assert profile.code == 200 and profile.data["setProfilePicture"] is True
        assert network.picture(ACCOUNT) == hashlib.sha256(picture.read_bytes()).hexdigest()

        # What the library cannot do: the façade's 400 with the reason, nothing changed.
        archived = await http.post(
            f"/waInstance{api.id}/archiveChat/{api.token}", json={"chatId": contact}
        )
        assert archived.status_code == 400
        assert archived.json()["description"] == (
            "this method is not supported by the instance's engine"
        )
        only_mine = await http.post(
            f"/waInstance{api.id}/deleteMessage/{api.token}",
            json={"chatId": contact, "idMessage": ours, "onlySenderDelete": True},
        )
        assert only_mine.status_code == 400
        assert "only on the account's devices" in only_mine.json()["description"]
        assert len(network.messages_to(CONTACT)) == 3
