"""From what one call of a route costs in units, bytes and milliseconds, to dollars: pure.

A route's figures are per call of the route, with everything the call causes: the API
function's invocation, and the stream consumers' invocations, DynamoDB units, logs and pushes
that its writes lead to. The mix weighs routes by their share of calls. X-Ray and fixed costs
depend on the traffic (`Traffic`): X-Ray's reservoir traces the first invocation each second
of each function, and a schedule (the dispatcher, every minute) or a SnapStart snapshot costs
the same whatever the traffic, so per call it shrinks as traffic grows.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields

from bench.bill import prices

MILLION = 1_000_000
SECONDS_PER_MONTH = 30 * 24 * 3600


@dataclass(frozen=True)
class Invocations:
    """One function's invocations per call of a route."""

    function: str
    memory_mb: int
    count: float
    billed_ms: float  # per invocation, before rounding up to the millisecond

    def gb_seconds(self) -> float:
        return self.count * math.ceil(self.billed_ms) / 1000 * self.memory_mb / 1024


@dataclass(frozen=True)
class RouteFigures:
    """What one call of a route causes, everything included."""

    name: str
    weight: float
    read_units: float
    write_units: float
    invocations: tuple[Invocations, ...]
    log_bytes: float  # the functions' log events, with the per-event overhead
    access_log_bytes: float  # the HTTP API's access log line, with the per-event overhead
    sns_pushes: float = 0.0
    response_bytes: float = 0.0


@dataclass(frozen=True)
class ColdStarts:
    """What a new execution environment costs, per function: billed INIT milliseconds, or with
    SnapStart a restore (its GB) and the restore's billed milliseconds."""

    rate: float = prices.COLD_START_RATE
    init_ms: Mapping[str, float] = field(default_factory=dict)
    snapstart: bool = False


@dataclass(frozen=True)
class Traffic:
    """Calls a second (the mix's), and whether Lambda traces (`Active`) or not (`PassThrough`)."""

    calls_per_second: float
    tracing: str = "Active"


@dataclass
class Breakdown:
    """Dollars per call, by service; `sns` and `data_out` are outside the issue's five."""

    api_gateway: float = 0.0
    lambda_requests: float = 0.0
    lambda_duration: float = 0.0
    lambda_init: float = 0.0
    dynamodb_read: float = 0.0
    dynamodb_write: float = 0.0
    logs: float = 0.0
    xray: float = 0.0
    sns: float = 0.0
    data_out: float = 0.0

    @property
    def lambda_(self) -> float:
        return self.lambda_requests + self.lambda_duration + self.lambda_init

    @property
    def dynamodb(self) -> float:
        return self.dynamodb_read + self.dynamodb_write

    @property
    def total(self) -> float:
        """The issue's five: API Gateway, Lambda, DynamoDB, CloudWatch Logs, X-Ray."""
        return self.api_gateway + self.lambda_ + self.dynamodb + self.logs + self.xray

    @property
    def total_with_others(self) -> float:
        return self.total + self.sns + self.data_out

    def add(self, other: Breakdown, factor: float = 1.0) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + factor * getattr(other, f.name))

    def per_million(self) -> dict[str, float]:
        out = {f.name: getattr(self, f.name) * MILLION for f in fields(self)}
        out.update(
            {
                "lambda": self.lambda_ * MILLION,
                "dynamodb": self.dynamodb * MILLION,
                "total": self.total * MILLION,
                "total_with_others": self.total_with_others * MILLION,
            }
        )
        return out


def lambda_gb_second_cost(gb_seconds: float) -> float:
    return gb_seconds * prices.LAMBDA_ARM_PER_GB_SECOND


def cold_start_cost(invocation: Invocations, cold: ColdStarts) -> float:
    """Expected dollars of cold starts per call: the rate times an INIT (or a restore)."""
    gb = invocation.memory_mb / 1024
    init_seconds = math.ceil(cold.init_ms.get(invocation.function, 0.0)) / 1000
    per_cold = lambda_gb_second_cost(gb * init_seconds) if prices.LAMBDA_INIT_BILLED else 0.0
    if cold.snapstart:
        per_cold += gb * prices.SNAPSTART_RESTORE_PER_GB
    return invocation.count * cold.rate * per_cold


