"""Settings: FLEETGATE_* variables, the SQLite default, and the generated server key."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from pydantic import ValidationError

from fleetgate.keyring import KeySource
from fleetgate.settings import SECRET_KEY_FILE, Settings

KEY_HEX = "ab" * 32


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No FLEETGATE_* variable of the caller leaks in; relative paths land in tmp_path."""
    for name in list(os.environ):
        if name.upper().startswith("FLEETGATE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults() -> None:
    s = Settings()
    assert s.data_dir == Path("fleetgate-data")
    assert s.database_url is None
    assert s.secret_key is None
    assert s.http.host == "127.0.0.1"
    assert s.http.port == 8000
    assert s.http.max_body_bytes == 1_048_576
    assert s.instances.id_prefix == 1101
    assert s.instances.tariff == "PARTNER"
    # Webhooks to loopback or private addresses only when the operator asks (make run does).
    assert (s.delivery.allow_loopback, s.delivery.allow_private) == (False, False)


def test_default_database_is_sqlite_inside_data_dir(tmp_path: Path) -> None:
    url = Settings().resolved_database_url()
    assert url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/fleetgate-data/fleetgate.db"
    other = Settings(data_dir=tmp_path / "elsewhere").resolved_database_url()
    assert other == f"sqlite+aiosqlite:///{(tmp_path / 'elsewhere').resolve()}/fleetgate.db"


def test_explicit_database_url_wins(tmp_path: Path) -> None:
    pg = "postgresql+asyncpg://fleet@db.internal/fleet"
    assert Settings(data_dir=tmp_path, database_url=pg).resolved_database_url() == pg


def test_every_field_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FLEETGATE_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("FLEETGATE_DATABASE_URL", "postgresql+asyncpg://u@h/db")
    monkeypatch.setenv("FLEETGATE_SECRET_KEY", KEY_HEX)
    monkeypatch.setenv("FLEETGATE_HTTP__HOST", "0.0.0.0")
    monkeypatch.setenv("FLEETGATE_HTTP__PORT", "9123")
    monkeypatch.setenv("FLEETGATE_HTTP__MAX_BODY_BYTES", "4096")
    monkeypatch.setenv("FLEETGATE_INSTANCES__ID_PREFIX", "7103")
    monkeypatch.setenv("FLEETGATE_INSTANCES__TARIFF", "BUSINESS")
    s = Settings()
    assert s.data_dir == tmp_path / "d"
    assert s.resolved_database_url() == "postgresql+asyncpg://u@h/db"
    assert _key(s) == bytes.fromhex(KEY_HEX)
    assert (s.http.host, s.http.port, s.http.max_body_bytes) == ("0.0.0.0", 9123, 4096)
    assert (s.instances.id_prefix, s.instances.tariff) == (7103, "BUSINESS")
    # An explicit key is never written to disk.
    assert not (tmp_path / "d").exists()


def test_logging_limits_and_metrics_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings()
    assert (defaults.log_level, defaults.log_format) == ("INFO", "text")
    assert (defaults.http.max_head_bytes, defaults.http.head_timeout_s) == (65_536, 10.0)
    assert defaults.http.max_connections == 1000
    assert (defaults.metrics.enabled, defaults.metrics.token) == (True, None)
    for name, value in {
        "LOG_LEVEL": "debug",
        "LOG_FORMAT": "json",
        "HTTP__MAX_HEAD_BYTES": "8192",
        "HTTP__HEAD_TIMEOUT_S": "2.5",
        "HTTP__MAX_CONNECTIONS": "64",
        "METRICS__TOKEN": "t0ken",
    }.items():
        monkeypatch.setenv(f"FLEETGATE_{name}", value)
    s = Settings()
    assert (s.log_level, s.log_format) == ("DEBUG", "json")
    assert (s.http.max_head_bytes, s.http.head_timeout_s, s.http.max_connections) == (
        8192,
        2.5,
        64,
    )
    assert s.metrics.token is not None and s.metrics.token.get_secret_value() == "t0ken"
    assert "t0ken" not in repr(s)


def test_nested_values_keep_their_defaults_when_only_one_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLEETGATE_HTTP__PORT", "9001")
    s = Settings()
    assert s.http.port == 9001
    assert s.http.host == "127.0.0.1"
    assert s.http.max_body_bytes == 1_048_576


def test_unknown_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEETGATE_NO_SUCH_THING", "x")
    monkeypatch.setenv("FLEETGATE_HTTP__PORT", "9002")
    assert Settings().http.port == 9002


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FLEETGATE_HTTP__PORT", "70000"),
        ("FLEETGATE_HTTP__PORT", "-1"),
        ("FLEETGATE_HTTP__PORT", "eighty"),
        ("FLEETGATE_HTTP__MAX_BODY_BYTES", "100"),
        ("FLEETGATE_INSTANCES__ID_PREFIX", "999"),
        ("FLEETGATE_INSTANCES__ID_PREFIX", "10000"),
        ("FLEETGATE_LOG_LEVEL", "LOUD"),
        ("FLEETGATE_LOG_FORMAT", "xml"),
        ("FLEETGATE_HTTP__MAX_HEAD_BYTES", "100"),
        ("FLEETGATE_HTTP__HEAD_TIMEOUT_S", "0"),
        ("FLEETGATE_HTTP__MAX_CONNECTIONS", "0"),
    ],
)
def test_out_of_range_environment_values_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_constructor_arguments_override_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FLEETGATE_DATA_DIR", "/nonexistent/from-env")
    assert Settings(data_dir=tmp_path).data_dir == tmp_path


