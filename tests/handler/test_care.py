"""The care function on moto: questions, reflections, cares, their history, links and the care map."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import pytest
from botocore.exceptions import ClientError

from functions.care.app import lambda_handler as care_handler
from shared.domain.cares import LinkStatus
from shared.domain.timeutil import to_rfc3339, utc_now
from shared.models.care import MAX_ANSWER_CHARS
from shared.store import care_links, keys
from shared.store import cares as store_cares
from shared.store.care_links import Linked
from shared.store.table import cancellation_codes, dynamodb, key
from tests.handler.conftest import profile_or_account
from tests.support.aws import TABLE_NAME, Aws, Reply, http_event, invoke

# --- callers and helpers -----------------------------------------------------------------------


@dataclass
class CareCaller:
    """One signed-in person calling the care function (and the profile function for their account)."""

    aws: Aws
    sub: str
    username: str

    def __call__(self, method: str, path: str, **kwargs: Any) -> Reply:
        return invoke(care_handler, http_event(method, path, user=self.sub, username=self.username, **kwargs))

    def profile(self, method: str, path: str, **kwargs: Any) -> Reply:
        return invoke(
            profile_or_account(path),
            http_event(method, path, user=self.sub, username=self.username, **kwargs),
        )


@pytest.fixture
def make_caller(aws: Aws) -> Callable[[], CareCaller]:
    def make() -> CareCaller:
        sub, username = aws.create_user()
        return CareCaller(aws, sub, username)

    return make


@pytest.fixture
def me(make_caller: Callable[[], CareCaller]) -> CareCaller:
    return make_caller()


def answers(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"questionId": q, "text": t} for q, t in pairs]


def reflection_body(version: int = 2, items: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """A valid POST /v1/me/reflections body."""
    return {
        "questionSetVersion": version,
        "answers": items if items is not None else answers(("care", "Teaching people to code")),
    }


def write_reflection(caller: CareCaller, **kwargs: Any) -> dict[str, Any]:
    reply = caller("POST", "/v1/me/reflections", body=reflection_body(**kwargs))
    assert reply.status == 201, reply.body
    body: dict[str, Any] = reply.body
    return body


def care_body(statement: str, **fields: Any) -> dict[str, Any]:
    """A valid POST /v1/me/cares body."""
    return {"statement": statement, "domain": "others", **fields}


def create_care(caller: CareCaller, statement: str, **fields: Any) -> dict[str, Any]:
    reply = caller("POST", "/v1/me/cares", body=care_body(statement, **fields))
    assert reply.status == 201, reply.body
    body: dict[str, Any] = reply.body
    return body


def active(caller: CareCaller) -> list[tuple[str, int]]:
    """My active cares as (statement, rank), in the order the list shows them."""
    reply = caller("GET", "/v1/me/cares")
    assert reply.status == 200, reply.body
    return [(c["statement"], c["rank"]) for c in reply.body["items"]]


def get_care(caller: CareCaller, care_id: str) -> dict[str, Any]:
    reply = caller("GET", f"/v1/me/cares/{care_id}")
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.body
    return body


def history(caller: CareCaller, care_id: str) -> list[dict[str, Any]]:
    reply = caller("GET", f"/v1/me/cares/{care_id}/history")
    assert reply.status == 200, reply.body
    items: list[dict[str, Any]] = reply.body["items"]
    return items


def error_fields(reply: Reply) -> list[str]:
    return [e["field"] for e in reply.problem["errors"]]


def items_of(aws: Aws, sub: str, prefix: str) -> list[dict[str, Any]]:
    """My items whose sort key starts with `prefix`, read straight from the table."""
    pk = keys.user_pk(sub)
    return [i for i in aws.all_items() if i["PK"] == pk and str(i["SK"]).startswith(prefix)]


def transact(items: Sequence[dict[str, Any]]) -> None:
    dynamodb().transact_write_items(TransactItems=cast(Any, list(items)))


def set_attribute(sub: str, care_id: str, name: str, value: str) -> None:
    dynamodb().update_item(
        TableName=TABLE_NAME,
        Key=cast(Any, key(keys.user_pk(sub), keys.care_sk(care_id))),
        UpdateExpression="SET #n = :v",
        ExpressionAttributeNames={"#n": name},
        ExpressionAttributeValues={":v": {"S": value}},
    )


def now() -> str:
    return to_rfc3339(utc_now())


def days_ago(days: int) -> str:
    return to_rfc3339(utc_now() - timedelta(days=days))


# --- questions ---------------------------------------------------------------------------------


def test_current_questions(me: CareCaller) -> None:
    reply = me("GET", "/v1/care/questions")
    assert reply.status == 200
    assert reply.body["version"] == 2
    assert reply.body["current"] is True
    by_id = {q["id"]: q for q in reply.body["questions"]}
    assert {"care", "destination", "why", "arrival", "worth", "for-the-sake-of"} <= set(by_id)
    assert {"new-skills", "old-habits", "fears"} <= set(by_id)
    assert by_id["care"]["theme"] == "care"
    assert by_id["fears"]["theme"] == "transition"
    assert all(q["text"] for q in reply.body["questions"])


def test_earlier_question_set_stays_readable(me: CareCaller) -> None:
    reply = me("GET", "/v1/care/questions", query={"version": "1"})
    assert reply.status == 200
    assert reply.body["version"] == 1
    assert reply.body["current"] is False
    ids = {q["id"] for q in reply.body["questions"]}
    assert "care" in ids
    assert "new-skills" not in ids
    current = {q["id"] for q in me("GET", "/v1/care/questions").body["questions"]}
    assert ids <= current, "ids stay stable across versions"


def test_unknown_question_set_version_is_404(me: CareCaller) -> None:
    reply = me("GET", "/v1/care/questions", query={"version": "99"})
    assert reply.status == 404
    assert reply.problem["status"] == 404


# --- reflections -------------------------------------------------------------------------------


def test_write_a_reflection_and_read_it_back(me: CareCaller) -> None:
    body = reflection_body(
        items=answers(("care", "Helping juniors grow"), ("fears", "Losing touch with code"))
    )
    reply = me("POST", "/v1/me/reflections", body=body)
    assert reply.status == 201, reply.body
    reflection = reply.body
    assert reply.headers["Location"] == f"/v1/me/reflections/{reflection['reflectionId']}"
    assert reflection["questionSetVersion"] == 2
    assert reflection["answers"] == body["answers"]
    assert reflection["createdAt"].endswith("Z")

    read = me("GET", reply.headers["Location"])
    assert read.status == 200
    assert read.body == reflection


def test_partial_answers_of_an_old_version_are_fine(me: CareCaller) -> None:
    reply = me("POST", "/v1/me/reflections", body=reflection_body(1, answers(("why", "Because it matters"))))
    assert reply.status == 201, reply.body
    assert reply.body["questionSetVersion"] == 1


def test_reflections_list_newest_first_with_pagination(me: CareCaller) -> None:
    written = []
    for n in range(5):
        written.append(write_reflection(me, items=answers(("care", f"answer {n}")))["reflectionId"])
        time.sleep(0.003)  # ids sort by millisecond
    first = me("GET", "/v1/me/reflections", query={"limit": "2"})
    assert first.status == 200
    assert [r["reflectionId"] for r in first.body["items"]] == written[::-1][:2]
    assert first.body["nextCursor"]

    seen = [r["reflectionId"] for r in first.body["items"]]
    cursor = first.body["nextCursor"]
    while cursor:
        page = me("GET", "/v1/me/reflections", query={"limit": "2", "cursor": cursor})
        assert page.status == 200
        assert len(page.body["items"]) <= 2
        seen += [r["reflectionId"] for r in page.body["items"]]
        cursor = page.body["nextCursor"]
    assert seen == written[::-1]


def test_reflections_list_only_mine(make_caller: Callable[[], CareCaller]) -> None:
    ana, bea = make_caller(), make_caller()
    mine = write_reflection(ana)["reflectionId"]
    write_reflection(bea)
    assert [r["reflectionId"] for r in ana("GET", "/v1/me/reflections").body["items"]] == [mine]


def test_another_persons_reflection_is_404(make_caller: Callable[[], CareCaller]) -> None:
    ana, bea = make_caller(), make_caller()
    theirs = write_reflection(bea)["reflectionId"]
    reply = ana("GET", f"/v1/me/reflections/{theirs}")
    assert reply.status == 404
    assert bea("GET", f"/v1/me/reflections/{theirs}").status == 200


def test_a_reflection_is_immutable(me: CareCaller) -> None:
    reflection = write_reflection(me)
    url = f"/v1/me/reflections/{reflection['reflectionId']}"
    for method in ("PUT", "PATCH", "DELETE"):
        body = reflection_body(items=answers(("care", "rewritten"))) if method != "DELETE" else None
        reply = me(method, url, body=body)
        assert reply.status == 405, method
        assert "GET" in reply.headers["Allow"]
    assert me("GET", url).body == reflection


def test_unknown_reflection_is_404(me: CareCaller) -> None:
    assert me("GET", "/v1/me/reflections/01ABCDEFGHJKMNPQRSTVWXYZ00").status == 404


def _refused(me: CareCaller, body: dict[str, Any]) -> Reply:
    reply = me("POST", "/v1/me/reflections", body=body)
    assert reply.status == 422, reply.body
    assert me("GET", "/v1/me/reflections").body["items"] == [], "a refused reflection is not kept"
    return reply


def test_unknown_question_id_is_422_naming_the_answer(me: CareCaller) -> None:
    reply = _refused(me, reflection_body(items=answers(("care", "x"), ("no-such-question", "y"))))
    assert reply.problem["errors"][0]["location"] == "body"
    assert error_fields(reply) == ["answers.1.questionId"]


def test_unknown_question_set_version_is_422_naming_it(me: CareCaller) -> None:
    reply = _refused(me, reflection_body(version=99))
    assert error_fields(reply) == ["questionSetVersion"]


def test_a_later_versions_question_under_an_earlier_version_is_422(me: CareCaller) -> None:
    reply = _refused(me, reflection_body(version=1, items=answers(("why", "ok"), ("new-skills", "Leading"))))
    assert error_fields(reply) == ["answers.1.questionId"]


def test_answering_a_question_twice_is_422(me: CareCaller) -> None:
    reply = _refused(me, reflection_body(items=answers(("care", "a"), ("why", "b"), ("care", "c"))))
    assert error_fields(reply) == ["answers.2.questionId"]


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_answer_is_422(me: CareCaller, text: str) -> None:
    reply = _refused(me, reflection_body(items=answers(("care", "fine"), ("why", text))))
    assert error_fields(reply) == ["answers.1.text"]


def test_too_long_answer_is_422(me: CareCaller) -> None:
    reply = me(
        "POST", "/v1/me/reflections", body=reflection_body(items=answers(("care", "x" * MAX_ANSWER_CHARS)))
    )
    assert reply.status == 201, "the limit itself is allowed"
    long = me(
        "POST",
        "/v1/me/reflections",
        body=reflection_body(items=answers(("care", "x" * (MAX_ANSWER_CHARS + 1)))),
    )
    assert long.status == 422
    assert error_fields(long) == ["answers.0.text"]
    assert "xxxx" not in json.dumps(long.body), "the problem never echoes the input"


def test_no_answers_is_422(me: CareCaller) -> None:
    reply = _refused(me, reflection_body(items=[]))
    assert error_fields(reply) == ["answers"]


def test_unknown_field_in_a_reflection_is_422(me: CareCaller) -> None:
    reply = _refused(me, {**reflection_body(), "mood": "great"})
    assert error_fields(reply) == ["mood"]


def test_reflection_idempotency_key_replays_the_first_response(me: CareCaller) -> None:
    body = reflection_body()
    first = me("POST", "/v1/me/reflections", body=body, headers={"Idempotency-Key": "reflect-1"})
    again = me("POST", "/v1/me/reflections", body=body, headers={"Idempotency-Key": "reflect-1"})
    assert first.status == again.status == 201
    assert again.body == first.body
    assert again.headers["Location"] == first.headers["Location"]
    listed = me("GET", "/v1/me/reflections").body["items"]
    assert [r["reflectionId"] for r in listed] == [first.body["reflectionId"]]

    other = me(
        "POST",
        "/v1/me/reflections",
        body=reflection_body(items=answers(("care", "something else"))),
        headers={"Idempotency-Key": "reflect-1"},
    )
    assert other.status == 422
    assert [(e["location"], e["field"]) for e in other.problem["errors"]] == [("header", "Idempotency-Key")]
    assert len(me("GET", "/v1/me/reflections").body["items"]) == 1


# --- cares: create, list, rank -----------------------------------------------------------------


def test_create_three_cares_ranked_in_order(me: CareCaller) -> None:
    reply = me(
        "POST",
        "/v1/me/cares",
        body=care_body("Growing people", valueForOthers="Teams that teach", meaningForMe="Why I lead"),
    )
    assert reply.status == 201, reply.body
    first = reply.body
    assert reply.headers["Location"] == f"/v1/me/cares/{first['careId']}"
    assert reply.headers["ETag"] == '"v1"'
    assert first["rank"] == 1
    assert first["status"] == "active"
    assert first["revision"] == 1
    assert first["valueForOthers"] == "Teams that teach"
    assert first["meaningForMe"] == "Why I lead"
    assert first["createdAt"] == first["updatedAt"]
    assert create_care(me, "Clean code")["rank"] == 2
    assert create_care(me, "My family", domain="self")["rank"] == 3
    assert active(me) == [("Growing people", 1), ("Clean code", 2), ("My family", 3)]
    assert get_care(me, first["careId"]) == first


def test_create_with_rank_one_shifts_the_others(me: CareCaller) -> None:
    a = create_care(me, "A")
    b = create_care(me, "B")
    top = create_care(me, "Top", rank=1)
    assert top["rank"] == 1
    assert active(me) == [("Top", 1), ("A", 2), ("B", 3)]
    assert get_care(me, a["careId"])["revision"] == 2, "a shifted care records the move"
    moved = history(me, b["careId"])[-1]
    assert moved["action"] == "reranked"
    assert moved["changes"] == [{"field": "rank", "before": 2, "after": 3}]
    assert me("GET", f"/v1/me/cares/{b['careId']}").headers["ETag"] == '"v2"'


def test_create_with_a_rank_past_the_end_goes_last(me: CareCaller) -> None:
    create_care(me, "A")
    assert create_care(me, "B", rank=50)["rank"] == 2
    assert active(me) == [("A", 1), ("B", 2)]


def test_patch_rank_reranks_the_others(me: CareCaller) -> None:
    ids = [create_care(me, s)["careId"] for s in ("A", "B", "C", "D")]
    reply = me("PATCH", f"/v1/me/cares/{ids[3]}", body={"rank": 2}, headers={"If-Match": '"v1"'})
    assert reply.status == 200, reply.body
    assert reply.body["rank"] == 2
    assert reply.headers["ETag"] == '"v2"'
    assert active(me) == [("A", 1), ("D", 2), ("B", 3), ("C", 4)]
    assert get_care(me, ids[0])["revision"] == 1, "a care above the move keeps its rank and revision"

    down = me("PATCH", f"/v1/me/cares/{ids[0]}", body={"rank": 3})
    assert down.status == 200
    assert active(me) == [("D", 1), ("B", 2), ("A", 3), ("C", 4)]
    ranks = [c["rank"] for c in me("GET", "/v1/me/cares").body["items"]]
    assert ranks == [1, 2, 3, 4]


def test_patch_rank_past_the_end_clamps_to_last(me: CareCaller) -> None:
    ids = [create_care(me, s)["careId"] for s in ("A", "B", "C")]
    reply = me("PATCH", f"/v1/me/cares/{ids[0]}", body={"rank": 1000})
    assert reply.status == 200
    assert reply.body["rank"] == 3
    assert active(me) == [("B", 1), ("C", 2), ("A", 3)]


def test_patch_rank_out_of_range_is_422(me: CareCaller) -> None:
    care_id = create_care(me, "A")["careId"]
    reply = me("PATCH", f"/v1/me/cares/{care_id}", body={"rank": 0})
    assert reply.status == 422
    assert error_fields(reply) == ["rank"]


def test_list_cares_paginates_in_rank_order(me: CareCaller) -> None:
    for s in ("A", "B", "C", "D", "E"):
        create_care(me, s)
    first = me("GET", "/v1/me/cares", query={"limit": "2"})
    assert [c["statement"] for c in first.body["items"]] == ["A", "B"]
    second = me("GET", "/v1/me/cares", query={"limit": "2", "cursor": first.body["nextCursor"]})
    assert [c["statement"] for c in second.body["items"]] == ["C", "D"]
    third = me("GET", "/v1/me/cares", query={"limit": "2", "cursor": second.body["nextCursor"]})
    assert [c["statement"] for c in third.body["items"]] == ["E"]
    assert third.body["nextCursor"] is None


# --- cares: edit, If-Match, archive, restore ---------------------------------------------------


def test_patch_text_fields_as_a_merge_patch(me: CareCaller) -> None:
    care = create_care(me, "Teaching", meaningForMe="It keeps me curious")
    reply = me(
        "PATCH",
        f"/v1/me/cares/{care['careId']}",
        body={"statement": "Teaching well", "valueForOthers": "Confident juniors"},
        headers={"content-type": "application/merge-patch+json"},
    )
    assert reply.status == 200, reply.body
    assert reply.body["statement"] == "Teaching well"
    assert reply.body["valueForOthers"] == "Confident juniors"
    assert reply.body["meaningForMe"] == "It keeps me curious", "fields not in the patch stay"
    assert reply.body["domain"] == "others"
    assert reply.body["rank"] == 1

    cleared = me("PATCH", f"/v1/me/cares/{care['careId']}", body={"meaningForMe": None})
    assert cleared.status == 200
    assert cleared.body.get("meaningForMe") is None
    assert cleared.headers["ETag"] == '"v3"'
    read = get_care(me, care["careId"])
    assert read.get("meaningForMe") is None
    assert read["valueForOthers"] == "Confident juniors"
    assert read["revision"] == 3

    edits = history(me, care["careId"])
    assert [r["action"] for r in edits] == ["created", "edited", "edited"]
    assert edits[1]["changes"] == [
        {"field": "statement", "before": "Teaching", "after": "Teaching well"},
        {"field": "valueForOthers", "before": None, "after": "Confident juniors"},
    ]
    assert edits[2]["changes"] == [{"field": "meaningForMe", "before": "It keeps me curious", "after": None}]


def test_patch_cannot_clear_a_required_field(me: CareCaller) -> None:
    care = create_care(me, "Teaching")
    reply = me("PATCH", f"/v1/me/cares/{care['careId']}", body={"statement": None})
    assert reply.status == 422
    assert error_fields(reply) == ["statement"]
    assert get_care(me, care["careId"]) == care


def test_patch_that_changes_nothing_keeps_the_revision(me: CareCaller) -> None:
    care = create_care(me, "Teaching")
    reply = me("PATCH", f"/v1/me/cares/{care['careId']}", body={"statement": "Teaching"})
    assert reply.status == 200
    assert reply.headers["ETag"] == '"v1"'
    assert len(history(me, care["careId"])) == 1


def test_stale_if_match_is_412_and_writes_nothing(me: CareCaller) -> None:
    a = create_care(me, "A")
    create_care(me, "B")
    me("PATCH", f"/v1/me/cares/{a['careId']}", body={"statement": "A2"})
    before = me.aws.all_items()

    stale = {"If-Match": '"v1"'}
    assert me("PATCH", f"/v1/me/cares/{a['careId']}", body={"rank": 2}, headers=stale).status == 412
    assert me("PATCH", f"/v1/me/cares/{a['careId']}", body={"statement": "X"}, headers=stale).status == 412
    assert me("DELETE", f"/v1/me/cares/{a['careId']}", headers=stale).status == 412

    assert sorted(map(str, me.aws.all_items())) == sorted(map(str, before)), "a 412 writes nothing"
    assert active(me) == [("A2", 1), ("B", 2)]
    ok = me("PATCH", f"/v1/me/cares/{a['careId']}", body={"statement": "A3"}, headers={"If-Match": '"v2"'})
    assert ok.status == 200
    assert ok.headers["ETag"] == '"v3"'


def test_delete_archives_and_closes_the_gap(me: CareCaller) -> None:
    ids = [create_care(me, s)["careId"] for s in ("A", "B", "C")]
    reply = me("DELETE", f"/v1/me/cares/{ids[0]}")
    assert reply.status == 204
    assert reply.body is None

    archived = get_care(me, ids[0])
    assert archived["status"] == "archived"
    assert archived.get("rank") is None
    assert archived["archivedAt"]
    assert archived["revision"] == 2
    assert active(me) == [("B", 1), ("C", 2)]

    listed = me("GET", "/v1/me/cares", query={"status": "archived"})
    assert listed.status == 200
    assert [c["careId"] for c in listed.body["items"]] == [ids[0]]
    assert listed.body["items"][0]["status"] == "archived"

    revisions = history(me, ids[0])
    assert [r["action"] for r in revisions] == ["created", "archived"]
    assert {"field": "status", "before": "active", "after": "archived"} in revisions[1]["changes"]
    assert {"field": "rank", "before": 1, "after": None} in revisions[1]["changes"]
    moved_up = history(me, ids[2])[-1]
    assert moved_up["action"] == "reranked"
    assert moved_up["changes"] == [{"field": "rank", "before": 3, "after": 2}]


def test_delete_honours_if_match(me: CareCaller) -> None:
    care_id = create_care(me, "A")["careId"]
    assert me("DELETE", f"/v1/me/cares/{care_id}", headers={"If-Match": '"v2"'}).status == 412
    assert get_care(me, care_id)["status"] == "active"
    assert me("DELETE", f"/v1/me/cares/{care_id}", headers={"If-Match": '"v1"'}).status == 204
    assert get_care(me, care_id)["status"] == "archived"


def test_archiving_twice_changes_nothing(me: CareCaller) -> None:
    care_id = create_care(me, "A")["careId"]
    assert me("DELETE", f"/v1/me/cares/{care_id}").status == 204
    assert me("DELETE", f"/v1/me/cares/{care_id}").status == 204
    assert [r["action"] for r in history(me, care_id)] == ["created", "archived"]


def test_restore_via_patch_status_active(me: CareCaller) -> None:
    ids = [create_care(me, s)["careId"] for s in ("A", "B", "C")]
    me("DELETE", f"/v1/me/cares/{ids[0]}")
    reply = me("PATCH", f"/v1/me/cares/{ids[0]}", body={"status": "active"})
    assert reply.status == 200, reply.body
    assert reply.body["status"] == "active"
    assert reply.body["rank"] == 3, "a restored care goes last"
    assert reply.body.get("archivedAt") is None
    assert active(me) == [("B", 1), ("C", 2), ("A", 3)]
    assert me("GET", "/v1/me/cares", query={"status": "archived"}).body["items"] == []
    restored = history(me, ids[0])[-1]
    assert restored["action"] == "restored"
    assert {"field": "status", "before": "archived", "after": "active"} in restored["changes"]


def test_restore_at_a_rank(me: CareCaller) -> None:
    ids = [create_care(me, s)["careId"] for s in ("A", "B", "C")]
    me("DELETE", f"/v1/me/cares/{ids[2]}")
    reply = me("PATCH", f"/v1/me/cares/{ids[2]}", body={"status": "active", "rank": 1})
    assert reply.status == 200
    assert active(me) == [("C", 1), ("A", 2), ("B", 3)]


def test_editing_an_archived_care_keeps_it_archived(me: CareCaller) -> None:
    ids = [create_care(me, s)["careId"] for s in ("A", "B")]
    me("DELETE", f"/v1/me/cares/{ids[0]}")
    archived_at = get_care(me, ids[0])["archivedAt"]
    reply = me("PATCH", f"/v1/me/cares/{ids[0]}", body={"meaningForMe": "Still true"})
    assert reply.status == 200, reply.body
    assert reply.body["status"] == "archived"
    assert reply.body.get("rank") is None
    assert reply.body["archivedAt"] == archived_at
    assert active(me) == [("B", 1)]
    assert history(me, ids[0])[-1]["action"] == "edited"


def test_an_archived_care_cannot_be_ranked(me: CareCaller) -> None:
    care_id = create_care(me, "A")["careId"]
    me("DELETE", f"/v1/me/cares/{care_id}")
    reply = me("PATCH", f"/v1/me/cares/{care_id}", body={"rank": 1})
    assert reply.status == 422
    assert error_fields(reply) == ["rank"]
    assert get_care(me, care_id)["status"] == "archived"


def test_archived_list_is_last_archived_first(me: CareCaller) -> None:
    ids = [create_care(me, s)["careId"] for s in ("A", "B")]
    me("DELETE", f"/v1/me/cares/{ids[1]}")
    set_attribute(me.sub, ids[1], "archivedAt", days_ago(1))
    me("DELETE", f"/v1/me/cares/{ids[0]}")
    listed = me("GET", "/v1/me/cares", query={"status": "archived"}).body["items"]
    assert [c["statement"] for c in listed] == ["A", "B"]
    assert active(me) == []


def test_unknown_status_filter_is_422(me: CareCaller) -> None:
    reply = me("GET", "/v1/me/cares", query={"status": "deleted"})
    assert reply.status == 422
    assert error_fields(reply) == ["status"]


def test_list_cursor_survives_the_last_shown_care_being_archived(me: CareCaller) -> None:
    ids = [create_care(me, s)["careId"] for s in ("A", "B", "C", "D")]
    first = me("GET", "/v1/me/cares", query={"limit": "2"})
    assert [c["statement"] for c in first.body["items"]] == ["A", "B"]
    me("DELETE", f"/v1/me/cares/{ids[1]}")
    rest = me("GET", "/v1/me/cares", query={"limit": "2", "cursor": first.body["nextCursor"]})
    assert rest.status == 200
    assert [c["statement"] for c in rest.body["items"]] == ["C", "D"]


def test_clearing_status_does_not_restore_an_archived_care(me: CareCaller) -> None:
    care_id = create_care(me, "A")["careId"]
    me("DELETE", f"/v1/me/cares/{care_id}")
    reply = me("PATCH", f"/v1/me/cares/{care_id}", body={"status": None})
    assert reply.status == 422
    assert error_fields(reply) == ["status"]
    assert get_care(me, care_id)["status"] == "archived"


def test_at_most_25_active_cares(me: CareCaller) -> None:
    ids = [create_care(me, f"care {n}")["careId"] for n in range(24)]
    top = create_care(me, "top", rank=1)  # re-ranks 24 others in one transaction
    assert top["rank"] == 1
    assert [r for _, r in active(me)] == list(range(1, 26))
    full = me("POST", "/v1/me/cares", body=care_body("one too many"))
    assert full.status == 409
    assert len(active(me)) == 25

    me("DELETE", f"/v1/me/cares/{ids[0]}")
    create_care(me, "replacement")
    restore = me("PATCH", f"/v1/me/cares/{ids[0]}", body={"status": "active"})
    assert restore.status == 409
    assert get_care(me, ids[0])["status"] == "archived"
    assert len(active(me)) == 25


def test_a_write_built_on_a_stale_read_is_a_conflict(me: CareCaller, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [create_care(me, s)["careId"] for s in ("A", "B", "C")]
    stale = store_cares.load_cares(me.sub)
    me("DELETE", f"/v1/me/cares/{ids[0]}")  # meanwhile, from another device
    before = me.aws.all_items()

    with monkeypatch.context() as patched:
        patched.setattr(store_cares, "load_cares", lambda user_id: stale)
        reply = me("POST", "/v1/me/cares", body=care_body("D"))
    assert reply.status == 409, "the ranking moved since the read"
    assert sorted(map(str, me.aws.all_items())) == sorted(map(str, before))

    assert create_care(me, "D")["rank"] == 3
    assert active(me) == [("B", 1), ("C", 2), ("D", 3)]


# --- cares: ownership, validation, idempotency -------------------------------------------------


def test_another_persons_care_is_404_everywhere(make_caller: Callable[[], CareCaller]) -> None:
    ana, bea = make_caller(), make_caller()
    theirs = create_care(bea, "Bea's care")["careId"]
    before = bea.aws.all_items()
    assert ana("GET", f"/v1/me/cares/{theirs}").status == 404
    assert ana("PATCH", f"/v1/me/cares/{theirs}", body={"statement": "Mine now"}).status == 404
    assert (
        ana("PATCH", f"/v1/me/cares/{theirs}", body={"rank": 1}, headers={"If-Match": '"v1"'}).status == 404
    )
    assert ana("DELETE", f"/v1/me/cares/{theirs}").status == 404
    assert ana("GET", f"/v1/me/cares/{theirs}/history").status == 404
    assert sorted(map(str, bea.aws.all_items())) == sorted(map(str, before))
    assert get_care(bea, theirs)["statement"] == "Bea's care"


def test_unknown_care_is_404(me: CareCaller) -> None:
    missing = "01ABCDEFGHJKMNPQRSTVWXYZ00"
    assert me("GET", f"/v1/me/cares/{missing}").status == 404
    assert me("GET", f"/v1/me/cares/{missing}/history").status == 404
    assert me("DELETE", f"/v1/me/cares/{missing}").status == 404


def test_source_reflection_must_be_mine(make_caller: Callable[[], CareCaller]) -> None:
    ana, bea = make_caller(), make_caller()
    mine = write_reflection(ana)["reflectionId"]
    theirs = write_reflection(bea)["reflectionId"]

    refused = ana("POST", "/v1/me/cares", body=care_body("Stolen", sourceReflectionId=theirs))
    assert refused.status == 422, refused.body
    assert [(e["location"], e["field"]) for e in refused.problem["errors"]] == [
        ("body", "sourceReflectionId")
    ]
    assert items_of(ana.aws, ana.sub, "CARE") == [], "nothing written: no care, revision or ranking"

    kept = create_care(ana, "From my reflection", sourceReflectionId=mine)
    assert kept["sourceReflectionId"] == mine
    assert get_care(ana, kept["careId"])["sourceReflectionId"] == mine
    created = history(ana, kept["careId"])[0]
    assert {"field": "sourceReflectionId", "before": None, "after": mine} in created["changes"]


def test_edits_of_a_care_from_a_reflection_record_only_what_changed(me: CareCaller) -> None:
    reflection = write_reflection(me)["reflectionId"]
    care_id = create_care(me, "A", sourceReflectionId=reflection)["careId"]
    me("PATCH", f"/v1/me/cares/{care_id}", body={"statement": "B"})
    me("DELETE", f"/v1/me/cares/{care_id}")
    revisions = history(me, care_id)
    assert revisions[1]["changes"] == [{"field": "statement", "before": "A", "after": "B"}]
    assert {c["field"] for c in revisions[2]["changes"]} == {"rank", "status"}
    assert get_care(me, care_id)["sourceReflectionId"] == reflection


def test_a_patch_that_changes_nothing_on_a_care_from_a_reflection_writes_nothing(me: CareCaller) -> None:
    reflection = write_reflection(me)["reflectionId"]
    care_id = create_care(me, "A", sourceReflectionId=reflection)["careId"]
    reply = me("PATCH", f"/v1/me/cares/{care_id}", body={"statement": "A"})
    assert reply.status == 200
    assert reply.headers["ETag"] == '"v1"'
    assert len(history(me, care_id)) == 1


def test_unknown_fields_are_422(me: CareCaller) -> None:
    post = me("POST", "/v1/me/cares", body=care_body("A", priority="high"))
    assert post.status == 422
    assert error_fields(post) == ["priority"]
    assert me("GET", "/v1/me/cares").body["items"] == []

    care_id = create_care(me, "A")["careId"]
    for field in ("priority", "revision", "sourceReflectionId", "careId"):
        patch = me("PATCH", f"/v1/me/cares/{care_id}", body={field: "x"})
        assert patch.status == 422, field
        assert error_fields(patch) == [field]
    assert get_care(me, care_id)["revision"] == 1


def test_invalid_care_fields_are_422(me: CareCaller) -> None:
    assert error_fields(me("POST", "/v1/me/cares", body=care_body("A", domain="work"))) == ["domain"]
    assert error_fields(me("POST", "/v1/me/cares", body=care_body("   "))) == ["statement"]
    assert error_fields(me("POST", "/v1/me/cares", body=care_body("x" * 281))) == ["statement"]
    assert error_fields(me("POST", "/v1/me/cares", body={"domain": "self"})) == ["statement"]
    assert me("GET", "/v1/me/cares").body["items"] == []


def test_a_refused_create_under_an_idempotency_key_can_be_retried(
    make_caller: Callable[[], CareCaller],
) -> None:
    ana, bea = make_caller(), make_caller()
    theirs = write_reflection(bea)["reflectionId"]
    body = care_body("A", sourceReflectionId=theirs)
    for _ in range(2):
        reply = ana("POST", "/v1/me/cares", body=body, headers={"Idempotency-Key": "retry"})
        assert reply.status == 422, reply.body
        assert error_fields(reply) == ["sourceReflectionId"]
    assert active(ana) == []


def test_care_idempotency_key_creates_one_care(me: CareCaller) -> None:
    create_care(me, "Existing")
    body = care_body("Once", rank=1)
    first = me("POST", "/v1/me/cares", body=body, headers={"Idempotency-Key": "care-1"})
    again = me("POST", "/v1/me/cares", body=body, headers={"Idempotency-Key": "care-1"})
    assert first.status == again.status == 201
    assert again.body == first.body
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert active(me) == [("Once", 1), ("Existing", 2)]
    existing = me("GET", "/v1/me/cares").body["items"][1]
    assert existing["revision"] == 2, "the replay did not re-rank again"

    other = me("POST", "/v1/me/cares", body=care_body("Other"), headers={"Idempotency-Key": "care-1"})
    assert other.status == 422
    assert len(active(me)) == 2


# --- history ------------------------------------------------------------------------------------


def test_history_says_who_changed_what_and_when_oldest_first(me: CareCaller) -> None:
    a = create_care(me, "A", domain="self")
    b = create_care(me, "B")
    me("PATCH", f"/v1/me/cares/{a['careId']}", body={"domain": "community"})
    me("PATCH", f"/v1/me/cares/{b['careId']}", body={"rank": 1})  # moves A down
    me("DELETE", f"/v1/me/cares/{b['careId']}")  # moves A up
    me("PATCH", f"/v1/me/cares/{a['careId']}", body={"valueForOthers": "Neighbours meet"})

    revisions = history(me, a["careId"])
    assert [r["revision"] for r in revisions] == [1, 2, 3, 4, 5]
    assert [r["action"] for r in revisions] == ["created", "edited", "reranked", "reranked", "edited"]
    for revision in revisions:
        assert revision["careId"] == a["careId"]
        assert revision["changedBy"] == {"kind": "person", "id": me.sub}
        assert revision["changedAt"].endswith("Z")
    assert [r["changedAt"] for r in revisions] == sorted(r["changedAt"] for r in revisions)
    assert revisions[0]["changedAt"] == a["createdAt"]
    created = {c["field"]: (c["before"], c["after"]) for c in revisions[0]["changes"]}
    assert created == {
        "statement": (None, "A"),
        "domain": (None, "self"),
        "rank": (None, 1),
        "status": (None, "active"),
    }
    assert revisions[1]["changes"] == [{"field": "domain", "before": "self", "after": "community"}]
    assert revisions[2]["changes"] == [{"field": "rank", "before": 1, "after": 2}]
    assert revisions[3]["changes"] == [{"field": "rank", "before": 2, "after": 1}]
    assert revisions[4]["changes"] == [
        {"field": "valueForOthers", "before": None, "after": "Neighbours meet"}
    ]
    assert get_care(me, a["careId"])["revision"] == 5, "the care's revision counts its history"


def test_history_paginates(me: CareCaller) -> None:
    care_id = create_care(me, "v0")["careId"]
    for n in range(1, 5):
        me("PATCH", f"/v1/me/cares/{care_id}", body={"statement": f"v{n}"})
    first = me("GET", f"/v1/me/cares/{care_id}/history", query={"limit": "3"})
    assert [r["revision"] for r in first.body["items"]] == [1, 2, 3]
    assert first.body["nextCursor"]
    rest = me(
        "GET", f"/v1/me/cares/{care_id}/history", query={"limit": "3", "cursor": first.body["nextCursor"]}
    )
    assert [r["revision"] for r in rest.body["items"]] == [4, 5]


def test_history_cursor_of_another_care_is_refused(me: CareCaller) -> None:
    a = create_care(me, "A")["careId"]
    b = create_care(me, "B")["careId"]
    for n in range(3):
        me("PATCH", f"/v1/me/cares/{a}", body={"statement": f"A{n}"})
    cursor = me("GET", f"/v1/me/cares/{a}/history", query={"limit": "1"}).body["nextCursor"]
    reply = me("GET", f"/v1/me/cares/{b}/history", query={"cursor": cursor})
    assert reply.status == 422
    assert error_fields(reply) == ["cursor"]


# --- links and the care map ---------------------------------------------------------------------


def care_map(caller: CareCaller) -> dict[str, dict[str, Any]]:
    reply = caller("GET", "/v1/me/care-map")
    assert reply.status == 200, reply.body
    return {e["careId"]: e for e in reply.body["items"]}


def test_care_map_of_new_cares(me: CareCaller) -> None:
    a = create_care(me, "A")
    b = create_care(me, "B", domain="self")
    reply = me("GET", "/v1/me/care-map")
    assert reply.status == 200
    assert [e["careId"] for e in reply.body["items"]] == [a["careId"], b["careId"]]
    entry = reply.body["items"][1]
    assert entry["statement"] == "B"
    assert entry["domain"] == "self"
    assert entry["status"] == "active"
    assert entry["rank"] == 2
    assert entry["promises"] == {"open": 0, "fulfilled": 0}
    assert entry["planItems"] == {"open": 0, "done": 0}
    assert entry["lastActivityAt"] is None
    assert entry["neglected"] is False, "a new care is not neglected"
    assert reply.body["generatedAt"].endswith("Z")


def test_links_move_the_care_map_counters(me: CareCaller) -> None:
    a = create_care(me, "A")["careId"]
    b = create_care(me, "B")["careId"]
    promise, plan_item = Linked("promise", "P1"), Linked("plan_item", "L1")
    linked_at = days_ago(3)
    transact(care_links.link(me.sub, [a, b], promise, "open", linked_at))
    transact(care_links.link(me.sub, [a], plan_item, "open", linked_at))
    transact(care_links.link(me.sub, [a], Linked("plan_item", "L2"), "open", linked_at))

    entries = care_map(me)
    assert entries[a]["promises"] == {"open": 1, "fulfilled": 0}
    assert entries[a]["planItems"] == {"open": 2, "done": 0}
    assert entries[b]["promises"] == {"open": 1, "fulfilled": 0}
    assert entries[b]["planItems"] == {"open": 0, "done": 0}
    assert entries[a]["lastActivityAt"] == linked_at

    moved_at = now()
    transact(care_links.change_status(me.sub, [a, b], promise, "open", "fulfilled", moved_at))
    transact(care_links.change_status(me.sub, [a], plan_item, "open", "done", moved_at))
    entries = care_map(me)
    assert entries[a]["promises"] == {"open": 0, "fulfilled": 1}
    assert entries[a]["planItems"] == {"open": 1, "done": 1}
    assert entries[b]["promises"] == {"open": 0, "fulfilled": 1}
    assert entries[a]["lastActivityAt"] == entries[b]["lastActivityAt"] == moved_at

    transact(care_links.unlink(me.sub, [a], Linked("plan_item", "L2"), "open", moved_at))
    assert care_map(me)[a]["planItems"] == {"open": 0, "done": 1}
    links = items_of(me.aws, me.sub, keys.CARE_LINK_PREFIX)
    assert sorted((i["careId"], i["kind"], i["targetId"], i["status"]) for i in links) == sorted(
        [(a, "promise", "P1", "fulfilled"), (b, "promise", "P1", "fulfilled"), (a, "plan_item", "L1", "done")]
    )


def test_counters_do_not_change_the_care_revision(me: CareCaller) -> None:
    a = create_care(me, "A")["careId"]
    transact(care_links.link(me.sub, [a], Linked("promise", "P1"), "open", now()))
    assert get_care(me, a)["revision"] == 1
    assert len(history(me, a)) == 1
    assert (
        me("PATCH", f"/v1/me/cares/{a}", body={"statement": "A2"}, headers={"If-Match": '"v1"'}).status == 200
    )
    assert care_map(me)[a]["promises"] == {"open": 1, "fulfilled": 0}, "an edit keeps the counters"


@pytest.mark.parametrize(
    ("last_activity_days", "created_days", "neglected"),
    [
        (None, 0, False),
        (None, 29, False),
        (None, 31, True),
        (31, 90, True),
        (10, 90, False),
    ],
)
def test_care_map_flags_neglected_cares(
    me: CareCaller, last_activity_days: int | None, created_days: int, neglected: bool
) -> None:
    care_id = create_care(me, "A")["careId"]
    set_attribute(me.sub, care_id, "createdAt", days_ago(created_days))
    if last_activity_days is not None:
        transact(
            care_links.link(me.sub, [care_id], Linked("promise", "P"), "open", days_ago(last_activity_days))
        )
    assert care_map(me)[care_id]["neglected"] is neglected


def test_activity_clears_neglect(me: CareCaller) -> None:
    care_id = create_care(me, "A")["careId"]
    set_attribute(me.sub, care_id, "createdAt", days_ago(60))
    promise = Linked("promise", "P")
    transact(care_links.link(me.sub, [care_id], promise, "open", days_ago(45)))
    assert care_map(me)[care_id]["neglected"] is True
    transact(care_links.change_status(me.sub, [care_id], promise, "open", "open", now()))
    entry = care_map(me)[care_id]
    assert entry["neglected"] is False
    assert entry["promises"] == {"open": 1, "fulfilled": 0}, "a move without a status change counts once"


def test_archived_cares_come_last_and_are_never_neglected(me: CareCaller) -> None:
    a = create_care(me, "A")["careId"]
    b = create_care(me, "B")["careId"]
    transact(care_links.link(me.sub, [a], Linked("promise", "P"), "open", days_ago(50)))
    me("DELETE", f"/v1/me/cares/{a}")
    set_attribute(me.sub, a, "createdAt", days_ago(90))
    reply = me("GET", "/v1/me/care-map")
    assert [e["careId"] for e in reply.body["items"]] == [b, a]
    archived = reply.body["items"][1]
    assert archived["status"] == "archived"
    assert archived["rank"] is None
    assert archived["neglected"] is False
    assert archived["promises"] == {"open": 1, "fulfilled": 0}, "an archived care keeps its links"


def test_a_link_to_an_archived_care_can_still_move(me: CareCaller) -> None:
    a = create_care(me, "A")["careId"]
    promise = Linked("promise", "P")
    transact(care_links.link(me.sub, [a], promise, "open", now()))
    me("DELETE", f"/v1/me/cares/{a}")
    transact(care_links.change_status(me.sub, [a], promise, "open", "fulfilled", now()))
    assert care_map(me)[a]["promises"] == {"open": 0, "fulfilled": 1}


def _refused_link(sub: str, care_ids: list[str], status: LinkStatus = "open") -> list[str]:
    """Link a promise, expecting the transaction to fail; the fields unknown_cares names."""
    items = [
        # Another item first, as a feature's own write would be, so the offset matters.
        {
            "ConditionCheck": {
                "TableName": TABLE_NAME,
                "Key": key(keys.user_pk(sub), keys.CARE_RANKING_SK),
                "ConditionExpression": "attribute_exists(PK)",
            }
        },
        *care_links.link(sub, care_ids, Linked("promise", "PX"), status, now()),
    ]
    with pytest.raises(ClientError) as caught:
        transact(items)
    codes = cancellation_codes(caught.value)
    assert codes[0] == "None", "the feature's own item was fine"
    found = care_links.unknown_cares(codes, 1, care_ids)
    assert found is not None
    assert all(e.location == "body" for e in found.errors)
    return [e.field for e in found.errors]


def test_linking_an_archived_care_fails_and_names_it(me: CareCaller) -> None:
    a = create_care(me, "A")["careId"]
    b = create_care(me, "B")["careId"]
    me("DELETE", f"/v1/me/cares/{b}")
    before = me.aws.all_items()
    assert _refused_link(me.sub, [a, b]) == ["careIds.1"]
    assert sorted(map(str, me.aws.all_items())) == sorted(map(str, before)), "nothing linked"
    assert care_map(me)[a]["promises"] == {"open": 0, "fulfilled": 0}


def test_linking_someone_elses_care_fails_and_names_it(make_caller: Callable[[], CareCaller]) -> None:
    ana, bea = make_caller(), make_caller()
    mine = create_care(ana, "Mine")["careId"]
    theirs = create_care(bea, "Theirs")["careId"]
    before = ana.aws.all_items()
    assert _refused_link(ana.sub, [theirs, mine]) == ["careIds.0"]
    assert sorted(map(str, ana.aws.all_items())) == sorted(map(str, before))
    assert care_map(bea)[theirs]["promises"] == {"open": 0, "fulfilled": 0}


def test_linking_the_same_thing_twice_fails_without_counting_twice(me: CareCaller) -> None:
    a = create_care(me, "A")["careId"]
    promise = Linked("promise", "P1")
    transact(care_links.link(me.sub, [a], promise, "open", now()))
    with pytest.raises(ClientError) as caught:
        transact(care_links.link(me.sub, [a], promise, "open", now()))
    codes = cancellation_codes(caught.value)
    assert codes[1] == "ConditionalCheckFailed", "the link item already exists"
    assert care_links.unknown_cares(codes, 0, [a]) is None, "the care itself is fine"
    assert care_map(me)[a]["promises"] == {"open": 1, "fulfilled": 0}


def test_unknown_cares_is_none_when_the_links_did_not_fail() -> None:
    codes = ["ConditionalCheckFailed", "None", "None", "None", "None"]
    assert care_links.unknown_cares(codes, 1, ["a", "b"]) is None
    named = care_links.unknown_cares(
        ["None", "None", "None", "ConditionalCheckFailed", "None"], 1, ["a", "b"]
    )
    assert named is not None
    assert [e.field for e in named.errors] == ["careIds.1"]


# --- export and erasure (the profile function) ---------------------------------------------------


def _fill_account(caller: CareCaller) -> tuple[str, str, str]:
    """A reflection, two cares (one archived), a re-rank, a link; returns (reflection, care, care)."""
    reflection = write_reflection(caller)["reflectionId"]
    a = create_care(caller, "A", sourceReflectionId=reflection)["careId"]
    b = create_care(caller, "B", rank=1, meaningForMe="Why")["careId"]
    caller("POST", "/v1/me/cares", body=care_body("C"), headers={"Idempotency-Key": "c"})
    transact(care_links.link(caller.sub, [a], Linked("promise", "P1"), "open", now()))
    transact(care_links.link(caller.sub, [a, b], Linked("plan_item", "L1"), "open", now()))
    caller("DELETE", f"/v1/me/cares/{b}")
    return reflection, a, b


def test_export_holds_reflections_cares_revisions_and_links(make_caller: Callable[[], CareCaller]) -> None:
    ana, bea = make_caller(), make_caller()
    reflection, a, b = _fill_account(ana)
    create_care(bea, "Bea's care")

    export = ana.profile("GET", "/v1/me/export")
    assert export.status == 200, export.body
    body = export.body
    assert [r["reflectionId"] for r in body["reflections"]] == [reflection]
    assert body["reflections"][0]["answers"] == answers(("care", "Teaching people to code"))
    cares_by_id = {c["careId"]: c for c in body["cares"]}
    assert len(cares_by_id) == 3
    assert cares_by_id[a]["sourceReflectionId"] == reflection
    assert cares_by_id[b]["status"] == "archived"
    assert cares_by_id[b]["meaningForMe"] == "Why"
    assert cares_by_id[a] == get_care(ana, a)
    revisions = {(r["careId"], r["revision"]): r["action"] for r in body["careRevisions"]}
    assert revisions[a, 1] == "created"
    assert revisions[a, 2] == "reranked"
    assert revisions[b, 2] == "archived"
    assert len(revisions) == sum(c["revision"] for c in cares_by_id.values())
    links = sorted((li["careId"], li["kind"], li["targetId"], li["status"]) for li in body["careLinks"])
    assert links == sorted(
        [(a, "promise", "P1", "open"), (a, "plan_item", "L1", "open"), (b, "plan_item", "L1", "open")]
    )
    assert body["other"] == {}, "the ranking item and idempotency records are technical"
    text = json.dumps(body)
    assert "Bea's care" not in text
    assert bea.sub not in text
    assert "promisesOpen" not in text, "the care map's counters are not part of a care"


def test_export_with_a_link_carrying_a_features_extra_attributes(me: CareCaller) -> None:
    care_id = create_care(me, "A")["careId"]
    promise = Linked("promise", "P1")

    def extra(linked_care: str) -> dict[str, str]:
        return {"listAll": f"PROMISES#{me.sub}#care#{linked_care}", "what": "Write the onboarding guide"}

    transact(care_links.link(me.sub, [care_id], promise, "open", now(), extra))
    export = me.profile("GET", "/v1/me/export")
    assert export.status == 200, export.body
    (link,) = export.body["careLinks"]
    shown = (link["careId"], link["kind"], link["targetId"], link["status"])
    assert shown == (care_id, "promise", "P1", "open")


def _mentions(item: dict[str, Any], sub: str) -> bool:
    return sub in json.dumps(item, default=str)


def test_erasure_removes_reflections_cares_revisions_and_links(make_caller: Callable[[], CareCaller]) -> None:
    ana, bea = make_caller(), make_caller()
    _fill_account(ana)
    theirs = create_care(bea, "Bea's care")["careId"]
    write_reflection(bea)
    before = ana.aws.all_items()
    mine = [i for i in before if _mentions(i, ana.sub)]
    entities = {i.get("entity") for i in mine}
    assert {"reflection", "care", "care-revision", "care-link"} <= entities
    assert any(i["SK"] == keys.CARE_RANKING_SK for i in mine)

    assert ana.profile("DELETE", "/v1/me").status == 204

    after = ana.aws.data_items()
    assert [i for i in after if _mentions(i, ana.sub)] == []
    assert len(after) == len(before) - len(mine), "other people's items stay"
    assert ana("GET", "/v1/me/cares").status == 401
    assert get_care(bea, theirs)["statement"] == "Bea's care"
    assert len(bea("GET", "/v1/me/reflections").body["items"]) == 1
