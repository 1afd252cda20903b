"""delaySendMessagesMilliseconds on a live server: an instance's sends go out that far apart.

tests/messaging/test_pacing.py holds the pace across a crash, in processes; this is the
quick in-process guard of the pause itself.
"""

from __future__ import annotations

import itertools

import httpx

from tests.sending import WAIT_S, new_phone, send, wait_inbox
from tests.support import MakeInstance, authorize

PACE_MS = 1000
COUNT = 3


async def test_an_instances_sends_are_its_delay_apart(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance(delaySendMessagesMilliseconds=PACE_MS)
    await authorize(client, inst, new_phone())
    to = new_phone()
    for n in range(COUNT):
        await send(client, inst, "sendMessage", {"chatId": f"{to}@c.us", "message": f"m{n}"})
    got = await wait_inbox(
        client, to, inst.partner_token, COUNT, timeout=WAIT_S + COUNT * PACE_MS / 1000
    )
    assert [m["text"] for m in got] == [f"m{n}" for n in range(COUNT)]
    stamps = [int(str(m["timestampMs"])) for m in got]
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    # A lower bound only: a loaded machine makes the gaps longer, never shorter.
    assert min(gaps) >= PACE_MS - 5, gaps
