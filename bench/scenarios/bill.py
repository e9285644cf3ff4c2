"""The bill: what a million calls of the mobile app cost, route by route, at AWS's list prices.

The real handlers run on moto in this process (`bench.bill.runner`) with a person seeded through
the API (`bench.bill.day`: profile, cares, twenty promises with moves, a plan with items and
reminders, a counterpart who is another app user). For each route of the mobile day: the
DynamoDB requests, the read and write units by DynamoDB's sizing rules (`bench.bill.sizing`:
item sizes from what was read, and from the table's stream for what was written, every index
entry put or deleted, transactions twice), the stream consumers each call sets off (their
invocations, units and logs count for the route), the Lambda time (this machine's, modelled for
AWS: see `bench.bill.measure`), and the log bytes. Then dollars (`bench.bill.model`,
`bench.bill.prices`): per route, and per million mixed calls at steady traffic and at one call a
second, by service. Budget (issue 15): $1.50 per million mixed calls at steady traffic and $3.00
at one call a second, with the template's tracing setting.

Durations are noisy on this shared machine and moto's own time is taken out; units, requests
and bytes are exact, and the same from run to run but for the odd item whose numbers (epoch
seconds) change length.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from bench.bill import measure, model, prices
from bench.scenarios import Context, Report, Table, scenario
from infra.local.template import Template, load

if TYPE_CHECKING:
    from bench.bill import runner

STEADY_RPS = 100.0  # 259 million calls a month: steady traffic, inside API Gateway's first tier
LOW_RPS = 1.0
BUDGET = {STEADY_RPS: 1.50, LOW_RPS: 3.00}
# Lambda's platform lines (platform.start, platform.report) at system log level INFO or DEBUG,
# in JSON: about this many bytes in two events (an estimate). At WARN Lambda sends neither.
PLATFORM_EVENTS_AT_INFO = 2
PLATFORM_BYTES_AT_INFO = 420
# Memory right-sizing: the sizes weighed for every function (and its own), and how much slower
# than today an API function's mean invocation and cold start may get (people wait for those).
MEMORY_SIZES = (256, 512, 1024, 1769)
LATENCY_SLACK = 1.25
# The access log line's values that are not the route's own (a typical mobile client).
ACCESS_LOG_VALUES = {
    "requestId": "ZWU7HjkBIAMEVXQ=",
    "identity.sourceIp": "203.0.113.195",
    "identity.userAgent": "CareerJourney/1.4.2 (com.example.careerjourney; iOS 18.1.1) Alamofire/5.9.1",
    "integrationStatus": "200",
}


# ---------------------------------------------------------------- the template's settings


def _parameter(template: Template, value: Any) -> Any:
    if isinstance(value, dict) and "Ref" in value:
        return template.raw.get("Parameters", {}).get(value["Ref"], {}).get("Default")
    return value


def tracing(template: Template) -> str:
    return str(
        _parameter(
            template, template.raw.get("Globals", {}).get("Function", {}).get("Tracing", "PassThrough")
        )
    )


def snapstart(template: Template) -> bool:
    glob = template.raw.get("Globals", {}).get("Function", {}).get("SnapStart", {})
    return str(_parameter(template, glob.get("ApplyOn", "None"))) == "PublishedVersions"


def platform_log(template: Template, function: str) -> tuple[int, int]:
    """(bytes, events) of Lambda's own lines per invocation, by the function's system log level."""
    glob = template.raw.get("Globals", {}).get("Function", {}).get("LoggingConfig", {})
    own = template.resource(function)["Properties"].get("LoggingConfig", {})
    level = str({**glob, **own}.get("SystemLogLevel", "INFO")).upper()
    return (PLATFORM_BYTES_AT_INFO, PLATFORM_EVENTS_AT_INFO) if level in ("INFO", "DEBUG") else (0, 0)


def access_log_format(template: Template) -> str:
    for api in template.resources_of_type("AWS::Serverless::HttpApi").values():
        fmt = api.get("Properties", {}).get("AccessLogSettings", {}).get("Format")
        if fmt:
            return str(fmt)
    return ""


# ---------------------------------------------------------------- figures per route


def _log_bytes(template: Template, invocation: measure.Invocation) -> int:
    platform_bytes, platform_events = platform_log(template, invocation.function)
    events = invocation.log_events + platform_events
    written = invocation.log_bytes - invocation.log_events + platform_bytes
    return written + prices.LOG_EVENT_OVERHEAD_BYTES * events


def _median_invocation(invocations: list[measure.Invocation]) -> tuple[float, float]:
    """The median modelled ms and, of it, the round trips: the middle invocation's (the middle
    two's mean) by modelled ms, so that its CPU part can be scaled to another memory."""
    ordered = sorted(invocations, key=lambda i: i.billed_ms)
    middle = len(ordered) // 2
    pair = ordered[middle : middle + 1] if len(ordered) % 2 else ordered[middle - 1 : middle + 1]
    return measure.median([i.billed_ms for i in invocations]), measure.mean([i.wait_ms for i in pair])


