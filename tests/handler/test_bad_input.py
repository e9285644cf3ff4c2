"""Bad input gets the right 4xx problem and writes nothing; never a 500."""

from __future__ import annotations

import itertools
import json
import string
from collections.abc import Callable
from typing import Any

import pytest

from functions.care.app import lambda_handler as care_handler
from functions.profile.app import lambda_handler as profile_handler
from shared.api.resolver import MAX_JSON_DEPTH, Handler
from tests.handler import test_promises
from tests.handler.conftest import Caller, profile_body
from tests.handler.test_promises import Person, move, open_promise, opening_body
from tests.support.aws import Aws, Reply, http_event, invoke


def _assert_problem(reply: Reply, status: int) -> None:
    assert reply.status == status, reply.body
    assert reply.problem["status"] == status
    assert reply.problem["title"]
    assert reply.problem["type"].startswith("https://")


def _nothing_written(me: Caller) -> None:
    assert me.aws.all_items() == []


def test_malformed_json_is_400(me: Caller) -> None:
    _assert_problem(me("PUT", "/v1/me", raw_body='{"displayName": '), 400)
    _nothing_written(me)


def test_non_json_content_type_is_415(me: Caller) -> None:
    reply = me(
        "PUT",
        "/v1/me",
        raw_body="displayName=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    _assert_problem(reply, 415)
    _nothing_written(me)


def test_oversize_body_is_413(me: Caller) -> None:
    big = profile_body(displayName="x" * (70 * 1024))
    _assert_problem(me("PUT", "/v1/me", body=big), 413)
    _nothing_written(me)


def test_unknown_fields_are_refused_not_stored(me: Caller) -> None:
    reply = me("PUT", "/v1/me", body=profile_body(isAdmin=True))
    _assert_problem(reply, 422)
    assert reply.problem["errors"] == [
        {
            "location": "body",
            "field": "isAdmin",
            "code": "extra_forbidden",
            "message": "Extra inputs are not permitted",
        }
    ]
    _nothing_written(me)


def test_one_entry_per_bad_field_and_no_echo(me: Caller) -> None:
    secret = "s3cr3t-value-never-echoed"
    body = profile_body(displayName=12, currentLevel=secret, timeZone=secret, handle=None)
    reply = me("PUT", "/v1/me", body=body)
    _assert_problem(reply, 422)
    fields = sorted(e["field"] for e in reply.problem["errors"])
    assert fields == ["currentLevel", "displayName", "handle", "timeZone"]
    assert secret not in json.dumps(reply.body)
    _nothing_written(me)


@pytest.mark.parametrize("body", [[], "text", 42, None])
def test_non_object_bodies_are_422(me: Caller, body: object) -> None:
    reply = me("PUT", "/v1/me", raw_body=json.dumps(body))
    _assert_problem(reply, 422)
    _nothing_written(me)


def test_empty_body_is_422(me: Caller) -> None:
    _assert_problem(me("PUT", "/v1/me", raw_body="", headers={"content-type": "application/json"}), 422)


def test_wrong_method_is_405_with_allow(me: Caller) -> None:
    reply = me("POST", "/v1/me", body={})
    _assert_problem(reply, 405)
    assert reply.headers["Allow"] == "DELETE, GET, PATCH, PUT"


def test_no_identity_is_401_not_500(me: Caller) -> None:
    # Only reachable if a route were deployed without the authorizer: still no 500.
    from functions.profile.app import lambda_handler
    from tests.support.aws import http_event, invoke

    _assert_problem(invoke(lambda_handler, http_event("GET", "/v1/me")), 401)


def test_bad_device_input(me: Caller) -> None:
    reply = me("POST", "/v1/me/devices", body={"platform": "windows", "pushToken": "x"})
    _assert_problem(reply, 422)
    assert sorted(e["field"] for e in reply.problem["errors"]) == ["platform", "pushToken"]
    _nothing_written(me)


def test_bad_device_id_is_422_not_500(me: Caller) -> None:
    _assert_problem(me("DELETE", "/v1/me/devices/..%2F..%2Fetc"), 422)


# --- JSON that no request needs (refused before parsing into models) ---------------------------

# The promise function's people (with a profile, so a handle) by reference, as test_promises has them.
make_person = test_promises.make_person


def _care(me: Caller, method: str, path: str, **kwargs: Any) -> Reply:
    """`me` calling the care function."""
    return invoke(care_handler, http_event(method, path, user=me.sub, username=me.username, **kwargs))


def _table(aws: Aws) -> list[dict[str, Any]]:
    return sorted(aws.all_items(), key=lambda item: (str(item["PK"]), str(item["SK"])))


def _nested(depth: int, leaf: str = '"x"') -> str:
    """`leaf` inside `depth` arrays."""
    return "[" * depth + leaf + "]" * depth


@pytest.mark.parametrize(
    ("handler", "method", "path", "field"),
    [(profile_handler, "PUT", "/v1/me", "displayName"), (care_handler, "POST", "/v1/me/cares", "statement")],
)
def test_json_nested_two_thousand_deep_is_400_not_500(
    me: Caller, handler: Handler, method: str, path: str, field: str
) -> None:
    body = f'{{"{field}": {_nested(2000)}}}'
    assert len(body) < 4100
    reply = invoke(handler, http_event(method, path, user=me.sub, username=me.username, raw_body=body))
    _assert_problem(reply, 400)
    _nothing_written(me)


def test_nesting_one_level_deeper_than_any_request_needs_is_400(me: Caller) -> None:
    # At the deepest a request body needs, the schema judges the value (422 naming the field);
    # one level more is refused before parsing.
    at_limit = me("PUT", "/v1/me", raw_body=f'{{"displayName": {_nested(MAX_JSON_DEPTH - 1)}}}')
    _assert_problem(at_limit, 422)
    assert "displayName" in [e["field"] for e in at_limit.problem["errors"]]
    beyond = me("PUT", "/v1/me", raw_body=f'{{"displayName": {_nested(MAX_JSON_DEPTH)}}}')
    _assert_problem(beyond, 400)
    assert "errors" not in beyond.problem
    _nothing_written(me)


def test_brackets_inside_strings_are_text_not_nesting(me: Caller) -> None:
    # An escaped quote does not end a string; an escaped backslash before the real end does not hide it.
    statement = 'Say \\"[{' + "[{" * 100 + " \\\\"
    raw = f'{{"statement": "{statement}", "domain": "others"}}'
    reply = _care(me, "POST", "/v1/me/cares", raw_body=raw)
    assert reply.status == 201, reply.body
    assert reply.body["statement"] == json.loads(f'"{statement}"')


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(me: Caller, constant: str) -> None:
    raw = f'{{"statement": "Teaching", "domain": "others", "rank": {constant}}}'
    _assert_problem(_care(me, "POST", "/v1/me/cares", raw_body=raw), 400)
    _nothing_written(me)


def test_a_name_twice_in_one_object_is_400(me: Caller) -> None:
    raw = '{"statement": "Teaching", "statement": "Something else", "domain": "others"}'
    _assert_problem(_care(me, "POST", "/v1/me/cares", raw_body=raw), 400)
    nested = (
        json.dumps(profile_body())[:-1] + ', "notificationPrefs": {"reminders": true, "reminders": false}}'
    )
    _assert_problem(me("PUT", "/v1/me", raw_body=nested), 400)
    _nothing_written(me)


def test_thousands_of_unknown_fields_list_twenty_errors_and_count_them_all(me: Caller) -> None:
    names = [
        "".join(letters)
        for letters in itertools.islice(itertools.product(string.ascii_letters, repeat=3), 7000)
    ]
    raw = json.dumps(profile_body(**dict.fromkeys(names, 0)), separators=(",", ":"))
    assert len(raw) < 57 * 1024
    reply = me("PUT", "/v1/me", raw_body=raw)
    _assert_problem(reply, 422)
    assert [e["field"] for e in reply.problem["errors"]] == names[:20]
    assert reply.problem["errorCount"] == 7000
    assert len(json.dumps(reply.body)) < 4096
    _nothing_written(me)


# --- control characters in text -----------------------------------------------------------------

# Every C0 and C1 control kind, line and paragraph separators, and the bidi overrides/isolates.
SINGLE_LINE_REFUSED = [
    "\x00", "\x07", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\x9f",
    "\u2028", "\u2029", "\u202a", "\u202e", "\u2066", "\u2069",
]  # fmt: skip
MULTI_LINE_REFUSED = ["\x00", "\x07", "\x0b", "\r", "\x1b", "\x7f", "\x85", "\u202e", "\u2067"]


def _control_error(field: str, reply: Reply) -> None:
    _assert_problem(reply, 422)
    assert [(e["field"], e["code"]) for e in reply.problem["errors"]] == [(field, "control_character")]


@pytest.mark.parametrize("char", SINGLE_LINE_REFUSED, ids=lambda c: f"U+{ord(c):04X}")
def test_control_characters_in_a_display_name_are_422(me: Caller, char: str) -> None:
    _control_error("displayName", me("PUT", "/v1/me", body=profile_body(displayName=f"Ana{char}Lima")))
    _nothing_written(me)


@pytest.mark.parametrize("char", SINGLE_LINE_REFUSED, ids=lambda c: f"U+{ord(c):04X}")
def test_control_characters_in_a_care_statement_are_422(me: Caller, char: str) -> None:
    body = {"statement": f"Teaching{char}people", "domain": "others"}
    _control_error("statement", _care(me, "POST", "/v1/me/cares", body=body))
    _nothing_written(me)


@pytest.mark.parametrize("char", MULTI_LINE_REFUSED, ids=lambda c: f"U+{ord(c):04X}")
def test_long_text_refuses_controls_but_newline_and_tab(me: Caller, char: str) -> None:
    body = {"statement": "Teaching", "domain": "others", "valueForOthers": f"First\n\tthen{char}"}
    _control_error("valueForOthers", _care(me, "POST", "/v1/me/cares", body=body))
    _nothing_written(me)


def test_long_text_keeps_newlines_tabs_and_legitimate_format_characters(me: Caller) -> None:
    # ZWJ joins an emoji sequence; LRM and RLM mark direction in mixed scripts without overriding it.
    statement = "Teaching \U0001f469\u200d\U0001f4bb to \u200f\u05e9\u05dc\u05d5\u05dd\u200e friends"
    meaning = "Why:\n\t- it lasts\n\t- it spreads\u2028(a separator is text too)"
    body = {"statement": statement, "domain": "others", "meaningForMe": meaning}
    reply = _care(me, "POST", "/v1/me/cares", body=body)
    assert reply.status == 201, reply.body
    assert (reply.body["statement"], reply.body["meaningForMe"]) == (statement, meaning)
    [stored] = [i for i in me.aws.all_items() if i.get("careId") == reply.body["careId"] and "rank" in i]
    assert (stored["statement"], stored["meaningForMe"]) == (statement, meaning)


def test_a_control_character_in_a_reflection_answer_is_422(me: Caller) -> None:
    body = {"questionSetVersion": 2, "answers": [{"questionId": "care", "text": "Line one\nLine\x00two"}]}
    _control_error("answers.0.text", _care(me, "POST", "/v1/me/reflections", body=body))
    _nothing_written(me)


@pytest.mark.parametrize(
    ("field", "code"), [("displayName", "control_character"), ("handle", "string_unicode")]
)
def test_a_lone_surrogate_is_422_naming_the_field(me: Caller, field: str, code: str) -> None:
    # JSON can spell one ("\ud800"): it is no character, and no text may hold it.
    raw = json.dumps(profile_body(**{field: "ana\ud800"}))
    assert "\\ud800" in raw
    reply = me("PUT", "/v1/me", raw_body=raw)
    _assert_problem(reply, 422)
    assert [(e["field"], e["code"]) for e in reply.problem["errors"]] == [(field, code)]
    _nothing_written(me)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"what": "Review\x00the guide"}, "what"),
        ({"conditions": ["Comments", "On every\nsection"]}, "conditions.1"),
        ({"note": "Thanks!\n\u202eevil"}, "note"),
        ({"counterpart": {"name": "Carla\u202eDias"}}, "counterpart.OutsideCounterpart.name"),
        (
            {"counterpart": {"name": "Carla", "email": "carla\x07@example.com"}},
            "counterpart.OutsideCounterpart.email",
        ),
    ],
)
def test_control_characters_in_a_promise_are_422(
    make_person: Callable[[str], Person], fields: dict[str, Any], field: str
) -> None:
    ana = make_person("ana")
    before = _table(ana.aws)
    body = opening_body({"name": "Carla Dias"}, "request") | fields
    reply = ana("POST", "/v1/me/promises", body=body)
    _assert_problem(reply, 422)
    assert (field, "control_character") in [(e["field"], e["code"]) for e in reply.problem["errors"]]
    assert _table(ana.aws) == before


