"""The breaking-change guard: `agora catalog diff --base REV` (issue 6).

A producer edits a contract in catalog/contracts/ or a dbt model in models/; before it ships,
this compares what those files declare at a base git revision with the working tree and names,
for every breaking change, each consumer it breaks (declared and observed) with its owner. The
exit status (1 on a breaking change) lets a domain team put it in its own CI.

Dataset names follow catalog/store.py: a model is its name; a landed dataset is
`<domain>.<table>`. An event contract describes the payload (`data`) of one event type inside
`<domain>.events`; its staging model is the one whose SQL filters on that type.

The modules, in the order the guard runs:
- revisions.py: the files at the base revision (git, never checked out) and in the working tree;
- specs.py, contract_specs.py, model_specs.py: each side parsed into specs;
- changes.py (with widening.py, the type widening table): every change, breaking or not;
- consumers.py: who each breaking change breaks, through an injected `who_breaks`, with the
  event-type routing a payload change needs;
- sources.py: the default `who_breaks` — the catalog's impact sets over the serving snapshot
  (catalog_consumers.py), else consumers.yml and the dbt manifest (declared_consumers.py);
- guard.py: `diff()`, all of the above; command.py: the click command and its output.
"""

from catalog.diff.catalog_consumers import CatalogWhoBreaks
from catalog.diff.changes import Change, compare
from catalog.diff.command import diff_command, print_diff
from catalog.diff.consumers import Affected, Answer, WhoBreaks, attach_consumers, event_models, payload_columns
from catalog.diff.declared_consumers import DeclaredWhoBreaks
from catalog.diff.errors import DiffError, UnknownRevisionError
from catalog.diff.guard import DiffResult, diff, load_schema
from catalog.diff.revisions import read_revision, read_working_tree, resolve_revision
from catalog.diff.sources import default_who_breaks
from catalog.diff.specs import ColumnSpec, Schema, Spec
from catalog.diff.widening import CONTRACT_WIDENING, SQL_WIDENING, SqlType, parse_sql_type, sql_widens

__all__ = [
    "CONTRACT_WIDENING",
    "SQL_WIDENING",
    "Affected",
    "Answer",
    "CatalogWhoBreaks",
    "Change",
    "ColumnSpec",
    "DeclaredWhoBreaks",
    "DiffError",
    "DiffResult",
    "Schema",
    "Spec",
    "SqlType",
    "UnknownRevisionError",
    "WhoBreaks",
    "attach_consumers",
    "compare",
    "default_who_breaks",
    "diff",
    "diff_command",
    "event_models",
    "load_schema",
    "parse_sql_type",
    "payload_columns",
    "print_diff",
    "read_revision",
    "read_working_tree",
    "resolve_revision",
    "sql_widens",
]