def _figures(
    template: Template, run: runner.RouteRun, memory: dict[str, int]
) -> tuple[model.RouteFigures, dict[str, Any]]:
    samples = run.samples
    api = [s.api for s in samples]
    n = len(samples)
    operations: Counter[str] = Counter()
    for a in api:
        operations.update(c.operation for c in a.calls)
    consumer_ms: dict[str, list[measure.Invocation]] = defaultdict(list)
    for s in samples:
        for c in s.consumers:
            consumer_ms[c.function].append(c)
    api_billed, api_wait = _median_invocation(api)
    invocations = [model.Invocations(run.function, memory[run.function], 1.0, api_billed, api_wait)]
    invocations += [
        model.Invocations(fn, memory[fn], len(ms) / n, *_median_invocation(ms))
        for fn, ms in sorted(consumer_ms.items())
    ]
    stream = [i for s in samples for i in s.consumers]
    response = measure.mean([a.response_bytes for a in api])
    line = model.access_log_line(
        access_log_format(template),
        {
            **ACCESS_LOG_VALUES,
            "routeKey": run.route.key,
            "status": str(api[0].status),
            "responseLength": str(round(response - measure.GATEWAY_RESPONSE_OVERHEAD)),
            "responseLatency": str(math.ceil(api_billed) + 5),
            "integrationLatency": str(math.ceil(api_billed)),
        },
    )
    access = len(line.encode()) + prices.LOG_EVENT_OVERHEAD_BYTES if line else 0
    figures = model.RouteFigures(
        name=run.route.key,
        weight=run.route.weight,
        read_units=measure.mean([a.read_units for a in api]) + sum(i.read_units for i in stream) / n,
        write_units=measure.mean([a.write_units for a in api]) + sum(i.write_units for i in stream) / n,
        invocations=tuple(invocations),
        log_bytes=sum(_log_bytes(template, i) for s in samples for i in [s.api, *s.consumers]) / n,
        access_log_bytes=access,
        sns_pushes=sum(i.others.get("sns.Publish", 0) for i in stream) / n,
        response_bytes=response,
    )
    detail = {
        "route": run.route.key,
        "what": run.route.what,
        "weight": run.route.weight,
        "function": run.function,
        "memory_mb": memory[run.function],
        "calls_measured": n,
        "statuses": sorted({a.status for a in api if a.status is not None}),
        "dynamodb_requests": sum(operations.values()) / n,
        "operations": {op: count / n for op, count in sorted(operations.items())},
        "read_units": measure.mean([a.read_units for a in api]),
        "write_units": measure.mean([a.write_units for a in api]),
        "index_write_units": measure.mean([a.index_units for a in api]),
        "stream_invocations": {fn: len(ms) / n for fn, ms in sorted(consumer_ms.items())},
        "stream_dynamodb_requests": sum(len(i.calls) for i in stream) / n,
        "stream_read_units": sum(i.read_units for i in stream) / n,
        "stream_write_units": sum(i.write_units for i in stream) / n,
        "stream_index_write_units": sum(i.index_units for i in stream) / n,
        "sns_publishes": figures.sns_pushes,
        "lambda_ms_here_p50": round(measure.median([a.own_ms for a in api]), 2),
        "lambda_ms_wall_with_moto_p50": round(measure.median([a.wall_seconds * 1000 for a in api]), 2),
        "lambda_ms_billed_model": round(api_billed, 2),
        "stream_ms_billed_model": round(sum(i.count * i.billed_ms for i in invocations[1:]), 2),
        "log_bytes": round(figures.log_bytes, 1),
        "access_log_bytes": access,
        "response_bytes": round(response, 1),
        "unattributed_stream_records": sum(s.unattributed_records for s in samples),
    }
    return figures, detail


