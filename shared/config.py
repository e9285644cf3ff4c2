"""Settings from the environment, validated on first use (never at import) and cached."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache


class ConfigurationError(RuntimeError):
    """A required environment variable is missing: a deployment fault, never the client's."""


@dataclass(frozen=True)
class Settings:
    """What a function needs from its environment."""

    table_name: str
    cursor_signing_key: bytes
    user_pool_id: str | None
    service_name: str

    @classmethod
    def from_environ(cls) -> Settings:
        missing = [name for name in ("TABLE_NAME", "CURSOR_SIGNING_KEY") if not os.environ.get(name)]
        if missing:
            raise ConfigurationError(f"missing environment variables: {', '.join(missing)}")
        return cls(
            table_name=os.environ["TABLE_NAME"],
            cursor_signing_key=os.environ["CURSOR_SIGNING_KEY"].encode(),
            user_pool_id=os.environ.get("USER_POOL_ID") or None,
            service_name=os.environ.get("POWERTOOLS_SERVICE_NAME", "career-journey"),
        )


@cache
def settings() -> Settings:
    """The process's settings, read once."""
    return Settings.from_environ()
