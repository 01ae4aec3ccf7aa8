"""The profile file: a small Parquet file, one row per column, versioned in its metadata.

============== ================ ============================================================
field          type             meaning
============== ================ ============================================================
name, dtype    string           the column and its Polars dtype
family         string           number, boolean, label, temporal or other
n_rows         int64            rows, nulls (NaN counted as null), infinite values
n_null, n_inf
count, mean,   int64, float64   finite values: count, mean, sum of squared deviations,
m2, minimum,                    extremes (numeric columns; null otherwise)
maximum
values         binary           the sorted finite values, float64 little-endian, while
                                count <= 4,096 (``numeric.EXACT_MAX``)
sketch         binary           Apache DataSketches KLL doubles sketch (k = 1,024), serialised,
                                when the values are not kept
distinct_*     binary           exact distinct values (float64) and counts (int64), while at
                                most 512
labels,        list<string>,    category counts (at most 1,000 categories), and the rows of
label_counts,  list<int64>,     categories beyond them
other          int64
============== ================ ============================================================

The file's key-value metadata ``driftloop.profile`` holds ``{"format": 1, "rows": ...,
"sketch": "kll_doubles", "k": 1024, "rank_error": ..., "driftloop": version}`` and, when the
profile keeps a row sample (``rowsample``), ``"sample": {"k", "rows", "of", "sha256"}``; the
sample itself is the first row's ``sample`` field (binary: Arrow IPC, zstd), null elsewhere,
checked against that SHA-256 on reading. A profile built with segments lists them in
``"segments": {column: number of values}`` and keeps each value's profile, as a profile file's
bytes of its own, in the first row's ``segments`` field (column, JSON value, bytes). A file
without the metadata,
or of another format, is refused with one line. Parquet's footer makes a truncated file
unreadable rather than silently short, and every page carries a CRC checksum, verified on reading,
so flipped bytes are refused too; each column's parts are checked against its counts (a sketch
must decode and hold ``count`` values). Files are written to a temporary name and renamed, so a
failed write leaves nothing behind.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from driftloop.drift.columns import DtypeFamily
from driftloop.errors import ProfileError
from driftloop.profiles.column import ColumnProfile
from driftloop.profiles.dataset import Profile
from driftloop.profiles.labels import LabelCounts
from driftloop.profiles.numeric import SKETCH_K, NumericSummary, rank_error

__all__ = [
    "FORMAT",
    "file_metadata",
    "is_profile",
    "load_profile",
    "profile_from_bytes",
    "profile_to_bytes",
    "save_profile",
]

FORMAT = 1
KEY = b"driftloop.profile"


def _table(profile: Profile) -> Any:
    from importlib.metadata import version

    import pyarrow as pa

    meta = {"format": FORMAT, "rows": profile.n_rows, "sketch": "kll_doubles", "k": SKETCH_K}
    meta |= {"rank_error": rank_error(), "driftloop": version("driftloop")}
    rows = [_row(c) for c in profile.profiles]
    if profile.sample is not None and rows:
        import hashlib

        data, sample = profile.sample.to_bytes(), profile.sample
        meta["sample"] = {
            "k": sample.k,
            "rows": sample.frame.height,
            "of": sample.of,
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        rows[0]["sample"] = data  # once, in the first row: page-checksummed like the rest
    if profile.segments and rows:
        rows[0]["segments"] = _segment_entries(profile)
        meta["segments"] = {c: len(values) for c, values in profile.segments.items()}
    table = pa.Table.from_pylist(rows, schema=_schema())
    return table.replace_schema_metadata({KEY: json.dumps(meta).encode()})


def profile_to_bytes(profile: Profile) -> bytes:
    """The profile file's bytes (e.g. to ship a partial profile from a Spark executor)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(_table(profile), sink, compression="zstd", write_page_checksum=True)
    return bytes(sink.getvalue().to_pybytes())


def profile_from_bytes(data: bytes, where: str = "profile bytes") -> Profile:
    """The profile :func:`profile_to_bytes` wrote."""
    import pyarrow as pa

    return load_profile(pa.BufferReader(data), where)


def save_profile(profile: Profile, path: str | Path) -> Path:
    """Write ``profile`` to ``path`` (atomically) and return the path."""
    import pyarrow.parquet as pq

    target = Path(path)
    target = target.resolve() if target.is_symlink() else target  # replace the file, not the link
    table = _table(profile)
    partial = target.with_name(f".{target.name}.partial")
    try:
        pq.write_table(table, partial, compression="zstd", write_page_checksum=True)
        os.replace(partial, target)
    except OSError as err:
        partial.unlink(missing_ok=True)
        raise ProfileError(f"Cannot write the profile to {target}: {err.strerror or err}.") from err
    return target