def _kinds(runs: list[runner.RouteRun], total_weight: float) -> list[tuple[str, str, float, float]]:
    """Write units per mixed call by item kind and writer: (kind, writer, table WCU, index WCU)."""
    base: dict[tuple[str, str], float] = defaultdict(float)
    index: dict[tuple[str, str], float] = defaultdict(float)
    for run in runs:
        share = run.route.weight / total_weight / len(run.samples)
        for sample in run.samples:
            for invocation in [sample.api, *sample.consumers]:
                writer = "route" if invocation is sample.api else invocation.function.removesuffix("Function")
                for call in invocation.calls:
                    for kind, cost in call.items:
                        base[kind, writer] += share * cost.base
                        index[kind, writer] += share * sum(cost.index.values())
                    if call.failed:
                        base["(failed write)", writer] += share * call.write_units
    rows = [(kind, writer, base[kind, writer], index[kind, writer]) for kind, writer in base]
    return sorted(rows, key=lambda r: -(r[2] + r[3]))


def _money(value: float) -> float:
    return round(value, 3)


@scenario("bill")
def bill(ctx: Context) -> Report:
    """The bill: per route of the mobile day, DynamoDB units, Lambda time, logs; $ per million mixed calls."""
    from bench.bill import runner  # moto, pytest's MonkeyPatch: only when the scenario runs

    reads = max(5, min(ctx.calls, 30))
    writes = max(3, min(ctx.calls, 9))
    measured = runner.run_day(reads, writes)
    template = load()
    configured = tracing(template)
    snap = snapstart(template)
    routes, details = [], []
    for run in measured.routes:
        figures, detail = _figures(template, run, measured.memory)
        routes.append(figures)
        details.append(detail)
    cold = model.ColdStarts(
        init_ms=measured.restore_ms if snap else measured.init_ms,
        snapstart=snap,
        runtime_ms=0.0 if snap else runner.RUNTIME_INIT_MS,
    )
    dispatcher_figures, dispatcher_detail = _schedule(
        template, "DispatcherFunction", measured.dispatcher, measured.memory
    )
    snapshot_gb = (
        sum(runner.memory_of(template, f) for f in template.resources_of_type("AWS::Serverless::Function"))
        / 1024
        if snap
        else 0.0
    )
    fixed = model.Fixed(runs=((dispatcher_figures, 1 / 60),), snapshot_gb=snapshot_gb)

    summary: dict[str, Any] = {}
    for rps in (STEADY_RPS, LOW_RPS):
        for mode in ("Active", "PassThrough"):
            mix, fixed_part = model.mix_cost(routes, cold, model.Traffic(rps, mode), fixed)
            summary[f"{rps:g} rps, {mode}"] = {
                "calls_per_second": rps,
                "tracing": mode,
                "configured": mode == configured,
                "per_million": {k: _money(v) for k, v in mix.per_million().items()},
                "fixed_per_million": _money(fixed_part.total * model.MILLION),
                "budget": BUDGET[rps],
            }
    within = all(s["per_million"]["total"] <= s["budget"] for s in summary.values() if s["configured"])

    total_weight = sum(r.weight for r in routes)
    route_table = Table(
        f"Per route, per call (moto in-process; {reads} calls a read route, {writes}+ a write route;"
        " stream = the consumers each call sets off)",
        [
            "route", "mix %", "MB", "DDB req", "RCU", "WCU", "of it index", "stream inv", "stream req",
            "stream RCU", "stream WCU", "ms here", "ms billed", "stream ms", "log B", "resp B",
            "$/M no X-Ray",
        ],
    )  # fmt: skip
    cost_table = Table(
        "Per route: $ per million calls of that route, by service (X-Ray apart: see the summary)",
        [
            "route",
            "API GW",
            "Lambda",
            "of it init",
            "DDB read",
            "DDB write",
            "Logs",
            "total",
            "SNS push",
            "data out",
        ],
    )
    for figures, detail in zip(routes, details, strict=True):
        cost = model.route_cost(figures, cold)
        per = cost.per_million()
        route_table.rows.append(
            [
                figures.name,
                round(100 * figures.weight / total_weight, 1),
                detail["memory_mb"],
                detail["dynamodb_requests"],
                round(detail["read_units"], 2),
                round(detail["write_units"], 2),
                round(detail["index_write_units"], 2),
                round(sum(detail["stream_invocations"].values()), 2),
                round(detail["stream_dynamodb_requests"], 2),
                round(detail["stream_read_units"], 2),
                round(detail["stream_write_units"], 2),
                detail["lambda_ms_here_p50"],
                round(detail["lambda_ms_billed_model"], 1),
                round(detail["stream_ms_billed_model"], 1),
                round(figures.log_bytes + figures.access_log_bytes),
                round(figures.response_bytes),
                _money(per["total"]),
            ]
        )
        cost_table.rows.append(
            [
                figures.name,
                _money(per["api_gateway"]),
                _money(per["lambda"]),
                _money(per["lambda_init"]),
                _money(per["dynamodb_read"]),
                _money(per["dynamodb_write"]),
                _money(per["logs"]),
                _money(per["total"]),
                _money(per["sns"]),
                _money(per["data_out"]),
            ]
        )
        detail["per_million"] = {k: _money(v) for k, v in per.items()}

    summary_table = Table(
        f"$ per million mixed calls (80 % reads / 20 % writes) by service; budget $1.50 at steady"
        f" traffic ({STEADY_RPS:g} calls/s), $3.00 at {LOW_RPS:g} call/s; template's tracing: {configured}"
        f"{', SnapStart' if snap else ''}",
        [
            "traffic", "tracing", "API GW", "Lambda", "of it init", "DDB read", "DDB write", "Logs",
            "X-Ray", "total", "budget", "within", "of it fixed", "+ SNS push", "+ data out",
        ],
    )  # fmt: skip
    for s in summary.values():
        p = s["per_million"]
        summary_table.rows.append(
            [
                f"{s['calls_per_second']:g} calls/s",
                s["tracing"] + (" (template)" if s["configured"] else ""),
                p["api_gateway"],
                p["lambda"],
                p["lambda_init"],
                p["dynamodb_read"],
                p["dynamodb_write"],
                p["logs"],
                p["xray"],
                p["total"],
                s["budget"],
                "yes" if p["total"] <= s["budget"] else "NO",
                s["fixed_per_million"],
                p["sns"],
                p["data_out"],
            ]
        )

    kinds = _kinds(measured.routes, total_weight)
    kind_table = Table(
        "DynamoDB write units per mixed call, by item written (who writes it); $ per million mixed calls",
        ["item", "written by", "table WCU", "index WCU", "$/M mixed"],
    )
    for kind, writer, base, index in kinds[:18]:
        kind_table.rows.append(
            [
                kind,
                writer,
                round(base, 3),
                round(index, 3),
                _money((base + index) * prices.DYNAMODB_PER_MILLION_WRU),
            ]
        )
    rest = kinds[18:]
    if rest:
        rest_base, rest_index = sum(r[2] for r in rest), sum(r[3] for r in rest)
        money = _money((rest_base + rest_index) * prices.DYNAMODB_PER_MILLION_WRU)
        kind_table.rows.append([f"({len(rest)} more)", "", round(rest_base, 3), round(rest_index, 3), money])

    cold_table = Table(
        f"Cold starts: {prices.COLD_START_RATE:.0%} of invocations; INIT = import in a fresh interpreter"
        f" here (median of {runner.COLD_RUNS}) + {runner.RUNTIME_INIT_MS:g} ms runtime start (estimate)",
        ["function", "MB", "INIT ms", "SnapStart restore ms", "dispatcher run"],
    )
    for function in sorted(measured.init_ms):
        cold_table.rows.append(
            [
                function,
                measured.memory[function],
                round(measured.init_ms[function], 1),
                round(measured.restore_ms[function], 1),
                ""
                if function != "DispatcherFunction"
                else f"{dispatcher_detail['lambda_ms_billed_model']:.1f} ms billed, "
                f"{dispatcher_detail['read_units']:g} RCU, {dispatcher_detail['log_bytes']:g} log B",
            ]
        )

    notes = [
        f"Prices: us-east-1 list prices read {prices.READ_ON} (bench/bill/prices.py names each page):"
        f" HTTP API ${prices.API_GATEWAY_HTTP_PER_MILLION}/M; Lambda arm64"
        f" ${prices.LAMBDA_ARM_PER_GB_SECOND}/GB-s + ${prices.LAMBDA_PER_MILLION_REQUESTS}/M, INIT billed"
        f" since 1 Aug 2025; DynamoDB on demand ${prices.DYNAMODB_PER_MILLION_WRU}/M WRU,"
        f" ${prices.DYNAMODB_PER_MILLION_RRU}/M RRU; Logs ${prices.LOGS_PER_GB_INGESTED}/GB"
        f" (+{prices.LOG_EVENT_OVERHEAD_BYTES} B an event); X-Ray ${prices.XRAY_PER_MILLION_TRACES}/M"
        f" traces; apart: SNS push ${prices.SNS_MOBILE_PUSH_PER_MILLION}/M, data out"
        f" ${prices.DATA_OUT_PER_GB}/GB.",
        "The mix (weights per 100 calls) and its rationale: bench/bill/day.py. Reads run on the seeded"
        " person; each write route on fresh targets.",
        "Units are exact (DynamoDB's sizing rules on the items read and the stream's before/after"
        " images; index entries put and deleted; transactions twice; index writes once); the stream"
        " consumers each call sets off count for it, one invocation per consumer per call (records"
        " of one call arrive together; at higher traffic a 1 s batching window shares invocations).",
        "Lambda ms: 'here' is our own Python time on this shared, noisy machine (moto's time taken"
        f" out); 'billed' models AWS: that time x {model.ONE_VCPU_MB}/MB (a 1,024 MB function has"
        " 0.58 vCPU) plus a modelled DynamoDB round trip per request (bench/bill/measure.py), rounded"
        " up to 1 ms per invocation.",
        f"X-Ray, Active: each function's first invocation a second and 5 % of the rest (per function,"
        f" assumed); at {LOW_RPS:g} call/s every invocation is traced (API and stream consumers);"
        " PassThrough: none. Fixed: the dispatcher every minute (its DynamoDB reads, time, logs, trace)"
        + (", SnapStart snapshots" if snap else "")
        + ", shared over the calls of that traffic.",
        "Logs: what each invocation wrote (Powertools JSON lines, EMF metric lines) + Lambda's"
        " platform lines (none at the template's SystemLogLevel WARN) + the HTTP API access log line"
        " (the template's format, rendered). Not in the five: SNS push, data out (response bytes +"
        f" {measure.GATEWAY_RESPONSE_OVERHEAD} B of headers). Not modelled: storage, PITR, alarms,"
        " custom metrics, secrets (fixed monthly), Cognito, free tiers.",
    ]
    unattributed = measured.unmatched
    if unattributed:
        notes.append(f"WARNING: {unattributed} stream records or reads the hooks could not attribute")
    data = {
        "routes": details,
        "summary": summary,
        "configured_tracing": configured,
        "snapstart": snap,
        "write_units_by_item": [
            {"item": k, "written_by": w, "table_wcu": round(b, 4), "index_wcu": round(i, 4)}
            for k, w, b, i in kinds
        ],
        "cold_starts": {
            "rate": prices.COLD_START_RATE,
            "init_ms": {k: round(v, 1) for k, v in measured.init_ms.items()},
            "restore_ms": {k: round(v, 1) for k, v in measured.restore_ms.items()},
        },
        "dispatcher_run": dispatcher_detail,
        "prices": {k: v for k, v in vars(prices).items() if k.isupper()},
        "assumptions": {
            "steady_calls_per_second": STEADY_RPS,
            "dynamodb_latency_ms": measure.DYNAMODB_LATENCY_MS,
            "other_call_latency_ms": measure.OTHER_CALL_LATENCY_MS,
            "one_vcpu_mb": model.ONE_VCPU_MB,
            "runtime_init_ms": runner.RUNTIME_INIT_MS,
            "platform_bytes_at_info": PLATFORM_BYTES_AT_INFO,
        },
        "seed_seconds": round(measured.seed_seconds, 1),
        "unattributed": unattributed,
    }
    sizing_table, sizing_notes, data["memory_sizing"] = _memory_sizing(
        routes, cold, model.Traffic(STEADY_RPS, configured), fixed, {r.function for r in measured.routes}
    )
    return Report(
        [route_table, cost_table, kind_table, cold_table, summary_table, sizing_table],
        data,
        within_budget=within,
        notes=[*sizing_notes, *notes],
    )