def route_cost(route: RouteFigures, cold: ColdStarts, *, traced_share: float = 0.0) -> Breakdown:
    """Dollars per call of one route. `traced_share`: the share of invocations X-Ray records
    (1 when every invocation is traced, as at one call a second; 0 with PassThrough)."""
    invocations = sum(i.count for i in route.invocations)
    log_bytes = route.log_bytes + route.access_log_bytes
    return Breakdown(
        api_gateway=prices.API_GATEWAY_HTTP_PER_MILLION / MILLION,
        lambda_requests=invocations * prices.LAMBDA_PER_MILLION_REQUESTS / MILLION,
        lambda_duration=lambda_gb_second_cost(sum(i.gb_seconds() for i in route.invocations)),
        lambda_init=sum(cold_start_cost(i, cold) for i in route.invocations),
        dynamodb_read=route.read_units * prices.DYNAMODB_PER_MILLION_RRU / MILLION,
        dynamodb_write=route.write_units * prices.DYNAMODB_PER_MILLION_WRU / MILLION,
        logs=log_bytes / prices.GB * prices.LOGS_PER_GB_INGESTED,
        xray=traced_share * invocations * prices.XRAY_PER_MILLION_TRACES / MILLION,
        sns=route.sns_pushes * prices.SNS_MOBILE_PUSH_PER_MILLION / MILLION,
        data_out=route.response_bytes / prices.GB * prices.DATA_OUT_PER_GB,
    )


def traced_per_second(rate: float) -> float:
    """Traces X-Ray's default rule records of one function invoked `rate` times a second."""
    reservoir = min(rate, prices.XRAY_RESERVOIR_PER_SECOND)
    return reservoir + prices.XRAY_FIXED_RATE * max(0.0, rate - prices.XRAY_RESERVOIR_PER_SECOND)


def function_rates(routes: Sequence[RouteFigures], calls_per_second: float) -> dict[str, float]:
    """Invocations a second of each function, at this many mixed calls a second."""
    total_weight = sum(r.weight for r in routes)
    rates: dict[str, float] = defaultdict(float)
    for route in routes:
        for invocation in route.invocations:
            rates[invocation.function] += calls_per_second * route.weight / total_weight * invocation.count
    return dict(rates)


def traces_per_call(routes: Sequence[RouteFigures], traffic: Traffic) -> float:
    """Traces recorded per mixed call: each function's traced rate over the call rate."""
    if traffic.tracing != "Active":
        return 0.0
    rates = function_rates(routes, traffic.calls_per_second)
    return sum(traced_per_second(rate) for rate in rates.values()) / traffic.calls_per_second


@dataclass(frozen=True)
class Fixed:
    """What costs the same whatever the traffic: a scheduled function's runs (one run's figures
    as a route's, `runs_per_second` of them) and SnapStart snapshots (GB cached)."""

    runs: tuple[tuple[RouteFigures, float], ...] = ()
    snapshot_gb: float = 0.0


def mix_cost(
    routes: Sequence[RouteFigures], cold: ColdStarts, traffic: Traffic, fixed: Fixed = Fixed()
) -> tuple[Breakdown, Breakdown]:
    """Dollars per mixed call at this traffic, and the part of it that is fixed costs."""
    total_weight = sum(r.weight for r in routes)
    mix = Breakdown()
    for route in routes:
        mix.add(route_cost(route, cold), route.weight / total_weight)
    mix.xray = traces_per_call(routes, traffic) * prices.XRAY_PER_MILLION_TRACES / MILLION
    fixed_part = Breakdown()
    for run, per_second in fixed.runs:
        cost = route_cost(run, cold)
        cost.api_gateway = 0.0  # a schedule, not an API call
        share = per_second / traffic.calls_per_second
        fixed_part.add(cost, share)
        if traffic.tracing == "Active":  # a schedule's function has its own reservoir
            traced = traced_per_second(per_second) / traffic.calls_per_second
            fixed_part.xray += traced * prices.XRAY_PER_MILLION_TRACES / MILLION
    fixed_part.lambda_init += (
        fixed.snapshot_gb * prices.SNAPSTART_CACHE_PER_GB_SECOND / traffic.calls_per_second
    )
    mix.add(fixed_part)
    return mix, fixed_part


def access_log_line(fmt: str, values: Mapping[str, str]) -> str:
    """The HTTP API's access log line for one request: `$context.x` replaced by `values["x"]`,
    `-` for what a request does not have (as API Gateway writes it)."""
    import re

    return re.sub(r"\$context\.([A-Za-z0-9_.]+)", lambda m: values.get(m.group(1), "-"), fmt.strip())
