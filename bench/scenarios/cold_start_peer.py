"""Cold start side by side: `GET /v1/me` from the profile function and from the usual alternative.

The peer (bench/peer/app.py) serves the same route the way most Python Lambda APIs are
written: a FastAPI app behind Mangum, its boto3 DynamoDB client made at import. Both run in
fresh processes of the same interpreter (`-X frozen_modules=on`, bytecode written by unmeasured
warm-up rounds as in `cold-import`), with the environment the template gives the profile
function, against one moto server on loopback holding the template's table and one profile.
Rounds are interleaved (ours, peer, the libraries alone; the order rotates each round) so that
machine noise hits every side alike.

Each process times: the import (from before `import boto3` to the handler module's end), the
first request (the handler called with an API Gateway HTTP API v2 event carrying JWT claims),
and 20 warm requests after it. `boto3.client` is wrapped to time the DynamoDB client's creation
wherever it happens (at import, or in the first request) and to count the DynamoDB requests.
Then three more processes per side under `-X importtime` split the import and the first
request by top-level package (medians): the floor, part by part.

Budget: ours / peer for import + first request <= 0.65, and our import (less the DynamoDB
client, botocore's work that the libraries' import does not do) at most 10 % over "libraries in
use" (bench/libraries_in_use.py: the libraries as every function uses them). Both ratios are
also given within each round, which holds steadier when the machine is busy.
"""

from __future__ import annotations

import json
import logging
import os
import re
import statistics
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from unittest import mock

import boto3

from bench.child import HANDLER_CHILD_PREAMBLE, MARK, ChildFailed, child_env, ms, run_python
from bench.lambda_env import REGION, lambda_environment, references
from bench.scenarios import Cell, Context, Report, Table, scenario
from bench.scenarios.cold_import import BASELINE
from bench.scenarios.profile_requests import SEED_PROFILE, http_event
from bench.table import create_app_table, reset_emulator
from infra.local.template import Function, evaluate_conditions, load, resolve

OURS = "functions.profile.app"
PEER = "bench.peer.app"
IN_USE = "bench.libraries_in_use"
ROUNDS = 15  # with the default --runs; another --runs sets the rounds
WARMUP_ROUNDS = 2  # unmeasured: writes the .pyc files and warms the page cache
WARM_CALLS = 20
IMPORTTIME_RUNS = 3  # processes per side under -X importtime; each figure is their median
RATIO_BUDGET = 0.65
OWN_BUDGET = 1.10
INTERPRETER = (sys.executable, "-X", "frozen_modules=on")
CURSOR_SECRET_NAME = "career-journey-bench-cursor-key"  # noqa: S105 (a name, not a secret)
# What a package counts as in the part-by-part tables.
GROUPS = {
    "boto3": "boto3/botocore",
    "botocore": "boto3/botocore",
    "s3transfer": "boto3/botocore",
    "jmespath": "boto3/botocore",
    "dateutil": "boto3/botocore",
    "urllib3": "boto3/botocore",
    "six": "boto3/botocore",
    "pydantic": "pydantic",
    "pydantic_core": "pydantic",
    "annotated_types": "pydantic",
    "typing_inspection": "pydantic",
    "typing_extensions": "pydantic",
    "aws_lambda_powertools": "powertools",
    "jmespath_functions": "powertools",
    "fastapi": "fastapi/starlette/mangum",
    "starlette": "fastapi/starlette/mangum",
    "mangum": "fastapi/starlette/mangum",
    "anyio": "fastapi/starlette/mangum",
    "sniffio": "fastapi/starlette/mangum",
    "idna": "fastapi/starlette/mangum",
    "annotated_doc": "fastapi/starlette/mangum",
    "opentelemetry": "fastapi/starlette/mangum",
    "shared": "our modules",
    "functions": "our modules",
    "bench": "the app's own module",
    "(making the DynamoDB client)": "boto3/botocore",
}
MIN_PACKAGE_MS = 1.0  # smaller packages are summed in one row per group

