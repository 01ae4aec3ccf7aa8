"""File and URL sources: formats, the date window, and one clear error per failure."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from driftloop.data.sources import read_table, safe_uri
from driftloop.data.synthetic import bike_sharing
from driftloop.errors import ConfigError, EmptyDataError, SchemaError, SourceError

FEB = (dt.date(2011, 2, 1), dt.date(2011, 2, 28))


@pytest.fixture(scope="module")
def bikes() -> pl.DataFrame:
    return bike_sharing()


def test_csv_and_parquet_round_trip(tmp_path: Path, bikes: pl.DataFrame) -> None:
    bikes.write_csv(tmp_path / "d.csv")
    bikes.write_parquet(tmp_path / "d.parquet")
    from_csv = read_table(tmp_path / "d.csv")
    from_parquet = read_table(str(tmp_path / "d.parquet"))
    assert from_csv.equals(bikes) and from_parquet.equals(bikes)
    assert from_csv.schema["dteday"] == pl.Date


def test_window_is_inclusive(tmp_path: Path, bikes: pl.DataFrame) -> None:
    bikes.write_csv(tmp_path / "d.csv")
    feb = read_table(tmp_path / "d.csv", date_column="dteday", start=FEB[0], end=FEB[1])
    assert feb.height == 28
    assert feb["dteday"].min() == FEB[0] and feb["dteday"].max() == FEB[1]


def test_window_on_string_dates(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("day,x\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n")
    got = read_table(tmp_path / "s.csv", date_column="day", start=dt.date(2024, 1, 2))
    assert got["x"].to_list() == [2, 3]


def test_url_source(http_files, bikes: pl.DataFrame) -> None:
    base, root = http_files
    bikes.write_csv(root / "day.csv")
    got = read_table(f"{base}/day.csv", date_column="dteday", start=FEB[0], end=FEB[1])
    assert got.height == 28


def test_url_404(http_files) -> None:
    base, _ = http_files
    with pytest.raises(
        SourceError,
        match=r"^Fetching 'http://127\.0\.0\.1:\d+/nope\.csv' answered HTTP 404; expected 200 with a data file\. Check the URL and its access rights\.$",
    ):
        read_table(f"{base}/nope.csv?token=secret")


def test_url_answering_html(http_files) -> None:
    base, _ = http_files
    with pytest.raises(
        SourceError,
        match=r"answered with an HTML page, not a data file\. Use the file's direct download URL\.$",
    ):
        read_table(f"{base}/html/day.csv")


def test_unreachable_url_hides_credentials() -> None:
    with pytest.raises(SourceError) as info:
        read_table("http://user:hunter2@127.0.0.1:9/day.csv?key=abc")
    assert "hunter2" not in str(info.value) and "abc" not in str(info.value)
    assert str(info.value).startswith("Cannot fetch 'http://127.0.0.1:9/day.csv': ConnectError.")


def test_missing_file() -> None:
    with pytest.raises(
        SourceError, match=r"^File 'nowhere/x\.csv' does not exist\. Check the path \(working dir: "
    ):
        read_table("nowhere/x.csv")


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(
        SourceError, match=r"is a directory, not a file\. Name the CSV or Parquet file\.$"
    ):
        read_table(tmp_path / "d.csv")


def test_malformed_csv(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text('a,b\n1,2\n3,"unterminated\n4,5,6,7\n')
    with pytest.raises(
        SourceError, match=rf"^'{path}' is not valid CSV: .+\. Check the file's format\.$"
    ):
        read_table(path)


def test_malformed_parquet(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(SourceError, match=r"is not valid PARQUET: "):
        read_table(path)


def test_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError,
        match=r"^Cannot tell the format of 'data\.xlsx' from its suffix '\.xlsx'\. Name files \.csv or \.parquet, or set format: csv \| parquet\.$",
    ):
        read_table("data.xlsx")


def test_window_errors(tmp_path: Path, bikes: pl.DataFrame) -> None:
    bikes.write_csv(tmp_path / "d.csv")
    with pytest.raises(
        SchemaError, match=r"^Date column 'day' is not in .*d\.csv \(columns: instant, dteday"
    ):
        read_table(tmp_path / "d.csv", date_column="day")
    with pytest.raises(
        SchemaError, match=r"^Date column 'temp' in .* has dtype Float64, not a date\."
    ):
        read_table(tmp_path / "d.csv", date_column="temp")
    with pytest.raises(EmptyDataError, match=r"no rows between 2030-01-01 and 2030-01-31\.$"):
        read_table(
            tmp_path / "d.csv",
            date_column="dteday",
            start=dt.date(2030, 1, 1),
            end=dt.date(2030, 1, 31),
        )


def test_unparsable_dates(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("day,x\n2024-01-01,1\nyesterday,2\n")
    with pytest.raises(
        SchemaError,
        match=r"^Date column 'day' in .* has values that are not dates \(e\.g\. 'yesterday'\)\. Use ISO dates \(YYYY-MM-DD\)\.$",
    ):
        read_table(tmp_path / "s.csv", date_column="day")


def test_safe_uri_strips_secrets() -> None:
    assert safe_uri("s3://key:secret@bucket/x.csv") == "s3://bucket/x.csv"


def test_s3_source(s3_env, bikes: pl.DataFrame) -> None:
    client = s3_env.client()
    client.put_object(Bucket=s3_env.bucket, Key="data/day.parquet", Body=_parquet_bytes(bikes))
    got = read_table(
        f"s3://{s3_env.bucket}/data/day.parquet", date_column="dteday", start=FEB[0], end=FEB[1]
    )
    assert got.height == 28


def test_s3_missing_object_and_bad_credentials(s3_env, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(
        SourceError,
        match=r"^'s3://models/none\.csv' does not exist \(NoSuchKey\)\. Check the bucket and key\.$",
    ):
        read_table("s3://models/none.csv")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
    with pytest.raises(
        SourceError,
        match=r"^Reading 's3://models/\.ready\.csv' was refused \(SignatureDoesNotMatch\)\. Check the credentials and the bucket policy\.$",
    ) as info:
        read_table("s3://models/.ready.csv")
    assert "wrong-secret" not in str(info.value)


def _parquet_bytes(frame: pl.DataFrame) -> bytes:
    import io

    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def test_a_trickling_server_hits_the_overall_read_deadline(monkeypatch) -> None:
    import threading
    import time as _time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from driftloop.data.sources import read_table
    from driftloop.errors import SourceError

    class Trickle(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                for _ in range(100):  # a byte every 0.1 s: never idle long enough to time out
                    self.wfile.write(b"1")
                    self.wfile.flush()
                    _time.sleep(0.1)
            except OSError:
                pass  # the client gave up

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("DRIFTLOOP_READ_DEADLINE", "1")
    started = _time.monotonic()
    try:
        with pytest.raises(
            SourceError, match=r"took longer than 1 s \(the server is sending too slowly\)"
        ):
            read_table(f"http://127.0.0.1:{server.server_address[1]}/slow.csv?token=t0k")
    finally:
        server.shutdown()
        server.server_close()
    assert _time.monotonic() - started < 5
    monkeypatch.setenv("DRIFTLOOP_READ_DEADLINE", "soon")
    with pytest.raises(
        Exception,
        match=r"DRIFTLOOP_READ_DEADLINE must be a number of seconds above 0\. Got 'soon'\.",
    ):
        read_table("http://127.0.0.1:9/x.csv")
