"""The OpenAPI document says what the routes really take and answer.

Most routes read their JSON body themselves (to answer bad input in their façade's format),
so FastAPI alone would show them with no body; and it would list its own 422, which no route
sends, and none of the façades' errors. /docs, /redoc and the fuzz test read this document.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import MakeInstance

BODY_METHODS = ("post", "put", "patch")
# Operations that take no body, and why (each one's handler reads nothing but its path).
NO_BODY = {
    "POST /sandbox/phones/{phone}/logout": "the phone in the path logs out of every instance",
    "POST /admin/client-token": "turns the Client-Token on and answers a new one",
    "POST /instances/{instanceId}/token/{token}/integrator/on-demand/cancel": "cancels the path's",
    "POST /instances/{instanceId}/token/{token}/disconnect": "logs the path's instance out",
    "POST /instances/{instanceId}/token/{token}/group-invitation-link/{groupId}": (
        "the POST form of the GET that reads the group's link"
    ),
    "POST /instances/{instanceId}/token/{token}/redefine-invitation-link/{groupId}": (
        "the group is in the path"
    ),
}
# Operators' probes, of no façade: they answer no façade's errors.
NO_FACADE = {"GET /health", "GET /metrics"}

GREEN = {"code", "description"}
PLAIN = {"error"}
# Path prefix -> the error statuses every operation under it declares, and their body's fields.
# GREEN-API's partner API answers 401 and 404 with HTTP 200 (docs/green-api.md), so its 401
# is no HTTP error; its 404 is the router's, for a method name it does not know.
FACADES: dict[str, tuple[set[str], set[str]]] = {
    "/waInstance": ({"400", "401", "403", "404", "405", "413", "429", "500", "503"}, GREEN),
    "/partner/": ({"400", "404", "405", "413", "429", "500", "503"}, GREEN),
    "/instances": (
        {"400", "401", "403", "404", "405", "409", "413", "415", "429", "500", "503"},
        PLAIN,
    ),
    "/sandbox/": ({"400", "401", "404", "413", "429", "500", "503"}, PLAIN),
    "/admin/": ({"400", "401", "404", "413", "429", "500", "503"}, PLAIN),
    "/console/api/": ({"400", "401", "404", "413", "429", "500", "503"}, PLAIN),
    "/media/": ({"400", "401", "404", "413", "429", "500", "503"}, PLAIN),
}


def _operations(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, operations in doc["paths"].items()
        for method, operation in operations.items()
    }


def _resolved(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    found: dict[str, Any] = doc["components"]["schemas"][ref.removeprefix("#/components/schemas/")]
    return found


@pytest.fixture
async def doc(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    document: dict[str, Any] = r.json()
    return document


async def test_every_operation_that_takes_a_body_declares_it(doc: dict[str, Any]) -> None:
    operations = _operations(doc)
    undeclared = sorted(
        label
        for label, operation in operations.items()
        if label.split()[0].lower() in BODY_METHODS
        and "requestBody" not in operation
        and label not in NO_BODY
    )
    assert undeclared == []
    # The allow-list names real operations, none of which declares a body after all.
    for label in NO_BODY:
        assert label in operations, label
        assert "requestBody" not in operations[label], label


@pytest.mark.parametrize(
    ("label", "fields"),
    [
        # A body read with a model declares that model's fields.
        ("POST /waInstance{idInstance}/setSettings/{apiTokenInstance}", {"webhookUrl"}),
        ("POST /waInstance{idInstance}/createGroup/{apiTokenInstance}", {"groupName", "chatIds"}),
        ("PUT /instances/{instanceId}/token/{token}/update-webhook-received", {"value"}),
        ("POST /instances/{instanceId}/token/{token}/send-text", {"phone", "message"}),
        ("POST /instances/integrator/on-demand", {"name"}),
        ("POST /sandbox/phones/{phone}/scan", {"qr"}),
        ("POST /admin/dead-letters/replay", {"ids"}),
    ],
)
async def test_a_declared_json_body_is_the_model_the_route_parses(
    doc: dict[str, Any], label: str, fields: set[str]
) -> None:
    body = _operations(doc)[label]["requestBody"]
    assert body["required"] is False  # an empty body reads as {}
    schema = _resolved(doc, body["content"]["application/json"]["schema"])
    assert fields <= set(schema["properties"]), sorted(schema["properties"])


async def test_uploads_declare_their_content_types(doc: dict[str, Any]) -> None:
    operations = _operations(doc)
    upload = operations["POST /waInstance{idInstance}/uploadFile/{apiTokenInstance}"]
    assert set(upload["requestBody"]["content"]) == {
        "application/octet-stream",
        "multipart/form-data",
    }
    for name in ("sendFileByUpload", "setGroupPicture", "setProfilePicture"):
        operation = operations[f"POST /waInstance{{idInstance}}/{name}/{{apiTokenInstance}}"]
        assert set(operation["requestBody"]["content"]) == {"multipart/form-data"}, name


async def test_every_operation_declares_the_errors_of_its_facade(doc: dict[str, Any]) -> None:
    unknown = []
    for label, operation in _operations(doc).items():
        if label in NO_FACADE:
            continue
        path = label.split(" ", 1)[1]
        facade = next((FACADES[p] for p in FACADES if path.startswith(p)), None)
        if facade is None:
            unknown.append(label)
            continue
        statuses, fields = facade
        responses = operation["responses"]
        assert statuses <= set(responses), f"{label}: {sorted(statuses - set(responses))}"
        for status in statuses:
            schema = responses[status]["content"]["application/json"]["schema"]
            body = _resolved(doc, schema)
            assert set(body["properties"]) == fields, (label, status)
            assert set(body["required"]) == fields, (label, status)
    assert unknown == [], "operations of no known façade"


async def test_no_operation_lists_fastapis_422(doc: dict[str, Any]) -> None:
    listed = [label for label, op in _operations(doc).items() if "422" in op["responses"]]
    assert listed == []
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert "ValidationError" not in doc["components"]["schemas"]


async def test_two_nested_models_of_one_name_keep_their_own_schemas(doc: dict[str, Any]) -> None:
    """GREEN-API's and Z-API's buttons are both ``ActionButton``: each body keeps its own."""
    operations = _operations(doc)

    def button(label: str, field: str) -> dict[str, Any]:
        body = operations[label]["requestBody"]["content"]["application/json"]["schema"]
        return _resolved(doc, body["properties"][field]["items"])

    green = button(
        "POST /waInstance{idInstance}/sendInteractiveButtons/{apiTokenInstance}", "buttons"
    )
    zapi = button("POST /instances/{instanceId}/token/{token}/send-button-actions", "buttonActions")
    assert green != zapi
    assert "buttonText" in green["properties"]
    assert "label" in zapi["properties"]


async def test_real_errors_have_the_declared_shape(
    client: httpx.AsyncClient, doc: dict[str, Any], make_instance: MakeInstance
) -> None:
    """A bad body in each façade is answered with a declared status and the declared fields."""
    inst = await make_instance()
    bearer = {"authorization": f"Bearer {inst.partner_token}"}
    zapi = f"/instances/{inst.id}/token/{inst.token}"
    cases = [
        ("POST /waInstance{idInstance}/sendMessage/{apiTokenInstance}", inst.url("sendMessage")),
        (
            "POST /partner/createInstance/{partnerToken}",
            f"/partner/createInstance/{inst.partner_token}",
        ),
        ("POST /instances/{instanceId}/token/{token}/send-text", f"{zapi}/send-text"),
        ("POST /sandbox/phones/{phone}/scan", "/sandbox/phones/79001234567/scan"),
    ]
    operations = _operations(doc)
    for label, url in cases:
        r = await client.post(
            url, content=b"{not json", headers={**bearer, "content-type": "application/json"}
        )
        declared = operations[label]["responses"]
        assert str(r.status_code) in declared, (label, r.status_code)
        schema = _resolved(
            doc, declared[str(r.status_code)]["content"]["application/json"]["schema"]
        )
        assert set(r.json()) == set(schema["properties"]), (label, r.text)
