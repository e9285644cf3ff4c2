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
