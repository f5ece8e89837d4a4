"""Bad declarations fail with the file and the entry; unknown names in questions suggest real ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.declarations import DeclarationError
from catalog.inventory import Inventory, build_datasets
from catalog.validate import (
    UnknownNameError,
    declared_problems,
    load_declarations,
    resolve_target,
    validate,
)
from tests.catalog.catalog_world import (
    ACCESS,
    CONSUMERS,
    DOMAINS,
    declarations,
    manifest,
    warehouse,
    write_declarations,
)


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return build_datasets(manifest(), warehouse(), declarations().owners)


def problems(folder: Path, inventory: Inventory) -> list[str]:
    return declared_problems(load_declarations(manifest(), folder), inventory)


def test_validate_consistent_declarations_pass(tmp_path: Path, inventory: Inventory) -> None:
    folder = write_declarations(tmp_path / "catalog")
    validate(load_declarations(manifest(), folder), inventory)
    assert problems(folder, inventory) == []


def test_validate_unknown_dataset_names_file_entry_and_closest(tmp_path: Path, inventory: Inventory) -> None:
    folder = write_declarations(
        tmp_path / "catalog", consumers=CONSUMERS.replace("dataset: order_to_cash", "dataset: order_to_csh")
    )
    result = problems(folder, inventory)
    assert result == [
        f"{folder}/consumers.yml: consumer 'dash' reads unknown dataset 'order_to_csh' (closest: order_to_cash, sales_orders)"
    ]


def test_validate_unknown_column_names_the_closest(tmp_path: Path, inventory: Inventory) -> None:
    folder = write_declarations(tmp_path / "catalog", consumers=CONSUMERS.replace("[customer_id]", "[customer_idd]"))
    result = problems(folder, inventory)
    assert result == [
        f"{folder}/consumers.yml: consumer 'notebook' reads unknown column sales.customers.customer_idd (closest: customer_id)"
    ]


def test_validate_raises_one_error_listing_every_problem(tmp_path: Path, inventory: Inventory) -> None:
    bad = CONSUMERS.replace("dataset: order_to_cash", "dataset: nope").replace(
        "[customer_id]", "[customer_id, customer_id]"
    )
    folder = write_declarations(tmp_path / "catalog", consumers=bad)
    with pytest.raises(DeclarationError) as error:
        validate(load_declarations(manifest(), folder), inventory)
    assert str(error.value) == (
        f"{folder}/consumers.yml: consumer 'dash' reads unknown dataset 'nope'; "
        f"{folder}/consumers.yml: consumer 'notebook' lists column(s) of sales.customers twice: customer_id"
    )


def test_validate_dataset_declared_twice_by_one_consumer(tmp_path: Path, inventory: Inventory) -> None:
    doubled = CONSUMERS + "      - {dataset: sales.customers}\n"
    result = problems(write_declarations(tmp_path / "catalog", consumers=doubled), inventory)
    assert result == [f"{tmp_path}/catalog/consumers.yml: consumer 'notebook' declares 'sales.customers' twice"]


def test_validate_consumer_without_owner(tmp_path: Path) -> None:
    folder = write_declarations(
        tmp_path / "catalog",
        consumers=CONSUMERS.replace("    owner: {name: Dash Owner, email: dash@shop.example}\n", ""),
    )
    with pytest.raises(DeclarationError) as error:
        load_declarations(manifest(), folder)
    assert str(error.value) == f"{folder}/consumers.yml: consumer 'dash' has no owner (name and email)"


def test_validate_principal_mapped_to_unknown_consumer(tmp_path: Path) -> None:
    folder = write_declarations(tmp_path / "catalog", access=ACCESS.replace("consumer: dash,", "consumer: dashboard,"))
    with pytest.raises(DeclarationError) as error:
        load_declarations(manifest(), folder)
    assert (
        str(error.value)
        == f"{folder}/access.yml: principal 'dash-sa' names unknown consumer 'dashboard' (consumers.yml)"
    )


def test_validate_consumer_declared_twice(tmp_path: Path) -> None:
    twice = CONSUMERS + "  - {name: dash, owner: {name: Other, email: other@shop.example}}\n"
    with pytest.raises(DeclarationError) as error:
        load_declarations(manifest(), write_declarations(tmp_path / "catalog", consumers=twice))
    assert str(error.value) == f"{tmp_path}/catalog/consumers.yml: consumer(s) declared twice: dash"


def test_validate_principal_declared_twice(tmp_path: Path) -> None:
    twice = ACCESS + "  - {name: nb-team, kind: team}\n"
    with pytest.raises(DeclarationError) as error:
        load_declarations(manifest(), write_declarations(tmp_path / "catalog", access=twice))
    assert str(error.value) == f"{tmp_path}/catalog/access.yml: principal 'nb-team' is declared twice"


def test_validate_yaml_key_written_twice(tmp_path: Path) -> None:
    twice = ACCESS.replace("principals:", "  mart-reader:\n    grants: [{all: true}]\nprincipals:")
    with pytest.raises(DeclarationError) as error:
        load_declarations(manifest(), write_declarations(tmp_path / "catalog", access=twice))
    assert str(error.value) == f"{tmp_path}/catalog/access.yml: line 4: 'mart-reader' is declared twice"


def test_validate_domain_declared_twice(tmp_path: Path) -> None:
    twice = DOMAINS.replace("platform:", "  - {name: sales, team: x, contact: x@shop.example}\nplatform:")
    with pytest.raises(DeclarationError) as error:
        load_declarations(manifest(), write_declarations(tmp_path / "catalog", domains=twice))
    assert str(error.value) == f"{tmp_path}/catalog/domains.yml: domain(s) declared twice: sales"


def test_validate_model_of_unknown_domain(tmp_path: Path) -> None:
    doc = manifest()
    doc["nodes"]["model.shop.finance_invoices"]["group"] = "financ"
    inventory = build_datasets(doc, warehouse(), declarations().owners)
    result = problems(write_declarations(tmp_path / "catalog"), inventory)
    assert result == [
        f"{tmp_path}/catalog/domains.yml: dbt model 'finance_invoices' belongs to 'financ', which is not a domain "
        "(closest: finance)"
    ]


COLUMNS = {"order_to_cash": ("order_id", "amount"), "sales.customers": ("customer_id", "email")}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("order_to_cash", ("order_to_cash", None)),
        ("order_to_cash.amount", ("order_to_cash", "amount")),
        ("sales.customers", ("sales.customers", None)),
        ("sales.customers.email", ("sales.customers", "email")),
        ("raw_sales.customers.EMAIL", ("sales.customers", "email")),
    ],
)
def test_validate_resolve_target_reads_dataset_and_column(text: str, expected: tuple[str, str | None]) -> None:
    assert resolve_target(text, COLUMNS, {"raw_sales.customers": "sales.customers"}) == expected


def test_validate_resolve_target_unknown_dataset_suggests() -> None:
    with pytest.raises(UnknownNameError) as error:
        resolve_target("order_to_csh", COLUMNS)
    assert str(error.value) == "unknown dataset 'order_to_csh' (closest: order_to_cash)"


def test_validate_resolve_target_unknown_column_suggests() -> None:
    with pytest.raises(UnknownNameError) as error:
        resolve_target("sales.customers.mail", COLUMNS)
    assert str(error.value) == "sales.customers has no column 'mail' (closest: email)"
