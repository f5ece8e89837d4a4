"""Data Docs page views that compile GE's Jinja templates once per process, not once per build.

GE builds a new SiteBuilder, hence new views, hence a new Jinja environment, for every
`build_data_docs`; each environment lexes, parses and compiles the same templates again, which
was about three quarters of the time spent writing one dataset's Data Docs. These views share the
compiled templates through a Jinja bytecode cache (keyed by template name and checked against the
template's source, so an edited template is compiled anew). The pages are GE's own: same
templates, same filters. `pipelines.quality` names these classes in its site configuration;
importing this module imports GE, so only GE's class loader imports it.
"""

from __future__ import annotations

import threading

from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket


class _CompiledTemplates(BytecodeCache):
    """Compiled template code kept in memory for the process (a few hundred kB)."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def load_bytecode(self, bucket: Bucket) -> None:
        with self._lock:
            code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        code = bucket.bytecode_to_string()
        with self._lock:
            self._code[bucket.key] = code


COMPILED = _CompiledTemplates()


class PageView(DefaultJinjaPageView):
    """GE's page view (expectation suite and validation pages), templates compiled once."""

    def __init__(self, custom_styles_directory: str | None = None, custom_views_directory: str | None = None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        self.env.bytecode_cache = COMPILED


class IndexPageView(DefaultJinjaIndexPageView):
    """GE's site index view, templates compiled once."""

    def __init__(self, custom_styles_directory: str | None = None, custom_views_directory: str | None = None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        self.env.bytecode_cache = COMPILED
