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
    monkeypatch.setenv("USER_POOL_ID", "")
    monkeypatch.delenv("POWERTOOLS_SERVICE_NAME", raising=False)
    assert Settings.from_environ() == Settings(
        table_name="t", user_pool_id=None, service_name="career-journey"
    )


def test_no_secret_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cursor keys come from Secrets Manager (`shared.secrets`), not from the environment."""
    monkeypatch.setenv("TABLE_NAME", "t")
    monkeypatch.delenv("CURSOR_KEY_SECRET", raising=False)
    assert settings().table_name == "t"
    assert not any("key" in name for name in vars(settings()))


def test_missing_variables_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "")
    with pytest.raises(ConfigurationError, match=r"^missing environment variables: TABLE_NAME$"):
        settings()


def test_settings_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "first")
    first = settings()
    monkeypatch.setenv("TABLE_NAME", "second")
    assert settings() is first
    assert settings().table_name == "first"
