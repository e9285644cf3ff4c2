"""`make load`: start the local stack, let Locust's simulated people walk the mobile journey for a
fixed time, report requests per second, p50, p95 and p99 per route and the errors, then check
that every write the API acknowledged is in the table and no promise log lost or doubled a move.

`python -m tests.load.run [--users 50] [--seconds 60]`. Exits 1 when any request failed or the
table disagrees with what was acknowledged. The figures are the local stack's on this machine
(one process: moto, the gateway, the functions), not AWS's.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results" / "load.json"


def _table_items(stack: dict[str, Any]) -> list[dict[str, Any]]:
    from boto3.dynamodb.types import TypeDeserializer

    client = boto3.client(
        "dynamodb",
        endpoint_url=stack["awsEndpointUrl"],
        region_name=stack["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": stack["tableName"]}
    deserializer = TypeDeserializer()
    while True:
        page = client.scan(**kwargs)
        items += [{k: deserializer.deserialize(v) for k, v in i.items()} for i in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def check(journal: dict[str, Any], items: list[dict[str, Any]]) -> list[str]:
    """What the table lacks or holds twice, against what the API acknowledged."""
    problems = []
    cares = {
        (str(i["PK"]).removeprefix("USER#"), str(i["careId"])) for i in items if i.get("entity") == "care"
    }
    for care in journal["cares"]:
        if (care["userId"], care["careId"]) not in cares:
            problems.append(f"care {care['careId']} acknowledged but not stored")
    logs: dict[str, list[tuple[int, str]]] = {}
    for item in items:
        if item.get("entity") == "promise-move":
            logs.setdefault(str(item["promiseId"]), []).append((int(item["seq"]), str(item["act"])))
    for promise_id, acts in journal["moves"].items():
        stored = [act for _, act in sorted(logs.get(promise_id, []))]
        if stored != acts:
            problems.append(f"promise {promise_id}: acknowledged {acts}, stored {stored}")
        seqs = sorted(seq for seq, _ in logs.get(promise_id, []))
        if seqs != list(range(1, len(seqs) + 1)):
            problems.append(f"promise {promise_id}: move numbers {seqs}")
    return problems


def _stats(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open() as handle:
        for row in csv.DictReader(handle):
            rows.append(
                {
                    "route": row["Name"],
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "rps": round(float(row["Requests/s"]), 2),
                    "p50_ms": float(row["50%"] or 0),
                    "p95_ms": float(row["95%"] or 0),
                    "p99_ms": float(row["99%"] or 0),
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.load.run", description=__doc__)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args(argv)
    from bench.scenarios.reminders_throughput import local_stack

    with tempfile.TemporaryDirectory(prefix="load-") as directory, local_stack() as stack:
        out = Path(directory)
        (out / "stack.json").write_text(json.dumps(stack))
        env = {**os.environ, "LOAD_STACK": str(out / "stack.json"), "LOAD_JOURNAL": str(out / "journal.json")}
        locust = [
            sys.executable, "-m", "locust", "-f", str(ROOT / "tests" / "load" / "locustfile.py"),
            "--headless", "--users", str(args.users), "--spawn-rate", str(max(1, args.users // 10)),
            "--run-time", f"{args.seconds}s", "--host", stack["apiUrl"], "--csv", str(out / "load"),
            "--only-summary", "--stop-timeout", "30",
        ]  # fmt: skip
        print(f"== load: {args.users} people for {args.seconds} s against the local stack", flush=True)
        subprocess.run(locust, cwd=ROOT, env=env, check=False)
        rows = _stats(out / "load_stats.csv")
        failures_csv = out / "load_failures.csv"
        failures = failures_csv.read_text() if failures_csv.exists() else ""
        journal = json.loads((out / "journal.json").read_text())
        problems = check(journal, _table_items(stack))

    header = ["route", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms"]
    print("\n" + f"{header[0]:<44}" + "".join(f"{h:>9}" for h in header[1:]))
    for r in rows:
        cells = [r["requests"], r["failures"], r["rps"], r["p50_ms"], r["p95_ms"], r["p99_ms"]]
        print(f"{r['route']:<44}" + "".join(f"{c:>9g}" for c in cells))
    total = next((r for r in rows if r["route"] == "Aggregated"), None)
    errors = total["failures"] if total else sum(r["failures"] for r in rows)
    acknowledged = Counter(act for acts in journal["moves"].values() for act in acts)
    made = {"cares": len(journal["cares"]), "promises": len(journal["promises"]), "moves": dict(acknowledged)}
    print(f"\nacknowledged: {made}")
    verdict = "every acknowledged write stored, once" if not problems else problems[:20]
    print(f"errors: {errors}; table check: {verdict}")
    if failures:
        print(failures[:4000])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    result = {"users": args.users, "seconds": args.seconds, "routes": rows, "errors": errors}
    RESULTS.write_text(json.dumps({**result, "problems": problems, "acknowledged": made}, indent=2))
    return 0 if errors == 0 and not problems and rows else 1


if __name__ == "__main__":
    sys.exit(main())
