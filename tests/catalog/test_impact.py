"""Impact of a dataset or column change: downstream datasets and columns, consumers, owners."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from catalog.impact import Impact, ImpactedConsumer, ImpactedDataset, impact
from catalog.inventory import build_inventory
from catalog.refresh import declared_rows
from catalog.store import CatalogTables, ObservedReadRow
from catalog.validate import UnknownNameError
from tests.catalog.catalog_world import declarations, manifest, warehouse

T0 = datetime(2026, 10, 31, tzinfo=UTC)


def _observed(
    principal: str, consumer: str | None, dataset: str, column: str | None, decision: str = "allowed"
) -> ObservedReadRow:
    return ObservedReadRow(principal, consumer, dataset, column, decision, 3, 1, T0, T0)


@pytest.fixture(scope="module")
def tables() -> CatalogTables:
    world = declarations()
    inventory = build_inventory(manifest(), warehouse(), world.owners)
    consumers, declared = declared_rows(world)
    observed = [
        _observed("admin", None, "order_to_cash", None),
        _observed("admin", None, "order_to_cash", "customer_email"),
        _observed("dash-sa", "dash", "order_to_cash", None),
        _observed("dash-sa", "dash", "order_to_cash", "order_id"),
        _observed("nb-team", "notebook", "order_to_cash", "customer_email", decision="refused"),
    ]
    return CatalogTables(
        datasets=list(inventory.datasets.values()),
        columns=inventory.columns,
        consumers=consumers,
        declared_reads=declared,
        observed_reads=observed,
        lineage=inventory.lineage,
        column_lineage=inventory.column_lineage,
    )


def _shape(result: Impact) -> list[tuple[str, tuple[str, ...], int]]:
    return [(d.dataset, d.columns, d.distance) for d in result.datasets]


def test_impact_of_a_dataset_reaches_everything_downstream_whole(tables: CatalogTables) -> None:
    result = _shape(impact(tables, "sales.events"))
    expected = [
        ("sales.events", (), 0),
        ("stg_sales__orders", (), 1),
        ("finance_invoices", (), 2),
        ("int_orders_enriched", (), 2),
        ("sales_orders", (), 2),
        ("order_to_cash", (), 3),
    ]
    assert result == expected


def test_impact_of_a_column_follows_column_lineage_only(tables: CatalogTables) -> None:
    result = _shape(impact(tables, "sales.customers", "email"))
    expected = [
        ("sales.customers", ("email",), 0),
        ("stg_sales__customers", ("customer_email",), 1),
        ("order_to_cash", ("customer_email",), 2),
    ]
    assert result == expected


def test_impact_of_a_column_that_filters_or_joins_makes_the_downstream_whole(tables: CatalogTables) -> None:
    result = _shape(impact(tables, "sales.customers", "customer_id"))
    expected = [
        ("sales.customers", ("customer_id",), 0),
        ("finance_invoices", (), 1),
        ("stg_sales__customers", ("customer_id",), 1),
        ("order_to_cash", (), 2),
    ]
    assert result == expected


def test_impact_of_an_unused_column_stops_at_the_dataset(tables: CatalogTables) -> None:
    assert _shape(impact(tables, "stg_sales__orders", "placed_at")) == [("stg_sales__orders", ("placed_at",), 0)]


def test_impact_through_an_ephemeral_model_stays_column_level(tables: CatalogTables) -> None:
    result = _shape(impact(tables, "stg_sales__orders", "amount"))
    expected = [
        ("stg_sales__orders", ("amount",), 0),
        ("finance_invoices", ("amount",), 1),
        ("int_orders_enriched", ("amount",), 1),
        ("sales_orders", ("amount",), 1),
        ("order_to_cash", ("amount",), 2),
    ]
    assert result == expected


def test_impact_model_without_column_lineage_is_wholly_impacted(tables: CatalogTables) -> None:
    blind = dataclasses.replace(
        tables, column_lineage=[e for e in tables.column_lineage if e.downstream != "order_to_cash"]
    )
    result = _shape(impact(blind, "sales_orders", "amount"))
    assert result == [("sales_orders", ("amount",), 0), ("order_to_cash", (), 1)]


def test_impact_names_declared_and_hidden_consumers_with_owners(tables: CatalogTables) -> None:
    result = impact(tables, "sales.customers", "email")
    expected_consumers = (
        ImpactedConsumer(None, ("admin",), None, "order_to_cash", ("customer_email",), declared=False, observed=True),
        ImpactedConsumer(
            "orphan", (), "orphan@shop.example", "order_to_cash", ("customer_email",), declared=True, observed=False
        ),
    )
    assert (result.consumers, result.notify) == (
        expected_consumers,
        ("orphan@shop.example", "platform@shop.example", "sales@shop.example"),
    )


def test_impact_of_a_whole_dataset_includes_column_declarations(tables: CatalogTables) -> None:
    result = [
        (c.consumer, c.dataset, c.declared, c.observed, c.hidden) for c in impact(tables, "sales_orders").consumers
    ]
    expected = [
        (None, "order_to_cash", False, True, True),
        ("dash", "order_to_cash", True, True, False),
        ("orphan", "order_to_cash", True, False, False),
        ("dash", "sales_orders", True, False, False),
    ]
    assert result == expected


def test_impact_rows_describe_owners(tables: CatalogTables) -> None:
    result = impact(tables, "stg_sales__customers", "customer_email").datasets
    expected = (
        ImpactedDataset(
            "stg_sales__customers", ("customer_email",), 0, None, "staging", "sales", "sales-team", "sales@shop.example"
        ),
        ImpactedDataset(
            "order_to_cash",
            ("customer_email",),
            1,
            "stg_sales__customers",
            "marts",
            "analytics",
            "platform-team",
            "platform@shop.example",
        ),
    )
    assert result == expected


def test_impact_as_dict_marks_hidden_consumers(tables: CatalogTables) -> None:
    result = impact(tables, "sales.customers", "email").as_dict()
    assert ([c["hidden"] for c in result["consumers"]], result["column"]) == ([True, False], "email")  # type: ignore[index, union-attr]


def test_impact_unknown_dataset_names_the_closest(tables: CatalogTables) -> None:
    with pytest.raises(UnknownNameError) as error:
        impact(tables, "sales_order")
    assert (
        str(error.value) == "unknown dataset 'sales_order' (closest: sales_orders, stg_sales__orders, sales.customers)"
    )


def test_impact_unknown_column_names_the_closest(tables: CatalogTables) -> None:
    with pytest.raises(UnknownNameError) as error:
        impact(tables, "sales.customers", "emial")
    assert str(error.value) == "sales.customers has no column 'emial' (closest: email)"
