"""Profiles built where the data lives: a PySpark DataFrame profiled on the cluster.

Each partition is profiled in Arrow batches on its executor (``mapInArrow``), the partial
profiles travel to the driver as profile files' bytes (a few hundred kB each at most) and are
merged there, so the result equals :func:`driftloop.profile` of the same rows (within the sketch's
rank error for quantiles). The same code runs in ``local[*]``, under ``spark-submit`` or in a
Databricks job: only the session differs. Needs the ``spark`` extra (``pip install
'driftloop[spark]'``) and Java 17+.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from driftloop.errors import ConfigError
from driftloop.profiles.dataset import Profile, merge
from driftloop.profiles.options import ProfileOptions

__all__ = ["profile"]


def profile(df: Any, options: ProfileOptions | None = None) -> Profile:
    """Profile a PySpark DataFrame (see the module docstring); ``options`` says what the profile
    keeps beyond its columns (its row sample and segments merge exactly across partitions)."""
    _require_pyspark()
    options = options or ProfileOptions()
    options.check_columns(list(df.columns), "the Spark DataFrame")
    partials = partial(_partials, options=options)
    parts = [bytes(row[0]) for row in df.mapInArrow(partials, "profile binary").collect()]
    from driftloop.profiles.fileformat import profile_from_bytes

    profiles = [profile_from_bytes(p, "a partition's profile") for p in parts]
    if not profiles:
        from driftloop.errors import EmptyDataError

        raise EmptyDataError("The Spark DataFrame has no rows. Profile a DataFrame with rows.")
    result = profiles[0]
    for part in profiles[1:]:
        result = merge(result, part)
    return result


def _partials(batches: Iterator[Any], options: ProfileOptions) -> Iterator[Any]:
    """On an executor: one partition's profile, as one row of profile-file bytes."""
    import pyarrow as pa

    from driftloop.errors import EmptyDataError
    from driftloop.profiles.dataset import profile_batches
    from driftloop.profiles.fileformat import profile_to_bytes

    try:
        part = profile_batches(_regrouped(batches), options=options)
    except EmptyDataError:  # an empty partition contributes nothing
        return
    yield pa.RecordBatch.from_pydict({"profile": [profile_to_bytes(part)]})


def _regrouped(batches: Iterator[Any]) -> Iterator[Any]:
    """Spark's Arrow batches (10,000 rows by default) as tables of ``BATCH_ROWS`` rows, as the
    local build reads them: each piece profiled is one quantile sketch more to merge."""
    import pyarrow as pa

    from driftloop.profiles.reading import BATCH_ROWS

    held: list[Any] = []
    rows = 0
    for batch in batches:
        held.append(batch)
        rows += batch.num_rows
        if rows >= BATCH_ROWS:
            yield pa.Table.from_batches(held)
            held, rows = [], 0
    if held:
        yield pa.Table.from_batches(held)


def _require_pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise ConfigError(
            "Spark profiles need PySpark: pip install 'driftloop[spark]' (and Java 17+)."
        ) from None


def profile_source(
    source: str,
    *,
    date_column: str | None = None,
    start: Any = None,
    end: Any = None,
    session: Any = None,
    options: ProfileOptions | None = None,
) -> Profile:
    """Profile a Parquet or CSV path (or a table name) with Spark, the window filtered there.

    ``session`` defaults to the active Spark session, else a new one (``spark-submit`` and
    Databricks provide theirs; on its own it runs ``local[*]``).
    """
    _require_pyspark()
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    spark = session or SparkSession.getActiveSession() or _local_session()
    lowered = source.lower().rstrip("/")
    if lowered.endswith(".csv"):
        df = spark.read.csv(source, header=True, inferSchema=True)
    elif lowered.endswith((".parquet", ".pq")) or "/" in source:
        df = spark.read.parquet(source)
    else:
        df = spark.table(source)
    if date_column is not None:
        if date_column not in df.columns:
            raise ConfigError(
                f"Date column '{date_column}' is not in {source}. Columns: {', '.join(df.columns)}."
            )
        if start is not None:
            df = df.where(F.col(date_column) >= F.lit(start))
        if end is not None:
            df = df.where(F.col(date_column) < F.lit(end))
    return profile(df, options)


def _local_session() -> Any:
    import os
    import sys

    from pyspark.sql import SparkSession

    _require_java()
    # the workers run this interpreter (with driftloop installed), not the system python
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    return SparkSession.builder.master("local[*]").appName("driftloop-profile").getOrCreate()


def _require_java() -> None:
    """Check the Java Spark would start, found as PySpark finds it: ``$JAVA_HOME/bin/java``,
    else ``java`` on the PATH."""
    import os
    import re
    import shutil
    import subprocess
    from pathlib import Path

    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    where = f"JAVA_HOME={home}" if home else "the PATH"
    if java is None or not Path(java).is_file():
        raise ConfigError(
            f"Spark needs Java 17+ and finds no java in {where}: install a JDK (e.g. "
            "openjdk-17-jre-headless) or point JAVA_HOME at one."
        )
    ran = subprocess.run([java, "-version"], capture_output=True, text=True)
    found = re.search(r'version "(\d+)(?:\.(\d+))?', ran.stderr + ran.stdout)
    major = 0 if found is None else int(found.group(1))
    if major == 1 and found is not None and found.group(2):  # "1.8.0": Java 8
        major = int(found.group(2))
    if ran.returncode or major < 17:
        shown = f"Java {major}" if major else "a java that does not run"
        raise ConfigError(
            f"Spark needs Java 17+; {where} gives {shown} ({java}). Install a JDK 17+ or "
            "point JAVA_HOME at one."
        )
