"""Groups, revokes and edits between neonize's protobuf objects and fleetgate's terms
(groups.py, edits.py), from real protobuf objects as the Go side sends them; no Go library."""

from __future__ import annotations

from typing import Any

import pytest

from fleetgate.engines.sandbox import groups as sandbox
from fleetgate_whatsapp import edits, groups, proto
from fleetgate_whatsapp.translate import received
from tests.whatsapp.events import GROUP, ME, PEER, jid, message_ev

N = proto.neonize_pb2
OWNER = "79990000000@s.whatsapp.net"
OWNER_LID = "201234567890123@lid"
# A time a 32-bit float holds exactly (the library carries it as one).
CREATED_S = 1_796_619_392


def _participant(who: str, *, phone: str = "", admin: bool = False, owner: bool = False) -> Any:
    return N.GroupParticipant(
        JID=jid(who),
        LID=jid(""),
        PhoneNumber=jid(phone),
        IsAdmin=admin,
        IsSuperAdmin=owner,
        DisplayName="",
        Error=0,
        AddRequest=N.GroupParticipantAddRequest(Code="", Expiration=0),
    )


def _info(*, locked: bool = False, announce: bool = False, created: float = CREATED_S) -> Any:
    info = N.GroupInfo(
        OwnerJID=jid(OWNER_LID),
        JID=jid(GROUP),
        OwnerPN=jid(OWNER),
        GroupName=N.GroupName(Name="Friends", NameSetAt=CREATED_S + 60, NameSetBy=jid(PEER)),
        GroupLocked=N.GroupLocked(isLocked=locked),
        GroupAnnounce=N.GroupAnnounce(IsAnnounce=announce, AnnounceVersionID=""),
        GroupTopic=N.GroupTopic(
            Topic="", TopicID="", TopicSetAt=0, TopicSetBy=jid(""), TopicDeleted=False
        ),
        GroupEphemeral=N.GroupEphemeral(IsEphemeral=False, DisappearingTimer=0),
        GroupIncognito=N.GroupIncognito(IsIncognito=False),
        GroupParent=N.GroupParent(IsParent=False, DefaultMembershipApprovalMode=""),
        GroupLinkedParent=N.GroupLinkedParent(LinkedParentJID=jid("")),
        GroupIsDefaultSub=N.GroupIsDefaultSub(IsDefaultSubGroup=False),
        GroupCreated=created,
        ParticipantVersionID="",
        Participants=[
            # The owner under a LID with its phone beside it, as WhatsApp names members now.
            _participant(OWNER_LID, phone=OWNER, admin=True, owner=True),
            _participant(PEER, admin=True),
            _participant("79005550000@s.whatsapp.net"),
        ],
    )
    return N.GroupInfo.FromString(info.SerializeToString())


def test_group_info_is_get_group_data_in_the_sandbox_shape() -> None:
    data = groups.group_data(_info(), invite_link="https://chat.whatsapp.com/AbC")
    assert data == {
        "groupId": GROUP,
        "owner": "79990000000@c.us",
        "subject": "Friends",
        "creation": CREATED_S,
        "participants": [
            {"id": "79990000000@c.us", "isAdmin": True, "isSuperAdmin": True},
            {"id": "79001234567@c.us", "isAdmin": True, "isSuperAdmin": False},
            {"id": "79005550000@c.us", "isAdmin": False, "isSuperAdmin": False},
        ],
        "subjectTime": CREATED_S + 60,
        "subjectOwner": "79001234567@c.us",
        "groupInviteLink": "https://chat.whatsapp.com/AbC",
        "allowParticipantsEditGroupSettings": True,
        "allowParticipantsSendMessages": True,
    }


def test_a_locked_announcement_group_allows_members_neither() -> None:
    data = groups.group_data(_info(locked=True, announce=True), invite_link="")
    assert data["allowParticipantsEditGroupSettings"] is False
    assert data["allowParticipantsSendMessages"] is False
    assert data["groupInviteLink"] == ""


def test_the_creation_time_is_as_precise_as_the_librarys_float() -> None:
    # neonize carries it as a 32-bit float: whole seconds near 2027 come in steps of 128.
    shown = groups.group_data(_info(created=CREATED_S + 50), invite_link="")["creation"]
    assert abs(shown - (CREATED_S + 50)) <= 64