def _memory_sizing(
    routes: list[model.RouteFigures],
    cold: model.ColdStarts,
    traffic: model.Traffic,
    fixed: model.Fixed,
    api: set[str],
) -> tuple[Table, list[str], dict[str, Any]]:
    """Each function the day invokes at each size of `MEMORY_SIZES`, everything else as it is,
    and the size the model recommends: for an API function the cheapest within `LATENCY_SLACK`
    of today's latency, for a stream consumer or the schedule the cheapest."""
    scheduled = {i.function for run, _ in fixed.runs for i in run.invocations}
    invoked = {i.function for r in routes for i in r.invocations} | scheduled
    kind = {f: "API" if f in api else "schedule" if f in scheduled else "stream" for f in invoked}
    order = sorted(invoked, key=lambda f: (["API", "stream", "schedule"].index(kind[f]), f))
    table = Table(
        f"Memory right-sizing, one function at a time, the rest as today (model, {traffic.calls_per_second:g}"
        " calls/s): ms = its mean invocation's modelled duration; INIT ms = a cold start as billed"
        " (the bill assumes INIT gets full CPU at any memory); INIT if scaled = if INIT's CPU scaled"
        " with memory as an invocation's does; $/M = its Lambda duration + cold starts per million"
        " mixed calls; total change = the mix total's change, $ per million mixed calls",
        [
            "function", "kind", "inv/call", "MB", "ms", "billed ms", "INIT ms", "INIT if scaled",
            "$/M", "total change $/M", "",
        ],
    )  # fmt: skip
    chosen: dict[str, model.MemoryOption] = {}
    today: dict[str, model.MemoryOption] = {}
    full_cpu_init: dict[str, model.MemoryOption] = {}  # API functions, if INIT gets full CPU
    data: dict[str, Any] = {"calls_per_second": traffic.calls_per_second, "functions": {}}
    for function in order:
        options = model.memory_options(routes, cold, traffic, fixed, function, MEMORY_SIZES)
        today_mb = model.memory_of(routes, fixed, function)
        slack = LATENCY_SLACK if kind[function] == "API" else None
        chosen[function] = model.choose_memory(options, today_mb, latency_slack=slack)
        if slack is not None:
            full_cpu_init[function] = model.choose_memory(
                options, today_mb, latency_slack=slack, init_scales=False
            )
        (today[function],) = [o for o in options if o.memory_mb == today_mb]
        for o in options:
            mark = ["today"] * (o.memory_mb == today_mb) + ["chosen"] * (o is chosen[function])
            table.rows.append(
                [
                    function.removesuffix("Function"),
                    kind[function],
                    float(f"{o.invocations:.3g}"),
                    o.memory_mb,
                    round(o.ms, 1),
                    round(o.billed_ms, 1),
                    round(o.init_ms),
                    round(o.init_ms_scaled),
                    round(o.cost * model.MILLION, 4),
                    round(o.total_change * model.MILLION, 4),
                    ", ".join(mark),
                ]
            )
        data["functions"][function] = {
            "kind": kind[function],
            "today_mb": today_mb,
            "chosen_mb": chosen[function].memory_mb,
            "options": [
                {
                    k: round(v * model.MILLION, 5) if k in ("cost", "total_change") else v
                    for k, v in vars(o).items()
                }
                for o in options
            ],
        }

    def per_million(c: model.ColdStarts, memory: dict[str, int]) -> float:
        r, f = model.with_memory(routes, fixed, memory)
        return model.mix_cost(r, c, traffic, f)[0].total * model.MILLION

    recommended = {f: o.memory_mb for f, o in chosen.items()}
    if_full_cpu_init = {**recommended, **{f: o.memory_mb for f, o in full_cpu_init.items()}}
    scaled = dataclasses.replace(cold, scales_with_memory=True)
    before, after = per_million(cold, {}), per_million(cold, recommended)
    after_full_cpu_init = per_million(cold, if_full_cpu_init)
    before_scaled, after_scaled = per_million(scaled, {}), per_million(scaled, recommended)

    def change(f: str, choice: dict[str, model.MemoryOption] = chosen) -> str:
        o, t = choice[f], today[f]
        if o.memory_mb == t.memory_mb:
            return f"{f.removesuffix('Function')} stays at {t.memory_mb} MB"
        return (
            f"{f.removesuffix('Function')} {t.memory_mb} -> {o.memory_mb} MB (ms {t.ms:.1f} -> {o.ms:.1f},"
            f" INIT if scaled {t.init_ms_scaled:.0f} -> {o.init_ms_scaled:.0f}, total"
            f" {o.total_change * model.MILLION:+.4f} $/M)"
        )

    waited = [f for f in order if kind[f] == "API"]
    unwaited = [f for f in order if kind[f] != "API"]
    notes = [
        f"Memory, API functions (people wait for them, warm and cold): the cheapest size whose mean"
        f" invocation and cold start (INIT if its CPU scaled with memory: the pessimistic case) stay"
        f" within {LATENCY_SLACK:g} x today's: " + "; ".join(change(f) for f in waited) + ".",
        "Memory, API functions, if the INIT phase gets full CPU at any memory (as the bill bills"
        " INIT) so that only the warm bound binds: "
        + "; ".join(change(f, full_cpu_init) for f in waited)
        + ".",
        "Memory, stream consumers and the schedule (nobody waits): the cheapest size: "
        + "; ".join(change(f) for f in unwaited)
        + ".",
        f"Memory, all recommended sizes together: ${before:.3f} -> ${after:.3f} per million mixed calls"
        f" at {traffic.calls_per_second:g} calls/s, {traffic.tracing} ({after - before:+.4f}); if the INIT"
        f" phase's CPU scaled with memory: ${before_scaled:.3f} -> ${after_scaled:.3f}"
        f" ({after_scaled - before_scaled:+.4f}); with the API functions at their sizes for an INIT"
        f" on full CPU as well: ${after_full_cpu_init:.3f} ({after_full_cpu_init - before:+.4f})."
        f" A model (CPU time x {model.ONE_VCPU_MB}/MB, round"
        " trips fixed): measure on AWS (Init Duration, Billed Duration) before changing template.yaml.",
    ]
    data.update(
        {
            "recommended_mb": recommended,
            "total_per_million": {"today": before, "recommended": after},
            "total_per_million_if_init_scaled": {"today": before_scaled, "recommended": after_scaled},
            "latency_slack": LATENCY_SLACK,
            "mb_if_init_gets_full_cpu": if_full_cpu_init,
            "total_per_million_if_init_gets_full_cpu": after_full_cpu_init,
        }
    )
    return table, notes, data


