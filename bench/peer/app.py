"""`GET /v1/me` the usual way: a FastAPI app behind Mangum, for the `cold-start-peer` benchmark.

What the profile function's route does (functions/profile/app.py): read the profile item of
the person the API Gateway JWT authorizer vouched for (`requestContext.authorizer.jwt.claims
.sub`) with one consistent GetItem, answer it as a pydantic model with the same fields
(camelCase on the wire) and its ETag, or a 404 problem when there is none. Written as
FastAPI's and Mangum's docs show it, with the DynamoDB client made at import as most Lambda
code does; nothing here is tuned to be slow or fast. It is no part of any function.
"""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal

import boto3
from boto3.dynamodb.types import TypeDeserializer
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from mangum import Mangum
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

TABLE_NAME = os.environ["TABLE_NAME"]
dynamodb = boto3.client("dynamodb")
deserializer = TypeDeserializer()

Level = Literal["expert", "team_lead", "manager", "executive", "leader", "other"]


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class NotificationPrefs(CamelModel):
    reminders: bool = True
    promise_updates: bool = True
    quiet_hours_start: str | None = None
    quiet_hours_end: str | None = None


class Profile(CamelModel):
    display_name: str
    handle: str
    current_level: Level
    target_level: Level | None = None
    time_zone: str
    notification_prefs: NotificationPrefs = Field(default_factory=NotificationPrefs)
    created_at: str
    updated_at: str


app = FastAPI(title="Profile (peer)")


def current_sub(request: Request) -> str:
    """The subject the API Gateway JWT authorizer verified (Mangum keeps the event in the scope)."""
    event: dict[str, Any] = request.scope["aws.event"]
    return str(event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"])


@app.get("/v1/me", response_model=Profile, responses={404: {"description": "No profile yet"}})
def get_me(sub: Annotated[str, Depends(current_sub)], response: Response) -> Any:
    found = dynamodb.get_item(
        TableName=TABLE_NAME,
        Key={"PK": {"S": f"USER#{sub}"}, "SK": {"S": "PROFILE"}},
        ConsistentRead=True,
    )
    if "Item" not in found:
        return JSONResponse(
            status_code=404,
            media_type="application/problem+json",
            headers={"Cache-Control": "no-store"},
            content={
                "type": "https://career-journey.app/problems/not-found",
                "title": "Not Found",
                "status": 404,
                "detail": "You have no profile yet; create it with PUT /v1/me.",
            },
        )
    item = {name: deserializer.deserialize(value) for name, value in found["Item"].items()}
    response.headers["ETag"] = f'"v{int(item["version"])}"'
    response.headers["Cache-Control"] = "no-store"
    return item


handler = Mangum(app, lifespan="off")
