"""The model registry on MLflow: the only module that imports mlflow.

Versions are registered under a model name; the ``production`` alias marks the one serving
(MLflow stages are deprecated). Every promotion is appended to a history kept as a tag on the
registered model, so ``rollback`` returns to the previous production version. Rejected
challengers are tagged ``driftloop.status=rejected`` with the reason.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from driftloop.data.sql import redact_url
from driftloop.errors import DriftloopError, RegistryError, SourceError
from driftloop.model.versions import PRODUCTION, ModelVersionInfo, parse_model_ref

__all__ = ["PRODUCTION", "ModelVersionInfo", "Registry", "RegistryError", "parse_model_ref"]

DEFAULT_TRACKING_URI = "sqlite:///.driftloop/mlflow.db"
_HISTORY_TAG = "driftloop.production_history"


def _create_sqlite_store(path: Path) -> None:
    """Create and migrate a new SQLite MLflow store beside ``path``, then move it into place.

    MLflow's first start runs ~50 schema migrations; a process killed among them leaves a store
    no later start can open ("duplicate column name"). Built aside, the store appears whole or
    not at all (found by benchmarks/bench_faults.py).
    """
    _quiet_mlflow()
    from mlflow import MlflowClient

    partial = path.with_name(f".{path.name}.{os.getpid()}.creating")
    partial.unlink(missing_ok=True)
    uri = f"sqlite:///{partial}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.search_experiments(max_results=1)  # runs the tracking store's migrations
    client.search_registered_models(max_results=1)  # and the registry's
    if path.exists():  # another process finished first: keep its store
        partial.unlink(missing_ok=True)
    else:
        os.replace(partial, path)


def _quiet_mlflow() -> Any:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow

    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    psycopg_log = logging.getLogger("psycopg")
    if not any(isinstance(f, _HandledPipelineAbort) for f in psycopg_log.filters):
        psycopg_log.addFilter(_HandledPipelineAbort())
    return mlflow


class _HandledPipelineAbort:
    """Drop psycopg's "error ignored terminating <Pipeline>: pipeline aborted" warning.

    Cause: MLflow's SQL store logs a batch of metrics; when a row already exists (MLflow logs
    some metrics itself while logging the model) the insert fails with IntegrityError inside
    psycopg's executemany pipeline. MLflow catches that error and merges the rows, so nothing
    is lost; psycopg still warns that it closed the aborted pipeline, on stderr, with no context
    a person could act on. The record is replaced by a DEBUG line saying so.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "error ignored terminating" in message and "pipeline aborted" in message:
            logging.getLogger("driftloop.model.registry").debug(
                "MLflow retried a metrics batch after a duplicate row (handled; nothing lost)"
            )
            return False
        return True


_OPEN: dict[tuple[str, str | None, str | None], Registry] = {}
_OPEN_LOCK = threading.Lock()


