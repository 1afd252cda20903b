"""Which engine a new instance runs on: the partner's (`partner create --engine`), else the
server's default (FLEETGATE_INSTANCES__DEFAULT_ENGINE); `instance show` tells."""

from __future__ import annotations

import dataclasses
import json

from fleetgate.services import partners
from fleetgate.settings import Settings
from tests.factories import create_instances, running_context
from tests.processes import Cli


def _settings(cli: Cli, **overrides: object) -> Settings:
    return Settings(
        data_dir=cli.data_dir,
        database_url=cli.env.get("FLEETGATE_DATABASE_URL"),
        **overrides,  # type: ignore[arg-type]
    )


async def test_a_partner_engine_wins_over_the_default_and_instance_show_tells(cli: Cli) -> None:
    cli.ok("partner", "create", "real", "--engine", "whatsapp")
    cli.create("plain")
    listing = cli.ok("partner", "list")
    rows = {line.split()[1]: line for line in listing.splitlines() if line.startswith("│")}
    assert "whatsapp" in rows["real"] and "(default)" not in rows["real"]
    assert "sandbox (default)" in rows["plain"]

    async with running_context(_settings(cli)) as ctx:
        async with ctx.db.reading() as session:
            real = await partners.partner_named(session=session, name="real")
            plain = await partners.partner_named(session=session, name="plain")
        [on_whatsapp] = await create_instances(ctx, 1, partner=real)
        [on_sandbox] = await create_instances(ctx, 1, partner=plain)
    async with running_context(
        _settings(cli, instances={"default_engine": "whatsapp"})
    ) as ctx:  # the server default changes what a partner without its own engine gets
        [on_default] = await create_instances(ctx, 1, partner=plain)

    shown = {
        i: json.loads(cli.ok("instance", "show", str(i)))
        for i in (on_whatsapp, on_sandbox, on_default)
    }
    assert {i: s["engine"] for i, s in shown.items()} == {
        on_whatsapp: "whatsapp",
        on_sandbox: "sandbox",
        on_default: "whatsapp",
    }
    assert shown[on_whatsapp]["partner"] == "real"
    assert shown[on_whatsapp]["stateInstance"] == "starting"
    assert shown[on_whatsapp]["deleted"] is None
    assert "apiTokenInstance" not in shown[on_whatsapp]


def test_an_engine_that_is_not_installed_is_refused(cli: Cli) -> None:
    bad = cli.run("partner", "create", "acme", "--engine", "telegraph")
    assert bad.returncode == 2
    assert "no engine 'telegraph' is installed" in bad.stderr
    assert "sandbox" in bad.stderr and "whatsapp" in bad.stderr
    assert "acme" not in cli.ok("partner", "list")

    env = cli.env | {"FLEETGATE_INSTANCES__DEFAULT_ENGINE": "telegraph"}
    serve = dataclasses.replace(cli, env=env).run("serve")
    assert serve.returncode == 2
    assert "FLEETGATE_INSTANCES__DEFAULT_ENGINE" in serve.stderr

    missing = cli.run("instance", "show", "1101000001")
    assert missing.returncode == 1
    assert "no instance 1101000001" in missing.stderr
