"""pipelines.contracts: the shipped contracts load, and a malformed contract is one clear error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipelines.contracts import DOMAINS, FIELD_TYPES, load_contracts
from pipelines.errors import ContractError
from pipelines.home import contracts_dir

SHIPPED = contracts_dir()
EVENT_TYPES = sorted(p.name.removesuffix(".yml") for p in (SHIPPED / "events").glob("*.yml"))
EXTRACTS = sorted(p.name.removesuffix(".yml") for p in (SHIPPED / "extracts").glob("*.yml"))

ORDER_PLACED = """\
kind: event
type: sales.order.placed
domain: sales
version: 1.0.0
fields:
  order_id: {type: string, required: true}
"""


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_load_contracts_every_shipped_event_type() -> None:
    result = sorted(load_contracts().events)

    assert result == EVENT_TYPES
    assert len(result) == 13


def test_load_contracts_every_shipped_extract() -> None:
    result = sorted(load_contracts().extracts)

    assert result == EXTRACTS
    assert len(result) == 7


def test_load_contracts_every_domain_publishes_events_and_an_extract() -> None:
    contracts = load_contracts()

    result = {d: (len(contracts.event_types(d)), len(contracts.extract_tables(d))) for d in DOMAINS}

    assert result == {
        "sales": (2, 2),
        "finance": (3, 1),
        "marketing": (2, 1),
        "support": (2, 1),
        "devops": (3, 1),
        "qa": (1, 1),
    }


def test_load_contracts_shipped_field_types_are_known() -> None:
    contracts = load_contracts()
    fields = [f for c in contracts.events.values() for f in c.fields]
    fields += [f for c in contracts.extracts.values() for f in c.columns]

    assert {f.type for f in fields} <= set(FIELD_TYPES)


def test_load_contracts_shipped_versions_are_semantic() -> None:
    contracts = load_contracts()
    versions = [c.version for c in contracts.events.values()] + [c.version for c in contracts.extracts.values()]

    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) for v in versions), versions


def test_load_contracts_event_types_belong_to_their_domain() -> None:
    result = [c.type for c in load_contracts().events.values() if not c.type.startswith(f"{c.domain}.")]

    assert result == []


def test_load_contracts_extract_primary_keys_name_columns() -> None:
    result = [
        c.name for c in load_contracts().extracts.values() if not all(c.column(k) is not None for k in c.primary_key)
    ]

    assert result == []


def test_load_contracts_customers_email_and_name_are_pii() -> None:
    customers = load_contracts().extract("sales", "customers")
    assert customers is not None

    result = sorted(c.name for c in customers.columns if c.pii)

    assert result == ["email", "name"]


def test_load_contracts_no_other_dataset_is_pii() -> None:
    contracts = load_contracts()
    pii = [f"{c.name}.{f.name}" for c in contracts.events.values() for f in c.fields if f.pii]
    pii += [f"{c.name}.{f.name}" for c in contracts.extracts.values() for f in c.columns if f.pii]

    assert sorted(pii) == ["sales.customers.email", "sales.customers.name"]


def test_load_contracts_enum_and_required_are_read() -> None:
    placed = load_contracts().events["sales.order.placed"]

    currency = next(f for f in placed.fields if f.name == "currency")

    assert (currency.type, currency.required, currency.enum) == ("string", True, ("EUR", "USD", "GBP"))


def test_load_contracts_optional_by_default(tmp_path: Path) -> None:
    write(tmp_path, "events/sales.order.placed.yml", ORDER_PLACED + "  note: {type: string}\n")

    note = load_contracts(tmp_path).events["sales.order.placed"].fields[1]

    assert (note.name, note.required, note.enum, note.pii) == ("note", False, None, False)


def test_load_contracts_duplicate_event_type_is_rejected(tmp_path: Path) -> None:
    first = write(tmp_path, "events/a.yml", ORDER_PLACED)
    second = write(tmp_path, "events/b.yml", ORDER_PLACED)

    with pytest.raises(ContractError) as raised:
        load_contracts(tmp_path)

    assert str(raised.value) == f"{second}: sales.order.placed is already defined in {first}"


def test_load_contracts_duplicate_extract_is_rejected(tmp_path: Path) -> None:
    text = (
        "kind: extract\ntable: customers\ndomain: sales\nversion: 1.0.0\nformat: csv\n"
        "primary_key: [customer_id]\ncolumns:\n  customer_id: {type: string, required: true}\n"
    )
    write(tmp_path, "extracts/a.yml", text)
    second = write(tmp_path, "extracts/b.yml", text)

    with pytest.raises(ContractError, match=rf"^{re.escape(str(second))}: sales\.customers is already defined"):
        load_contracts(tmp_path)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("kind: event\ntype: [unclosed\n", "not valid YAML"),
        ("- just\n- a list\n", "expected a mapping at the top level"),
        (ORDER_PLACED.replace("domain: sales", "domain: hr"), "domain 'hr' is not one of"),
        (ORDER_PLACED.replace("version: 1.0.0", "version: '1.0'"), "version '1.0' is not MAJOR.MINOR.PATCH"),
        (ORDER_PLACED.replace("kind: event", "kind: table"), "kind 'table' must be 'event' or 'extract'"),
        (
            ORDER_PLACED.replace("type: sales.order.placed", "type: finance.order.placed"),
            "type 'finance.order.placed' must read 'sales.<entity>.<action>'",
        ),
        (
            ORDER_PLACED.replace("{type: string, required: true}", "{type: text}"),
            "field 'order_id' has type 'text'; expected one of",
        ),
        (
            ORDER_PLACED.replace("required: true}", "required: true, unique: true}"),
            "field 'order_id' has unknown keys ['unique']",
        ),
        (ORDER_PLACED.replace("required: true}", "enum: []}"), "field 'order_id': enum must be a non-empty list"),
        (ORDER_PLACED.replace("  order_id: {type: string, required: true}\n", ""), "expected a mapping of field name"),
        (ORDER_PLACED.replace("{type: string, required: true}", "string"), "field 'order_id' must be a mapping"),
    ],
    ids=[
        "yaml",
        "top-level",
        "domain",
        "version",
        "kind",
        "type",
        "field-type",
        "unknown-key",
        "enum",
        "no-fields",
        "field-spec",
    ],
)
def test_load_contracts_malformed_event_names_the_file(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, "events/broken.yml", text)

    with pytest.raises(ContractError) as raised:
        load_contracts(tmp_path)

    message = str(raised.value)
    assert message.startswith(f"{path}: "), message
    assert problem in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("primary_key: [customer_id]", "primary_key: [id]"), "primary_key ['id'] must name columns of the contract"),
        (("primary_key: [customer_id]\n", ""), "primary_key [] must name columns of the contract"),
        (("format: csv", "format: xlsx"), "format 'xlsx' must be csv or parquet"),
        (("table: customers", "table: Customers"), "table 'Customers' must be a lowercase identifier"),
    ],
    ids=["pk-unknown", "pk-missing", "format", "table"],
)
def test_load_contracts_malformed_extract_names_the_file(tmp_path: Path, change: tuple[str, str], problem: str) -> None:
    text = (
        "kind: extract\ntable: customers\ndomain: sales\nversion: 1.0.0\nformat: csv\n"
        "primary_key: [customer_id]\ncolumns:\n  customer_id: {type: string, required: true}\n"
    )
    path = write(tmp_path, "extracts/sales.customers.yml", text.replace(*change))

    with pytest.raises(ContractError) as raised:
        load_contracts(tmp_path)

    assert str(raised.value) == f"{path}: {problem}"


def test_load_contracts_missing_folder_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"

    with pytest.raises(ContractError, match=r"contracts folder .*nowhere does not exist"):
        load_contracts(missing)
