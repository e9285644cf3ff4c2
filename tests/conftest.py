"""Shared fixtures: moto-backed AWS for handler tests, and the running local stack."""

import os

# Lambda sets the function's environment before importing it; test modules import the functions
# at collection, before any fixture runs. Powertools reads the metrics namespace and the service
# name when `shared.observability` is imported, so they are set here, first.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "CareerJourney")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "career-journey")

pytest_plugins = ["tests.support.aws", "tests.support.stack"]
