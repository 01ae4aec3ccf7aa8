"""The test servers themselves: the S3 fixture pins every port `weed mini` can open."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import WEED_PORTS


def test_every_weed_mini_port_is_pinned() -> None:
    weed = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
    assert weed
    usage = subprocess.run([weed, "mini", "-h"], capture_output=True, text=True).stderr
    usage += subprocess.run([weed, "mini", "-h"], capture_output=True, text=True).stdout
    flags = set(re.findall(r"^\s+-([\w.]*[pP]ort[\w.]*)\b", usage, re.MULTILINE))
    assert flags and flags <= set(WEED_PORTS), sorted(flags - set(WEED_PORTS))