# Runs in the child. Only the standard library before the timer: the handler module loads the
# rest itself. `boto3.client` is wrapped (a function call more) to time the DynamoDB client.
_HANDLER_CHILD = (
    HANDLER_CHILD_PREAMBLE
    + """
event = json.dumps(request["event"])
client_seconds = []
sent = [0]

def count(**_):
    sent[0] += 1

started = time.perf_counter()
import boto3
_make_client = boto3.client

def timed_client(*args, **kwargs):
    made_at = time.perf_counter()
    client = _make_client(*args, **kwargs)
    client_seconds.append(time.perf_counter() - made_at)
    client.meta.events.register("before-send.dynamodb", count)
    return client

boto3.client = timed_client
module = __import__(request["module"], fromlist=[request["handler"]])
handler = getattr(module, request["handler"])
imported = time.perf_counter()
client_at_import = sum(client_seconds)

first_event = json.loads(event)
before_first = time.perf_counter()
first = handler(first_event, Context())
answered = time.perf_counter()
client_in_first = sum(client_seconds) - client_at_import
sent_first = sent[0]

warm = []
last = first
for _ in range(request["warm_calls"]):
    warm_event = json.loads(event)
    began = time.perf_counter()
    last = handler(warm_event, Context())
    warm.append(time.perf_counter() - began)
print("BENCH-RESULT " + json.dumps({
    "import": imported - started,
    "first": answered - before_first,
    "warm": warm,
    "client_at_import": client_at_import,
    "client_in_first": client_in_first,
    "requests_first": sent_first,
    "requests_warm": (sent[0] - sent_first) / max(1, len(warm)),
    "statuses": [first["statusCode"], last["statusCode"]],
    "first_body": first.get("body"),
    "etag": {k.lower(): v for k, v in (first.get("headers") or {}).items()}.get("etag"),
}))
"""
)

# Imports alone (the libraries' references), timed the same way.
_IMPORT_CHILD = """
import json, sys, time
started = time.perf_counter()
for name in sys.argv[1:]:
    __import__(name)
print("BENCH-RESULT " + json.dumps({"import": time.perf_counter() - started}))
"""

# Under -X importtime: marks between the import and the first request, so each import line
# can be given to its phase (stderr is flushed before each mark; importtime writes unbuffered),
# and around the making of each boto3 client, whose own time is reported apart.
_IMPORTTIME_CHILD = (
    HANDLER_CHILD_PREAMBLE
    + """
def mark(what):
    sys.stderr.flush()
    sys.stderr.write("BENCH-MARK " + what + "\\n")
    sys.stderr.flush()

clients = []
mark("import")
if request["handler"]:
    import boto3
    _make_client = boto3.client

    def timed_client(*args, **kwargs):
        frame, importing = sys._getframe(1), None
        while frame is not None and importing is None:
            if frame.f_code.co_name == "<module>":
                importing = frame.f_globals.get("__name__")
            frame = frame.f_back
        mark("client")
        made_at = time.perf_counter()
        client = _make_client(*args, **kwargs)
        clients.append({"seconds": time.perf_counter() - made_at, "module": importing})
        mark("client-done")
        return client

    boto3.client = timed_client
module = __import__(request["module"], fromlist=[request["handler"]] if request["handler"] else [])
mark("first")
if request["handler"]:
    getattr(module, request["handler"])(request["event"], Context())
mark("done")
print("BENCH-RESULT " + json.dumps({"clients": clients}))
"""
)

_IMPORTTIME_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)\s*$")


@dataclass
class Side:
    """One thing measured in every round: a handler module, or imports alone."""

    label: str
    module: str
    handler: str | None  # None: import only
    samples: list[dict[str, Any]] = field(default_factory=list)

    def values(self, key: str) -> list[float]:
        return [float(s[key]) for s in self.samples]

    def sums(self) -> list[float]:
        return [float(s["import"]) + float(s["first"]) for s in self.samples]


