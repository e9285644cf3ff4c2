"""Shared fixtures: moto-backed AWS for handler tests, and the running local stack."""

pytest_plugins = ["tests.support.aws", "tests.support.stack"]
