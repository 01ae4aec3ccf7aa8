"""Where a pipeline keeps its reference profile: a local file or an ``s3://`` object.

The stored file is an ordinary profile file (:mod:`driftloop.profiles.fileformat`, usable with
``driftloop detect``) whose Parquet metadata also holds, under ``driftloop.fingerprint``, the
fingerprint of the source it was built from (:mod:`driftloop.data.fingerprint`). Profile and
fingerprint are one file, written in one step: to a temporary name then renamed (local), or in
one ``PUT`` (S3, atomic per object). A crash or a concurrent run therefore never leaves a half
profile, nor a profile with another build's fingerprint.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from driftloop.data.fingerprint import Fingerprint
from driftloop.data.sources import safe_uri
from driftloop.errors import ProfileError, SourceError
from driftloop.profiles.dataset import Profile

__all__ = ["StoredProfile", "read_stored", "write_stored"]

KEY = b"driftloop.fingerprint"


@dataclass(frozen=True, slots=True)
class StoredProfile:
    """The stored file's bytes, its profile and the fingerprint it was built from (None: a
    profile file without one, e.g. from ``driftloop profile build``)."""

    data: bytes
    profile: Profile
    fingerprint: Fingerprint | None


def read_stored(location: str, endpoint_url: str | None = None) -> StoredProfile | None:
    """The stored profile, or None when nothing is stored there yet.

    Raises :class:`ProfileError` (one line) when the file is there but unreadable."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from driftloop.profiles.fileformat import load_profile

    data = _get(location, endpoint_url)
    if data is None:
        return None
    shown = safe_uri(location)
    profile = load_profile(pa.BufferReader(data), shown)
    raw = (pq.read_schema(pa.BufferReader(data)).metadata or {}).get(KEY)
    return StoredProfile(data, profile, None if raw is None else json.loads(raw))


def write_stored(
    profile: Profile,
    fingerprint: Fingerprint | None,
    location: str,
    endpoint_url: str | None = None,
) -> bytes:
    """Store ``profile`` with ``fingerprint`` at ``location`` atomically; return the bytes."""
    data = _with_fingerprint(profile, fingerprint)
    if urlsplit(location).scheme.lower() == "s3":
        _put_s3(location, data, endpoint_url)
    else:
        _put_local(Path(location), data)
    return data


def _with_fingerprint(profile: Profile, fingerprint: Fingerprint | None) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from driftloop.profiles.fileformat import profile_to_bytes

    table = pq.read_table(pa.BufferReader(profile_to_bytes(profile)))
    meta = dict(table.schema.metadata or {})
    meta[KEY] = json.dumps(fingerprint, sort_keys=True).encode()
    sink = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(meta), sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())


def _get(location: str, endpoint_url: str | None) -> bytes | None:
    if urlsplit(location).scheme.lower() == "s3":
        return _get_s3(location, endpoint_url)
    path = Path(location)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ProfileError(
            f"Stored profile {path} cannot be read ({err.strerror}). Check reference.profile."
        ) from None


def _put_local(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")  # one per writer
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(data)
        os.replace(partial, path)
    except OSError as err:
        partial.unlink(missing_ok=True)
        raise ProfileError(
            f"Cannot store the reference profile at {path}: {err.strerror or err}. Check that "
            "reference.profile's folder is writable."
        ) from None


def _client(endpoint_url: str | None) -> Any:
    import boto3

    return boto3.session.Session().client("s3", endpoint_url=endpoint_url)


def _bucket_key(location: str) -> tuple[str, str]:
    parts = urlsplit(location)
    return parts.hostname or "", parts.path.lstrip("/")


def _get_s3(location: str, endpoint_url: str | None) -> bytes | None:
    import botocore.exceptions

    bucket, key = _bucket_key(location)
    try:
        body = _client(endpoint_url).get_object(Bucket=bucket, Key=key)["Body"]
        return bytes(body.read())
    except botocore.exceptions.ClientError as err:
        code = err.response.get("Error", {}).get("Code", "error")
        if code in ("NoSuchKey", "404"):
            return None
        raise _s3_error(location, code) from None
    except botocore.exceptions.BotoCoreError as err:
        raise SourceError(
            f"Cannot reach S3 for the stored profile '{safe_uri(location)}': "
            f"{type(err).__name__}. Check the endpoint."
        ) from None


def _put_s3(location: str, data: bytes, endpoint_url: str | None) -> None:
    import botocore.exceptions

    bucket, key = _bucket_key(location)
    try:
        _client(endpoint_url).put_object(Bucket=bucket, Key=key, Body=data)
    except botocore.exceptions.ClientError as err:
        raise _s3_error(location, err.response.get("Error", {}).get("Code", "error")) from None
    except botocore.exceptions.BotoCoreError as err:
        raise SourceError(
            f"Cannot reach S3 to store the profile '{safe_uri(location)}': "
            f"{type(err).__name__}. Check the endpoint."
        ) from None


def _s3_error(location: str, code: str) -> SourceError:
    return SourceError(
        f"The stored profile '{safe_uri(location)}' was refused by S3 ({code}). Check the "
        "bucket, the credentials and the bucket policy."
    )
