"""pipelines.checks: the event contracts compiled to one SQL classifier (catalog/contracts/README.md).

Each test classifies lines in an in-memory DuckDB opened the way the warehouse is (ICU loaded,
UTC), and reads the verdict: NULL for a good event, else `reason` or `reason:detail`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from pipelines.checks import event_classifier_sql
from pipelines.contracts import load_contracts
from pipelines.warehouse import connect

CONTRACTS = load_contracts()
MISSING = object()

ORDER_PLACED: dict[str, Any] = {
    "specversion": "1.0",
    "id": "ord-1",
    "source": "/sales/web",
    "type": "sales.order.placed",
    "time": "2026-10-01T10:00:00Z",
    "data": {
        "order_id": "o-1",
        "customer_id": "c-1",
        "product_id": "p-1",
        "quantity": 2,
        "unit_price": 9.5,
        "amount": 19.0,
        "currency": "EUR",
        "channel": "web",
    },
}
TICKET_OPENED: dict[str, Any] = {
    "specversion": "1.0",
    "id": "tkt-1",
    "source": "/support/desk",
    "type": "support.ticket.opened",
    "time": "2026-10-01T10:00:00Z",
    "data": {"ticket_id": "t-1", "customer_id": "c-1", "order_id": "o-1", "priority": "low", "channel": "chat"},
}
INVOICE_ISSUED: dict[str, Any] = {
    "specversion": "1.0",
    "id": "inv-1",
    "source": "/finance/billing",
    "type": "finance.invoice.issued",
    "time": "2026-10-01T10:00:00Z",
    "data": {"invoice_id": "i-1", "order_id": "o-1", "amount": 19.0, "currency": "EUR", "due_date": "2026-10-31"},
}
DEPLOYMENT_FINISHED: dict[str, Any] = {
    "specversion": "1.0",
    "id": "dep-1",
    "source": "/devops/ci",
    "type": "devops.deployment.finished",
    "time": "2026-10-01T10:00:00Z",
    "data": {
        "deployment_id": "d-1",
        "service_id": "s-1",
        "version": "1.2.3",
        "status": "succeeded",
        "commit_sha": "abc123",
        "committed_at": "2026-10-01T09:00:00+02:00",
    },
}


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(":memory:")
    yield con
    con.close()


def event(base: dict[str, Any] = ORDER_PLACED, **changes: Any) -> str:
    """`base` as a JSON line with envelope attributes (or `data_<field>`) changed or removed."""
    document = json.loads(json.dumps(base))
    for key, value in changes.items():
        target, name = (document["data"], key.removeprefix("data_")) if key.startswith("data_") else (document, key)
        if value is MISSING:
            del target[name]
        else:
            target[name] = value
    return json.dumps(document)


def classify(con: duckdb.DuckDBPyConnection, lines: list[str], domain: str = "sales") -> list[tuple]:
    """(line_no, verdict, id, source, type, time) per line, in line order."""
    table = pa.table(
        {
            "file_ord": pa.array([0] * len(lines), pa.int32()),
            "line_no": pa.array(range(1, len(lines) + 1), pa.int64()),
            "txt": pa.array(lines, pa.large_string()),
        }
    )
    con.register("_lines", table)
    try:
        sql = event_classifier_sql(CONTRACTS.event_types(domain))
        return con.execute(f"SELECT line_no, verdict, id, source, type, time FROM ({sql}) ORDER BY line_no").fetchall()
    finally:
        con.unregister("_lines")


def verdict(con: duckdb.DuckDBPyConnection, line: str, domain: str = "sales") -> str | None:
    return classify(con, [line], domain)[0][1]


def test_event_classifier_valid_event_has_no_verdict(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event()) is None


def test_event_classifier_valid_event_typed_envelope(con: duckdb.DuckDBPyConnection) -> None:
    result = classify(con, [event()])

    expected = [(1, None, "ord-1", "/sales/web", "sales.order.placed", datetime(2026, 10, 1, 10, tzinfo=UTC))]
    assert result == expected


def test_event_classifier_time_offset_is_converted_to_utc(con: duckdb.DuckDBPyConnection) -> None:
    result = classify(con, [event(time="2026-10-01T10:00:00.250+02:00")])

    assert result[0][1:] == (
        None,
        "ord-1",
        "/sales/web",
        "sales.order.placed",
        datetime(2026, 10, 1, 8, 0, 0, 250000, tzinfo=UTC),
    )


def test_event_classifier_lowercase_rfc3339_separators_are_valid(con: duckdb.DuckDBPyConnection) -> None:
    # RFC 3339 §5.6: "T" and "Z" may alternatively be lower case
    result = classify(con, [event(time="2026-10-01t10:00:00z")])

    assert result[0][1:] == (None, "ord-1", "/sales/web", "sales.order.placed", datetime(2026, 10, 1, 10, tzinfo=UTC))


@pytest.mark.parametrize("attribute", ["specversion", "id", "source", "type", "time"])
def test_event_classifier_missing_envelope_attribute(con: duckdb.DuckDBPyConnection, attribute: str) -> None:
    assert verdict(con, event(**{attribute: MISSING})) == f"missing_required:{attribute}"


@pytest.mark.parametrize("attribute", ["specversion", "id", "source", "type", "time"])
def test_event_classifier_null_envelope_attribute_is_missing(con: duckdb.DuckDBPyConnection, attribute: str) -> None:
    assert verdict(con, event(**{attribute: None})) == f"missing_required:{attribute}"


@pytest.mark.parametrize("attribute", ["id", "source", "type"])
def test_event_classifier_empty_identifying_attribute_is_missing(
    con: duckdb.DuckDBPyConnection, attribute: str
) -> None:
    assert verdict(con, event(**{attribute: ""})) == f"missing_required:{attribute}"


def test_event_classifier_id_as_number_is_wrong_type(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event(id=1)) == "wrong_type:id"


def test_event_classifier_type_as_number_is_wrong_type(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event(type=3)) == "wrong_type:type"


@pytest.mark.parametrize("attribute", ["specversion", "id", "source", "type", "time"])
@pytest.mark.parametrize(
    "value",
    [{"v": "1.0"}, ["1.0"], True, False, 1.0, -7, 0.5, 1e21],
    ids=["object", "array", "true", "false", "number", "negative", "fraction", "exponent"],
)
def test_event_classifier_attribute_that_is_not_a_string_is_wrong_type(
    con: duckdb.DuckDBPyConnection, attribute: str, value: object
) -> None:
    """Attributes are read as VARCHAR, which turns any JSON value into text: the type test must
    still see that the value was not a string."""
    assert verdict(con, event(**{attribute: value})) == f"wrong_type:{attribute}"


LOOKS_NOT_STRING = ["42", "-7", "0.5", "true", "false", "null", "{x}", "[1]", "9e9"]


@pytest.mark.parametrize("attribute", ["id", "source"])
@pytest.mark.parametrize("value", LOOKS_NOT_STRING)
def test_event_classifier_string_that_looks_like_another_json_value_is_valid(
    con: duckdb.DuckDBPyConnection, attribute: str, value: str
) -> None:
    """A string such as "42" reads as the same text as the number 42; it is a string all the same."""
    result = classify(con, [event(**{attribute: value})])[0]

    assert result[1] is None
    assert result[2 if attribute == "id" else 3] == value


@pytest.mark.parametrize("attribute", ["id", "source"])
@pytest.mark.parametrize("value", LOOKS_NOT_STRING)
def test_event_classifier_string_that_looks_like_another_json_value_still_has_its_payload_checked(
    con: duckdb.DuckDBPyConnection, attribute: str, value: str
) -> None:
    assert verdict(con, event(**{attribute: value}, data_currency="XXX")) == "invalid_value:data.currency"


@pytest.mark.parametrize(
    "time",
    [
        "yesterday",
        "2026-10-01T10:00:00",
        "2026-10-01",
        "01/10/2026 08:15",
        "2026-13-45T99:00:00Z",
        "2026-02-30T10:00:00Z",
    ],
)
def test_event_classifier_time_not_rfc3339_is_wrong_type(con: duckdb.DuckDBPyConnection, time: str) -> None:
    assert verdict(con, event(time=time)) == "wrong_type:time"


def test_event_classifier_time_as_number_is_wrong_type(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event(time=1790848800)) == "wrong_type:time"


def test_event_classifier_specversion_2_is_unsupported(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event(specversion="2.0")) == "unsupported_specversion"


def test_event_classifier_specversion_as_number_is_wrong_type(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event(specversion=1.0)) == "wrong_type:specversion"


def test_event_classifier_unknown_type_names_the_type(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event(type="sales.order.teleported")) == "unknown_type:sales.order.teleported"


def test_event_classifier_other_domains_type_is_unknown(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event(type="finance.invoice.issued")) == "unknown_type:finance.invoice.issued"


def test_event_classifier_data_missing(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event(data=MISSING)) == "missing_required:data"


def test_event_classifier_data_null_is_missing(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event(data=None)) == "missing_required:data"


@pytest.mark.parametrize("data", [[1, 2], "order", 42])
def test_event_classifier_data_not_an_object_is_wrong_type(con: duckdb.DuckDBPyConnection, data: object) -> None:
    assert verdict(con, event(data=data)) == "wrong_type:data"


def test_event_classifier_missing_required_payload_field(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event(data_amount=MISSING)) == "missing_required:data.amount"


def test_event_classifier_null_required_payload_field_is_missing(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event(data_amount=None)) == "missing_required:data.amount"


def test_event_classifier_payload_number_as_string_is_wrong_type(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event(data_amount="19.00 EUR")) == "wrong_type:data.amount"


def test_event_classifier_payload_number_as_numeric_string_is_wrong_type(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event(data_amount="19.0")) == "wrong_type:data.amount"


def test_event_classifier_payload_integer_number_is_a_valid_number(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event(data_amount=19)) is None


@pytest.mark.parametrize("quantity", [2.5, 2.0, "2", 1e20, True])
def test_event_classifier_payload_integer_not_an_integer_is_wrong_type(
    con: duckdb.DuckDBPyConnection, quantity: object
) -> None:
    assert verdict(con, event(data_quantity=quantity)) == "wrong_type:data.quantity"


def test_event_classifier_payload_string_as_number_is_wrong_type(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event(data_order_id=17)) == "wrong_type:data.order_id"


@pytest.mark.parametrize("currency", ["JPY", "eur"])
def test_event_classifier_enum_value_not_allowed(con: duckdb.DuckDBPyConnection, currency: str) -> None:
    assert verdict(con, event(data_currency=currency)) == "invalid_value:data.currency"


def test_event_classifier_first_failing_payload_field_is_reported(con: duckdb.DuckDBPyConnection) -> None:
    # fields are checked in contract order: order_id comes before currency
    assert verdict(con, event(data_order_id=MISSING, data_currency="JPY")) == "missing_required:data.order_id"


def test_event_classifier_envelope_is_checked_before_payload(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event(id=MISSING, data_amount="x")) == "missing_required:id"


def test_event_classifier_optional_field_null_is_valid(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event(TICKET_OPENED, data_order_id=None), "support") is None


def test_event_classifier_optional_field_absent_is_valid(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event(TICKET_OPENED, data_order_id=MISSING), "support") is None


def test_event_classifier_optional_field_wrong_type(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event(TICKET_OPENED, data_order_id=7), "support") == "wrong_type:data.order_id"


def test_event_classifier_extra_payload_field_is_valid(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event(data_gift_wrap=True, data_note={"to": "Ana"})) is None


def test_event_classifier_extra_envelope_attribute_is_valid(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event(subject="o-1", traceparent="00-abc")) is None


def test_event_classifier_escaped_strings_are_read_unescaped(con: duckdb.DuckDBPyConnection) -> None:
    line = event(id='ord-"1"\\x', source="/sales/caf\u00e9").replace("\u00e9", "\\u00e9")

    result = classify(con, [line])

    assert result[0][1:4] == (None, 'ord-"1"\\x', "/sales/café")


@pytest.mark.parametrize("due_date", ["2026-13-01", "2026-10-31T00:00:00Z", "20261031", 20261031])
def test_event_classifier_payload_date_not_a_date_is_wrong_type(
    con: duckdb.DuckDBPyConnection, due_date: object
) -> None:
    assert verdict(con, event(INVOICE_ISSUED, data_due_date=due_date), "finance") == "wrong_type:data.due_date"


def test_event_classifier_payload_date_is_valid(con: duckdb.DuckDBPyConnection) -> None:
    assert verdict(con, event(INVOICE_ISSUED), "finance") is None


@pytest.mark.parametrize("committed_at", ["2026-10-01T09:00:00+02:00", "2026-10-01t09:00:00z", "2026-10-01 09:00:00Z"])
def test_event_classifier_payload_timestamp_is_valid(con: duckdb.DuckDBPyConnection, committed_at: str) -> None:
    assert verdict(con, event(DEPLOYMENT_FINISHED, data_committed_at=committed_at), "devops") is None


@pytest.mark.parametrize("committed_at", ["yesterday", "2026-10-01T09:00:00", "2026-10-01", 1790848800])
def test_event_classifier_payload_timestamp_not_rfc3339_is_wrong_type(
    con: duckdb.DuckDBPyConnection, committed_at: object
) -> None:
    result = verdict(con, event(DEPLOYMENT_FINISHED, data_committed_at=committed_at), "devops")

    assert result == "wrong_type:data.committed_at"


@pytest.mark.parametrize("line", ["[1,2]", "42", '"order"', "true", "null"])
def test_event_classifier_json_not_an_object(con: duckdb.DuckDBPyConnection, line: str) -> None:
    assert verdict(con, line) == "invalid_json:not an object"


@pytest.mark.parametrize("line", ['{"id": ', "", "   ", "{'id': 'x'}", event()[:-1]])
def test_event_classifier_not_json_is_invalid_json(con: duckdb.DuckDBPyConnection, line: str) -> None:
    assert verdict(con, line) == "invalid_json"


def test_event_classifier_line_terminators_are_whitespace(con: duckdb.DuckDBPyConnection) -> None:
    assert [v for _, v, *_ in classify(con, [event() + "\n", event() + "\r\n"])] == [None, None]


def test_event_classifier_judges_each_line_on_its_own(con: duckdb.DuckDBPyConnection) -> None:
    lines = [event(id="a"), "{", event(id="b", data_currency="JPY"), event(id="c"), "[1]"]

    result = [(line_no, v) for line_no, v, *_ in classify(con, lines)]

    expected = [
        (1, None),
        (2, "invalid_json"),
        (3, "invalid_value:data.currency"),
        (4, None),
        (5, "invalid_json:not an object"),
    ]
    assert result == expected


# Every kind of JSON value a payload field may hold (MISSING: the key is absent).
FIELD_VALUES: list[Any] = [
    MISSING,
    None,
    "",
    "x",
    "EUR",
    "web",
    "low",
    "card",
    "2026-10-31",
    "2026-10-01T10:00:00Z",
    "2026-13-45",
    "12",
    "1.5",
    0,
    7,
    -3,
    1.5,
    2e3,
    True,
    False,
    {},
    {"a": 1},
    [],
    ["EUR"],
]


def _fields() -> list[tuple[str, Any]]:
    return [
        (f"{c.type}.{f.name}", f) for c in sorted(CONTRACTS.events.values(), key=lambda c: c.type) for f in c.fields
    ]


@pytest.mark.parametrize(("label", "field"), _fields(), ids=[label for label, _ in _fields()])
def test_field_fast_path_agrees_with_the_rules(con: duckdb.DuckDBPyConnection, label: str, field: Any) -> None:
    """The AND chain good lines take (`_field_ok`) is true exactly when none of the field's
    reported rules (`_field_rules`) fires, for every kind of value, enum members included."""
    from pipelines.checks import _field_ok, _field_rules, quote_literal

    values = [*FIELD_VALUES, *(field.enum or ())]
    payloads = [json.dumps({} if v is MISSING else {field.name: v}) for v in values]
    rows = ", ".join(f"({i}, {quote_literal(p)})" for i, p in enumerate(payloads))
    value = f"d.{json.dumps(field.name)}"
    rules = " ".join(f"WHEN {c} THEN {quote_literal(v)}" for c, v in _field_rules(value, field, field.name))
    result = con.execute(
        f"""
        SELECT i, coalesce({_field_ok(value, field)}, false) AS ok, CASE {rules} END AS verdict
        FROM (SELECT i, json_transform(p, {quote_literal(json.dumps({field.name: "JSON"}))}) AS d
              FROM (VALUES {rows}) t(i, p))
        ORDER BY i
        """
    ).fetchall()

    disagreements = [(payloads[i], ok, verdict) for i, ok, verdict in result if ok != (verdict is None)]
    assert disagreements == []