def test_a_control_character_in_a_move_note_is_422(make_person: Callable[[str], Person]) -> None:
    ana = make_person("ana")
    promise_id = open_promise(ana, {"name": "Carla Dias"}, "request")["promiseId"]
    before = _table(ana.aws)
    _control_error("note", move(ana, promise_id, "withdraw", note="Sorry\x1b[2J"))
    assert _table(ana.aws) == before
    assert move(ana, promise_id, "withdraw", note="Sorry,\n\tplans changed").status == 200


# --- only the documented camelCase names ---------------------------------------------------------


def _extra(reply: Reply) -> list[str]:
    _assert_problem(reply, 422)
    return [e["field"] for e in reply.problem["errors"] if e["code"] == "extra_forbidden"]


def test_snake_case_display_name_is_refused(me: Caller) -> None:
    body = {k: v for k, v in profile_body().items() if k != "displayName"} | {"display_name": "Ana"}
    assert _extra(me("PUT", "/v1/me", body=body)) == ["display_name"]
    both = profile_body(display_name="Someone else")
    assert _extra(me("PUT", "/v1/me", body=both)) == ["display_name"]
    prefs = profile_body(notificationPrefs={"quiet_hours_start": "22:00"})
    assert _extra(me("PUT", "/v1/me", body=prefs)) == ["notificationPrefs.quiet_hours_start"]
    _nothing_written(me)