@dataclass
class Node:
    """One line of `-X importtime`: a module, its own time and the modules it imported first."""

    module: str
    self_us: int
    cumulative_us: int
    children: list[Node] = field(default_factory=list)

    def walk(self) -> list[Node]:
        return [self, *(n for child in self.children for n in child.walk())]


CLIENT_ROW = "(making the DynamoDB client)"


@dataclass
class ImportTimes:
    """`-X importtime` of one process: the import trees of each phase (import, first request),
    and the time spent making boto3 clients, less the imports they did, per phase and per the
    module whose import made them."""

    roots: dict[str, list[Node]] = field(default_factory=lambda: defaultdict(list))
    clients: list[tuple[str, str | None, float]] = field(default_factory=list)  # phase, module, ms

    def by_package(self, phase: str) -> dict[str, float]:
        """Self time (ms) per top-level package in `phase`; a client's own time is its own row,
        taken out of the module whose import made it."""
        out: dict[str, float] = defaultdict(float)
        for root in self.roots[phase]:
            for node in root.walk():
                out[_package(node.module)] += node.self_us / 1000
        for client_phase, module, millis in self.clients:
            if client_phase != phase:
                continue
            out[CLIENT_ROW] += millis
            if module is not None:
                out[_package(module)] -= millis
        return dict(out)

    def own_modules(self) -> list[tuple[str, str, float, float, float]]:
        """(module, phase, self ms, own subtree ms, libraries it loaded first ms) for our modules."""
        rows = []
        for phase, roots in self.roots.items():
            for root in roots:
                for node in root.walk():
                    if _package(node.module) not in OWN_PACKAGES:
                        continue
                    subtree = node.walk()
                    own = sum(n.self_us for n in subtree if _package(n.module) in OWN_PACKAGES)
                    libraries = sum(n.self_us for n in subtree if _package(n.module) not in OWN_PACKAGES)
                    modules = {n.module for n in subtree}
                    own_ms = own / 1000 - sum(c for p, m, c in self.clients if p == phase and m in modules)
                    self_ms = node.self_us / 1000 - sum(
                        c for p, m, c in self.clients if p == phase and m == node.module
                    )
                    rows.append((node.module, phase, self_ms, own_ms, libraries / 1000))
        return rows


OWN_PACKAGES = ("shared", "functions")


def _parse_importtime(stderr: str, clients: list[dict[str, Any]]) -> ImportTimes:
    times = ImportTimes()
    phase = "prelude"
    pending: dict[int, list[Node]] = defaultdict(list)  # finished nodes waiting for their parent
    in_client: list[tuple[int, int]] = []  # (depth, cumulative) of imports inside a client
    client_no = 0
    for line in stderr.splitlines():
        if line.startswith("BENCH-MARK "):
            what = line.removeprefix("BENCH-MARK ").strip()
            if what == "client":
                in_client = []
            elif what == "client-done":
                made = clients[client_no]
                client_no += 1
                top = min((d for d, _ in in_client), default=0)
                imported_us = sum(c for d, c in in_client if d == top)
                own_ms = float(made["seconds"]) * 1000 - imported_us / 1000
                times.clients.append((phase, made["module"], own_ms))
            else:
                phase = what
            continue
        match = _IMPORTTIME_LINE.match(line)
        if not match:
            continue
        self_us, cumulative_us, indent, module = match.groups()
        depth = len(indent) // 2
        node = Node(module, int(self_us), int(cumulative_us), pending.pop(depth + 1, []))
        in_client.append((depth, node.cumulative_us))
        if depth == 0:
            times.roots[phase].append(node)
        else:
            pending[depth].append(node)
    return times


def _package(module: str) -> str:
    top = module.split(".")[0]
    return "stdlib" if top in sys.stdlib_module_names else top


def _group(package: str) -> str:
    return GROUPS.get(package, "stdlib" if package == "stdlib" else "other")


def _run(
    code: str, env: dict[str, str], stdin: str = "", args: Sequence[str] = (), *, importtime: bool = False
) -> subprocess.CompletedProcess[str]:
    flags = ("-X", "importtime") if importtime else ()
    return run_python(code, args, env, stdin, interpreter=(*INTERPRETER, *flags))


