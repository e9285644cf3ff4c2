"""A reference for the cold-import benchmark: the libraries as every API function uses them.

The budget's baseline is the bare import of boto3, the Powertools HTTP resolver and
`pydantic.main`. Using them costs more before any of our code runs: the first model class
pulls in pydantic's field machinery (pydantic.fields, pydantic.types, annotated_types), and a
resolver with `enable_validation` pulls in Powertools' validation middleware. This module does
exactly that and nothing else, so the distance between it and a function is our own code.
"""

from __future__ import annotations

import boto3  # noqa: F401
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from pydantic import BaseModel, ConfigDict


class One(BaseModel):
    """One model, built lazily as ours are."""

    model_config = ConfigDict(defer_build=True)
    value: int


app = APIGatewayHttpResolver(enable_validation=True)
