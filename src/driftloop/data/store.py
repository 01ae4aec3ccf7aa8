"""A database holding driftloop's own tables (runs, predictions...), created on first use."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import sqlalchemy as sa

from driftloop.data.sql import redact_url, sqlite_folder_on_connect
from driftloop.errors import SourceError

__all__ = ["TableStore", "now"]

_DDL_LOCK = 0x64726966746C6F6F  # "driftloo": one advisory lock for driftloop's table creation


def now() -> dt.datetime:
    """The time driftloop's tables record: UTC, naive, to the second."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


class TableStore:
    """Base of the stores: one engine, tables created once, database errors as one clear line.

    Subclasses set ``metadata`` (their tables) and ``doing`` (for messages, e.g. "record runs").
    """

    metadata: ClassVar[sa.MetaData]
    doing: ClassVar[str] = "use the database"

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = sqlite_folder_on_connect(sa.create_engine(url, pool_pre_ping=True))
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as err:
            raise SourceError(f"Cannot use database URL {redact_url(url)}: {err}.") from None
        self._ready = False

    def failure(self, err: BaseException) -> SourceError:
        first = str(getattr(err, "orig", err)).strip().splitlines()
        return SourceError(
            f"Cannot {self.doing} in {redact_url(self.url)}: {(first or [''])[0][:160]}. "
            "Check that the warehouse database is reachable."
        )

    def _create_tables(self) -> None:
        """Create the tables once, also when several processes start on a new database at the
        same moment (PostgreSQL: under an advisory lock; concurrent CREATE TABLEs collide)."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DDL_LOCK})
            self.metadata.create_all(conn, checkfirst=True)

    def ping(self) -> None:
        """Raise a one-line SourceError unless the database answers (its tables created)."""
        try:
            with self._begin() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as err:
            raise self.failure(err) from None

    def _begin(self) -> Any:
        try:
            if not self._ready:
                self._create_tables()
                self._ready = True
            return self.engine.begin()
        except sa.exc.SQLAlchemyError as err:
            raise self.failure(err) from None
