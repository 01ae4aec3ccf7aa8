"""Reading tables: CSV or Parquet from a path or an http(s) or s3 URL, or a SQL source.

:func:`read_source` reads what a pipeline's ``reference`` or ``current`` section names (any object
with the :class:`Source` attributes): a SQL URL goes to :func:`driftloop.data.sql.read_sql`,
anything else to :func:`read_table`, which dispatches on the URI's scheme.

Everything lands in a Polars DataFrame. A date window (inclusive on both ends) can be applied on
read. Failures raise :class:`SourceError` with one line naming the source, what went wrong and
what would fix it; URLs are shown without their credentials or query string.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit, urlunsplit

import polars as pl

from driftloop.data.empty import no_rows
from driftloop.errors import ConfigError, EmptyDataError, SchemaError, SourceError

if TYPE_CHECKING:
    from pydantic import SecretStr

__all__ = [
    "FORMATS",
    "Source",
    "filter_window",
    "read_source",
    "read_table",
    "safe_uri",
    "stream_url",
]

FORMATS = ("csv", "parquet")
_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}
HTTP_TIMEOUT = 30.0  # per connect/read: a silent server fails after this
READ_DEADLINE = 120.0  # the whole download, however slowly the bytes trickle in


def read_deadline() -> float:
    """Seconds a download may take in all: ``DRIFTLOOP_READ_DEADLINE``, else 120."""
    text = os.environ.get("DRIFTLOOP_READ_DEADLINE")
    if text is None:
        return READ_DEADLINE
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ConfigError(
            f"DRIFTLOOP_READ_DEADLINE must be a number of seconds above 0. Got {text!r}."
        )
    return value


def safe_uri(uri: str) -> str:
    """The URI without user, password or query string, fit for messages and logs.

    Examples
    --------
    >>> safe_uri("https://user:secret@example.com/data.csv?token=abc")
    'https://example.com/data.csv'
    >>> safe_uri("data/current.csv")
    'data/current.csv'
    """
    parts = urlsplit(uri)
    if not parts.scheme or len(parts.scheme) == 1:  # a plain or Windows-style path
        return uri
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range: show it was there, not what it was
        port = None
        host += ":<invalid port>"
    if port:
        host = f"{host}:{port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _check_port(uri: str) -> None:
    parts = urlsplit(uri)
    if not parts.scheme or len(parts.scheme) == 1:
        return
    try:
        parts.port  # noqa: B018 - parsing it is the check
    except ValueError:
        given = parts.netloc.rpartition("@")[2].rpartition(":")[2]  # after any user:password@
        shown = f" '{given}'" if re.fullmatch(r"[\w.+-]{1,20}", given) else ""
        raise ConfigError(
            f"The URL '{safe_uri(uri)}' has an invalid port{shown}: use a number from 1 to 65535, "
            "e.g. http://host:8080/data.csv."
        ) from None


class Source(Protocol):
    """Where a table comes from: a ``uri`` (file, http(s), s3), or a SQL ``url`` with a
    ``table`` or ``query``; ``date_column`` windows it, ``start``/``end`` fix the window."""

    @property
    def uri(self) -> str | None: ...
    @property
    def url(self) -> SecretStr | None: ...
    @property
    def table(self) -> str | None: ...
    @property
    def query(self) -> str | None: ...
    @property
    def date_column(self) -> str | None: ...
    @property
    def start(self) -> dt.date | None: ...
    @property
    def end(self) -> dt.date | None: ...


def read_source(
    source: Source, start: dt.date | None = None, end: dt.date | None = None
) -> pl.DataFrame:
    """Read ``source`` over the window ``start``..``end`` (default: the source's own window;
    no window at all when the source has no ``date_column``)."""
    start, end = start or source.start, end or source.end
    windowed = source.date_column is not None and (start is not None or end is not None)
    date_column = source.date_column if windowed else None
    if source.url is not None:
        from driftloop.data.sql import read_sql

        return read_sql(
            source.url.get_secret_value(),
            table=source.table,
            query=source.query,
            date_column=date_column,
            start=start,
            end=end,
        )
    if source.uri is None:
        raise ConfigError("A source needs a uri or a url (with a table or a query).")
    return read_table(source.uri, date_column=date_column, start=start, end=end)


def read_table(
    uri: str | Path,
    *,
    format: str | None = None,
    date_column: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pl.DataFrame:
    """Read a CSV or Parquet table from a path or an http(s) URL, optionally windowed by date."""
    text = str(uri)
    kind = _format(text, format)
    scheme = urlsplit(text).scheme.lower()
    _check_port(text)
    if scheme in ("http", "https"):
        payload: bytes | Path = _fetch(text)
    elif scheme == "s3":
        payload = _fetch_s3(text)
    elif scheme in ("", "file") or len(scheme) == 1:
        payload = _local(text)
    else:
        raise ConfigError(
            f"Unsupported source '{safe_uri(text)}': use a file path, an http(s):// or s3:// URL, "
            "or a SQL source (url + table or query)."
        )
    frame = _parse(payload, kind, safe_uri(text))
    if date_column is not None:
        frame = filter_window(frame, date_column, start, end, source=safe_uri(text))
    return frame


def _format(uri: str, format: str | None) -> str:
    if format is not None:
        if format not in FORMATS:
            raise ConfigError(f"Unknown format '{format}'. Valid formats: {', '.join(FORMATS)}.")
        return format
    suffix = Path(urlsplit(uri).path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise ConfigError(
            f"Cannot tell the format of '{safe_uri(uri)}' from its suffix '{suffix or '(none)'}'. "
            f"Name files .csv or .parquet, or set format: {' | '.join(FORMATS)}."
        )
    return _SUFFIXES[suffix]


def _local(uri: str) -> Path:
    path = Path(urlsplit(uri).path if uri.startswith("file:") else uri)
    if not path.exists():
        raise SourceError(
            f"File '{path}' does not exist. Check the path (working dir: {Path.cwd()})."
        )
    if path.is_dir():
        raise SourceError(f"'{path}' is a directory, not a file. Name the CSV or Parquet file.")
    try:
        with path.open("rb"):
            pass
    except OSError as err:
        raise SourceError(f"File '{path}' cannot be read: {err.strerror}.") from None
    return path


def _fetch(url: str) -> bytes:
    shown = f"'{safe_uri(url)}'"
    chunks: list[bytes] = []
    stream_url(url, shown, chunks.append)
    content = b"".join(chunks)
    if content[:512].lstrip().lower().startswith((b"<!doctype html", b"<html")):
        raise SourceError(
            f"{shown} answered with an HTML page, not a data file. Use the file's direct "
            "download URL."
        )
    return content


def stream_url(url: str, shown: str, write: Callable[[bytes], object]) -> None:
    """GET ``url`` and hand its body to ``write`` chunk by chunk; any failure is a SourceError
    naming ``shown`` (the URL as people may see it). Besides httpx's per-read timeout, the whole
    body must arrive within ``read_deadline()`` seconds: a server that trickles a byte at a time
    never trips the per-read one."""
    import httpx  # deferred: only URL sources need it

    deadline = read_deadline()
    give_up = time.monotonic() + deadline
    try:
        with httpx.stream("GET", url, timeout=HTTP_TIMEOUT, follow_redirects=True) as response:
            if response.status_code != 200:
                raise SourceError(
                    f"Fetching {shown} answered HTTP {response.status_code}; expected 200 with "
                    "a data file. Check the URL and its access rights."
                )
            if "html" in response.headers.get("content-type", ""):
                raise SourceError(
                    f"{shown} answered with an HTML page, not a data file. Use the file's "
                    "direct download URL."
                )
            for chunk in response.iter_bytes():  # as they arrive: the deadline is seen
                write(chunk)
                if time.monotonic() > give_up:
                    raise SourceError(
                        f"Reading {shown} took longer than {deadline:.0f} s (the server is "
                        "sending too slowly). Check the server, or raise DRIFTLOOP_READ_DEADLINE."
                    )
    except httpx.HTTPError as err:
        raise SourceError(f"Cannot fetch {shown}: {type(err).__name__}. Check the URL.") from None


def _fetch_s3(uri: str) -> bytes:
    """Read s3://bucket/key with boto3; endpoint and credentials come from the environment
    (``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL`` for S3-compatible stores)."""
    import boto3
    import botocore.exceptions

    parts = urlsplit(uri)
    bucket, key = parts.hostname or "", parts.path.lstrip("/")
    shown = safe_uri(uri)
    try:
        body = boto3.session.Session().client("s3").get_object(Bucket=bucket, Key=key)["Body"]
        return bytes(body.read())
    except botocore.exceptions.ClientError as err:
        code = err.response.get("Error", {}).get("Code", "error")
        if code in ("NoSuchKey", "404", "NoSuchBucket"):
            raise SourceError(
                f"'{shown}' does not exist ({code}). Check the bucket and key."
            ) from None
        raise SourceError(
            f"Reading '{shown}' was refused ({code}). Check the credentials and the bucket policy."
        ) from None
    except botocore.exceptions.BotoCoreError as err:
        raise SourceError(f"Cannot reach S3 for '{shown}': {type(err).__name__}.") from None


def _parse(payload: bytes | Path, kind: str, shown: str) -> pl.DataFrame:
    source = io.BytesIO(payload) if isinstance(payload, bytes) else payload
    try:
        if kind == "parquet":
            frame = pl.read_parquet(source)
        else:
            frame = _read_csv(source, "\t" if shown.lower().endswith(".tsv") else ",")
    except (pl.exceptions.PolarsError, OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise SourceError(
            f"'{shown}' is not valid {kind.upper()}: {first[:200]}. Check the file's format."
        ) from None
    if frame.width == 0:
        raise SourceError(f"'{shown}' has no columns. Check that it is a non-empty {kind} file.")
    if kind != "parquet":
        _check_csv_header(frame, shown)
    _check_unique_header(frame, shown)
    return frame


_SEPARATORS = {";": "';'", "\t": "tab", "|": "'|'"}


def _check_csv_header(frame: pl.DataFrame, shown: str) -> None:
    """A header with undecodable bytes, or one column that holds another separator, is refused
    in one line (both would otherwise surface as missing columns)."""
    for name in frame.columns:
        if "\ufffd" in name:
            raise SourceError(
                f"'{shown}' has a header that is not valid UTF-8 (column {name!a}). Save the "
                "file as UTF-8."
            )
    if frame.width == 1:
        (name,) = frame.columns
        for separator, said in _SEPARATORS.items():
            if separator in name and "," not in name:
                raise SourceError(
                    f"'{shown}' looks {said}-separated (its header is one column, {name!r}); "
                    "driftloop reads CSV files separated by ',' (.tsv by tabs). Save it "
                    "comma-separated."
                )


_RENAMED = re.compile(r"^(.*)_duplicated_\d+$")  # how Polars renames a repeated CSV header


def _check_unique_header(frame: pl.DataFrame, shown: str) -> None:
    for name in frame.columns:
        match = _RENAMED.match(name)
        if match and match[1] in frame.columns:
            raise SchemaError(
                f"'{shown}' has the column '{match[1]}' more than once. Rename or drop the "
                "repeated columns."
            )


_DATE_LIKE = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4})")


def _read_csv(source: io.BytesIO | Path, separator: str) -> pl.DataFrame:
    """Read a CSV; columns of dates become dates. Parsing dates is tried on every text column and
    costs 5x the read, so it is only paid when some text column starts with a date."""
    frame = pl.read_csv(source, separator=separator, infer_schema_length=None)
    if not any(
        _starts_with_date(frame[name]) for name, t in frame.schema.items() if t == pl.String
    ):
        return frame
    if isinstance(source, io.BytesIO):
        source.seek(0)
    return pl.read_csv(source, separator=separator, try_parse_dates=True, infer_schema_length=None)


def _starts_with_date(column: pl.Series) -> bool:
    first = column.drop_nulls().head(1)
    return first.len() == 1 and _DATE_LIKE.match(str(first[0])) is not None


def filter_window(
    frame: pl.DataFrame,
    date_column: str,
    start: dt.date | None,
    end: dt.date | None,
    *,
    source: str = "data",
) -> pl.DataFrame:
    """Rows whose ``date_column`` lies in ``[start, end]`` (both inclusive; either may be None).

    Raises EmptyDataError with "no rows between START and END" when the window is empty.
    """
    if date_column not in frame.columns:
        raise SchemaError(
            f"Date column '{date_column}' is not in {source} (columns: "
            f"{', '.join(frame.columns[:12])}). Set window.date_column to one of them."
        )
    column = _as_date(frame[date_column], date_column, source)
    mask = pl.repeat(True, frame.height, eager=True)
    if start is not None:
        mask = mask & (column >= start)
    if end is not None:
        mask = mask & (column <= end)
    out = frame.filter(mask.fill_null(False))
    if out.height == 0:
        raise EmptyDataError(no_rows(source, start, end))
    return out


def _as_date(series: pl.Series, name: str, source: str) -> pl.Series:
    if series.dtype == pl.Date:
        return series
    if isinstance(series.dtype, pl.Datetime):
        return series.dt.date()
    if series.dtype == pl.String:
        parsed = series.str.to_date(strict=False)
        bad = series.is_not_null() & parsed.is_null()
        if not bad.any():
            return parsed
        example = series.filter(bad)[0]
        raise SchemaError(
            f"Date column '{name}' in {source} has values that are not dates (e.g. {example!r}). "
            "Use ISO dates (YYYY-MM-DD)."
        )
    raise SchemaError(
        f"Date column '{name}' in {source} has dtype {series.dtype}, not a date. "
        "Point window.date_column at a date or datetime column."
    )
