"""Secrets the functions read from AWS Secrets Manager, once per cold start (Powertools
parameters, cached for the life of the execution environment), never from plain environment
variables: the environment holds only the secret's name."""

from __future__ import annotations

import os

from aws_lambda_powertools.utilities import parameters

from shared.config import ConfigurationError

CLIENT_ID_KEY_ENV = "CLIENT_ID_KEY_SECRET"
# Read once per execution environment: a changed key changes every partner's clientIds, so it
# is not rotated under a running function (a new deployment picks up a new one).
KEY_CACHE_SECONDS = 24 * 3600


def client_id_key() -> bytes:
    """The HMAC key of partner-specific client ids (`shared.domain.partners.client_id`)."""
    name = os.environ.get(CLIENT_ID_KEY_ENV)
    if not name:
        raise ConfigurationError(f"missing environment variable: {CLIENT_ID_KEY_ENV}")
    value = parameters.get_secret(name, max_age=KEY_CACHE_SECONDS)
    if not isinstance(value, str) or len(value) < 32:
        raise ConfigurationError("the client id key secret is not a string of at least 32 characters")
    return value.encode()


def reset_clients() -> None:
    """Forget cached secrets and the provider's client (tests: each case has its own emulator)."""
    parameters.clear_caches()  # type: ignore[no-untyped-call]  # also drops the default providers
