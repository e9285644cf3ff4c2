"""The bill's pure parts (`bench.bill.sizing`, `bench.bill.model`), against figures worked out
by hand from DynamoDB's sizing rules and the list prices."""

from __future__ import annotations

import math
from typing import Any

import pytest

from bench.bill import model, prices
from bench.bill.sizing import (
    IndexSpec,
    ItemWrite,
    batch_get_read_units,
    failed_write_units,
    index_write_units,
    indexes_of,
    item_size,
    item_write_cost,
    number_size,
    query_read_units,
    read_units,
    same_item,
    value_size,
    write_units,
)

# ---------------------------------------------------------------- item sizes


def test_a_string_counts_its_utf8_bytes_and_its_name() -> None:
    assert item_size({"PK": {"S": "USER#1"}}) == 2 + 6
    assert item_size({"s": {"S": "é"}}) == 1 + 2, "é is two bytes in UTF-8"
    assert item_size({"name": {"S": ""}}) == 4


@pytest.mark.parametrize(
    ("number", "size"),
    [
        ("7", 2),  # one significant digit: 1 + 1
        ("123", 3),  # three digits: 2 + 1
        ("1000", 2),  # trailing zeros trimmed: "1"
        ("0.05", 2),  # leading zeros trimmed: "5"
        ("12345", 4),
        ("-12.50", 3),  # "125"
    ],
)
def test_a_number_is_one_byte_per_two_significant_digits_plus_one(number: str, size: int) -> None:
    assert number_size(number) == size
    assert item_size({"n": {"N": number}}) == 1 + size


def test_booleans_nulls_binary_and_sets() -> None:
    assert value_size({"BOOL": True}) == 1
    assert value_size({"NULL": True}) == 1
    assert value_size({"B": b"\x00\x01\x02"}) == 3
    assert value_size({"B": "AAEC"}) == 3, "the JSON form is base64; its raw bytes count"
    assert value_size({"SS": ["a", "bc"]}) == 3
    assert value_size({"NS": ["1", "100"]}) == 2 + 2


def test_a_map_is_three_bytes_plus_each_element_with_its_name_and_one_byte() -> None:
    value = {"M": {"a": {"S": "xy"}, "b": {"N": "7"}}}
    # 3 + (name 1 + 1 + "xy" 2) + (name 1 + 1 + number 2)
    assert value_size(value) == 3 + 4 + 4
    assert item_size({"m": value}) == 1 + 11
    assert value_size({"M": {}}) == 3


def test_a_list_is_three_bytes_plus_each_element_and_one_byte() -> None:
    assert value_size({"L": [{"S": "abc"}, {"BOOL": False}]}) == 3 + (1 + 3) + (1 + 1)
    nested = {"L": [{"M": {"k": {"S": "v"}}}]}
    assert value_size(nested) == 3 + 1 + (3 + 1 + 1 + 1)


# ---------------------------------------------------------------- reads


def test_one_item_read_is_4_kb_units_halved_when_eventually_consistent() -> None:
    assert read_units(0, consistent=False) == 0.5, "an absent item costs the minimum"
    assert read_units(4096, consistent=True) == 1
    assert read_units(4097, consistent=True) == 2
    assert read_units(4097, consistent=False) == 1
    assert read_units(5000, consistent=True, transactional=True) == 4


def test_a_query_sums_its_items_before_rounding() -> None:
    assert query_read_units([2000, 2000, 2000], consistent=True) == 2, "6,000 bytes: two units, not three"
    assert query_read_units([4096], consistent=True) == 1
    assert query_read_units([4096, 1], consistent=True) == 2
    assert query_read_units([100], consistent=False) == 0.5
    assert query_read_units([], consistent=True) == 1, "an empty Query still costs a unit"


def test_a_batch_get_rounds_each_item() -> None:
    assert batch_get_read_units([100, 5000], consistent=False) == 0.5 + 1.0
    assert batch_get_read_units([100, 100, 100], consistent=True) == 3


# ---------------------------------------------------------------- writes


def _item(size: int, **attrs: Any) -> dict[str, Any]:
    """An item of exactly `size` bytes: PK ('PK' + padding), SK 'SK' = 'x', then `attrs`."""
    item: dict[str, Any] = {"SK": {"S": "x"}, **attrs}
    rest = size - item_size(item) - 2
    assert rest >= 0
    return {"PK": {"S": "p" * rest}, **item}


