"""docs/coverage.md against the app: every route either façade serves is in its table, and
every route the tables call served (or retired) is one the app really has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fleetgate.app import create_app
from fleetgate.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "coverage.md"
# A façade's routes, by the start of their paths.
FACADES = {"GREEN-API": ("/waInstance", "/partner/"), "Z-API": ("/instances",)}
SERVED = {"yes", "retired"}
_ROW = re.compile(
    r"^\|.*?`(?P<route>[A-Z]+ /[^`]*)`\s*\|\s*(?P<served>[a-z]+)\s*\|\s*(?P<engines>[^|]*)\|"
)


def _tables() -> dict[str, dict[str, str]]:
    """Each façade's table: route ("VERB /path") -> its Served column."""
    tables: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            current = (
                tables.setdefault(line[3:].strip(), {}) if line[3:].strip() in FACADES else None
            )
            continue
        row = _ROW.match(line)
        if current is not None and row is not None:
            route = row["route"]
            assert route not in current, f"{route} is listed twice"
            assert row["engines"].strip(), f"{route}: the Engines column is empty"
            current[route] = row["served"]
    return tables


@pytest.fixture(scope="module")
def app_routes(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The app's routes ("VERB /path"), as its OpenAPI schema lists them."""
    tmp_path = tmp_path_factory.mktemp("coverage")
    app = create_app(
        Settings(data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db")
    )
    return {
        f"{verb.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for verb in operations
    }


@pytest.fixture(scope="module")
def tables() -> dict[str, dict[str, str]]:
    return _tables()


def test_every_facade_has_its_table(tables: dict[str, dict[str, str]]) -> None:
    assert set(tables) == set(FACADES)
    for name, rows in tables.items():
        assert rows, f"the {name} table has no rows"
        assert set(rows.values()) <= SERVED | {"no"}, f"{name}: unknown Served values"


@pytest.mark.parametrize("facade", sorted(FACADES))
def test_the_table_and_the_routes_agree(
    facade: str, tables: dict[str, dict[str, str]], app_routes: set[str]
) -> None:
    routes = {r for r in app_routes if r.split(" ", 1)[1].startswith(FACADES[facade])}
    table = tables[facade]
    served = {route for route, state in table.items() if state in SERVED}
    unserved = {route for route, state in table.items() if state == "no"}
    assert sorted(routes - served) == [], "served but not listed as served in docs/coverage.md"
    assert sorted(served - routes) == [], "listed as served in docs/coverage.md but not routed"
    assert sorted(unserved & routes) == [], "listed as not served but routed"