def is_profile(path: str | Path) -> bool:
    """Whether ``path`` is a driftloop profile file (read from its content, not its name; an
    unreadable file named ``*.profile`` counts as one, so that reading it says what is wrong)."""
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, ValueError):
        return Path(path).suffix == ".profile"
    return KEY in metadata


def load_profile(path: str | Path | Any, where: str | None = None) -> Profile:
    """Read a profile file written by :func:`save_profile` (or a readable buffer)."""
    import pyarrow.parquet as pq

    source, path = path, (path if where is None else where)  # ``path``: as messages name it
    if isinstance(source, str | Path) and Path(source).is_dir():  # Arrow would read its files
        raise ProfileError(f"Profile file {path} is a folder. Name a profile file.")
    try:
        table = pq.read_table(source, page_checksum_verification=True)
    except FileNotFoundError as err:
        raise ProfileError(f"Profile file {path} does not exist. Check the path.") from err
    except (OSError, ValueError) as err:
        raise ProfileError(
            f"Profile file {path} is not a readable Parquet file (corrupt or truncated). "
            "Rebuild it with `driftloop profile build`."
        ) from err
    meta = _metadata(path, (table.schema.metadata or {}).get(KEY))
    entries = table.to_pylist()
    stored = entries[0].get("sample") if entries else None
    sample = _sample(meta.get("sample"), stored, str(path))
    segments = _segments(
        meta.get("segments"), entries[0].get("segments") if entries else None, path
    )
    try:
        profiles = tuple(_checked(_column(row)) for row in entries)
        return Profile(profiles, int(meta["rows"]), sample, segments)
    except (KeyError, ValueError, TypeError, RuntimeError) as err:
        raise ProfileError(
            f"Profile file {path} has unreadable column entries ({err}). Rebuild it with "
            "`driftloop profile build`."
        ) from err


def _segment_entries(profile: Profile) -> list[dict[str, Any]]:
    """Each segment's profile as its own profile file's bytes, with its column and value."""
    return [
        {"column": column, "value": json.dumps(value), "profile": profile_to_bytes(part)}
        for column, values in profile.segments.items()
        for value, part in sorted(values.items(), key=lambda kv: str(kv[0]))
    ]


def _segments(meta: Any, entries: Any, path: Any) -> dict[str, dict[Any, Profile]]:
    """The file's segments (empty when it was built without them)."""
    if meta is None:
        return {}
    segments: dict[str, dict[Any, Profile]] = {c: {} for c in meta}
    for entry in entries or ():
        where = f"{path} (segment {entry['column']} = {entry['value']})"
        segments.setdefault(entry["column"], {})[json.loads(entry["value"])] = profile_from_bytes(
            entry["profile"], where
        )
    if {c: len(v) for c, v in segments.items()} != meta:
        raise ProfileError(
            f"Profile file {path} names segments it does not hold. Rebuild it with "
            "`driftloop profile build`."
        )
    return segments


def _sample(meta: Any, data: bytes | None, where: str) -> Any:
    """The file's row sample (None when it was built without one)."""
    from driftloop.profiles.rowsample import RowSample

    if meta is None:
        return None
    if data is None or not isinstance(meta, dict) or not {"k", "of", "sha256"} <= set(meta):
        raise ProfileError(
            f"Profile file {where} names a row sample it does not hold. Rebuild it with "
            "`driftloop profile build`."
        )
    return RowSample.from_bytes(data, int(meta["k"]), int(meta["of"]), str(meta["sha256"]), where)


def file_metadata(path: str | Path) -> dict[str, Any]:
    """A profile file's driftloop metadata: ``profile`` (format, rows, sketch, its k and rank
    error, the driftloop version that wrote it) and, for a stored reference profile, the
    ``fingerprint`` of its source. Read after :func:`load_profile` has checked the file."""
    import pyarrow.parquet as pq

    raw = pq.read_schema(path).metadata or {}
    found: dict[str, Any] = {}
    for key, value in raw.items():
        if key.startswith(b"driftloop."):
            try:
                found[key.decode()[len("driftloop.") :]] = json.loads(value)
            except ValueError:
                continue
    return found


