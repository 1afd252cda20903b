"""Schemathesis against the live server's OpenAPI schema, on each backend: never a 5xx, and
every error in its façade's format.

Three passes over every operation: valid-looking requests with a real partner token,
instance id and token in the path (so handlers run past authentication), invalid ones with the
same credentials, and valid-looking ones with generated credentials. Operations that end the
instance's usefulness (token rotation, deletion, Client-Token on) run last. Generation is
derandomized and unshrunk, so a run is repeatable and bounded.

A pass that generated nothing, or whose credentials no longer held, would pass too; so each
operation must run its cases in each pass, no authenticated case may be answered 401 or 403
(each authenticated pass has a new partner and instance), and the operations schemathesis
cannot generate for are a known set that may not grow.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.schemas import APIOperation

from fleetgate.context import Context
from tests.factories import queue_states
from tests.fuzz.formats import problem
from tests.support import Instance, LiveServer, MakeInstance

EXAMPLES = 4
# Methods GREEN-API switched off: they answer 403 to everyone, as GREEN-API does.
RETIRED_403 = {
    f"POST /waInstance{{idInstance}}/{name}/{{apiTokenInstance}}"
    for name in ("sendButtons", "sendTemplateButtons", "sendListMessage")
}
# Operations after which the instance or partner answers differently to everything else.
LAST = (
    "POST /admin/client-token",
    "GET /waInstance{idInstance}/updateApiToken/{apiTokenInstance}",
    "POST /instances/{instanceId}/token/{token}/integrator/on-demand/cancel",
    "DELETE /instances/{instanceId}/token/{token}/integrator/on-demand/delete",
    "DELETE /console/api/instances/{idInstance}",
)
# A long-poll: with a real token and an empty queue it holds each request for 5 to 60 s. It runs
# first in each authenticated pass, on a queue filled just before, so it answers at once.
SLOW = ("GET /waInstance{idInstance}/receiveNotification/{apiTokenInstance}",)
# More than the pass's cases of deleteNotification and clearWebhooksQueue can take away.
QUEUED = 3 * EXAMPLES
POSITIVE = "positive"
NEGATIVE = "negative"
ANONYMOUS = "positive, generated credentials"
# The negative pass has nothing to make invalid in an operation with neither a query nor a
# body: its path parameters are fixed or plain strings, and a header is a string anyway.
# Schemathesis finds it Unsatisfiable; any other Unsatisfiable operation fails the test, and
# so does this set outgrowing its size today (37: the two GET routes of a phone's groups, its
# status list and getDeviceInfo were added with nothing to invalidate; 46: Z-API's chats/{phone},
# chat/{phone}, group-metadata, light-group-metadata, group-invitation-link (GET and POST),
# redefine-invitation-link, contacts/{phone} and phone-exists/{phone}, whose only parameter is a
# plain path string; 48: the console's GET /console/api/partner and
# DELETE /console/api/instances/{idInstance}).
NOTHING_TO_INVALIDATE_MAX = 48
_PARAM = re.compile(r"{(\w+)}")


@dataclass
class Findings:
    cases: Counter[tuple[str, str]] = field(default_factory=Counter)  # (pass, operation)
    unsatisfiable: set[tuple[str, str]] = field(default_factory=set)
    statuses: Counter[tuple[str, str, int]] = field(default_factory=Counter)  # and status
    problems: list[str] = field(default_factory=list)


def _operations(server: LiveServer) -> list[APIOperation]:
    document = httpx.get(f"{server.url}/openapi.json", timeout=60).json()
    schema = schemathesis.openapi.from_dict(document)
    found = [result.ok() for result in schema.get_all_operations()]
    first = [op for op in found if op.label in SLOW]
    first += [op for op in found if op.label not in LAST and op.label not in SLOW]
    return first + sorted(
        (op for op in found if op.label in LAST), key=lambda op: LAST.index(op.label)
    )


def _credentials(op: APIOperation, inst: Instance) -> dict[str, Any]:
    known = {
        "partnerToken": inst.partner_token,
        "idInstance": str(inst.id),
        "apiTokenInstance": inst.token,
        "instanceId": str(inst.id),
        "token": inst.token,
    }
    return {name: known[name] for name in _PARAM.findall(op.path) if name in known}


def _run(
    op: APIOperation,
    mode: GenerationMode,
    *,
    run: str,
    base_url: str,
    http: requests.Session,
    findings: Findings,
    path: dict[str, Any] | None = None,
    headers: dict[str, Any] | None = None,
) -> None:
    strategy = op.as_strategy(mode, path_parameters=path or None, headers=headers)

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        response = case.call(base_url=base_url, session=http, timeout=15)
        findings.cases[run, op.label] += 1
        findings.statuses[run, op.label, response.status_code] += 1
        sent = requests.utils.urlparse(response.request.url).path or "/"
        why = problem(sent, response.status_code, response.content)
        if why is not None:
            findings.problems.append(
                f"{op.label} [{mode.value}]: {why}\n  {case.as_curl_command()}"
            )

    try:
        check()
    except Unsatisfiable:
        findings.unsatisfiable.add((run, op.label))  # checked by _assert_every_pass_ran


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


async def test_no_operation_answers_5xx_or_off_format(
    server: LiveServer, ctx: Context, make_instance: MakeInstance, http: requests.Session
) -> None:
    findings = Findings()
    operations = _operations(server)
    assert len(operations) > 50
    for run, mode in ((POSITIVE, GenerationMode.POSITIVE), (NEGATIVE, GenerationMode.NEGATIVE)):
        # A new partner and instance each pass: the last operations of a pass end both.
        inst = await make_instance()
        bearer = {"authorization": f"Bearer {inst.partner_token}"}
        await queue_states(ctx, inst, ["notAuthorized"] * QUEUED)
        for op in operations:
            # The Bearer header too: routes that take it read it, the others ignore it.
            _run(
                op, mode, run=run, base_url=server.url, http=http, findings=findings,
                path=_credentials(op, inst), headers=bearer,
            )  # fmt: skip
    for op in operations:
        _run(
            op, GenerationMode.POSITIVE, run=ANONYMOUS, base_url=server.url, http=http,
            findings=findings,
        )  # fmt: skip
    print(
        f"\nschemathesis: {findings.cases.total()} requests over {len(operations)} operations, "
        f"statuses {dict(sorted(Counter(k[2] for k in findings.statuses.elements()).items()))}"
    )
    assert findings.problems == [], "\n".join(findings.problems[:30])
    # The credentials hold through each authenticated pass, so its cases reach the handlers.
    refused = sorted(
        k
        for k in findings.statuses
        if k[0] != ANONYMOUS and k[2] in (401, 403) and k[1] not in RETIRED_403
    )
    assert refused == [], f"authenticated cases refused (pass, operation, status): {refused}"
    given = {name.lower() for op in operations for name in (*_credentials(op, inst), *bearer)}
    _assert_every_pass_ran(findings, operations, given)
    # The server is still well after all of it.
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/health")).status_code == 200


def _assert_every_pass_ran(
    findings: Findings,
    operations: list[APIOperation],
    given: set[str],
) -> None:
    """Every operation ran its cases in every pass, but where nothing is there to generate."""
    unsatisfiable = {(NEGATIVE, op.label) for op in operations if not _can_invalidate(op)}
    assert len(unsatisfiable) <= NOTHING_TO_INVALIDATE_MAX, sorted(unsatisfiable)
    assert findings.unsatisfiable == unsatisfiable, (
        f"unsatisfiable: {sorted(findings.unsatisfiable ^ unsatisfiable)} unexpectedly"
    )
    short = []
    for run in (POSITIVE, NEGATIVE, ANONYMOUS):
        for op in operations:
            if (run, op.label) in unsatisfiable:
                continue
            # One request is all there is when every input is given; else the full count.
            wanted = EXAMPLES if _generated(op, given if run != ANONYMOUS else set()) else 1
            if findings.cases[run, op.label] < wanted:
                short.append((run, op.label, findings.cases[run, op.label], wanted))
    assert short == [], f"operations that ran fewer cases than they should (ran, wanted): {short}"


def _can_invalidate(op: APIOperation) -> bool:
    return bool(list(op.query)) or bool(list(op.body))


def _generated(op: APIOperation, given: set[str]) -> bool:
    """Whether the pass leaves an input of ``op`` to generate, given these (lower-case) names."""
    free = [p for p in op.iter_parameters() if p.name.lower() not in given]
    return bool(free) or bool(list(op.body))