def _result(done: subprocess.CompletedProcess[str], what: str) -> dict[str, Any]:
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
    if done.returncode != 0 or not lines:
        errors = [e for e in done.stderr.strip().splitlines() if not e.startswith("import time:")]
        raise ChildFailed(f"{what}: {(errors or [f'exit status {done.returncode}'])[-1]}")
    return dict(json.loads(lines[-1].removeprefix(MARK)))


def _request(side: Side, env: dict[str, str], event: dict[str, Any]) -> str:
    return json.dumps(
        {
            "module": side.module,
            "handler": side.handler,
            "event": event,
            "function_name": env["AWS_LAMBDA_FUNCTION_NAME"],
            "warm_calls": WARM_CALLS,
        }
    )


def _measure_once(side: Side, env: dict[str, str], event: dict[str, Any]) -> dict[str, Any]:
    if side.handler is None:
        return _result(_run(_IMPORT_CHILD, env, args=side.module.split(",")), side.label)
    return _result(_run(_HANDLER_CHILD, env, _request(side, env, event)), side.label)


def _importtime(side: Side, env: dict[str, str], event: dict[str, Any]) -> ImportTimes:
    done = _run(_IMPORTTIME_CHILD, env, _request(side, env, event), importtime=True)
    result = _result(done, f"{side.label} under -X importtime")
    return _parse_importtime(done.stderr, result["clients"])


def _profile_environment(function: Function) -> dict[str, str]:
    """The profile function's Lambda environment, with the template's conditions evaluated
    (its `IOS_PLATFORM_APPLICATION_ARN` is an `Fn::If`, which `lambda_environment` alone cannot
    resolve): the runtime's variables from `lambda_environment`, the function's own resolved here."""
    template = load()
    refs = references(template)
    evaluate_conditions(template, refs)
    env = lambda_environment(replace(function, environment={}))
    for key, value in function.environment.items():
        resolved = resolve(value, refs)
        env[key] = resolved if isinstance(resolved, str) else str(resolved)
    return env


def _median(values: list[float]) -> float:
    return ms(float(statistics.median(values)))


def _p90(values: list[float]) -> float:
    if len(values) < 2:
        return ms(values[0])
    return ms(statistics.quantiles(values, n=10, method="inclusive")[-1])


def _seed(env: dict[str, str]) -> None:
    """The person the requests are made for gets a profile, through our own PUT."""
    seeder = Side("seed", OURS, "lambda_handler")
    request = json.loads(_request(seeder, env, http_event("PUT", "/v1/me", SEED_PROFILE)))
    request["warm_calls"] = 0
    done = _run(_HANDLER_CHILD, env, json.dumps(request))
    status = _result(done, "PUT /v1/me")["statuses"][0]
    if status not in (200, 201):
        raise RuntimeError(f"PUT /v1/me to seed the profile answered {status}")