def test_write_units_are_1_kb_at_least_one() -> None:
    assert write_units(0) == 1
    assert write_units(1024) == 1
    assert write_units(1025) == 2
    assert item_size(_item(1024)) == 1024


BY_STATE = IndexSpec("ByState", ("listState", "dueKey"), ("PK", "SK"), "INCLUDE", frozenset({"state"}))
BY_OWNER = IndexSpec("ByOwner", ("owner", "SK"), ("PK", "SK"), "KEYS_ONLY")
LISTED = {"listState": {"S": "L#open"}, "dueKey": {"S": "2027"}, "state": {"S": "open"}}


def test_an_index_entry_holds_keys_and_projected_attributes_only() -> None:
    item = {"PK": {"S": "P"}, "SK": {"S": "S"}, "note": {"S": "long text"}, **LISTED}
    assert BY_STATE.entry(item) == {"PK": {"S": "P"}, "SK": {"S": "S"}, **LISTED}
    assert BY_STATE.entry({"PK": {"S": "P"}, "SK": {"S": "S"}, "listState": {"S": "x"}}) is None, "sparse"
    assert BY_OWNER.entry({"PK": {"S": "P"}, "SK": {"S": "S"}, "owner": {"S": "o"}, "x": {"N": "1"}}) == {
        "PK": {"S": "P"},
        "SK": {"S": "S"},
        "owner": {"S": "o"},
    }


def test_a_put_writes_the_item_and_each_index_it_enters() -> None:
    new = _item(1500, **LISTED)
    cost = item_write_cost(ItemWrite("Put", None, new), [BY_STATE, BY_OWNER])
    entry = item_size(BY_STATE.entry(new))
    assert cost.base == 2, "1,500 bytes: two units"
    assert cost.index == {"ByState": write_units(entry)} == {"ByState": 2}, "the entry is the padded PK too"
    assert item_write_cost(ItemWrite("Put", None, _item(300)), [BY_STATE]).total == 1, "in no index"


def test_an_update_costs_the_larger_of_before_and_after() -> None:
    old, new = _item(1500), _item(500)
    assert item_write_cost(ItemWrite("Update", old, new), []).base == 2
    assert item_write_cost(ItemWrite("Update", new, old), []).base == 2


def test_an_update_that_leaves_an_index_alone_costs_it_nothing() -> None:
    old = {"PK": {"S": "P"}, "SK": {"S": "S"}, "note": {"S": "a"}, **LISTED}
    new = {**old, "note": {"S": "b"}}  # not projected
    assert item_write_cost(ItemWrite("Update", old, new), [BY_STATE]).index == {}


def test_an_update_of_a_projected_attribute_is_one_index_write() -> None:
    old = {"PK": {"S": "P"}, "SK": {"S": "S"}, **LISTED}
    new = {**old, "state": {"S": "done"}}
    assert index_write_units(BY_STATE, old, new) == 1
    assert index_write_units(BY_OWNER, {**old, "owner": {"S": "o"}}, {**new, "owner": {"S": "o"}}) == 0


def test_an_update_of_an_index_key_deletes_the_old_entry_and_puts_the_new() -> None:
    old = {"PK": {"S": "P"}, "SK": {"S": "S"}, **LISTED}
    new = {**old, "listState": {"S": "L#done"}}
    assert index_write_units(BY_STATE, old, new) == 2
    big_old = {**old, "state": {"S": "s" * 1100}}  # the old entry is two units, the new one one
    assert index_write_units(BY_STATE, big_old, new) == 3


def test_leaving_or_entering_an_index_is_one_write_of_that_entry() -> None:
    listed = {"PK": {"S": "P"}, "SK": {"S": "S"}, **LISTED}
    unlisted = {k: v for k, v in listed.items() if k != "dueKey"}
    assert index_write_units(BY_STATE, listed, unlisted) == 1
    assert index_write_units(BY_STATE, unlisted, listed) == 1
    deleted = item_write_cost(ItemWrite("Delete", listed, None), [BY_STATE])
    assert (deleted.base, deleted.index) == (1, {"ByState": 1})


