"""shared.api.problems: RFC 9457 problem responses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import Response
from pydantic import ValidationError

from shared.api.problems import (
    MAX_LISTED_ERRORS,
    PROBLEM_JSON,
    field_errors,
    from_domain_error,
    problem,
    problem_responses,
)
from shared.domain.errors import (
    BadRequest,
    Conflict,
    DomainError,
    FieldError,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ServiceUnavailable,
)
from shared.models.common import Problem
from shared.models.profile import ProfileInput

SECRET = "s3cr3t-P@ssw0rd-do-not-echo"


def _body(response: Response[str]) -> dict[str, Any]:
    assert isinstance(response.body, str)
    body = json.loads(response.body)
    assert isinstance(body, dict)
    return body


def test_problem_has_type_title_status_detail_and_content_type() -> None:
    response = problem(404, "There is nothing here.")
    assert response.status_code == 404
    assert response.content_type == PROBLEM_JSON == "application/problem+json"
    assert _body(response) == {
        "type": "https://career-journey.app/problems/not-found",
        "title": "Not Found",
        "status": 404,
        "detail": "There is nothing here.",
    }


def test_problem_with_instance_errors_and_headers() -> None:
    response = problem(
        422,
        "Some fields are invalid.",
        errors=[FieldError("body", "handle", "taken", "already used")],
        instance="/v1/me",
        headers={"X-Test": "1"},
    )
    body = _body(response)
    assert body["instance"] == "/v1/me"
    assert body["errors"] == [
        {"location": "body", "field": "handle", "code": "taken", "message": "already used"}
    ]
    assert response.headers["X-Test"] == "1"


def test_problem_without_detail_omits_it_and_unknown_status_uses_its_number() -> None:
    body = _body(problem(418))
    assert "detail" not in body
    assert body["type"].endswith("/418")
    assert body["title"] == "I'm a Teapot"


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (BadRequest("unreadable"), 400),
        (NotFound("no such thing"), 404),
        (Conflict("taken"), 409),
        (PreconditionFailed("stale"), 412),
        (PreconditionRequired("send If-Match"), 428),
        (InvalidInput("bad", [FieldError("body", "handle", "taken", "in use")]), 422),
        (ServiceUnavailable("busy", retry_after_seconds=7), 503),
        (DomainError("generic"), 400),
    ],
)
def test_from_domain_error_maps_each_error_to_its_status(error: DomainError, status: int) -> None:
    response = from_domain_error(error, instance="/v1/me")
    body = _body(response)
    assert response.status_code == status
    assert response.content_type == PROBLEM_JSON
    assert body["status"] == status
    assert body["detail"] == error.detail
    assert body["instance"] == "/v1/me"


def test_invalid_input_carries_its_errors() -> None:
    errors = [
        FieldError("body", "handle", "taken", "in use"),
        FieldError("query", "limit", "too_big", "at most 100"),
    ]
    body = _body(from_domain_error(InvalidInput("bad", errors)))
    assert body["errors"] == [
        {"location": "body", "field": "handle", "code": "taken", "message": "in use"},
        {"location": "query", "field": "limit", "code": "too_big", "message": "at most 100"},
    ]


def test_service_unavailable_sets_retry_after() -> None:
    response = from_domain_error(ServiceUnavailable("busy", retry_after_seconds=7))
    assert response.headers["Retry-After"] == "7"
    assert from_domain_error(ServiceUnavailable("busy")).headers["Retry-After"] == "1"
    assert "Retry-After" not in from_domain_error(NotFound("x")).headers


def test_the_most_specific_error_class_wins() -> None:
    class DeviceGone(NotFound):
        pass

    assert from_domain_error(DeviceGone("gone")).status_code == 404


def test_field_errors_from_pydantic_style_dicts() -> None:
    raw: list[dict[str, Any]] = [
        {"type": "missing", "loc": ("body", "displayName"), "msg": "Field required", "input": {}},
        {
            "type": "value_error",
            "loc": ("body", "notificationPrefs", "quietHoursStart"),
            "msg": "Value error, must be HH:MM",
            "input": "25:00",
        },
        {"type": "int_parsing", "loc": ("query", "limit"), "msg": "bad int", "input": "x"},
        {"loc": (), "input": "?"},
    ]
    assert field_errors(raw) == [
        FieldError("body", "displayName", "missing", "Field required"),
        FieldError("body", "notificationPrefs.quietHoursStart", "value_error", "must be HH:MM"),
        FieldError("query", "limit", "int_parsing", "bad int"),
        FieldError("body", "", "invalid", "invalid value"),
    ]


def test_field_errors_cap_the_field_length() -> None:
    [error] = field_errors([{"type": "extra_forbidden", "loc": ("body", "x" * 1000), "msg": "Extra"}])
    assert len(error.field) == 120


def test_field_errors_never_include_the_input() -> None:
    raw: list[dict[str, Any]] = [
        {
            "type": "string_too_long",
            "loc": ("body", "displayName"),
            "msg": "String should have at most 80 characters",
            "input": SECRET,
            "ctx": {"max_length": 80},
        },
        {"type": "value_error", "loc": ("body", "timeZone"), "msg": "Value error, bad zone", "input": SECRET},
    ]
    response = problem(422, "Some fields are invalid.", errors=field_errors(raw))
    assert isinstance(response.body, str)
    assert SECRET not in response.body
    assert len(_body(response)["errors"]) == 2


@pytest.mark.parametrize("field", ["displayName", "handle", "currentLevel", "timeZone", "isAdmin"])
def test_real_validation_errors_never_echo_the_input(field: str) -> None:
    document: dict[str, Any] = {
        "displayName": "Ana",
        "handle": "ana",
        "currentLevel": "expert",
        "timeZone": "Europe/Lisbon",
    }
    document[field] = SECRET + "x" * 100 if field == "displayName" else SECRET
    with pytest.raises(ValidationError) as caught:
        ProfileInput.model_validate(document)
    raw = [{**e, "loc": ("body", *e["loc"])} for e in caught.value.errors()]
    response = problem(422, "Some fields are invalid.", errors=field_errors(raw))
    assert isinstance(response.body, str)
    assert SECRET not in response.body
    assert _body(response)["errors"][0]["field"] == field


def test_problem_responses_document_problem_json() -> None:
    responses = problem_responses(404, 412)
    assert set(responses) == {404, 412}
    assert responses[412]["description"] == "Precondition Failed"
    assert PROBLEM_JSON in responses[404]["content"]


def _many(count: int) -> list[FieldError]:
    return [
        FieldError("body", f"field{i}", "extra_forbidden", "Extra inputs are not permitted")
        for i in range(count)
    ]


def test_problem_lists_the_first_twenty_errors_and_counts_them_all() -> None:
    body = _body(problem(422, "Some fields are invalid.", errors=_many(7000)))
    assert MAX_LISTED_ERRORS == 20
    assert [e["field"] for e in body["errors"]] == [f"field{i}" for i in range(20)]
    assert body["errorCount"] == 7000
    assert len(json.dumps(body)) < 4096


def test_problem_counts_errors_when_all_are_listed() -> None:
    body = _body(problem(422, "Some fields are invalid.", errors=_many(2)))
    assert (len(body["errors"]), body["errorCount"]) == (2, 2)
    assert "errorCount" not in _body(problem(404, "There is nothing here."))


def test_domain_validation_errors_are_capped_too() -> None:
    body = _body(from_domain_error(InvalidInput("Some cares are not yours.", _many(30))))
    assert (len(body["errors"]), body["errorCount"]) == (20, 30)


def test_the_problem_model_documents_the_error_count() -> None:
    # The OpenAPI schema of problems comes from this model, which refuses unknown members.
    body = _body(problem(422, "Some fields are invalid.", errors=_many(25)))
    assert Problem.model_validate(body).error_count == 25
    assert "errorCount" in Problem.model_json_schema()["properties"]
