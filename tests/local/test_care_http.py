"""Care discovery over HTTP against the local stack: a new person's first walk through it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support.stack import Person


def _created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _active(person: Person) -> list[tuple[str, int]]:
    listed = person.api.get("/v1/me/cares")
    assert listed.status_code == 200, listed.text
    return [(c["statement"], c["rank"]) for c in listed.json()["items"]]


def test_questions_reflection_cares_rerank_edit_history_map(make_person: Callable[[], Person]) -> None:
    person = make_person()

    # The questions: the current set, both themes.
    questions = person.api.get("/v1/care/questions")
    assert questions.status_code == 200, questions.text
    current = questions.json()
    assert current["current"] is True
    themes = {q["id"]: q["theme"] for q in current["questions"]}
    assert themes["care"] == "care"
    assert themes["old-habits"] == "transition"

    # A reflection on some of them, kept as written.
    answers = [
        {"questionId": "care", "text": "Helping the people on my team grow"},
        {"questionId": "old-habits", "text": "Fixing everything myself"},
    ]
    posted = person.api.post(
        "/v1/me/reflections", json={"questionSetVersion": current["version"], "answers": answers}
    )
    reflection = _created(posted)
    assert reflection["answers"] == answers
    assert person.api.get(posted.headers["Location"]).json() == reflection
    listed = person.api.get("/v1/me/reflections").json()["items"]
    assert [r["reflectionId"] for r in listed] == [reflection["reflectionId"]]

    # Three cares, one named from the reflection.
    grow = _created(
        person.api.post(
            "/v1/me/cares",
            json={
                "statement": "Growing people",
                "domain": "others",
                "sourceReflectionId": reflection["reflectionId"],
            },
        )
    )
    craft = _created(person.api.post("/v1/me/cares", json={"statement": "Craft", "domain": "self"}))
    family = _created(person.api.post("/v1/me/cares", json={"statement": "Family time", "domain": "self"}))
    assert grow["sourceReflectionId"] == reflection["reflectionId"]
    assert [grow["rank"], craft["rank"], family["rank"]] == [1, 2, 3]
    assert _active(person) == [("Growing people", 1), ("Craft", 2), ("Family time", 3)]

    # Re-rank: family first, with the ETag just read.
    read = person.api.get(f"/v1/me/cares/{family['careId']}")
    assert read.status_code == 200
    etag = read.headers["ETag"]
    moved = person.api.patch(f"/v1/me/cares/{family['careId']}", json={"rank": 1}, headers={"If-Match": etag})
    assert moved.status_code == 200, moved.text
    assert moved.json()["rank"] == 1
    assert moved.headers["ETag"] != etag
    assert _active(person) == [("Family time", 1), ("Growing people", 2), ("Craft", 3)]
    stale = person.api.patch(f"/v1/me/cares/{family['careId']}", json={"rank": 3}, headers={"If-Match": etag})
    assert stale.status_code == 412, "the old ETag no longer matches"
    assert _active(person)[0] == ("Family time", 1)

    # Edit: refine what it means, as a merge patch.
    edited = person.api.patch(
        f"/v1/me/cares/{craft['careId']}",
        json={"statement": "Craft that lasts", "meaningForMe": "Pride in work done well"},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["statement"] == "Craft that lasts"
    assert edited.json()["meaningForMe"] == "Pride in work done well"
    assert edited.json()["rank"] == 3

    # History: who changed what and when, oldest first.
    revisions = person.api.get(f"/v1/me/cares/{craft['careId']}/history")
    assert revisions.status_code == 200
    items = revisions.json()["items"]
    assert [r["action"] for r in items] == ["created", "reranked", "edited"]
    assert all(r["changedBy"] == {"kind": "person", "id": person.sub} for r in items)
    assert items[1]["changes"] == [{"field": "rank", "before": 2, "after": 3}]
    assert {c["field"]: c["after"] for c in items[2]["changes"]} == {
        "statement": "Craft that lasts",
        "meaningForMe": "Pride in work done well",
    }
    assert [r["changedAt"] for r in items] == sorted(r["changedAt"] for r in items)

    # The care map: every care in rank order, nothing linked yet, nothing neglected on day one.
    care_map = person.api.get("/v1/me/care-map")
    assert care_map.status_code == 200
    entries = care_map.json()["items"]
    assert [(e["statement"], e["rank"]) for e in entries] == [
        ("Family time", 1),
        ("Growing people", 2),
        ("Craft that lasts", 3),
    ]
    for entry in entries:
        assert entry["promises"] == {"open": 0, "fulfilled": 0}
        assert entry["planItems"] == {"open": 0, "done": 0}
        assert entry["neglected"] is False

    # Someone else sees none of it.
    stranger = make_person()
    assert stranger.api.get(f"/v1/me/cares/{craft['careId']}").status_code == 404
    assert stranger.api.get(posted.headers["Location"]).status_code == 404
    assert stranger.api.get("/v1/me/care-map").json()["items"] == []


def test_care_routes_need_a_signed_in_person(person: Person) -> None:
    anonymous = person.api.get("/v1/care/questions", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert person.api.get("/v1/care/questions").status_code == 200
