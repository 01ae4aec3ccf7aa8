"""Every YAML block in the README and docs is valid YAML, and each one merged into the example
pipeline passes the same validation as `driftloop config check` (so a snippet a reader copies
is a setting that exists, spelled as the config expects)."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from driftloop.config import load_config

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "examples" / "bike_sharing" / "driftloop.yaml"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCKS = [
    pytest.param(match.group(1), id=f"{doc.name}-{i}")
    for doc in DOCS
    for i, match in enumerate(re.finditer(r"```ya?ml\n(.*?)```", doc.read_text(), re.S))
]


def merged(base: dict[str, Any], snippet: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in snippet.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def env_for(text: str) -> dict[str, str]:
    """Every ${NAME} a block or the example names, set to a value of the right shape."""
    names = set(re.findall(r"\$\{(\w+)\}", text + EXAMPLE.read_text()))

    def value(name: str) -> str:
        if "DATA_URL" in name or "WEBHOOK" in name:
            return "https://example.com/day.csv"
        return "postgresql://u@127.0.0.1:5432/db" if "URL" in name else "x" * 32

    return {name: value(name) for name in names}


def test_the_docs_have_yaml_blocks() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("block", BLOCKS)
def test_each_yaml_block_is_a_valid_setting(block: str) -> None:
    text = block.replace("url: ...", "url: sqlite:///warehouse.db").replace(": ...", ": x")
    snippet = yaml.safe_load(text)
    assert isinstance(snippet, dict), "a config snippet is a mapping"
    base = yaml.safe_load(EXAMPLE.read_text())
    config = merged(base, snippet)
    load_config(config, env=env_for(block))
