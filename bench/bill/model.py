"""From what one call of a route costs in units, bytes and milliseconds, to dollars: pure.

A route's figures are per call of the route, with everything the call causes: the API
function's invocation, and the stream consumers' invocations, DynamoDB units, logs and pushes
that its writes lead to. The mix weighs routes by their share of calls. X-Ray and fixed costs
depend on the traffic (`Traffic`): X-Ray's reservoir traces the first invocation each second
of each function, and a schedule (the dispatcher, every minute) or a SnapStart snapshot costs
the same whatever the traffic, so per call it shrinks as traffic grows.

An invocation's time is modelled from two measured parts: its own CPU time (this machine's, one
full core) and its waits on AWS calls (modelled round trips). Lambda gives a function CPU in
proportion to its memory, so only the first part changes with memory: that is what right-sizing
memory (`memory_options`, `choose_memory`) weighs against the GB-seconds it pays for.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace

from bench.bill import prices

MILLION = 1_000_000
SECONDS_PER_MONTH = 30 * 24 * 3600
# Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB (AWS Lambda
# "Memory and computing power"). Python here runs on one full core of this machine.
ONE_VCPU_MB = 1769


def cpu_scale(memory_mb: int) -> float:
    """How much longer CPU work takes on Lambda at this memory than on one core here (no
    faster above one vCPU: a single Python thread uses one)."""
    return max(1.0, ONE_VCPU_MB / memory_mb)


def duration_ms(cpu_ms: float, wait_ms: float, memory_mb: int) -> float:
    """An invocation's modelled AWS duration at this memory, before rounding up: its CPU time
    on one core, scaled to the memory's share of a vCPU, plus its waits on AWS calls (round
    trips, which no CPU shortens)."""
    return cpu_ms * cpu_scale(memory_mb) + wait_ms


@dataclass(frozen=True)
class Invocations:
    """One function's invocations per call of a route."""

    function: str
    memory_mb: int
    count: float
    billed_ms: float  # per invocation at `memory_mb`, before rounding up to the millisecond
    wait_ms: float = 0.0  # of it, the waits on AWS calls (the rest is CPU time, scaled)

    def gb_seconds(self) -> float:
        return self.count * math.ceil(self.billed_ms) / 1000 * self.memory_mb / 1024

    @property
    def cpu_ms(self) -> float:
        """The CPU part of `billed_ms` as on one core (here)."""
        return (self.billed_ms - self.wait_ms) / cpu_scale(self.memory_mb)

    def at(self, memory_mb: int) -> Invocations:
        """The same invocations at another memory: the CPU part rescaled, the waits as they are."""
        if memory_mb == self.memory_mb:
            return self  # not recomputed: float noise must not cross a millisecond when rounded up
        return replace(self, memory_mb=memory_mb, billed_ms=duration_ms(self.cpu_ms, self.wait_ms, memory_mb))


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
    SnapStart a restore (its GB) and the restore's billed milliseconds.

    `init_ms` is as measured here, on one core, and billed so at any memory: the INIT phase has
    been reported to run on two unthrottled vCPUs whatever the memory (lucvandonkersgoed.com,
    "When is the Lambda Init Phase Free, and when is it Billed?", 2022, while INIT was free; not
    in AWS's documentation), so this is an assumption. With `scales_with_memory`, the part after
    the runtime's own start (`runtime_ms`) takes `cpu_scale` as long, as an invocation's CPU time
    does: the pessimistic case, where the INIT phase gets only the memory's share of a vCPU."""

    rate: float = prices.COLD_START_RATE
    init_ms: Mapping[str, float] = field(default_factory=dict)
    snapstart: bool = False
    runtime_ms: float = 0.0
    scales_with_memory: bool = False


def init_ms_at(cold: ColdStarts, function: str, memory_mb: int) -> float:
    """A cold start's INIT (or SnapStart restore) milliseconds for this function at this memory."""
    measured = cold.init_ms.get(function, 0.0)
    if not cold.scales_with_memory:
        return measured
    runtime = min(cold.runtime_ms, measured)
    return runtime + (measured - runtime) * cpu_scale(memory_mb)


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
    init_seconds = math.ceil(init_ms_at(cold, invocation.function, invocation.memory_mb)) / 1000
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


# ---------------------------------------------------------------- memory right-sizing


@dataclass(frozen=True)
class MemoryOption:
    """One function at one memory size, every other function as it is: its invocations' time,
    a cold start's INIT, and what they cost per mixed call."""

    function: str
    memory_mb: int
    invocations: float  # per mixed call
    ms: float  # its mean invocation's modelled duration, before rounding up
    billed_ms: float  # the same, each route's rounded up to the millisecond (what is billed)
    init_ms: float  # a cold start's INIT as billed (see `ColdStarts`)
    init_ms_scaled: float  # the same if the INIT phase got only the memory's share of a vCPU
    cost: float  # its Lambda duration and cold starts, $ per mixed call
    total_change: float  # the mix's total less the total at today's sizes, $ per mixed call


def _per_call(
    routes: Sequence[RouteFigures], fixed: Fixed, traffic: Traffic
) -> list[tuple[float, Invocations]]:
    """Every function's invocations with how many of them there are per mixed call."""
    total_weight = sum(r.weight for r in routes)
    out = [(r.weight / total_weight * i.count, i) for r in routes for i in r.invocations]
    out += [(s / traffic.calls_per_second * i.count, i) for run, s in fixed.runs for i in run.invocations]
    return out


def memory_of(routes: Sequence[RouteFigures], fixed: Fixed, function: str) -> int:
    """The function's memory today, as its invocations carry it."""
    for _, invocation in _per_call(routes, fixed, Traffic(1.0)):
        if invocation.function == function:
            return invocation.memory_mb
    raise KeyError(function)


def with_memory(
    routes: Sequence[RouteFigures], fixed: Fixed, memory: Mapping[str, int]
) -> tuple[list[RouteFigures], Fixed]:
    """The routes and fixed runs with these functions' invocations at these memory sizes (and
    a SnapStart snapshot, when there are any, of the new size)."""

    def resized(route: RouteFigures) -> RouteFigures:
        return replace(
            route, invocations=tuple(i.at(memory.get(i.function, i.memory_mb)) for i in route.invocations)
        )

    snapshot_gb = fixed.snapshot_gb
    if snapshot_gb:
        snapshot_gb += sum(mb - memory_of(routes, fixed, fn) for fn, mb in memory.items()) / 1024
    runs = tuple((resized(run), per_second) for run, per_second in fixed.runs)
    return [resized(r) for r in routes], Fixed(runs=runs, snapshot_gb=snapshot_gb)


def function_cost(
    routes: Sequence[RouteFigures], cold: ColdStarts, traffic: Traffic, fixed: Fixed, function: str
) -> float:
    """Dollars per mixed call of one function's Lambda duration and cold starts (and snapshot,
    with SnapStart), priced by `mix_cost` on the routes with only that function's invocations.
    Its requests are left out: they are the same at any memory."""

    def only(route: RouteFigures) -> RouteFigures:
        return replace(route, invocations=tuple(i for i in route.invocations if i.function == function))

    runs = tuple((only(run), per_second) for run, per_second in fixed.runs)
    snapshot_gb = memory_of(routes, fixed, function) / 1024 if fixed.snapshot_gb else 0.0
    mix, _ = mix_cost([only(r) for r in routes], cold, traffic, Fixed(runs=runs, snapshot_gb=snapshot_gb))
    return mix.lambda_duration + mix.lambda_init


def memory_options(
    routes: Sequence[RouteFigures],
    cold: ColdStarts,
    traffic: Traffic,
    fixed: Fixed,
    function: str,
    sizes: Sequence[int],
) -> list[MemoryOption]:
    """The function at each of these sizes and at today's, smallest first: the bill's own
    figures (`Invocations.at`, `mix_cost`) with only its memory changed."""
    today = memory_of(routes, fixed, function)
    base = mix_cost(routes, cold, traffic, fixed)[0].total
    scaled = replace(cold, scales_with_memory=True)
    options = []
    for memory_mb in sorted({*sizes, today}):
        r, f = with_memory(routes, fixed, {function: memory_mb})
        mine = [(n, i) for n, i in _per_call(r, f, traffic) if i.function == function]
        count = sum(n for n, _ in mine)
        options.append(
            MemoryOption(
                function=function,
                memory_mb=memory_mb,
                invocations=count,
                ms=sum(n * i.billed_ms for n, i in mine) / count,
                billed_ms=sum(n * math.ceil(i.billed_ms) for n, i in mine) / count,
                init_ms=init_ms_at(cold, function, memory_mb),
                init_ms_scaled=init_ms_at(scaled, function, memory_mb),
                cost=function_cost(r, cold, traffic, f, function),
                total_change=mix_cost(r, cold, traffic, f)[0].total - base,
            )
        )
    return options


def choose_memory(
    options: Sequence[MemoryOption],
    today_mb: int,
    *,
    latency_slack: float | None = None,
    init_scales: bool = True,
) -> MemoryOption:
    """The cheapest option (on a tie, the faster). With `latency_slack`, for a function someone
    waits for (an API function), only among the options whose mean invocation and cold start
    take at most that factor of today's; the cold start, unless `init_scales` is False, as if
    the INIT phase got only the memory's share of a vCPU: the pessimistic case (`ColdStarts`),
    so that the choice holds whichever way Lambda runs INIT. Without it (a stream consumer, a
    schedule: nobody waits), the cheapest outright."""
    (today,) = [o for o in options if o.memory_mb == today_mb]

    def init(o: MemoryOption) -> float:
        return o.init_ms_scaled if init_scales else o.init_ms

    allowed = [
        o
        for o in options
        if latency_slack is None
        or (o.ms <= today.ms * latency_slack and init(o) <= init(today) * latency_slack)
    ]
    return min(allowed, key=lambda o: (o.total_change, o.ms))


def access_log_line(fmt: str, values: Mapping[str, str]) -> str:
    """The HTTP API's access log line for one request: `$context.x` replaced by `values["x"]`,
    `-` for what a request does not have (as API Gateway writes it)."""
    import re

    return re.sub(r"\$context\.([A-Za-z0-9_.]+)", lambda m: values.get(m.group(1), "-"), fmt.strip())
