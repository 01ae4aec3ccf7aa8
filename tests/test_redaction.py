"""No secret in any log line: the redaction installed at the logging layer, on real requests."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import httpx
import polars as pl
from typer.testing import CliRunner

from driftloop import redaction
from driftloop.cli import app

TOKEN = "tok-3c1d9e"
PASSWORD = "pw-77ab"


def test_third_party_request_logs_are_redacted(http_files) -> None:
    base, folder = http_files
    (folder / "d.csv").write_text("a\n1\n")
    redaction.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    logger = logging.getLogger("httpx")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        url = base.replace("http://", f"http://user:{PASSWORD}@") + f"/d.csv?token={TOKEN}&x=1"
        httpx.get(url, timeout=5)
        try:
            raise ValueError(f"cannot open https://h/x?api_key={TOKEN}")
        except ValueError:
            logging.getLogger("driftloop.test").exception("failed %s", url)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    logged = stream.getvalue()
    assert "HTTP Request: GET" in logged and "token=***" in logged
    assert TOKEN not in logged and PASSWORD not in logged


def test_report_title_never_shows_a_url_token(http_files, tmp_path: Path) -> None:
    base, folder = http_files
    pl.DataFrame({"x": [1.0, 2.0, 3.0, 4.0] * 10}).write_csv(folder / "ref.csv")
    pl.DataFrame({"x": [1.5, 2.0, 3.0, 4.5] * 10}).write_csv(folder / "cur.csv")
    html = tmp_path / "r.html"
    current = f"{base}/cur.csv?token={TOKEN}"
    result = CliRunner().invoke(app, ["detect", f"{base}/ref.csv", current, "--html", str(html)])
    assert result.exit_code == 0, result.output
    text = html.read_text()
    assert "cur.csv" in text and TOKEN not in text and TOKEN not in result.output
