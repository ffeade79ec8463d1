"""What every benchmark writes with its figures: the machine they came from, and the JSON file."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any


def machine() -> str:
    """``"x86_64, 2 cores, Python 3.11.7"``: where the figures were measured."""
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_json(path: Path, figures: dict[str, Any]) -> None:
    """Write ``figures`` to ``path`` (folders made as needed), as the docs' tables read them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=1) + "\n")
