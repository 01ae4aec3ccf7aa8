"""Reading the model registry without MLflow: ``driftloop model list/show`` in well under a second.

Importing MLflow and opening its store costs 2-4 s, which a person typing ``driftloop model list``
feels. For a database store (SQLite, PostgreSQL, MySQL) the registry is a handful of tables;
this module reads them with SQLAlchemy, read-only, and answers with the very
:class:`~driftloop.model.versions.ModelVersionInfo` the MLflow client path builds
(``tests/model/test_lifecycle.py`` compares the two). Any surprise — another schema, a server
store (``http://``) — returns ``None`` and the caller uses :class:`Registry` instead.
Writes (promote, rollback) always go through MLflow.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from driftloop.data.sql import redact_url
from driftloop.errors import RegistryError
from driftloop.model.versions import PRODUCTION, ModelVersionInfo, parse_model_ref

__all__ = ["open_catalog"]

_SCHEMES = ("sqlite", "postgresql", "mysql")


def open_catalog(tracking_uri: str) -> Catalog | None:
    """A catalog over ``tracking_uri``'s registry tables, or None when only MLflow can read it."""
    if tracking_uri.split(":", 1)[0].split("+", 1)[0] not in _SCHEMES:
        return None
    try:
        engine = sa.create_engine(tracking_uri)
        with engine.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
    except sa.exc.SQLAlchemyError:
        return None
    needed = {"registered_models", "model_versions", "registered_model_aliases"}
    if not needed <= names or not {"model_version_tags", "latest_metrics"} <= names:
        return None
    return Catalog(engine, tracking_uri)


class Catalog:
    def __init__(self, engine: sa.Engine, tracking_uri: str) -> None:
        self.engine, self.tracking_uri = engine, tracking_uri
        meta = sa.MetaData()
        self.models = sa.Table("registered_models", meta, autoload_with=engine)
        self.versions_t = sa.Table("model_versions", meta, autoload_with=engine)
        self.aliases_t = sa.Table("registered_model_aliases", meta, autoload_with=engine)
        self.tags = sa.Table("model_version_tags", meta, autoload_with=engine)
        self.metrics = sa.Table("latest_metrics", meta, autoload_with=engine)

    def versions(self, name: str) -> list[ModelVersionInfo]:
        with self.engine.connect() as conn:
            aliases = self._aliases(conn, name)
            rows = conn.execute(
                sa.select(self.versions_t).where(self.versions_t.c.name == name)
            ).mappings()
            return sorted(
                (self._info(conn, dict(r), aliases) for r in rows), key=lambda v: v.version
            )

    def show(self, ref: str) -> ModelVersionInfo:
        name, alias, version = parse_model_ref(ref)
        with self.engine.connect() as conn:
            aliases = self._aliases(conn, name)
            by_alias = {a: v for v, names in aliases.items() for a in names}
            if alias is not None:
                if alias not in by_alias:
                    raise RegistryError(
                        f"Model '{name}' has no alias '{alias}'. Aliases: "
                        f"{', '.join(sorted(by_alias)) or 'none'}."
                    )
                version = by_alias[alias]
            rows = {
                int(r["version"]): dict(r)
                for r in conn.execute(
                    sa.select(self.versions_t).where(self.versions_t.c.name == name)
                ).mappings()
            }
            if version is None:
                version = by_alias.get(PRODUCTION) or max(rows, default=0)
            if version not in rows:
                known = ", ".join(str(v) for v in sorted(rows)) or "none"
                raise RegistryError(f"Model '{name}' has no version {version}. Versions: {known}.")
            return self._info(conn, rows[version], aliases)

    def _aliases(self, conn: sa.Connection, name: str) -> dict[int, list[str]]:
        found = conn.execute(
            sa.select(self.models.c.name).where(self.models.c.name == name)
        ).first()
        if found is None:
            raise RegistryError(
                f"No registered model '{name}' in {redact_url(self.tracking_uri)}. "
                "Train one first (driftloop run) or check the name."
            )
        aliases: dict[int, list[str]] = {}
        query = sa.select(self.aliases_t.c.alias, self.aliases_t.c.version).where(
            self.aliases_t.c.name == name
        )
        for alias, version in conn.execute(query):
            aliases.setdefault(int(version), []).append(alias)
        return aliases

    def _info(
        self, conn: sa.Connection, row: dict[str, Any], aliases: dict[int, list[str]]
    ) -> ModelVersionInfo:
        version = int(row["version"])
        tags = dict(
            conn.execute(
                sa.select(self.tags.c.key, self.tags.c.value).where(
                    self.tags.c.name == row["name"], self.tags.c.version == version
                )
            ).all()
        )
        metrics: dict[str, float] = {}
        if row["run_id"]:
            query = sa.select(
                self.metrics.c.key, self.metrics.c.value, self.metrics.c.is_nan
            ).where(self.metrics.c.run_uuid == row["run_id"])
            metrics = {k: float("nan") if nan else float(v) for k, v, nan in conn.execute(query)}
        created = dt.datetime.fromtimestamp((row["creation_time"] or 0) / 1000, dt.UTC)
        return ModelVersionInfo(
            name=row["name"],
            version=version,
            aliases=tuple(sorted(aliases.get(version, []))),
            status=tags.get("driftloop.status", "candidate"),
            metrics=metrics,
            trigger=tags.get("driftloop.trigger", ""),
            reason=tags.get("driftloop.reason", ""),
            created=created.strftime("%Y-%m-%d %H:%M:%S UTC"),
            run_id=row["run_id"] or "",
            description=row["description"] or "",
        )
