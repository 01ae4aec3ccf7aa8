"""SQL identifiers (schemas, tables, columns) from configs and file headers, made safe.

Names are validated here and always quoted by SQLAlchemy when used; values are always bound.
A CSV header such as ``x"; DROP TABLE reference; --`` becomes a column of that odd name, never SQL.
"""

from __future__ import annotations

import re

from driftloop.errors import ConfigError, SchemaError

__all__ = ["check_column_name", "check_name", "check_run_id", "check_table_name"]

_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_BYTES = 63  # PostgreSQL truncates longer names silently, which can merge two columns


def check_table_name(name: str, what: str = "table") -> str:
    """A schema or table name: letters, digits and underscores, not starting with a digit.

    Examples
    --------
    >>> check_table_name("current")
    'current'
    >>> check_table_name("current; drop table x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    driftloop.errors.ConfigError: Invalid table name 'current; drop table x': use letters, ...
    """
    if not isinstance(name, str) or not _TABLE.match(name) or len(name.encode()) > _MAX_BYTES:
        raise ConfigError(
            f"Invalid {what} name {name!r}: use letters, digits and underscores, starting with a "
            f"letter or underscore, at most {_MAX_BYTES} characters."
        )
    return name


_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def check_run_id(run_id: str) -> str:
    """A run id: it names a folder under ``stores.runs``, so no path separators and no ``..``.

    Examples
    --------
    >>> check_run_id("20110301T110000-1a2b3c4d")
    '20110301T110000-1a2b3c4d'
    >>> check_run_id("../../etc")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    driftloop.errors.ConfigError: Invalid run id '../../etc': use 1-100 letters, digits, ...
    """
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id) or ".." in run_id:
        raise ConfigError(
            f"Invalid run id {run_id!r}: use 1-100 letters, digits, '_', '-' and '.', starting "
            "with a letter or digit (no '/' and no '..'). List runs with: driftloop runs."
        )
    return run_id


_NAMES = {
    # what -> (pattern, how to write one); the same rules as driftloop.yaml's
    "pipeline": (
        re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$"),
        "letters, digits, '-' and '_', starting with a letter",
    ),
    "model": (
        re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"),
        "letters, digits, '.', '_' and '-', starting with a letter or digit",
    ),
}


def check_name(name: str, what: str, option: str) -> str:
    """A pipeline or model name given on the command line (``option``).

    Examples
    --------
    >>> check_name("team/bikes", "model", "NAME")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    driftloop.errors.ConfigError: NAME must be a model name: use letters, ... Got 'team/bikes'.
    """
    pattern, rule = _NAMES[what]
    if not pattern.match(name):
        raise ConfigError(f"{option} must be a {what} name: use {rule}. Got {name!r}.")
    return name


def check_column_name(name: str, table: str) -> str:
    """A column name from data: anything printable up to 63 bytes (it is always quoted).

    Examples
    --------
    >>> check_column_name('odd "name"', "current")
    'odd "name"'
    """
    if not name or len(name.encode()) > _MAX_BYTES or any(ord(ch) < 32 for ch in name):
        raise SchemaError(
            f"Column name {name!r} cannot be stored in table '{table}': names must be 1-63 bytes "
            "without control characters. Rename the column."
        )
    return name
