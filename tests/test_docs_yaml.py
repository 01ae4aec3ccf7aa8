"""Every YAML block in the README and docs is a driftloop config that `driftloop config check`
accepts: a whole config (one with `pipeline:`, as in docs/guide.md) as it stands, a snippet merged
into the example pipeline — so a block a reader copies is a setting that exists, spelled as the
config expects."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

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
        if "DATA_URL" in name or "WEBHOOK" in name or "ENDPOINT" in name:
            return "https://example.com/day.csv"
        return "postgresql://u@127.0.0.1:5432/db" if "URL" in name else "x" * 32

    return {name: value(name) for name in names}


def test_the_docs_have_yaml_blocks() -> None:
    assert len(BLOCKS) >= 5


def config_check(config: dict[str, Any], env: dict[str, str], folder: Path) -> str:
    """Run `driftloop config check` on ``config``; its output (stderr on a failure)."""
    path = folder / "driftloop.yaml"
    path.write_text(yaml.safe_dump(config))
    done = subprocess.run(
        [str(Path(sys.executable).parent / "driftloop"), "config", "check", "--config", str(path)],
        env={"PATH": str(Path(sys.executable).parent), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 2), done.stderr
    return done.stdout if done.returncode == 0 else "refused: " + done.stderr


def as_config(block: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The config a block stands for (whole, or merged into the example) and its environment."""
    text = block.replace("url: ...", "url: sqlite:///warehouse.db").replace(": ...", ": x")
    snippet = yaml.safe_load(text)
    assert isinstance(snippet, dict), "a config snippet is a mapping"
    if "pipeline" in snippet:
        return snippet, env_for(block)
    return merged(yaml.safe_load(EXAMPLE.read_text()), snippet), env_for(block)


def test_config_check_refuses_a_bad_snippet(tmp_path: Path) -> None:
    config, env = as_config("stores:\n  s3_endpoint_url: ftp://example.com\n")
    assert config_check(config, env, tmp_path).startswith("refused: ")


@pytest.mark.parametrize("block", BLOCKS)
def test_each_yaml_block_passes_config_check(block: str, tmp_path: Path) -> None:
    config, env = as_config(block)
    assert not config_check(config, env, tmp_path).startswith("refused: ")