@scenario("cold-start-peer")
def cold_start_peer(ctx: Context) -> Report:
    """GET /v1/me cold: the profile function vs. FastAPI + Mangum (budget x0.65 of the peer)."""
    rounds = ROUNDS if ctx.runs == Context.runs else max(3, ctx.runs)
    profile = next(f for f in load().functions() if f.module == OURS)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per emulator request
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    reset_emulator(url)
    fake_aws = {
        "AWS_ENDPOINT_URL": url,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    ours = Side("ours: functions.profile.app", OURS, "lambda_handler")
    peer = Side("peer: FastAPI + Mangum (bench/peer/app.py)", PEER, "handler")
    in_use = Side("libraries in use (bench/libraries_in_use.py)", IN_USE, None)
    bare = Side("libraries, bare (cold-import's baseline)", ",".join(BASELINE), None)
    sides = [ours, peer, in_use, bare]
    event = http_event("GET", "/v1/me")
    try:
        with mock.patch.dict(os.environ, fake_aws):
            create_app_table()
            secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
                Name=CURSOR_SECRET_NAME, SecretString=json.dumps({"current": "bench-cursor-key-" + "0" * 32})
            )
        env = {
            **child_env(_profile_environment(profile)),
            "AWS_ENDPOINT_URL": url,
            "CURSOR_KEY_SECRET": secret["ARN"],
        }
        _seed(env)
        for round_no in range(WARMUP_ROUNDS + rounds):
            shift = round_no % len(sides)
            for side in sides[shift:] + sides[:shift]:
                sample = _measure_once(side, env, event)
                if round_no >= WARMUP_ROUNDS:
                    side.samples.append(sample)
        parts: dict[str, list[ImportTimes]] = defaultdict(list)
        for _ in range(IMPORTTIME_RUNS):
            for side in (ours, peer, in_use):
                parts[side.label].append(_importtime(side, env, event))
    finally:
        server.stop()

    for side in (ours, peer):
        statuses = {status for s in side.samples for status in s["statuses"]}
        if statuses != {200}:
            raise RuntimeError(f"{side.label} answered {sorted(statuses)}")
    same_body = json.loads(ours.samples[0]["first_body"]) == json.loads(peer.samples[0]["first_body"])
    same_etag = ours.samples[0]["etag"] == peer.samples[0]["etag"]

    ratio = statistics.median(ours.sums()) / statistics.median(peer.sums())
    # Our own modules: the import less the libraries in use, and less the DynamoDB client when
    # the import makes it (botocore's work, not our modules'; the libraries' import makes none).
    in_use_import = statistics.median(in_use.values("import"))
    own = statistics.median([s["import"] - s["client_at_import"] for s in ours.samples]) / in_use_import
    own_raw = statistics.median(ours.values("import")) / in_use_import
    within = ratio <= RATIO_BUDGET and own <= OWN_BUDGET
    # The same ratios within each round (its processes ran back to back): steadier under load.
    rounds_of = list(zip(ours.samples, peer.samples, in_use.samples, strict=True))
    paired_ratio = statistics.median(
        [(o["import"] + o["first"]) / (p["import"] + p["first"]) for o, p, _ in rounds_of]
    )
    paired_own = statistics.median(
        [(o["import"] - o["client_at_import"]) / u["import"] for o, _, u in rounds_of]
    )
    paired_floor = statistics.median(
        [
            (u["import"] + o["client_at_import"] + o["client_in_first"] + statistics.median(o["warm"]))
            / (p["import"] + p["first"])
            for o, p, u in rounds_of
        ]
    )

    main = Table(
        f"GET /v1/me cold, {rounds} fresh processes each (interleaved), median / p90 ms",
        ["side", "import", "import p90", "first request", "first p90", "import + first", "sum p90",
         "warm (median of 20)", "warm p90"],
    )  # fmt: skip
    data: dict[str, Any] = {
        "rounds": rounds,
        "ratio_ours_over_peer": round(ratio, 3),
        "own_over_libraries_in_use": round(own, 3),
        "import_over_libraries_in_use": round(own_raw, 3),
        "budget": {"ratio": RATIO_BUDGET, "own": OWN_BUDGET},
        "same_body": same_body,
        "same_etag": same_etag,
    }
    for side in sides:
        imports = side.values("import")
        if side.handler is None:
            main.rows.append(
                [side.label, _median(imports), _p90(imports), None, None, None, None, None, None]
            )
            data[side.label] = {"import_ms": _median(imports), "import_p90_ms": _p90(imports)}
            continue
        firsts, sums = side.values("first"), side.sums()
        warm = [float(statistics.median(s["warm"])) for s in side.samples]
        main.rows.append(
            [side.label, _median(imports), _p90(imports), _median(firsts), _p90(firsts),
             _median(sums), _p90(sums), _median(warm), _p90(warm)]
        )  # fmt: skip
        data[side.label] = {
            "import_ms": _median(imports),
            "import_p90_ms": _p90(imports),
            "first_request_ms": _median(firsts),
            "first_request_p90_ms": _p90(firsts),
            "cold_ms": _median(sums),
            "cold_p90_ms": _p90(sums),
            "warm_request_ms": _median(warm),
            "warm_request_p90_ms": _p90(warm),
            "samples_cold_ms": [ms(v) for v in sums],
        }

    steps = _steps_table(ours, peer, in_use)
    packages, package_data = _packages_table(parts, ours, peer, in_use)
    own_modules = _own_modules_table(parts[ours.label])
    data["steps"] = [{"step": str(row[0]).strip(), "ours": row[1], "peer": row[2]} for row in steps.rows]
    data["importtime_by_package_ms"] = package_data

    def requests(side: Side) -> float:
        return float(statistics.median(side.values("requests_warm")))

    floor = (
        statistics.median(in_use.values("import"))
        + statistics.median([s["client_at_import"] + s["client_in_first"] for s in ours.samples])
        + statistics.median([float(statistics.median(s["warm"])) for s in ours.samples])
    )
    floor_ratio = floor / statistics.median(peer.sums())
    data["floor_ms"] = ms(floor)
    data["floor_ratio"] = round(floor_ratio, 3)
    data["paired"] = {
        "ratio_ours_over_peer": round(paired_ratio, 3),
        "own_over_libraries_in_use": round(paired_own, 3),
        "floor_ratio": round(paired_floor, 3),
    }
    notes = [
        f"ours / peer, import + first request (medians): x{ratio:.3f} (budget <= {RATIO_BUDGET})",
        f"our import without the DynamoDB client / libraries in use: x{own:.3f} (budget <= {OWN_BUDGET}); "
        f"with the client: x{own_raw:.3f}",
        f"floor of ours = libraries in use + DynamoDB client + one warm request = {ms(floor)} ms, "
        f"x{floor_ratio:.3f} the peer: no own module, no once-per-process schema or route work",
        f"the same within each round (median of the rounds' ratios): ours / peer x{paired_ratio:.3f}, "
        f"own x{paired_own:.3f}, floor / peer x{paired_floor:.3f}",
        f"same response body: {'yes' if same_body else 'NO'}; same ETag: {'yes' if same_etag else 'NO'}",
        f"DynamoDB requests per warm request: ours {requests(ours):g} "
        f"(the erased-account check, then the profile), the peer {requests(peer):g}",
        f"importtime tables: median of {IMPORTTIME_RUNS} processes per side under -X importtime (self "
        "time, inflated by the tracing); a package's row is what its own modules ran, the first "
        "request's imports apart; the client's own time (less its imports) is a row of its own",
        "moto's server runs in this process on loopback: DynamoDB's own latency is not in these figures",
        "the machine may be shared: interleaving keeps the comparison fair, absolute figures drift",
    ]
    return Report([main, steps, packages, own_modules], data, within_budget=within, notes=notes)