def test_snake_case_names_are_refused_by_every_profile_input(me: Caller) -> None:
    assert _extra(me("POST", "/v1/me/devices", body={"platform": "ios", "push_token": "token-123"})) == [
        "push_token"
    ]
    _nothing_written(me)
    assert me("PUT", "/v1/me", body=profile_body()).status == 201
    before = _table(me.aws)
    assert _extra(me("PATCH", "/v1/me", body={"current_level": "manager"})) == ["current_level"]
    patch = {"notificationPrefs": {"promise_updates": False}}
    assert _extra(me("PATCH", "/v1/me", body=patch)) == ["notificationPrefs.promise_updates"]
    assert _table(me.aws) == before


def test_snake_case_names_are_refused_by_every_care_input(me: Caller) -> None:
    care = {"statement": "Teaching", "domain": "others", "value_for_others": "Skills"}
    assert _extra(_care(me, "POST", "/v1/me/cares", body=care)) == ["value_for_others"]
    answers = [{"question_id": "care", "text": "Teaching"}]
    reflection = {"question_set_version": 2, "answers": answers}
    assert sorted(_extra(_care(me, "POST", "/v1/me/reflections", body=reflection))) == [
        "answers.0.question_id",
        "question_set_version",
    ]
    _nothing_written(me)
    created = _care(me, "POST", "/v1/me/cares", body={"statement": "Teaching", "domain": "others"})
    assert created.status == 201, created.body
    before = _table(me.aws)
    path = f"/v1/me/cares/{created.body['careId']}"
    assert _extra(_care(me, "PATCH", path, body={"meaning_for_me": "Joy"})) == ["meaning_for_me"]
    assert _table(me.aws) == before


def test_snake_case_names_are_refused_by_every_promise_input(make_person: Callable[[str], Person]) -> None:
    ana = make_person("ana")
    before = _table(ana.aws)
    body = opening_body({"name": "Carla Dias"}, "request")
    body["due_at"] = body.pop("dueAt")
    body["size"] = {"people": 2, "horizon_days": 7}
    body["care_ids"] = []
    assert sorted(_extra(ana("POST", "/v1/me/promises", body=body))) == [
        "care_ids",
        "due_at",
        "size.horizon_days",
    ]
    assert _table(ana.aws) == before
    promise_id = open_promise(ana, {"name": "Carla Dias"}, "request")["promiseId"]
    before = _table(ana.aws)
    assert _extra(move(ana, promise_id, "withdraw", due_at="2030-01-01T00:00:00Z")) == ["due_at"]
    assert _table(ana.aws) == before