class Registry:
    """MLflow tracking and model registry behind one small interface.

    Parameters
    ----------
    tracking_uri
        ``sqlite:///.driftloop/mlflow.db`` (default), ``postgresql://...`` or an MLflow server URL.
    artifact_root
        Where new experiments keep artifacts (a folder, or ``s3://bucket/prefix``).
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        artifact_root: str | None = None,
        s3_endpoint_url: str | None = None,
    ) -> None:
        self.tracking_uri = tracking_uri or DEFAULT_TRACKING_URI
        self.s3_endpoint_url = s3_endpoint_url  # for s3:// artifacts on S3-compatible stores
        if self.tracking_uri.startswith("sqlite:///"):
            path = Path(self.tracking_uri.removeprefix("sqlite:///"))
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                _create_sqlite_store(path)
        self.artifact_root = artifact_root or str(Path(".driftloop/mlartifacts").resolve())
        self._probe_store()
        self._mlflow = _quiet_mlflow()
        from mlflow import MlflowClient

        with self._errors("connecting"):
            self.client = MlflowClient(
                tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri
            )

    @classmethod
    def open(
        cls,
        tracking_uri: str | None = None,
        artifact_root: str | None = None,
        s3_endpoint_url: str | None = None,
    ) -> Registry:
        """The process's registry for this store, opened once and reused.

        Opening one costs a second or two (MLflow's import, its store's engine and schema
        check); the loop's retrain and publish steps, the demo and ``serve`` share it.
        """
        key = (tracking_uri or DEFAULT_TRACKING_URI, artifact_root, s3_endpoint_url)
        with _OPEN_LOCK:
            registry = _OPEN.get(key)
            if registry is None:
                registry = _OPEN[key] = cls(tracking_uri, artifact_root, s3_endpoint_url)
            return registry

    def __repr__(self) -> str:
        return f"Registry({redact_url(self.tracking_uri)!r})"

    def _probe_store(self) -> None:
        """Fail fast on an unreachable database store (MLflow itself retries for ~100 s)."""
        scheme = self.tracking_uri.split(":", 1)[0].split("+", 1)[0]
        if scheme not in ("postgresql", "mysql", "mssql"):
            return
        import sqlalchemy as sa

        engine = sa.create_engine(self.tracking_uri, connect_args={"connect_timeout": 5})
        try:
            with engine.connect():
                pass
        except sa.exc.SQLAlchemyError as err:
            first = str(getattr(err, "orig", err)).strip().splitlines()[0][:160]
            raise SourceError(
                f"The model registry store at {redact_url(self.tracking_uri)} is unreachable "
                f"({first}). Check that the MLflow store is running and reachable."
            ) from None
        finally:
            engine.dispose()

    # -- writing -------------------------------------------------------------------------------

    def experiment(self, name: str) -> str:
        """The id of experiment ``name``, created with its artifacts under ``artifact_root``."""
        with self._errors(f"opening experiment '{name}'"):
            found = self.client.get_experiment_by_name(name)
            if found is not None:
                return str(found.experiment_id)
            location = self.artifact_root.rstrip("/") + "/" + name
            if "://" not in location:
                location = Path(location).resolve().as_uri()
            return str(self.client.create_experiment(name, artifact_location=location))

    def log_version(
        self,
        name: str,
        *,
        experiment: str,
        estimator: Any,
        input_example: Any,
        params: dict[str, Any],
        metrics: dict[str, float],
        tags: dict[str, str],
        dicts: dict[str, Any],
        texts: dict[str, str],
        files: list[Path],
        description: str,
    ) -> tuple[int, str]:
        """Log a run with everything given, log the model (skops) and register a new version."""
        mlflow = self._mlflow
        from mlflow.models import infer_signature

        experiment_id = self.experiment(experiment)
        with self._errors(f"registering a new version of '{name}'"):
            run = self.client.create_run(experiment_id, tags=tags)
            run_id = run.info.run_id
            try:
                self._log_run(run_id, params, metrics, dicts, texts, files)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    signature = infer_signature(input_example, estimator.predict(input_example))
                mlflow.set_tracking_uri(self.tracking_uri)
                mlflow.set_registry_uri(self.tracking_uri)
                with mlflow.start_run(run_id=run_id), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    info = mlflow.sklearn.log_model(
                        estimator,
                        name="model",
                        signature=signature,
                        input_example=input_example,
                        pip_requirements=_pip_requirements(),
                        serialization_format="skops",
                        skops_trusted_types=_trusted_types(estimator),
                    )
                self._ensure_model(name)
                version = self.client.create_model_version(
                    name,
                    info.model_uri,
                    run_id=run_id,
                    tags=tags,
                    description=description,
                )
            except Exception:
                self.client.set_terminated(run_id, status="FAILED")
                raise
            self.client.set_terminated(run_id, status="FINISHED")
        return int(version.version), run_id

    def _log_run(
        self,
        run_id: str,
        params: dict[str, Any],
        metrics: dict[str, float],
        dicts: dict[str, Any],
        texts: dict[str, str],
        files: list[Path],
    ) -> None:
        from mlflow.entities import Metric, Param

        now = _now_ms()
        self.client.log_batch(
            run_id,
            metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
            params=[Param(k, str(v)[:6000]) for k, v in params.items()],
        )
        for path, content in dicts.items():
            self.client.log_dict(run_id, content, path)
        for path, text in texts.items():
            self.client.log_text(run_id, text, path)
        for file in files:
            self.client.log_artifact(run_id, str(file))

    def _ensure_model(self, name: str) -> None:
        from mlflow.exceptions import MlflowException

        try:
            self.client.get_registered_model(name)
        except MlflowException:
            self.client.create_registered_model(name)

    def finish_version(self, name: str, version: int, run_id: str, card: str) -> None:
        """Attach the final model card (knowing its version) as artifact and description."""
        with self._errors(f"writing the model card of version {version} of '{name}'"):
            self.client.log_text(run_id, card, "model_card.md")
            self.client.update_model_version(name, str(version), description=card)

    def set_status(self, name: str, version: int, status: str, reason: str = "") -> None:
        with self._errors(f"tagging version {version} of '{name}'"):
            self.client.set_model_version_tag(name, str(version), "driftloop.status", status)
            if reason:
                self.client.set_model_version_tag(name, str(version), "driftloop.reason", reason)

    def promote(self, name: str, version: int, reason: str = "promoted") -> int | None:
        """Point ``production`` at ``version``; returns the version it pointed at before."""
        with self._errors(f"promoting version {version} of '{name}'"):
            self._get_version(name, version)
            previous = self.production_version(name)
            if previous == version:
                return previous
            self.client.set_registered_model_alias(name, PRODUCTION, str(version))
            history = self._history(name)
            if previous is not None and (not history or history[-1] != previous):
                history.append(previous)
            history.append(version)
            self.client.set_registered_model_tag(name, _HISTORY_TAG, json.dumps(history[-50:]))
            if previous is not None:
                self.client.set_model_version_tag(
                    name, str(previous), "driftloop.status", "archived"
                )
            self.set_status(name, version, PRODUCTION, reason)
            return previous

    def rollback(self, name: str) -> tuple[int, int]:
        """Return ``production`` to the version before the current one: (from, to)."""
        with self._errors(f"rolling back '{name}'"):
            current = self.production_version(name)
            if current is None:
                raise RegistryError(f"Model '{name}' has no production version to roll back from.")
            history = self._history(name)
            while history and history[-1] == current:
                history.pop()
            if not history:
                raise RegistryError(
                    f"Model '{name}' has no earlier production version than {current}; "
                    "nothing to roll back to."
                )
            target = history[-1]
            self.client.set_registered_model_alias(name, PRODUCTION, str(target))
            self.client.set_registered_model_tag(name, _HISTORY_TAG, json.dumps(history))
            self.client.set_model_version_tag(name, str(current), "driftloop.status", "rolled_back")
            self.set_status(name, target, PRODUCTION, f"rollback from version {current}")
            return current, target

    # -- reading -------------------------------------------------------------------------------

    def _versions_of_run(self, name: str, run_id: str) -> list[Any]:
        """The versions of ``name`` that pipeline run ``run_id`` registered (its run tag)."""
        from mlflow.exceptions import MlflowException

        try:
            found = self.client.search_model_versions(f"name = '{name}'")
        except MlflowException:
            return []
        return [mv for mv in found if mv.tags.get("driftloop.run_id") == run_id]

    def decided_version_of_run(self, name: str, run_id: str) -> dict[str, Any] | None:
        """The retrain result of the version that pipeline run ``run_id`` registered and decided."""
        for mv in self._versions_of_run(name, run_id):
            status = mv.tags.get("driftloop.status")
            if status not in ("production", "archived", "rejected"):
                continue
            metric = mv.tags.get("driftloop.metric", "")
            metrics = self.client.get_run(mv.run_id).data.metrics if mv.run_id else {}
            return {
                "name": name,
                "version": int(mv.version),
                "promoted": status != "rejected",
                "reason": mv.tags.get("driftloop.reason", ""),
                "metric": metric,
                "score": metrics.get(metric),
                "champion_version": None,
                "champion_score": metrics.get(f"{metric}_production"),
                "run_id": mv.run_id,
                "published": [],
                "seconds": 0.0,
            }
        return None

    def undecided_version_of_run(self, name: str, run_id: str) -> dict[str, Any] | None:
        """A version pipeline run ``run_id`` registered but never promoted or rejected (its
        process died in between), with the decision it was registered with."""
        for mv in self._versions_of_run(name, run_id):
            tags = mv.tags
            if "driftloop.status" in tags or tags.get("driftloop.decision") not in (
                "promote",
                "reject",
            ):
                continue
            metric = tags.get("driftloop.metric", "")
            metrics = self.client.get_run(mv.run_id).data.metrics if mv.run_id else {}
            return {
                "version": int(mv.version),
                "promote": tags["driftloop.decision"] == "promote",
                "reason": tags.get("driftloop.reason", ""),
                "metric": metric,
                "score": metrics.get(metric, float("nan")),
                "champion_score": metrics.get(f"{metric}_production"),
                "run_id": mv.run_id or "",
                "description": mv.description or "",
            }
        return None

    def production_version(self, name: str) -> int | None:
        from mlflow.exceptions import MlflowException

        try:
            model = self.client.get_registered_model(name)
        except MlflowException:
            return None
        # Read aliases from the registered model: search_model_versions leaves them empty.
        version = model.aliases.get(PRODUCTION)
        return int(version) if version is not None else None

    def versions(self, name: str) -> list[ModelVersionInfo]:
        with self._errors(f"listing versions of '{name}'"):
            model = self._get_model(name)
            aliases: dict[int, list[str]] = {}
            for alias, version in model.aliases.items():
                aliases.setdefault(int(version), []).append(alias)
            found = self.client.search_model_versions(f"name = '{name}'")
            return sorted(
                (self._info(v, aliases.get(int(v.version), [])) for v in found),
                key=lambda v: v.version,
            )

    def show(self, ref: str) -> ModelVersionInfo:
        name, alias, version = parse_model_ref(ref)
        with self._errors(f"reading '{ref}'"):
            model = self._get_model(name)
            if alias is not None:
                if alias not in model.aliases:
                    raise RegistryError(
                        f"Model '{name}' has no alias '{alias}'. Aliases: "
                        f"{', '.join(model.aliases) or 'none'}."
                    )
                version = int(model.aliases[alias])
            if version is None:
                version = self.production_version(name) or max(
                    v.version for v in self.versions(name)
                )
            mv = self._get_version(name, version)
            aliases = [a for a, v in model.aliases.items() if int(v) == version]
            return self._info(mv, aliases)

    def load(self, name: str, alias: str = PRODUCTION, trusted: Sequence[str] = ()) -> Any:
        """Load ``models:/name@alias`` as the original estimator, with driftloop's own trust
        rules (:mod:`driftloop.model.loading`), never the artifact's."""
        from driftloop.model.loading import load_model_folder

        with self._errors(f"loading '{name}@{alias}'"):
            model = self._get_model(name)
            if alias not in model.aliases:
                raise RegistryError(
                    f"Model '{name}' has no '{alias}' version yet. Promote one first."
                )
            version = int(model.aliases[alias])
        with tempfile.TemporaryDirectory() as tmp:
            folder = self.download(name, version, Path(tmp) / "model")
            return load_model_folder(folder, trusted=trusted, what=f"model {name} v{version}")

    def production_reliance(self, name: str) -> dict[str, float] | None:
        """The production version's ``importance.json`` (feature -> share of the model's
        reliance), or None without a production version or the file."""
        loaded = self.production_artifact(name, "importance.json")
        return None if loaded is None else {str(k): float(v) for k, v in loaded[1].items()}

    def production_artifact(self, name: str, path: str) -> tuple[int, dict[str, Any]] | None:
        """The production version and the JSON file ``path`` it was logged with, or None
        without a production version or the file (a version registered before it was kept)."""
        with self._errors(f"reading {path} of '{name}'"):
            model = self._get_model(name)
            if PRODUCTION not in model.aliases:
                return None
            version = int(model.aliases[PRODUCTION])
            mv = self._get_version(name, version)
            mlflow = self._mlflow
            mlflow.set_tracking_uri(self.tracking_uri)
            try:
                loaded = mlflow.artifacts.load_dict(f"runs:/{mv.run_id}/{path}")
            except Exception:  # not logged with this version
                return None
            return version, dict(loaded)

    def download(self, name: str, version: int, into: Path) -> Path:
        """Download version ``version``'s model folder; returns its path."""
        mlflow = self._mlflow
        with self._errors(f"downloading version {version} of '{name}'"):
            mlflow.set_registry_uri(self.tracking_uri)
            mlflow.set_tracking_uri(self.tracking_uri)
            return Path(
                mlflow.artifacts.download_artifacts(
                    artifact_uri=f"models:/{name}/{version}", dst_path=str(into)
                )
            )

    # -- helpers -------------------------------------------------------------------------------

    def _history(self, name: str) -> list[int]:
        tags = self.client.get_registered_model(name).tags
        return [int(v) for v in json.loads(tags.get(_HISTORY_TAG, "[]"))]

    def _get_model(self, name: str) -> Any:
        from mlflow.exceptions import MlflowException

        try:
            return self.client.get_registered_model(name)
        except MlflowException:
            raise RegistryError(
                f"No registered model '{name}' in {redact_url(self.tracking_uri)}. "
                "Train one first (driftloop run) or check the name."
            ) from None

    def _get_version(self, name: str, version: int) -> Any:
        from mlflow.exceptions import MlflowException

        try:
            return self.client.get_model_version(name, str(version))
        except MlflowException:
            known = ", ".join(str(v.version) for v in self.versions(name)) or "none"
            raise RegistryError(
                f"Model '{name}' has no version {version}. Versions: {known}."
            ) from None

    def _info(self, mv: Any, aliases: list[str]) -> ModelVersionInfo:
        metrics: dict[str, float] = {}
        if mv.run_id:
            run = self.client.get_run(mv.run_id)
            metrics = dict(run.data.metrics)
        import datetime as dt

        created = dt.datetime.fromtimestamp(mv.creation_timestamp / 1000, dt.UTC)
        return ModelVersionInfo(
            name=mv.name,
            version=int(mv.version),
            aliases=tuple(sorted(aliases)),
            status=mv.tags.get("driftloop.status", "candidate"),
            metrics=metrics,
            trigger=mv.tags.get("driftloop.trigger", ""),
            reason=mv.tags.get("driftloop.reason", ""),
            created=created.strftime("%Y-%m-%d %H:%M:%S UTC"),
            run_id=mv.run_id or "",
            description=mv.description or "",
        )

    def _errors(self, doing: str) -> Any:
        return _RegistryErrors(self, doing)