def _steps_table(ours: Side, peer: Side, in_use: Side) -> Table:
    """The cold path step by step, medians over the rounds."""

    def med(side: Side, key: str) -> float:
        return _median(side.values(key))

    def warm(side: Side) -> float:
        return _median([float(statistics.median(s["warm"])) for s in side.samples])

    def count(side: Side, key: str) -> float:
        return float(statistics.median(side.values(key)))

    def without_client(side: Side, total: str, client: str) -> float:
        return _median([float(s[total]) - float(s[client]) for s in side.samples])

    def once(side: Side) -> float:
        return _median([float(s["first"]) - float(statistics.median(s["warm"])) for s in side.samples])

    def both(step: str, measure: Callable[[Side], float]) -> list[Cell]:
        return [step, measure(ours), measure(peer)]

    table = Table("The cold path step by step, median ms", ["step", "ours", "peer"])
    table.rows += [
        both("import, all of it", lambda side: med(side, "import")),
        ["  of which: the libraries in use", med(in_use, "import"), None],
        both("  of which: making the DynamoDB client", lambda side: med(side, "client_at_import")),
        both("  the import without it", lambda s: without_client(s, "import", "client_at_import")),
        both("first request, all of it", lambda side: med(side, "first")),
        both("  of which: making the DynamoDB client", lambda side: med(side, "client_in_first")),
        both(
            "  the first request without the client", lambda s: without_client(s, "first", "client_in_first")
        ),
        both("  its DynamoDB requests", lambda side: count(side, "requests_first")),
        both("warm request", warm),
        both("  its DynamoDB requests", lambda side: count(side, "requests_warm")),
        both("first - warm (once per process)", once),
    ]
    return table