def test_a_transaction_doubles_the_table_writes_not_the_index_writes() -> None:
    new = {"PK": {"S": "P"}, "SK": {"S": "S"}, **LISTED}
    plain = item_write_cost(ItemWrite("Put", None, new), [BY_STATE])
    transactional = item_write_cost(ItemWrite("Put", None, new, transactional=True), [BY_STATE])
    assert (plain.base, plain.index) == (1, {"ByState": 1})
    assert (transactional.base, transactional.index) == (2, {"ByState": 1})
    assert transactional.total == 3


def test_a_condition_check_is_a_write_of_the_item_it_checks() -> None:
    assert item_write_cost(ItemWrite("ConditionCheck", None, None, transactional=True), [BY_STATE]).total == 2
    checked = _item(2000, **LISTED)
    cost = item_write_cost(ItemWrite("ConditionCheck", checked, None, transactional=True), [BY_STATE])
    assert (cost.base, cost.index) == (4, {}), "nothing changes in an index"
    assert failed_write_units(None) == 1
    assert failed_write_units(checked) == 2


def test_items_compare_regardless_of_set_order_and_number_spelling() -> None:
    assert same_item({"s": {"SS": ["a", "b"]}, "n": {"N": "1.0"}}, {"n": {"N": "1"}, "s": {"SS": ["b", "a"]}})
    assert not same_item({"n": {"N": "1"}}, {"n": {"N": "2"}})
    assert same_item(None, None)
    assert not same_item(None, {})


