"""Contract specs: catalog/contracts/ at one revision, parsed by pipelines.contracts.

An event contract describes the payload (`data`) of one event type inside `<domain>.events`; an
extract contract describes the columns, primary key and file format of `<domain>.<table>`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from catalog.diff.errors import DiffError
from catalog.diff.revisions import CONTRACTS
from catalog.diff.specs import ColumnSpec, Spec


def contract_specs(files: Mapping[str, str], label: str) -> list[Spec]:
    """Contracts parsed by pipelines.contracts (which reads paths), from a scratch copy."""
    from pipelines.contracts import EventContract, parse_contract
    from pipelines.errors import ContractError

    specs: list[Spec] = []
    with tempfile.TemporaryDirectory(prefix="agora-diff-") as scratch:
        for rel, text in sorted(files.items()):
            if not rel.startswith(f"{CONTRACTS}/"):
                continue
            path = Path(scratch) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            try:
                contract = parse_contract(path)
            except ContractError as exc:
                raise DiffError(str(exc).replace(f"{scratch}/", label)) from None
            columns = tuple(
                ColumnSpec(f.name, f.type, f.required, f.enum)
                for f in (contract.fields if isinstance(contract, EventContract) else contract.columns)
            )
            if isinstance(contract, EventContract):
                spec = Spec("event", contract.type, f"{contract.domain}.events", rel, columns)
            else:
                spec = Spec(
                    "extract",
                    contract.name,
                    contract.name,
                    rel,
                    columns,
                    grain=(("primary_key", ", ".join(contract.primary_key)),),
                    settings=(("format", contract.format),),
                )
            specs.append(spec)
    return specs
