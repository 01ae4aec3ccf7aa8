"""Profile sources behind URLs: an http(s) file downloaded to disk, ``s3://`` files read in place.

An http(s) URL names one Parquet or CSV file; it is streamed to a temporary file (never held in
memory whole; removed after) within ``DRIFTLOOP_READ_DEADLINE``, then read like a local file.
An ``s3://bucket/key`` URL may name a file, a folder (a prefix ending in ``/``) or a glob; the
files are read through Arrow's S3 filesystem, row group by row group, with the endpoint and
credentials every driftloop S3 read uses: ``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL`` for an
S3-compatible store, and the AWS SDK's usual credential chain. Messages show URLs without their
credentials or query string.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from driftloop.data.sources import safe_uri, stream_url
from driftloop.errors import ConfigError, SourceError

__all__ = ["downloaded", "s3_files", "s3_filesystem"]

_SUFFIXES = (".parquet", ".pq", ".csv")


@contextlib.contextmanager
def downloaded(url: str) -> Iterator[str]:
    """The path of a temporary copy of the file at the http(s) ``url``, removed on exit."""
    shown = safe_uri(url)
    suffix = Path(urlsplit(url).path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise ConfigError(
            f"Cannot tell the format of {shown} from its suffix '{suffix or '(none)'}'. "
            "Profile a URL ending in .parquet or .csv."
        )
    with tempfile.TemporaryDirectory(prefix="driftloop-download-") as folder:
        path = Path(folder) / f"source{suffix}"
        _download(url, shown, path)
        yield str(path)


def _download(url: str, shown: str, path: Path) -> None:
    with path.open("wb") as file:
        stream_url(url, shown, file.write)


def s3_filesystem() -> Any:
    """Arrow's S3 filesystem with the endpoint, region and keys from this process's environment.

    The keys are passed, not left to Arrow's own lookup, so that worker processes (forked from a
    server process started earlier, with the environment of then) use the same ones."""
    from pyarrow import fs

    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    options: dict[str, Any] = {"region": region}
    if endpoint:
        parts = urlsplit(endpoint)
        options |= {"endpoint_override": parts.netloc, "scheme": parts.scheme or "https"}
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        options |= {"access_key": key, "secret_key": secret}
        if os.environ.get("AWS_SESSION_TOKEN"):
            options["session_token"] = os.environ["AWS_SESSION_TOKEN"]
    return fs.S3FileSystem(**options)


def s3_files(source: str, shown: str) -> tuple[Any, list[str]]:
    """The S3 filesystem and the data files (``bucket/key`` paths) an ``s3://`` URL names."""
    from pyarrow import fs

    parts = urlsplit(source)
    path = f"{parts.netloc.rpartition('@')[2]}{parts.path}".rstrip("/")
    filesystem = s3_filesystem()
    pattern = None
    if any(ch in path for ch in "*?["):
        pattern = path
        path = path[: min(path.index(ch) for ch in "*?[" if ch in path)].rpartition("/")[0]
    try:
        info = filesystem.get_file_info(path)
        if info.type == fs.FileType.File and pattern is None:
            return filesystem, [path]
        if info.type == fs.FileType.NotFound and "/" not in path:
            raise SourceError(f"Bucket of {shown} does not exist. Check the bucket name.")
        selector = fs.FileSelector(path, recursive=True, allow_not_found=True)
        names = [i.path for i in filesystem.get_file_info(selector) if i.type == fs.FileType.File]
    except OSError as err:
        raise SourceError(
            f"Cannot read {shown}: {_first_line(err)} Check the credentials and the bucket."
        ) from None
    names = [n for n in names if not Path(n).name.startswith(".")]
    if pattern is not None:
        names = [n for n in names if _matches(n, pattern)]
    if not names:
        raise SourceError(f"Source {shown} matches no files. Check the bucket, key or glob.")
    return filesystem, sorted(names)


def _matches(name: str, pattern: str) -> bool:
    """Glob matching as the shell does it: ``*`` stays within one folder, ``**`` crosses them."""
    if "**" in pattern:
        return fnmatch.fnmatchcase(name, pattern)
    return name.count("/") == pattern.count("/") and fnmatch.fnmatchcase(name, pattern)


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    line = text.splitlines()[0][:300] if text else type(err).__name__
    return line if line.endswith(".") else line + "."
