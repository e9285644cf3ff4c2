"""shared.api.resolver: guard_request, allowed methods, 404/405, json_response."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.api.resolver import MAX_BODY_BYTES, App, guard_request, json_response

KIB_64 = 64 * 1024


def _event(
    method: str = "POST",
    body: str | None = '{"a": 1}',
    content_type: str | None = "application/json",
    *,
    b64: bool = False,
) -> dict[str, Any]:
    headers = {} if content_type is None else {"content-type": content_type}
    return {
        "requestContext": {"http": {"method": method}},
        "headers": headers,
        "body": body,
        "isBase64Encoded": b64,
    }


def _json_of_size(size: int) -> str:
    """A JSON string literal of exactly `size` UTF-8 bytes."""
    return '"' + "a" * (size - 2) + '"'


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _assert_problem(response: dict[str, Any] | None, status: int) -> dict[str, Any]:
    assert response is not None
    assert response["statusCode"] == status
    assert response["headers"]["Content-Type"] == "application/problem+json"
    assert response["isBase64Encoded"] is False
    body = json.loads(response["body"])
    assert body["status"] == status
    assert isinstance(body, dict)
    return body


# guard_request: size


def test_max_body_is_64_kib() -> None:
    assert MAX_BODY_BYTES == KIB_64


def test_body_of_exactly_64_kib_passes() -> None:
    assert guard_request(_event(body=_json_of_size(KIB_64))) is None


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "post"])
def test_body_over_64_kib_is_413(method: str) -> None:
    body = _assert_problem(guard_request(_event(method, _json_of_size(KIB_64 + 1))), 413)
    assert "64 KiB" in body["detail"]


def test_size_counts_utf8_bytes_not_characters() -> None:
    text = '"' + "é" * (KIB_64 // 2) + '"'  # 32768 characters, 65538 bytes
    assert len(text) < KIB_64
    _assert_problem(guard_request(_event(body=text)), 413)


def test_base64_body_over_64_kib_is_413() -> None:
    _assert_problem(guard_request(_event(body=_b64(_json_of_size(KIB_64 + 10)), b64=True)), 413)


def test_oversize_base64_body_is_refused_before_decoding() -> None:
    _assert_problem(guard_request(_event(body="!" * (KIB_64 * 2), b64=True)), 413)


def test_base64_body_of_exactly_64_kib_passes() -> None:
    assert guard_request(_event(body=_b64(_json_of_size(KIB_64)), b64=True)) is None


# guard_request: content type


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data", "", None])
def test_non_json_content_type_is_415(content_type: str | None) -> None:
    _assert_problem(guard_request(_event(content_type=content_type)), 415)


def test_no_headers_at_all_is_415() -> None:
    event = _event()
    del event["headers"]
    _assert_problem(guard_request(event), 415)


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"]
)
def test_json_content_types_are_accepted(content_type: str) -> None:
    event = _event(content_type=content_type)
    assert guard_request(event) is None
    assert event["body"] == '{"a": 1}'


def test_merge_patch_is_accepted_and_rewritten_to_json() -> None:
    event = _event("PATCH", '{"displayName": null}', "application/merge-patch+json")
    assert guard_request(event) is None
    assert event["headers"]["content-type"] == "application/json"
    assert event["body"] == '{"displayName": null}'


# guard_request: JSON


@pytest.mark.parametrize("text", ["{", "{'a': 1}", "not json", '{"a": 1,}', "[1, 2", "\x00"])
def test_malformed_json_is_400(text: str) -> None:
    _assert_problem(guard_request(_event(body=text)), 400)


@pytest.mark.parametrize("body", ["@@not base64@@", base64.b64encode(b"\xff\xfe\xfd").decode(), _b64("{")])
def test_bad_base64_or_non_utf8_or_bad_json_inside_base64_is_400(body: str) -> None:
    _assert_problem(guard_request(_event(body=body, b64=True)), 400)


def test_base64_json_body_is_decoded() -> None:
    event = _event(body=_b64('{"displayName": "Zoë"}'), b64=True)
    assert guard_request(event) is None
    assert event["body"] == '{"displayName": "Zoë"}'
    assert event["isBase64Encoded"] is False


# guard_request: what it leaves alone


@pytest.mark.parametrize("method", ["GET", "DELETE", "HEAD", "OPTIONS"])
def test_methods_without_body_ignore_any_body(method: str) -> None:
    event = _event(method, "x" * (KIB_64 * 2), "text/plain")
    assert guard_request(event) is None
    assert event["body"] == "x" * (KIB_64 * 2)


@pytest.mark.parametrize("body", [None, ""])
def test_empty_body_passes(body: str | None) -> None:
    assert guard_request(_event(body=body, content_type="text/plain")) is None


def test_event_without_request_context_passes() -> None:
    assert guard_request({"body": "x"}) is None


# App: routing, allowed methods, 404/405, json_response


def _app() -> App:
    app = App(
        other_routes=[
            ("DELETE", "/v1/me"),
            ("POST", "/v1/me/devices"),
            ("DELETE", "/v1/me/devices/{deviceId}"),
            ("PUT", "/v1/plans/{planId}/steps/{stepId}"),
        ]
    )

    @app.get("/v1/me")
    def get_me() -> Response[dict[str, int]]:
        return json_response(200, {"version": 3}, {"ETag": '"v3"'})

    @app.get("/v1/me/devices/<device_id>")
    def get_device(device_id: str) -> Response[dict[str, str]]:
        return json_response(201, {"deviceId": device_id})

    @app.get("/v1/count")
    def count() -> dict[str, int]:
        return {"count": "many"}  # type: ignore[dict-item]

    return app


def _resolve(app: App, method: str, path: str) -> dict[str, Any]:
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "headers": {},
        "requestContext": {"http": {"method": method, "path": path}, "stage": "$default"},
        "isBase64Encoded": False,
    }
    return app.resolve(event, LambdaContext())


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/v1/me", ["DELETE", "GET"]),
        ("/v1/me/devices", ["POST"]),
        ("/v1/me/devices/01ARZ3NDEKTSV4RRFFQ69G5FAV", ["DELETE", "GET"]),
        ("/v1/plans/p1/steps/s2", ["PUT"]),
        ("/v1/me/devices/a/b", []),
        ("/v1/plans/p1/steps", []),
        ("/v1/nothing", []),
        ("/v1/me/", []),
    ],
)
def test_allowed_methods(path: str, methods: list[str]) -> None:
    assert _app().allowed_methods(path) == methods


def test_wrong_method_on_a_known_path_is_405_with_allow() -> None:
    response = _resolve(_app(), "PUT", "/v1/me")
    _assert_problem(response, 405)
    assert response["headers"]["Allow"] == "DELETE, GET"


def test_unknown_path_is_404() -> None:
    _assert_problem(_resolve(_app(), "GET", "/v1/nowhere"), 404)


def test_json_response_sets_status_type_and_headers() -> None:
    response = json_response(201, {"a": 1}, {"Location": "/v1/x"})
    assert response.status_code == 201
    assert response.content_type == "application/json"
    assert response.headers["Location"] == "/v1/x"
    assert "Location" not in json_response(200, {}).headers


def test_json_response_through_the_app() -> None:
    response = _resolve(_app(), "GET", "/v1/me")
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "application/json"
    assert response["headers"]["ETag"] == '"v3"'
    assert json.loads(response["body"]) == {"version": 3}
    created = _resolve(_app(), "GET", "/v1/me/devices/d1")
    assert created["statusCode"] == 201
    assert json.loads(created["body"]) == {"deviceId": "d1"}


def test_a_response_that_breaks_its_model_is_a_500_not_the_clients_fault() -> None:
    _assert_problem(_resolve(_app(), "GET", "/v1/count"), 500)
