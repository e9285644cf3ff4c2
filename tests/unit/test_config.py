"""shared.config: settings from the environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.config import ConfigurationError, Settings, settings


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    settings.cache_clear()
    yield
    settings.cache_clear()


def test_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "t")
    monkeypatch.setenv("CURSOR_SIGNING_KEY", "k")
    monkeypatch.setenv("USER_POOL_ID", "")
    monkeypatch.delenv("POWERTOOLS_SERVICE_NAME", raising=False)
    assert Settings.from_environ() == Settings(
        table_name="t", cursor_signing_key=b"k", user_pool_id=None, service_name="career-journey"
    )


def test_missing_variables_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TABLE_NAME", raising=False)
    monkeypatch.setenv("CURSOR_SIGNING_KEY", "")
    with pytest.raises(ConfigurationError, match="TABLE_NAME, CURSOR_SIGNING_KEY"):
        settings()


def test_settings_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "first")
    monkeypatch.setenv("CURSOR_SIGNING_KEY", "k")
    first = settings()
    monkeypatch.setenv("TABLE_NAME", "second")
    assert settings() is first
    assert settings().table_name == "first"