def test_indexes_are_read_from_the_table_properties() -> None:
    properties = {
        "KeySchema": [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "ByState",
                "KeySchema": [
                    {"AttributeName": "listState", "KeyType": "HASH"},
                    {"AttributeName": "dueKey", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["state"]},
            },
            {
                "IndexName": "ByOwner",
                "KeySchema": [
                    {"AttributeName": "owner", "KeyType": "HASH"},
                    {"AttributeName": "SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
    }
    assert indexes_of(properties) == [BY_STATE, BY_OWNER]


# ---------------------------------------------------------------- dollars


def _route(**overrides: Any) -> model.RouteFigures:
    fields: dict[str, Any] = {
        "name": "GET /x",
        "weight": 1.0,
        "read_units": 2.0,
        "write_units": 10.0,
        "invocations": (model.Invocations("Fn", 1024, 1.0, 9.2),),
        "log_bytes": 0.0,
        "access_log_bytes": 0.0,
    }
    fields.update(overrides)
    return model.RouteFigures(**fields)


def test_a_route_costs_each_service_by_its_price() -> None:
    cost = model.route_cost(_route(log_bytes=prices.GB), model.ColdStarts(rate=0.0))
    assert math.isclose(cost.api_gateway * 1e6, 1.00)
    assert math.isclose(cost.dynamodb_read * 1e6, 2 * 0.125)
    assert math.isclose(cost.dynamodb_write * 1e6, 10 * 0.625)
    assert math.isclose(cost.lambda_requests * 1e6, 0.20)
    # 9.2 ms is billed as 10 ms, at 1 GB: 0.01 GB-s.
    assert math.isclose(cost.lambda_duration, 0.01 * 0.0000133334)
    assert math.isclose(cost.logs, 0.50)
    assert cost.xray == 0.0
    assert cost.lambda_init == 0.0


def test_a_cold_start_costs_its_rate_times_an_init() -> None:
    cold = model.ColdStarts(rate=0.01, init_ms={"Fn": 499.5})
    cost = model.route_cost(_route(invocations=(model.Invocations("Fn", 512, 2.0, 1.0),)), cold)
    # Two invocations a call, 1 % cold, 500 ms at 0.5 GB each.
    assert math.isclose(cost.lambda_init, 2 * 0.01 * 0.5 * 0.5 * 0.0000133334)


def test_x_ray_records_one_invocation_a_second_per_function_and_5_percent_of_the_rest() -> None:
    assert model.traced_per_second(0.5) == 0.5
    assert model.traced_per_second(1.0) == 1.0
    assert math.isclose(model.traced_per_second(21.0), 1 + 0.05 * 20)


def test_at_one_call_a_second_every_invocation_is_traced() -> None:
    stream = model.Invocations("Consumer", 1024, 0.5, 5.0)
    routes = [
        _route(weight=80, invocations=(model.Invocations("Reads", 1024, 1.0, 5.0),)),
        _route(weight=20, invocations=(model.Invocations("Writes", 1024, 1.0, 5.0), stream)),
    ]
    # 0.8 + 0.2 * 1.5 invocations a call, all under their function's reservoir.
    assert math.isclose(model.traces_per_call(routes, model.Traffic(1.0, "Active")), 1.1)
    assert model.traces_per_call(routes, model.Traffic(1.0, "PassThrough")) == 0.0
    # At 100 calls a second: Reads 80/s, Writes 20/s, Consumer 10/s.
    steady = (1 + 0.05 * 79) + (1 + 0.05 * 19) + (1 + 0.05 * 9)
    assert math.isclose(model.traces_per_call(routes, model.Traffic(100.0, "Active")), steady / 100)


def test_fixed_costs_shrink_per_call_as_traffic_grows() -> None:
    run = _route(read_units=8.0, write_units=0.0)
    fixed = model.Fixed(runs=((run, 1 / 60),))
    low, low_fixed = model.mix_cost(
        [_route()], model.ColdStarts(rate=0.0), model.Traffic(1.0, "PassThrough"), fixed
    )
    high, high_fixed = model.mix_cost(
        [_route()], model.ColdStarts(rate=0.0), model.Traffic(100.0, "PassThrough"), fixed
    )
    assert math.isclose(low_fixed.dynamodb_read, 8 * 0.125e-6 / 60)
    assert math.isclose(high_fixed.total * 100, low_fixed.total)
    assert low_fixed.api_gateway == 0.0, "a schedule is not an API call"
    assert math.isclose(low.total - high.total, low_fixed.total - high_fixed.total)


def test_the_access_log_line_is_the_template_format_with_the_request_values() -> None:
    fmt = '{"requestId":"$context.requestId", "status":"$context.status","err":"$context.authorizer.error"}'
    line = model.access_log_line(fmt, {"requestId": "abc", "status": "200"})
    assert line == '{"requestId":"abc", "status":"200","err":"-"}'


# ---------------------------------------------------------------- memory: time, INIT, cost


@pytest.mark.parametrize(
    ("memory_mb", "expected"),
    [
        (256, 10 * 1769 / 256 + 6),  # 0.145 vCPU: the CPU part takes 6.9 times as long
        (512, 10 * 1769 / 512 + 6),
        (1024, 10 * 1769 / 1024 + 6),
        (1769, 10 + 6),  # one vCPU: as here
        (3538, 10 + 6),  # a second vCPU does not speed up one Python thread
    ],
)
def test_the_cpu_part_scales_with_1769_over_the_memory_below_one_vcpu_and_not_above(
    memory_mb: int, expected: float
) -> None:
    assert math.isclose(model.duration_ms(10.0, 6.0, memory_mb), expected)


@pytest.mark.parametrize("memory_mb", [128, 256, 512, 1024, 1769, 3008])
def test_round_trips_take_the_same_at_any_memory(memory_mb: int) -> None:
    assert model.duration_ms(0.0, 6.0, memory_mb) == 6.0


def test_an_invocation_is_its_time_here_scaled_plus_a_round_trip_per_aws_call() -> None:
    from bench.bill.measure import Call, Invocation

    invocation = Invocation("Fn", 512, calls=[Call("GetItem"), Call("Query")], wall_seconds=0.010)
    invocation.excluded_seconds = 0.004  # moto's time: 6 ms are ours
    invocation.others["sns.Publish"] = 1
    assert math.isclose(invocation.wait_ms, 4 + 6 + 20)
    assert math.isclose(invocation.billed_ms, model.duration_ms(6.0, 30.0, 512))
    assert math.isclose(invocation.billed_ms, 6 * 1769 / 512 + 30)


def test_invocations_at_another_memory_rescale_their_cpu_part_only() -> None:
    today = model.Invocations("Fn", 1024, 2.0, model.duration_ms(10.0, 6.0, 1024), wait_ms=6.0)
    assert math.isclose(today.cpu_ms, 10.0)
    assert today.at(1024) is today, "not recomputed at its own memory"
    smaller = today.at(512)
    assert (smaller.memory_mb, smaller.count, smaller.wait_ms) == (512, 2.0, 6.0)
    assert math.isclose(smaller.billed_ms, 10 * 1769 / 512 + 6)
    assert math.isclose(today.at(1769).billed_ms, 16.0)
    assert math.isclose(today.at(3008).billed_ms, 16.0)


@pytest.mark.parametrize(
    ("memory_mb", "billed_ms"),
    [
        (256, math.ceil(10 * 1769 / 256 + 6)),  # 76 ms at a quarter GB
        (512, math.ceil(10 * 1769 / 512 + 6)),  # 41 ms at half a GB
        (1024, math.ceil(10 * 1769 / 1024 + 6)),  # 24 ms at one GB
        (1769, 16),
    ],
)
def test_duration_costs_its_rounded_up_ms_times_gb_at_the_gb_second_price(
    memory_mb: int, billed_ms: int
) -> None:
    invocation = model.Invocations("Fn", 1024, 1.0, model.duration_ms(10.0, 6.0, 1024), wait_ms=6.0)
    cost = model.route_cost(_route(invocations=(invocation.at(memory_mb),)), model.ColdStarts(rate=0.0))
    assert math.isclose(cost.lambda_duration, billed_ms / 1000 * memory_mb / 1024 * 0.0000133334)


def test_init_is_billed_as_measured_at_any_memory_unless_its_cpu_scales() -> None:
    measured = model.ColdStarts(rate=0.01, init_ms={"Fn": 480.0}, runtime_ms=80.0)
    scaled = model.ColdStarts(rate=0.01, init_ms={"Fn": 480.0}, runtime_ms=80.0, scales_with_memory=True)
    for memory_mb in (256, 512, 1024, 1769):
        assert model.init_ms_at(measured, "Fn", memory_mb) == 480.0
    # The runtime's own 80 ms stay; our 400 ms of imports take 1769/MB as long below one vCPU.
    assert math.isclose(model.init_ms_at(scaled, "Fn", 512), 80 + 400 * 1769 / 512)
    assert math.isclose(model.init_ms_at(scaled, "Fn", 1024), 80 + 400 * 1769 / 1024)
    assert model.init_ms_at(scaled, "Fn", 1769) == model.init_ms_at(scaled, "Fn", 3008) == 480.0
    assert model.init_ms_at(scaled, "Other", 256) == 0.0
    half_gb = model.Invocations("Fn", 512, 1.0, 1.0)
    # 1 % of invocations are cold; a cold start is billed its INIT, rounded up, at half a GB.
    assert math.isclose(model.cold_start_cost(half_gb, measured), 0.01 * 0.480 * 0.5 * 0.0000133334)
    assert math.isclose(model.cold_start_cost(half_gb, scaled), 0.01 * 1463 / 1000 * 0.5 * 0.0000133334)


# ---------------------------------------------------------------- memory: one function at a time

PRICE = 0.0000133334


def _day() -> tuple[list[model.RouteFigures], model.Fixed, model.ColdStarts]:
    """Reads (weight 3) on Api; writes (weight 1) on Api and, every other call, Consumer; Tick
    once a minute. Api: 2 ms of CPU here and 10 ms of round trips; Consumer: 20 ms of CPU."""
    api = model.Invocations("Api", 1024, 1.0, model.duration_ms(2.0, 10.0, 1024), wait_ms=10.0)
    consumer = model.Invocations("Consumer", 1024, 0.5, model.duration_ms(20.0, 0.0, 1024))
    tick = model.Invocations("Tick", 1024, 1.0, model.duration_ms(1.0, 4.0, 1024), wait_ms=4.0)
    routes = [
        _route(name="GET /x", weight=3.0, invocations=(api,)),
        _route(name="POST /x", weight=1.0, invocations=(api, consumer)),
    ]
    fixed = model.Fixed(runs=((_route(name="tick", weight=0.0, invocations=(tick,)), 1 / 60),))
    cold = model.ColdStarts(
        rate=0.01, init_ms={"Api": 480.0, "Consumer": 280.0, "Tick": 180.0}, runtime_ms=80.0
    )
    return routes, fixed, cold


def test_each_size_of_one_function_is_priced_as_the_bill_prices_it() -> None:
    routes, fixed, cold = _day()
    traffic = model.Traffic(100.0, "PassThrough")
    options = model.memory_options(routes, cold, traffic, fixed, "Consumer", (256, 1769))
    assert [o.memory_mb for o in options] == [256, 1024, 1769], "today's size is always weighed"
    at_256, today, at_1769 = options
    assert at_256.invocations == 0.125, "half of the quarter of calls that write"
    assert math.isclose(at_256.ms, 20 * 1769 / 256)
    assert at_256.billed_ms == 139
    assert at_256.init_ms == 280.0, "as billed: not scaled"
    assert math.isclose(at_256.init_ms_scaled, 80 + 200 * 1769 / 256)
    duration = 0.125 * 139 / 1000 * 0.25 * PRICE
    cold_starts = 0.125 * 0.01 * 0.280 * 0.25 * PRICE
    assert math.isclose(at_256.cost, duration + cold_starts)
    assert today.total_change == 0.0
    assert math.isclose(at_256.total_change, at_256.cost - today.cost), "nothing else changes"
    assert math.isclose(at_1769.ms, 20.0)
    assert math.isclose(at_1769.cost, 0.125 * (20 / 1000 + 0.01 * 0.280) * 1769 / 1024 * PRICE)


def test_a_scheduled_function_counts_its_runs_per_mixed_call_at_that_traffic() -> None:
    routes, fixed, cold = _day()
    (option,) = model.memory_options(routes, cold, model.Traffic(100.0), fixed, "Tick", ())
    assert math.isclose(option.invocations, 1 / 60 / 100)
    assert math.isclose(option.cost, 1 / 6000 * (math.ceil(1 * 1769 / 1024 + 4) + 0.01 * 180) / 1000 * PRICE)


def test_with_memory_changes_only_the_named_functions() -> None:
    routes, fixed, _ = _day()
    resized, resized_fixed = model.with_memory(routes, fixed, {"Api": 512})
    assert [i.memory_mb for r in resized for i in r.invocations] == [512, 512, 1024]
    assert math.isclose(resized[0].invocations[0].billed_ms, 2 * 1769 / 512 + 10)
    assert resized_fixed.runs[0][0].invocations[0].memory_mb == 1024
    assert model.memory_of(resized, resized_fixed, "Api") == 512
    snapshots = model.Fixed(runs=fixed.runs, snapshot_gb=3.0)
    assert model.with_memory(routes, snapshots, {"Api": 512})[1].snapshot_gb == 2.5, "a smaller snapshot"


def _option(memory_mb: int, ms: float, init_scaled: float, change: float) -> model.MemoryOption:
    return model.MemoryOption(
        "Fn", memory_mb, 1.0, ms, math.ceil(ms), 500.0, init_scaled, 1e-6 + change, change
    )


OPTIONS = [
    _option(256, 40.0, 2000.0, -2e-8),
    _option(512, 24.0, 990.0, -1e-8),  # within 1.25 x of today's 20 ms and 800 ms
    _option(1024, 20.0, 800.0, 0.0),
    _option(1769, 15.0, 500.0, 1e-8),
]


def test_nobody_waiting_the_cheapest_size_is_chosen() -> None:
    assert model.choose_memory(OPTIONS, 1024).memory_mb == 256


def test_someone_waiting_the_cheapest_size_within_the_slack_of_todays_latency_is_chosen() -> None:
    assert model.choose_memory(OPTIONS, 1024, latency_slack=1.25).memory_mb == 512
    slow_cold_start = [*OPTIONS[:1], _option(512, 24.0, 1001.0, -1e-8), *OPTIONS[2:]]
    assert model.choose_memory(slow_cold_start, 1024, latency_slack=1.25).memory_mb == 1024
    slower_init = [*OPTIONS[:1], _option(512, 24.0, 2000.0, -1e-8), *OPTIONS[2:]]
    assert model.choose_memory(slower_init, 1024, latency_slack=1.25).memory_mb == 1024
    assert model.choose_memory(slower_init, 1024, latency_slack=1.25, init_scales=False).memory_mb == 512, (
        "INIT as billed (500 ms at any size) does not bind"
    )
    slow_warm = [*OPTIONS[:1], _option(512, 25.5, 990.0, -1e-8), *OPTIONS[2:]]
    assert model.choose_memory(slow_warm, 1024, latency_slack=1.25).memory_mb == 1024


def test_a_tie_goes_to_the_faster_size() -> None:
    tied = [_option(512, 24.0, 990.0, 0.0), _option(1024, 20.0, 800.0, 0.0)]
    assert model.choose_memory(tied, 512).memory_mb == 1024