def _packages_table(
    parts: dict[str, list[ImportTimes]], ours: Side, peer: Side, in_use: Side
) -> tuple[Table, dict[str, Any]]:
    """Self time per top-level package, at import and in the first request, per side."""
    columns = [
        (ours.label, "import"),
        (ours.label, "first"),
        (peer.label, "import"),
        (peer.label, "first"),
        (in_use.label, "import"),
    ]
    figures = [_median_by_key([t.by_package(phase) for t in parts[label]]) for label, phase in columns]
    packages = sorted({p for f in figures for p in f}, key=lambda p: (_group(p), p))
    table = Table(
        f"The floor part by part: -X importtime self ms per top-level package, median of {IMPORTTIME_RUNS}",
        [
            "group",
            "package",
            "ours import",
            "ours 1st request",
            "peer import",
            "peer 1st request",
            "in use import",
        ],
    )
    small: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(columns))
    small_count: dict[str, int] = defaultdict(int)
    for package in packages:
        row = [f.get(package, 0.0) for f in figures]
        if max(row) < MIN_PACKAGE_MS:
            group = _group(package)
            small[group] = [a + b for a, b in zip(small[group], row, strict=True)]
            small_count[group] += 1
            continue
        table.rows.append([_group(package), package, *(round(v, 1) for v in row)])
    for group, row in small.items():
        table.rows.append([group, f"({small_count[group]} smaller)", *(round(v, 1) for v in row)])
    table.rows.sort(key=lambda r: (str(r[0]), -max(float(v or 0) for v in r[2:])))
    group_totals: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(columns))
    for cells in table.rows:
        group = str(cells[0])
        group_totals[group] = [a + float(b or 0) for a, b in zip(group_totals[group], cells[2:], strict=True)]
    for group, totals in sorted(group_totals.items(), key=lambda kv: -max(kv[1])):
        table.rows.append([f"= {group}", "all", *(round(v, 1) for v in totals)])
    table.rows.append(["= total", "all", *(round(sum(f.values()), 1) for f in figures)])
    data = {
        f"{label} {phase}": {package: round(ms_, 2) for package, ms_ in sorted(f.items())}
        for (label, phase), f in zip(columns, figures, strict=True)
    }
    return table, data


def _median_by_key(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each key's median over the runs (a run without the key counts as 0)."""
    keys = {k for run in runs for k in run}
    return {k: float(statistics.median([run.get(k, 0.0) for run in runs])) for k in keys}


def _own_modules_table(runs: list[ImportTimes]) -> Table:
    """Our modules by what importing each costs: its own code and ours it imported (the
    DynamoDB client taken out), and the library modules it was the first to load."""
    table = Table(
        f"Our modules under -X importtime (ours' process, median of {len(runs)}): what each import costs, ms",
        ["module", "phase", "self", "own code in its imports", "libraries it loaded first"],
    )
    columns: list[list[dict[str, float]]] = [[], [], []]
    for times in runs:
        for column in columns:
            column.append({})
        for module, phase, *figures in times.own_modules():
            for column, figure in zip(columns, figures, strict=True):
                column[-1][f"{module} {phase}"] = figure
    medians = [_median_by_key(column) for column in columns]
    rows = sorted(medians[0], key=lambda k: -(medians[1][k] + medians[2][k]))
    for key in rows[:25]:
        module, phase = key.split(" ")
        table.rows.append([module, phase, *(round(m[key], 1) for m in medians)])
    return table
