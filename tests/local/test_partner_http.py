"""A partner's whole path over HTTP against the local stack (issue 11): the demo partner gets a
client-credentials token from `tokenUrl`, a person grants it access in the app, the partner reads
and asks, the person sees every access, and a revocation holds on the very next request."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import requests

from tests.support.stack import Person, partner_token


def test_a_partner_reads_what_a_person_granted_until_they_revoke_it(
    local_stack: dict[str, Any], make_person: Callable[[], Person]
) -> None:
    ana = make_person()
    handle = f"h{uuid.uuid4().hex[:12]}"
    profile = {"displayName": "Ana", "handle": handle, "currentLevel": "manager", "timeZone": "Europe/Lisbon"}
    assert ana.api.put("/v1/me", json=profile).status_code == 201
    partner_id = local_stack["partners"][0]["partnerId"]
    directory = ana.api.get("/v1/partners").json()["items"]
    assert partner_id in [p["partnerId"] for p in directory]
    granted = ana.api.post(
        "/v1/me/grants", json={"partnerId": partner_id, "scopes": ["clients.read", "profile.read"]}
    )
    assert granted.status_code == 201, granted.text
    client_id = granted.json()["clientId"]

    api = local_stack["apiUrl"]
    headers = {"Authorization": f"Bearer {partner_token(local_stack)}"}
    clients = requests.get(f"{api}/partner/v1/clients", headers=headers, timeout=10)
    assert clients.status_code == 200, clients.text
    assert client_id in [c["clientId"] for c in clients.json()["items"]]
    read = requests.get(f"{api}/partner/v1/clients/{client_id}/profile", headers=headers, timeout=10)
    assert read.status_code == 200, read.text
    assert read.json()["displayName"] == "Ana"
    assert handle not in read.text
    # A token without the route's scope: the gateway refuses it before any function runs.
    narrow = {"Authorization": f"Bearer {partner_token(local_stack, 'partner/clients.read')}"}
    assert (
        requests.get(f"{api}/partner/v1/clients/{client_id}/profile", headers=narrow, timeout=10).status_code
        == 403
    )
    # The person's own token is no partner token.
    assert (
        requests.get(f"{api}/partner/v1/clients", headers=dict(ana.api.headers), timeout=10).status_code
        == 401
    )

    log = ana.api.get("/v1/me/access-log").json()["items"]
    assert [(e["action"], e["resource"]) for e in log] == [("profile.read", "profile")]
    assert ana.api.delete(f"/v1/me/grants/{partner_id}").status_code == 204
    gone = requests.get(f"{api}/partner/v1/clients/{client_id}/profile", headers=headers, timeout=10)
    assert gone.status_code == 404, gone.text


def test_a_move_reaches_the_partners_webhook_signed_through_the_stream_and_the_queue(
    local_stack: dict[str, Any], make_person: Callable[[], Person]
) -> None:
    import json
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from standardwebhooks import Webhook as Verifier

    got: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(
                (
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(int(self.headers["Content-Length"])),
                )
            )
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api = local_stack["apiUrl"]
        headers = {"Authorization": f"Bearer {partner_token(local_stack)}"}
        url = f"http://127.0.0.1:{server.server_port}/hooks"
        made = requests.put(
            f"{api}/partner/v1/webhook",
            json={"url": url, "events": ["promise.moved"]},
            headers=headers,
            timeout=10,
        )
        assert made.status_code in (200, 201), made.text
        secret = (
            made.json().get("secret")
            or requests.post(f"{api}/partner/v1/webhook/rotate-secret", headers=headers, timeout=10).json()[
                "secret"
            ]
        )
        ana, bea = make_person(), make_person()
        for who in (ana, bea):
            body = {
                "displayName": "X",
                "handle": f"h{uuid.uuid4().hex[:12]}",
                "currentLevel": "expert",
                "timeZone": "UTC",
            }
            assert who.api.put("/v1/me", json=body).status_code == 201
        partner_id = local_stack["partners"][0]["partnerId"]
        granted = ana.api.post("/v1/me/grants", json={"partnerId": partner_id, "scopes": ["promises.read"]})
        assert granted.status_code in (200, 201), granted.text
        bea_handle = bea.api.get("/v1/me").json()["handle"]
        opened = ana.api.post(
            "/v1/me/promises",
            json={
                "opening": "request",
                "counterpart": {"handle": bea_handle},
                "what": "Pair on the report",
                "dueAt": "2031-01-01T09:00:00Z",
                "size": {"people": 2, "horizonDays": 7, "scope": "team"},
            },
        )
        assert opened.status_code == 201, opened.text
        deadline = time.monotonic() + 30
        while not got and time.monotonic() < deadline:
            time.sleep(0.2)
        assert got, "the event reached the receiver"
        (hook_headers, payload), *_ = got
        Verifier(secret).verify(
            payload, {k: hook_headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
        )
        event = json.loads(payload)
        assert (event["type"], event["data"]["clientId"]) == ("promise.moved", granted.json()["clientId"])
    finally:
        server.shutdown()
