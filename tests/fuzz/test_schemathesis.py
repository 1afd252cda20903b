"""Schemathesis against the live server's OpenAPI schema, on each backend: never a 5xx, and
every error in its façade's format.

Three passes over every operation: valid-looking requests with a real partner token,
instance id and token in the path (so handlers run past authentication), invalid ones with the
same credentials, and valid-looking ones with generated credentials. Operations that end the
instance's usefulness (token rotation, deletion, Client-Token on) run last. Generation is
derandomized and unshrunk, so a run is repeatable and bounded.
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

from tests.conftest import Instance, MakeInstance
from tests.fuzz.bodies import with_bodies
from tests.fuzz.formats import problem
from tests.support import LiveServer

EXAMPLES = 4
# Operations after which the instance or partner answers differently to everything else.
LAST = (
    "POST /admin/client-token",
    "GET /waInstance{idInstance}/updateApiToken/{apiTokenInstance}",
    "POST /instances/{instanceId}/token/{token}/integrator/on-demand/cancel",
    "DELETE /instances/{instanceId}/token/{token}/integrator/on-demand/delete",
)
# A long-poll: with a real token and an empty queue it holds each request for seconds.
SLOW = ("GET /waInstance{idInstance}/receiveNotification/{apiTokenInstance}",)
_PARAM = re.compile(r"{(\w+)}")


@dataclass
class Findings:
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    unsatisfiable: int = 0
    problems: list[str] = field(default_factory=list)


def _operations(server: LiveServer) -> list[APIOperation]:
    document = httpx.get(f"{server.url}/openapi.json").json()
    schema = schemathesis.openapi.from_dict(with_bodies(document))
    found = [result.ok() for result in schema.get_all_operations()]
    first = [op for op in found if op.label not in LAST]
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
        findings.cases += 1
        findings.statuses[response.status_code] += 1
        sent = requests.utils.urlparse(response.request.url).path or "/"
        why = problem(sent, response.status_code, response.content)
        if why is not None:
            findings.problems.append(
                f"{op.label} [{mode.value}]: {why}\n  {case.as_curl_command()}"
            )

    try:
        check()
    except Unsatisfiable:
        findings.unsatisfiable += 1  # nothing to generate (e.g. no input to make invalid)


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


async def test_no_operation_answers_5xx_or_off_format(
    server: LiveServer, make_instance: MakeInstance, http: requests.Session
) -> None:
    inst = await make_instance()
    bearer = {"authorization": f"Bearer {inst.partner_token}"}
    findings = Findings()
    operations = _operations(server)
    assert len(operations) > 50
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for op in operations:
            if op.label in SLOW:
                continue
            # The Bearer header too: routes that take it read it, the others ignore it.
            _run(
                op, mode, base_url=server.url, http=http, findings=findings,
                path=_credentials(op, inst), headers=bearer,
            )  # fmt: skip
    for op in operations:
        _run(op, GenerationMode.POSITIVE, base_url=server.url, http=http, findings=findings)
    print(
        f"\nschemathesis: {findings.cases} requests over {len(operations)} operations, "
        f"statuses {dict(sorted(findings.statuses.items()))}"
    )
    assert findings.problems == [], "\n".join(findings.problems[:30])
    # The server is still well after all of it.
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/health")).status_code == 200