def test_who_administers_the_group() -> None:
    info = _info()
    assert groups.is_admin(info, "79990000000@c.us")  # the owner, named by its phone
    assert groups.is_admin(info, "79001234567@c.us")
    assert not groups.is_admin(info, "79005550000@c.us")
    assert not groups.is_admin(info, "79009999999@c.us")


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ("failed to get group info: you're not participating in that group", sandbox.NOT_MEMBER),
        ("that group does not exist", sandbox.NO_GROUP),
        ("info query returned status 404: item-not-found", sandbox.NO_GROUP),
        ("info query returned status 403: forbidden", sandbox.NOT_ADMIN),
        ("info query returned status 401: not-authorized", sandbox.NOT_ADMIN),
        ("websocket not connected", None),
        ("not connected", None),
    ],
)
def test_library_errors_that_are_refusals_answer_the_sandbox_words(
    error: str, reason: str | None
) -> None:
    assert groups.refusal(error) == reason


@pytest.mark.parametrize(
    ("code", "action", "reason"),
    [
        (0, "add", ""),
        (200, "remove", ""),
        (409, "add", sandbox.ALREADY_MEMBER),
        (403, "add", groups.INVITE_ONLY),
        (403, "promote", sandbox.NOT_ADMIN),
        (404, "add", groups.NOT_ON_WHATSAPP),
        (404, "remove", sandbox.NOT_MEMBER),
        (408, "add", groups.RECENTLY_LEFT),
        (500, "demote", "refused by WhatsApp (code 500)"),
    ],
)
def test_a_participants_error_code_is_the_reason(code: int, action: str, reason: str) -> None:
    member = _participant(PEER)
    member.Error = code
    member = N.GroupParticipant.FromString(member.SerializeToString())
    assert groups.participant_refusal(member, action) == reason


def test_the_words_are_the_sandbox_engines() -> None:
    assert (groups.NO_GROUP, groups.NOT_MEMBER, groups.NOT_ADMIN, groups.ALREADY_MEMBER) == (
        sandbox.NO_GROUP,
        sandbox.NOT_MEMBER,
        sandbox.NOT_ADMIN,
        sandbox.ALREADY_MEMBER,
    )
    assert groups.INVITE_PREFIX == sandbox.INVITE_PREFIX


def test_an_invite_code_becomes_a_link() -> None:
    assert groups.invite_link("AbC") == "https://chat.whatsapp.com/AbC"
    assert groups.invite_link("https://chat.whatsapp.com/AbC") == "https://chat.whatsapp.com/AbC"
    assert groups.invite_link("") == ""


def test_a_revoke_names_the_own_message_and_arrives_as_a_deletion() -> None:
    built = edits.revoke("79001234567@c.us", "3EB0ORIGINAL")
    key = built.protocolMessage.key
    assert built.protocolMessage.type == proto.ProtocolMessage.REVOKE
    assert (key.fromMe, key.ID, key.remoteJID) == (True, "3EB0ORIGINAL", PEER)
    # What the other side's device makes of it.
    found = received(message_ev(built, id_message="3EB0REVOKE", sender=ME, from_me=True))
    assert found is not None
    assert found.message_data == {
        "typeMessage": "deletedMessage",
        "deletedMessageData": {"stanzaId": "3EB0ORIGINAL"},
    }


def test_an_edit_replaces_the_text_and_arrives_as_an_edit() -> None:
    built = edits.edit(GROUP, "3EB0ORIGINAL", "new text")
    inner = built.editedMessage.message.protocolMessage
    assert inner.type == proto.ProtocolMessage.MESSAGE_EDIT
    assert (inner.key.fromMe, inner.key.ID, inner.key.remoteJID) == (True, "3EB0ORIGINAL", GROUP)
    assert inner.editedMessage.conversation == "new text"
    assert inner.timestampMS > 0
    # The library unwraps an edit before it reports it (IsEdit): the protocol message.
    ev = message_ev(built.editedMessage.message, chat=GROUP, sender=PEER, is_edit=True)
    found = received(ev)
    assert found is not None
    assert found.chat_id == GROUP
    assert found.message_data == {
        "typeMessage": "editedMessage",
        "editedMessageData": {"stanzaId": "3EB0ORIGINAL", "textMessage": "new text"},
    }


@pytest.mark.parametrize("bad", ["79001234567", "abc@c.us", "x@broadcast", ""])
def test_revokes_and_edits_refuse_chat_ids_of_no_chat(bad: str) -> None:
    with pytest.raises(ValueError):
        edits.revoke(bad, "3EB0")
    with pytest.raises(ValueError):
        edits.edit(bad, "3EB0", "text")