def test_secret_key_is_generated_once_with_owner_only_mode(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "data"
    key = _key(Settings(data_dir=data_dir))
    path = data_dir / SECRET_KEY_FILE
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text(encoding="ascii") == key.hex() + "\n"
    # Reused: by the same object, and by a new process's Settings.
    assert _key(Settings(data_dir=data_dir)) == key
    assert _key(Settings(data_dir=data_dir)) == key
    assert path.read_text(encoding="ascii") == key.hex() + "\n"


def test_two_data_dirs_get_different_keys(tmp_path: Path) -> None:
    a = _key(Settings(data_dir=tmp_path / "a"))
    b = _key(Settings(data_dir=tmp_path / "b"))
    assert a != b


def test_an_existing_key_file_is_used_as_is(tmp_path: Path) -> None:
    (tmp_path / SECRET_KEY_FILE).write_text(KEY_HEX.upper() + "\n", encoding="ascii")
    assert _key(Settings(data_dir=tmp_path)) == bytes.fromhex(KEY_HEX)


def test_explicit_key_wins_over_the_file(tmp_path: Path) -> None:
    generated = _key(Settings(data_dir=tmp_path))
    explicit = _key(Settings(data_dir=tmp_path, secret_key=KEY_HEX))
    assert explicit == bytes.fromhex(KEY_HEX) != generated


@pytest.mark.parametrize("length", [32, 48, 64])
def test_keys_of_32_bytes_or_more_are_accepted(tmp_path: Path, length: int) -> None:
    text = "5a" * length
    assert _key(Settings(data_dir=tmp_path, secret_key=text)) == bytes([0x5A] * length)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("ab" * 31, "at least 32 bytes"),
        ("ab", "at least 32 bytes"),
        ("zz" * 32, "hex"),
        ("a" * 65, "hex"),  # odd number of hex digits
        ("g" + "a" * 63, "hex"),
    ],
)
def test_bad_explicit_keys_are_a_value_error(tmp_path: Path, key: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _key(Settings(data_dir=tmp_path, secret_key=key))


@pytest.mark.parametrize(
    ("content", "message"),
    [("ab" * 16 + "\n", "at least 32 bytes"), ("not a key at all\n", "hex")],
)
def test_a_bad_key_file_is_a_value_error_and_is_not_replaced(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / SECRET_KEY_FILE
    path.write_text(content, encoding="ascii")
    with pytest.raises(ValueError, match=message):
        _key(Settings(data_dir=tmp_path))
    # Overwriting it would silently orphan every token encrypted under the old key.
    assert path.read_text(encoding="ascii") == content


def test_secret_key_from_environment_is_validated(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FLEETGATE_SECRET_KEY", "ab" * 8)
    with pytest.raises(ValueError, match="at least 32 bytes"):
        _key(Settings(data_dir=tmp_path))


def test_concurrent_first_starts_agree_on_one_key(tmp_path: Path) -> None:
    # The race window is a few microseconds; eight threads released together hit it in most
    # rounds, so 50 rounds make a pass here mean the race is really gone.
    for round_no in range(50):
        results = _first_starts(tmp_path / f"round{round_no}", 8)
        assert len(results) == 8
        assert len(set(results)) == 1, results
        assert not results[0].startswith("error")


def _first_starts(data_dir: Path, count: int) -> list[str]:
    """Resolve the key of one fresh data dir from ``count`` threads at once."""
    barrier = threading.Barrier(count)
    results: list[str] = []

    def first_start() -> None:
        barrier.wait(timeout=10)
        try:
            results.append(_key(Settings(data_dir=data_dir)).hex())
        except ValueError as exc:
            results.append(f"error: {exc}")

    threads = [threading.Thread(target=first_start) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    return results


def _key(settings: Settings) -> bytes:
    """The current server key of ``settings`` (generated and saved on first use)."""
    return KeySource.for_settings(settings).load().current_key