def _metadata(path: str | Path, raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        raise ProfileError(
            f"{path} is a Parquet file but not a driftloop profile. Build one with "
            "`driftloop profile build SOURCE --out FILE`."
        )
    try:
        meta = json.loads(raw)
    except ValueError:
        meta = None
    if not isinstance(meta, dict):
        raise ProfileError(
            f"Profile file {path} has unreadable metadata (driftloop.profile is not a JSON "
            "object). Rebuild it with `driftloop profile build`."
        )
    if meta.get("format") != FORMAT:
        raise ProfileError(
            f"Profile file {path} has format {meta.get('format')!r} (driftloop "
            f"{meta.get('driftloop', '?')}); this driftloop reads format {FORMAT}. Rebuild it "
            "with this version's `driftloop profile build`."
        )
    return meta


def _schema() -> Any:
    import pyarrow as pa

    fields = [("name", pa.string()), ("dtype", pa.string()), ("family", pa.string())]
    fields += [(f, pa.int64()) for f in ("n_rows", "n_null", "n_inf", "count")]
    fields += [(f, pa.float64()) for f in ("mean", "m2", "minimum", "maximum")]
    fields += [(f, pa.binary()) for f in ("values", "sketch", "distinct_values", "distinct_counts")]
    fields += [("labels", pa.list_(pa.string())), ("label_counts", pa.list_(pa.int64()))]
    segment = pa.struct([("column", pa.string()), ("value", pa.string()), ("profile", pa.binary())])
    fields += [("other", pa.int64()), ("sample", pa.binary()), ("segments", pa.list_(segment))]
    return pa.schema(fields)


def _row(c: ColumnProfile) -> dict[str, Any]:
    row: dict[str, Any] = {"name": c.name, "dtype": c.dtype, "family": str(c.family)}
    row |= {"n_rows": c.n_rows, "n_null": c.n_null, "n_inf": c.n_inf}
    if (s := c.numeric) is not None:
        row |= {"count": s.count, "mean": s.mean, "m2": s.m2}
        row |= {"minimum": s.minimum, "maximum": s.maximum, "sketch": s.sketch}
        row["values"] = None if s.values is None else _bytes(s.values, "<f8")
        if s.distinct is not None:
            row["distinct_values"] = _bytes(s.distinct[0], "<f8")
            row["distinct_counts"] = _bytes(s.distinct[1], "<i8")
    if (labels := c.labels) is not None:
        row |= {"labels": list(labels.labels), "label_counts": labels.counts.tolist()}
        row["other"] = labels.other
    return row


def _bytes(array: np.ndarray, dtype: str) -> bytes:
    return np.ascontiguousarray(array, dtype=dtype).tobytes()


def _checked(column: ColumnProfile) -> ColumnProfile:
    """``column``, once its parts agree with its counts (ValueError naming the first that does
    not)."""
    s, name = column.numeric, column.name
    if column.n_null + column.n_inf > column.n_rows:
        raise ValueError(f"column '{name}' has more nulls and infs than rows")
    if s is not None:
        if s.count != column.n_rows - column.n_null - column.n_inf:
            raise ValueError(f"column '{name}' counts {s.count} values of {column.n_rows} rows")
        if s.values is not None and s.values.size != s.count:
            raise ValueError(f"column '{name}' keeps {s.values.size} of {s.count} values")
        if s.distinct is not None and int(s.distinct[1].sum()) != s.count:
            raise ValueError(f"column '{name}' has value counts that do not add up to {s.count}")
        if s.sketch is not None:
            held = s.quantile_sketch().n  # type: ignore[attr-defined]
            if held != s.count:
                raise ValueError(f"column '{name}' has a sketch of {held} values, not {s.count}")
        if s.values is None and s.sketch is None and s.count:
            raise ValueError(f"column '{name}' has neither values nor a sketch")
    if column.labels is not None and column.labels.total != column.n_rows - column.n_null:
        raise ValueError(f"column '{name}' has label counts that do not add up")
    return column


def _column(row: dict[str, Any]) -> ColumnProfile:
    numeric = labels = None
    if row["count"] is not None:
        distinct = None
        if row["distinct_values"] is not None:
            distinct = (
                np.frombuffer(row["distinct_values"], dtype="<f8").astype(np.float64),
                np.frombuffer(row["distinct_counts"], dtype="<i8").astype(np.int64),
            )
        values = row["values"]
        numeric = NumericSummary(
            row["count"],
            row["mean"],
            row["m2"],
            row["minimum"],
            row["maximum"],
            None if values is None else np.frombuffer(values, dtype="<f8").astype(np.float64),
            row["sketch"],
            distinct,
        )
    if row["labels"] is not None:
        counts = np.asarray(row["label_counts"], dtype=np.int64)
        labels = LabelCounts(tuple(row["labels"]), counts, int(row["other"]))
    family = DtypeFamily(row["family"])
    return ColumnProfile(
        row["name"],
        row["dtype"],
        family,
        row["n_rows"],
        row["n_null"],
        row["n_inf"],
        numeric,
        labels,
    )
