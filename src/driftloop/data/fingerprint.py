"""A source's fingerprint: a cheap check of whether its rows may have changed since last read.

======================= ==============================================================
source                  fingerprint
======================= ==============================================================
SQL table or query      row count and ``MAX(date_column)`` over the window, and
                        ``MAX(updated_column)`` when set: one query
local file              size and modification time (nanoseconds)
``s3://`` object        its ETag (one ``HEAD``)
``http(s)://`` file     its ETag, else Last-Modified with Content-Length (one ``HEAD``);
                        none when the server sends neither
======================= ==============================================================

Each fingerprint also carries the source's definition (URI or the database URL without its
password, table or query, date column, window), so editing the config changes it too. Without an
``updated_column`` (a column every insert and update sets, such as ``updated_at``), a SQL
fingerprint misses rows updated in place (same count, same last date): rebuild explicitly then.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from driftloop.data.sources import Source, safe_uri
from driftloop.errors import SchemaError, SourceError

__all__ = ["Fingerprint", "fingerprint"]

Fingerprint = dict[str, Any]


def fingerprint(
    source: Source,
    window: tuple[dt.date | None, dt.date | None] | None = None,
    *,
    updated_column: str | None = None,
) -> Fingerprint | None:
    """The fingerprint of ``source`` over ``window`` (default: its own); None when it has none
    (an http server without ETag or Last-Modified). ``updated_column``: a SQL source's column
    whose maximum says when a row last changed."""
    start, end = window or (source.start, source.end)
    if source.date_column is None:
        start = end = None
    definition: Fingerprint = {
        "date_column": source.date_column,
        "start": None if start is None else str(start),
        "end": None if end is None else str(end),
    }
    if source.url is not None:
        return definition | _sql(source, start, end, updated_column)
    uri = source.uri or ""
    scheme = urlsplit(uri).scheme.lower()
    found: Fingerprint | None
    if scheme == "s3":
        found = _s3(uri)
    elif scheme in ("http", "https"):
        found = _http(uri)
    else:
        found = _local(uri)
    return None if found is None else definition | {"uri": safe_uri(uri)} | found


def _sql(
    source: Source, start: dt.date | None, end: dt.date | None, updated_column: str | None
) -> Fingerprint:
    """Row count, last date and last update in one aggregate query, the window pushed down."""
    from driftloop.data.sql import quote_identifier, read_sql, redact_url

    url = source.url.get_secret_value() if source.url is not None else ""
    if source.table is not None:
        rows = quote_identifier(source.table)
    else:
        rows = f"({source.query}) AS driftloop_rows"
    last = f"MAX({quote_identifier(source.date_column)})" if source.date_column else "NULL"
    where = []  # dates are validated ``datetime.date``s: safe as ISO literals
    if start is not None:
        where.append(f"{quote_identifier(str(source.date_column))} >= '{start.isoformat()}'")
    if end is not None:
        after = (end + dt.timedelta(days=1)).isoformat()
        where.append(f"{quote_identifier(str(source.date_column))} < '{after}'")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    _check_columns(url, rows, source, updated_column)
    updated = f"MAX({quote_identifier(updated_column)})" if updated_column else "NULL"
    query = (
        f"SELECT COUNT(*) AS n_rows, {last} AS last_date, {updated} AS last_update "
        f"FROM {rows}{clause}"
    )
    frame = read_sql(url, query=query)
    n_rows, last_date, last_update = frame.row(0)
    described = {"database": redact_url(url), "table": source.table, "query": source.query}
    found = {"rows": int(n_rows or 0), "last_date": _text(last_date)}
    if updated_column:  # absent otherwise: fingerprints stored before it still match
        found |= {"updated_column": updated_column, "last_update": _text(last_update)}
    return described | found


def _check_columns(url: str, rows: str, source: Source, updated_column: str | None) -> None:
    """The named columns exist: SQLite reads an unknown double-quoted name as a string, so
    ``MAX("updated_at")`` of a misspelt column would be the same text on every run."""
    from driftloop.data.sql import read_sql

    have = set(read_sql(url, query=f"SELECT * FROM {rows} WHERE 1 = 0").columns)
    for key, name in (("date_column", source.date_column), ("updated_column", updated_column)):
        if name and name not in have:
            raise SchemaError(
                f"reference.{key} '{name}' is not a column of {source.table or 'the query'} "
                f"(its columns: {', '.join(sorted(have))}). Fix reference.{key}."
            )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _local(uri: str) -> Fingerprint:
    path = Path(urlsplit(uri).path if uri.startswith("file:") else uri)
    try:
        stat = path.stat()
    except OSError as err:
        raise SourceError(
            f"File '{path}' cannot be read ({err.strerror}). Check the reference's uri."
        ) from None
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _s3(uri: str) -> Fingerprint:
    import boto3
    import botocore.exceptions

    parts = urlsplit(uri)
    try:
        head = (
            boto3.session.Session()
            .client("s3")
            .head_object(Bucket=parts.hostname or "", Key=parts.path.lstrip("/"))
        )
    except botocore.exceptions.ClientError as err:
        code = err.response.get("Error", {}).get("Code", "error")
        raise SourceError(
            f"Cannot read '{safe_uri(uri)}' ({code}). Check the bucket, key and credentials."
        ) from None
    except botocore.exceptions.BotoCoreError as err:
        raise SourceError(f"Cannot reach S3 for '{safe_uri(uri)}': {type(err).__name__}.") from None
    return {"etag": str(head.get("ETag", "")), "size": int(head.get("ContentLength", 0))}


def _http(uri: str) -> Fingerprint | None:
    import httpx

    from driftloop.data.sources import HTTP_TIMEOUT

    try:
        response = httpx.head(uri, timeout=HTTP_TIMEOUT, follow_redirects=True)
    except httpx.HTTPError as err:
        raise SourceError(f"Cannot reach '{safe_uri(uri)}': {type(err).__name__}.") from None
    etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
    if response.status_code != 200 or not (etag or modified):
        return None
    if etag:
        return {"etag": etag}
    return {"last_modified": modified, "size": response.headers.get("content-length")}
