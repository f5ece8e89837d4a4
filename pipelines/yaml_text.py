"""Reading YAML: PyYAML's C loader when it was built with libyaml (it is here), its pure-Python
one otherwise. Same documents and error classes; the C one reads the contracts 7x faster
(7 ms against 53 ms for the 20 files), which every `agora` command that loads them pays."""

from __future__ import annotations

from typing import Any

import yaml

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """`yaml.safe_load`, with the C loader when there is one."""
    return yaml.load(text, Loader=SAFE_LOADER)