_ENDPOINT_LOCK = threading.RLock()  # MLflow reads its S3 endpoint from the process environment
_ENDPOINT_VARIABLE = "MLFLOW_S3_ENDPOINT_URL"


class _RegistryErrors:
    """Around every MLflow call: errors become one line, and ``MLFLOW_S3_ENDPOINT_URL`` is set to
    the registry's S3 endpoint for the call only (MLflow ignores boto3 settings passed any other
    way; other code in the process never sees the variable)."""

    def __init__(self, registry: Registry, doing: str) -> None:
        self.registry, self.doing = registry, doing
        self.previous: str | None = None

    def __enter__(self) -> None:
        if self.registry.s3_endpoint_url:
            _ENDPOINT_LOCK.acquire()
            self.previous = os.environ.get(_ENDPOINT_VARIABLE)
            os.environ[_ENDPOINT_VARIABLE] = self.registry.s3_endpoint_url

    def __exit__(self, kind: Any, value: Any, tb: Any) -> None:
        if self.registry.s3_endpoint_url:
            if self.previous is None:
                os.environ.pop(_ENDPOINT_VARIABLE, None)
            else:
                os.environ[_ENDPOINT_VARIABLE] = self.previous
            _ENDPOINT_LOCK.release()
        if value is None or isinstance(value, DriftloopError):
            return
        from mlflow.exceptions import MlflowException

        if isinstance(value, MlflowException | OSError) or "sqlalchemy" in type(value).__module__:
            where = redact_url(self.registry.tracking_uri)
            first = str(value).strip().splitlines()[0][:200] if str(value).strip() else ""
            raise SourceError(
                f"The model registry at {where} failed while {self.doing}: "
                f"{type(value).__name__}: {first}. Check that the MLflow store is reachable."
            ) from None


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)


def _pip_requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{p}=={version(p)}" for p in ("scikit-learn", "numpy", "scipy", "pandas", "skops")]


def _trusted_types(estimator: Any) -> list[str]:
    """Types skops should load: the ones in the estimator we just trained ourselves."""
    import skops.io as sio

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.skops"
        sio.dump(estimator, path)
        return list(sio.get_untrusted_types(file=path))
