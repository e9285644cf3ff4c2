"""Settings from the environment, validated on first use (never at import) and cached."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache


class ConfigurationError(RuntimeError):
    """A required environment variable or secret is missing or malformed: a deployment fault,
    never the client's."""


@dataclass(frozen=True)
class Settings:
    """What a function needs from its environment."""

    table_name: str
    user_pool_id: str | None
    service_name: str
    # The SNS platform applications devices register with; absent where push is not set up
    # (devices then register without an endpoint and are never pushed to).
    ios_platform_application_arn: str | None = None
    android_platform_application_arn: str | None = None

    @classmethod
    def from_environ(cls) -> Settings:
        # Secrets (the cursor keys, the client id key) are not settings: `shared.secrets` reads
        # them from Secrets Manager, by the name the environment gives.
        missing = [name for name in ("TABLE_NAME",) if not os.environ.get(name)]
        if missing:
            raise ConfigurationError(f"missing environment variables: {', '.join(missing)}")
        return cls(
            table_name=os.environ["TABLE_NAME"],
            user_pool_id=os.environ.get("USER_POOL_ID") or None,
            service_name=os.environ.get("POWERTOOLS_SERVICE_NAME", "career-journey"),
            ios_platform_application_arn=os.environ.get("IOS_PLATFORM_APPLICATION_ARN") or None,
            android_platform_application_arn=os.environ.get("ANDROID_PLATFORM_APPLICATION_ARN") or None,
        )

    def platform_application_arn(self, platform: str) -> str | None:
        """The SNS platform application for a device platform (`ios`, `android`), if set up."""
        return {
            "ios": self.ios_platform_application_arn,
            "android": self.android_platform_application_arn,
        }.get(platform)


@cache
def settings() -> Settings:
    """The process's settings, read once."""
    return Settings.from_environ()