def _schedule(
    template: Template, function: str, samples: list[measure.Sample], memory: dict[str, int]
) -> tuple[model.RouteFigures, dict[str, Any]]:
    """A scheduled function's run, as a route's figures without the API (no access log)."""
    n = len(samples)
    runs = [s.api for s in samples]
    stream = [i for s in samples for i in s.consumers]
    billed, wait = _median_invocation(runs)
    figures = model.RouteFigures(
        name=f"schedule {function}",
        weight=0.0,
        read_units=(sum(a.read_units for a in runs) + sum(i.read_units for i in stream)) / n,
        write_units=(sum(a.write_units for a in runs) + sum(i.write_units for i in stream)) / n,
        invocations=(model.Invocations(function, memory[function], 1.0, billed, wait),),
        log_bytes=sum(_log_bytes(template, i) for s in samples for i in [s.api, *s.consumers]) / n,
        access_log_bytes=0.0,
    )
    detail = {
        "runs_measured": n,
        "dynamodb_requests": sum(len(a.calls) for a in runs) / n,
        "read_units": figures.read_units,
        "write_units": figures.write_units,
        "lambda_ms_here_p50": round(measure.median([a.own_ms for a in runs]), 2),
        "lambda_ms_billed_model": round(billed, 2),
        "log_bytes": round(figures.log_bytes, 1),
    }
    return figures, detail
