"""Learning plans (issue 10): made from a template or from scratch, read whole in one request,
listed, deleted; erased and exported with the account."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from functions.plan.app import lambda_handler as plan_handler
from shared.domain.plan_templates import CURRENT_TEMPLATE_VERSION, find_template
from tests.handler.test_promises import Person, new_person
from tests.support.aws import Aws, Reply, http_event, invoke


def plan_call(person: Person, method: str, path: str, **kwargs: Any) -> Reply:
    return invoke(plan_handler, http_event(method, path, user=person.sub, username=person.username, **kwargs))


def make(person: Person, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    reply = plan_call(person, "POST", "/v1/me/plans", body=body)
    assert reply.status == status, reply.body
    made: dict[str, Any] = reply.body
    return made


@pytest.fixture
def ana(aws: Aws) -> Person:
    return new_person(aws, "ana")


def _care(person: Person, statement: str = "Growing people") -> str:
    reply = person.care("POST", "/v1/me/cares", body={"statement": statement, "domain": "others"})
    assert reply.status == 201, reply.body
    return str(reply.body["careId"])


def test_a_plan_from_a_template_copies_its_items_and_keeps_its_version(ana: Person) -> None:
    care = _care(ana)
    template = find_template("expert-to-team-lead")
    assert template is not None
    reply = plan_call(
        ana,
        "POST",
        "/v1/me/plans",
        body={
            "templateId": template.id,
            "careIds": [care],
            "targetDate": "2027-06-30",
            "items": [{"kind": "reading", "title": "My own pick"}],
        },
    )
    assert reply.status == 201, reply.body
    plan = reply.body
    assert reply.headers["ETag"] == '"v1"'
    assert reply.headers["Location"] == f"/v1/me/plans/{plan['planId']}"
    assert (plan["templateId"], plan["templateVersion"]) == (template.id, CURRENT_TEMPLATE_VERSION)
    assert plan["title"] == template.title
    assert plan["transition"] == {"from": "expert", "to": "team_lead"}
    assert [(i["kind"], i["title"]) for i in plan["items"]] == [
        *((i.kind, i.title) for i in template.items),
        ("reading", "My own pick"),
    ]
    assert {(i["status"], i["progress"]) for i in plan["items"]} == {("todo", 0)}
    assert (plan["careIds"], plan["targetDate"], plan["obstacles"]) == ([care], "2027-06-30", [])

    read = plan_call(ana, "GET", f"/v1/me/plans/{plan['planId']}")
    assert read.status == 200
    assert read.body == plan
    assert read.headers["ETag"] == '"v1"'


def test_a_plan_from_scratch_needs_a_title(ana: Person) -> None:
    refused = plan_call(
        ana, "POST", "/v1/me/plans", body={"items": [{"kind": "skill", "title": "Listening"}]}
    )
    assert refused.status == 422
    assert [e["field"] for e in refused.problem["errors"]] == ["title"]
    made = make(ana, {"title": "Becoming a coach", "items": [{"kind": "practice", "title": "Each day, ask"}]})
    assert made["templateId"] is None
    assert [i["title"] for i in made["items"]] == ["Each day, ask"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"templateId": "no-such-template"}, "templateId"),
        ({"templateId": "expert-to-team-lead", "templateVersion": 999}, "templateId"),
        ({"title": "T", "templateVersion": 1}, "templateVersion"),
        ({"title": "T", "careIds": ["01JAAAAAAAAAAAAAAAAAAAAAAA"]}, "careIds.0"),
        ({"title": "T", "careIds": ["A", "A"]}, "careIds"),
    ],
)
def test_bad_references_are_422_naming_the_field_and_store_nothing(
    ana: Person, aws: Aws, body: dict[str, Any], field: str
) -> None:
    reply = plan_call(ana, "POST", "/v1/me/plans", body=body)
    assert reply.status == 422, reply.body
    assert [e["field"] for e in reply.problem["errors"]] == [field]
    assert not [i for i in aws.all_items() if str(i["SK"]).startswith("PLAN#")]


def test_someone_elses_care_or_an_archived_one_is_refused(aws: Aws, ana: Person) -> None:
    bea = new_person(aws, "bea")
    theirs = _care(bea)
    archived = _care(ana, "Old")
    assert ana.care("DELETE", f"/v1/me/cares/{archived}").status == 204
    reply = plan_call(ana, "POST", "/v1/me/plans", body={"title": "T", "careIds": [theirs, archived]})
    assert reply.status == 422
    assert [e["field"] for e in reply.problem["errors"]] == ["careIds.0", "careIds.1"]


def test_my_plans_newest_first_in_pages_and_nobody_elses(aws: Aws, ana: Person) -> None:
    bea = new_person(aws, "bea")
    ids = [make(ana, {"title": f"Plan {n}"})["planId"] for n in range(3)]
    make(bea, {"title": "Bea's"})
    first = plan_call(ana, "GET", "/v1/me/plans", query={"limit": "2"})
    assert first.status == 200
    cursor = first.body["nextCursor"]
    second = plan_call(ana, "GET", "/v1/me/plans", query={"limit": "2", "cursor": cursor})
    listed = [p["planId"] for p in first.body["items"] + second.body["items"]]
    assert sorted(listed) == sorted(ids)
    assert "items" not in first.body["items"][0], "the list shows summaries"
    assert plan_call(bea, "GET", "/v1/me/plans", query={"cursor": cursor}).status == 422


def test_reading_a_plan_and_the_list_are_one_request_each(aws: Aws, ana: Person) -> None:
    plan_id = make(ana, {"templateId": "manager-to-executive"})["planId"]
    for path in (f"/v1/me/plans/{plan_id}", "/v1/me/plans"):
        aws.requests.clear()
        assert plan_call(ana, "GET", path).status == 200
        assert aws.requests.counts == Counter({"Query": 1}), path
        assert aws.requests.account_checks == 1
    aws.requests.clear()
    make(ana, {"templateId": "expert-to-team-lead"})
    assert aws.requests.counts == Counter({"TransactWriteItems": 1})


def test_another_persons_plan_is_404_and_delete_honours_if_match(aws: Aws, ana: Person) -> None:
    bea = new_person(aws, "bea")
    plan_id = make(ana, {"templateId": "team-lead-to-manager"})["planId"]
    assert plan_call(bea, "GET", f"/v1/me/plans/{plan_id}").status == 404
    assert plan_call(bea, "DELETE", f"/v1/me/plans/{plan_id}").status == 404
    assert plan_call(ana, "DELETE", f"/v1/me/plans/{plan_id}", headers={"If-Match": '"v2"'}).status == 412
    assert plan_call(ana, "DELETE", f"/v1/me/plans/{plan_id}", headers={"If-Match": '"v1"'}).status == 204
    assert plan_call(ana, "GET", f"/v1/me/plans/{plan_id}").status == 404
    assert not [i for i in aws.all_items() if str(i["SK"]).startswith(f"PLAN#{plan_id}")], "items went too"
    assert plan_call(ana, "GET", "/v1/me/plans").body["items"] == []


def test_erasure_removes_plans_and_the_export_holds_them(aws: Aws, ana: Person) -> None:
    made = make(ana, {"templateId": "executive-to-leader", "items": [{"kind": "experiment", "title": "Try"}]})
    export = ana.profile("GET", "/v1/me/export").body
    (exported,) = export["plans"]
    assert _present(exported) == _present(made)
    assert ana.profile("DELETE", "/v1/me").status == 204
    assert not [i for i in aws.data_items() if ana.sub in str(i)]


def _present(value: Any) -> Any:
    """A document without its null members (answers leave them out, the export shows them)."""
    if isinstance(value, dict):
        return {k: _present(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_present(v) for v in value]
    return value


# --- items, obstacles and the plan's own fields ------------------------------------------------


def _etag(reply: Reply) -> str:
    return reply.headers["ETag"]


def test_items_are_added_changed_and_removed_and_the_plan_version_follows(ana: Person) -> None:
    plan = make(ana, {"title": "Listening", "items": [{"kind": "practice", "title": "Each day, ask"}]})
    pid, first = plan["planId"], plan["items"][0]["itemId"]
    added = plan_call(
        ana,
        "POST",
        f"/v1/me/plans/{pid}/items",
        body={"kind": "reading", "title": "On listening", "dueDate": "2027-01-31"},
    )
    assert added.status == 201, added.body
    assert (_etag(added), added.body["status"], added.body["dueDate"]) == ('"v1"', "todo", "2027-01-31")
    changed = plan_call(
        ana,
        "PATCH",
        f"/v1/me/plans/{pid}/items/{first}",
        body={"status": "doing", "progress": 40, "reflection": "Harder than it looks.\nI interrupt."},
        headers={"If-Match": '"v1"', "Content-Type": "application/merge-patch+json"},
    )
    assert changed.status == 200, changed.body
    assert (changed.body["status"], changed.body["progress"], _etag(changed)) == ("doing", 40, '"v2"')
    cleared = plan_call(ana, "PATCH", f"/v1/me/plans/{pid}/items/{first}", body={"reflection": None})
    assert cleared.status == 200
    assert cleared.body.get("reflection") is None
    stale = plan_call(
        ana, "PATCH", f"/v1/me/plans/{pid}/items/{first}", body={"progress": 50}, headers={"If-Match": '"v1"'}
    )
    assert stale.status == 412
    read = plan_call(ana, "GET", f"/v1/me/plans/{pid}")
    assert [(i["title"], i["status"], i["progress"]) for i in read.body["items"]] == [
        ("Each day, ask", "doing", 40),
        ("On listening", "todo", 0),
    ]
    assert _etag(read) == '"v4"', "one add and two changes since the plan was made"
    removed = plan_call(ana, "DELETE", f"/v1/me/plans/{pid}/items/{added.body['itemId']}")
    assert removed.status == 204
    assert [i["itemId"] for i in plan_call(ana, "GET", f"/v1/me/plans/{pid}").body["items"]] == [first]
    assert plan_call(ana, "DELETE", f"/v1/me/plans/{pid}/items/{added.body['itemId']}").status == 404


def test_an_item_patch_that_breaks_the_item_is_422_and_changes_nothing(ana: Person) -> None:
    plan = make(ana, {"title": "T", "items": [{"kind": "skill", "title": "Asking"}]})
    pid, item = plan["planId"], plan["items"][0]["itemId"]
    for body, field in (
        ({"title": None}, "title"),
        ({"progress": 101}, "progress"),
        ({"status": "finished"}, "status"),
    ):
        reply = plan_call(ana, "PATCH", f"/v1/me/plans/{pid}/items/{item}", body=body)
        assert reply.status == 422, (body, reply.body)
        assert [e["field"] for e in reply.problem["errors"]] == [field]
    assert plan_call(ana, "GET", f"/v1/me/plans/{pid}").body["items"] == plan["items"]


def test_obstacles_are_named_listed_and_answered(ana: Person) -> None:
    pid = make(ana, {"templateId": "expert-to-team-lead"})["planId"]
    named = plan_call(
        ana,
        "POST",
        f"/v1/me/plans/{pid}/obstacles",
        body={"kind": "dragon", "description": "Fear of letting go"},
    )
    assert named.status == 201, named.body
    oid = named.body["obstacleId"]
    answered = plan_call(
        ana,
        "PATCH",
        f"/v1/me/plans/{pid}/obstacles/{oid}",
        body={"response": "Hand over one task a week"},
        headers={"If-Match": _etag(named)},
    )
    assert answered.status == 200, answered.body
    assert (answered.body["kind"], answered.body["response"]) == ("dragon", "Hand over one task a week")
    listed = plan_call(ana, "GET", f"/v1/me/plans/{pid}/obstacles")
    assert [(o["obstacleId"], o["response"]) for o in listed.body["items"]] == [
        (oid, "Hand over one task a week")
    ]
    assert plan_call(ana, "GET", f"/v1/me/plans/{pid}").body["obstacles"] == listed.body["items"]
    refused = plan_call(
        ana, "POST", f"/v1/me/plans/{pid}/obstacles", body={"kind": "gremlin", "description": "x"}
    )
    assert refused.status == 422


def test_the_plans_own_fields_change_by_merge_patch(aws: Aws, ana: Person) -> None:
    care = _care(ana)
    plan = make(ana, {"templateId": "team-lead-to-manager", "targetDate": "2027-03-01"})
    pid = plan["planId"]
    changed = plan_call(
        ana,
        "PATCH",
        f"/v1/me/plans/{pid}",
        body={"title": "My way to managing", "careIds": [care], "targetDate": None},
        headers={"If-Match": '"v1"'},
    )
    assert changed.status == 200, changed.body
    assert (changed.body["title"], changed.body["careIds"], changed.body.get("targetDate")) == (
        "My way to managing",
        [care],
        None,
    )
    assert changed.body["templateId"] == "team-lead-to-manager", "the template it came from stays"
    assert len(changed.body["items"]) == len(plan["items"])
    (listed,) = plan_call(ana, "GET", "/v1/me/plans").body["items"]
    assert (listed["title"], listed.get("targetDate")) == ("My way to managing", None), "the list follows"
    bad = plan_call(ana, "PATCH", f"/v1/me/plans/{pid}", body={"careIds": ["01JAAAAAAAAAAAAAAAAAAAAAAA"]})
    assert bad.status == 422
    assert bad.problem["errors"][0]["field"] == "careIds.0"
    assert (
        plan_call(
            ana, "PATCH", f"/v1/me/plans/{pid}", body={"title": "X"}, headers={"If-Match": '"v1"'}
        ).status
        == 412
    )


def test_another_persons_plan_takes_no_items_or_obstacles(aws: Aws, ana: Person) -> None:
    bea = new_person(aws, "bea")
    plan = make(ana, {"title": "Mine", "items": [{"kind": "skill", "title": "S"}]})
    pid, item = plan["planId"], plan["items"][0]["itemId"]
    assert (
        plan_call(bea, "POST", f"/v1/me/plans/{pid}/items", body={"kind": "skill", "title": "X"}).status
        == 404
    )
    assert plan_call(bea, "PATCH", f"/v1/me/plans/{pid}/items/{item}", body={"progress": 1}).status == 404
    assert (
        plan_call(
            bea, "POST", f"/v1/me/plans/{pid}/obstacles", body={"kind": "cliff", "description": "x"}
        ).status
        == 404
    )
    assert plan_call(bea, "PATCH", f"/v1/me/plans/{pid}", body={"title": "Theirs"}).status == 404
    assert plan_call(ana, "GET", f"/v1/me/plans/{pid}").body == plan


def test_a_plan_holds_at_most_ninety_items_and_obstacles(aws: Aws, ana: Person) -> None:
    items = [{"kind": "skill", "title": f"Skill {n}"} for n in range(50)]
    pid = make(ana, {"templateId": "expert-to-team-lead", "items": items})["planId"]  # 8 + 50
    assert len(plan_call(ana, "GET", f"/v1/me/plans/{pid}").body["items"]) == 58
    # Count up to the last place without 31 more requests: the count is what the limit reads.
    aws.ddb().update_item(
        TableName="career-journey-test",
        Key={"PK": {"S": f"USER#{ana.sub}"}, "SK": {"S": f"PLAN#{pid}"}},
        UpdateExpression="SET childCount = :n",
        ExpressionAttributeValues={":n": {"N": "89"}},
    )
    last = plan_call(ana, "POST", f"/v1/me/plans/{pid}/items", body={"kind": "skill", "title": "The last"})
    assert last.status == 201, last.body
    full = plan_call(ana, "POST", f"/v1/me/plans/{pid}/obstacles", body={"kind": "cliff", "description": "x"})
    assert full.status == 409, full.body
    assert len(plan_call(ana, "GET", f"/v1/me/plans/{pid}").body["items"]) == 59
    assert plan_call(ana, "DELETE", f"/v1/me/plans/{pid}").status == 204
    assert not [i for i in aws.all_items() if str(i["SK"]).startswith(f"PLAN#{pid}")]
