"""Publishing a model version: to S3 (or an S3-compatible store) or to a local folder.

Each file lands at ``PREFIX/NAME/VERSION/<file>`` with its SHA-256 in the object's metadata
(``sha256``), set in the same request as the upload, so no object ever exists without its
checksum. After the upload the object is read back and its hash compared; a mismatch deletes it.
Once every file is in place, the version's checksum manifest (``NAME/VERSION/SHA256SUMS``, one
``<sha256>  <file>`` line each) follows, and the production pointer (``NAME/production.json``)
comes last. The read side (``pointer``, ``manifest``, ``digest``) is what reconciling production
with the registry checks (:mod:`driftloop.model.reconcile`).
Credentials come from the environment (or the config's secret references), never from code.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from driftloop.errors import SourceError

if TYPE_CHECKING:
    from driftloop.config import StoresConfig

__all__ = [
    "LocalPublisher",
    "PublishedFile",
    "Publisher",
    "S3Publisher",
    "manifest_text",
    "publisher_for",
    "read_manifest",
    "sha256_of",
]

MANIFEST = "SHA256SUMS"
POINTER = "production.json"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class PublishedFile:
    uri: str
    sha256: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"uri": self.uri, "sha256": self.sha256, "size": self.size}


class Publisher(Protocol):
    def publish(
        self, name: str, version: int, files: list[tuple[Path, str]]
    ) -> list[PublishedFile]:
        """Publish ``(local path, relative key)`` pairs for one model version."""
        ...

    def point(self, name: str, version: int, files: list[PublishedFile]) -> PublishedFile:
        """Write ``NAME/production.json``: the production version and its files' checksums."""
        ...

    def pointer(self, name: str) -> dict[str, Any] | None:
        """The production pointer as stored (None when there is none; ``{}`` when unreadable)."""
        ...

    def manifest(self, name: str, version: int) -> dict[str, str] | None:
        """A published version's checksums by file (None when it has no manifest)."""
        ...

    def digest(self, name: str, version: int, relative: str) -> str | None:
        """The SHA-256 of a published file's stored bytes (None when it is missing)."""
        ...


def manifest_text(files: list[PublishedFile], keys: list[str]) -> str:
    """A version's checksum manifest: one ``<sha256>  <file>`` line per file (``sha256sum``'s).

    Examples
    --------
    >>> files = [PublishedFile("s3://b/m/1/model.skops", "ab", 1)]
    >>> print(manifest_text(files, ["model.skops"]), end="")
    ab  model.skops
    """
    return "".join(f"{f.sha256}  {key}\n" for f, key in zip(files, keys, strict=True))


def read_manifest(text: str) -> dict[str, str]:
    """The checksums of a manifest by file; lines that are not ``<sha256>  <file>`` are dropped
    (a manifest that lists nothing is checked as one that lists nothing).

    Examples
    --------
    >>> read_manifest(chr(10).join(["ab  model.skops", "garbage"]))
    {'model.skops': 'ab'}
    """
    pairs = (line.partition("  ") for line in text.splitlines())
    return {key: digest for digest, sep, key in pairs if sep and digest and key}


def _pointer_from(text: str) -> dict[str, Any]:
    try:
        found = json.loads(text)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def pointer_json(name: str, version: int, location: str, files: list[PublishedFile]) -> str:
    """The production pointer consumers read at a fixed key (``NAME/production.json``).

    Examples
    --------
    >>> text = pointer_json("bikes", 3, "models/bikes/3", [PublishedFile("a/model.skops", "ab", 1)])
    >>> sorted(json.loads(text))
    ['files', 'location', 'name', 'updated_at', 'version']
    """
    import datetime as dt

    return json.dumps(
        {
            "name": name,
            "version": version,
            "location": location,
            "files": {f.uri.rsplit("/", 1)[-1]: f.sha256 for f in files},
            "updated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
        indent=2,
    )


class LocalPublisher:
    """Copies files to ``root/NAME/VERSION/`` with a ``SHA256SUMS`` file beside them."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def publish(
        self, name: str, version: int, files: list[tuple[Path, str]]
    ) -> list[PublishedFile]:
        target = self.root / name / str(version)
        staging = target.with_name(f".{version}.partial")
        shutil.rmtree(staging, ignore_errors=True)
        out = []
        for path, key in files:
            dest = staging / key
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
            out.append(PublishedFile(str(target / key), sha256_of(dest), dest.stat().st_size))
        (staging / MANIFEST).write_text(manifest_text(out, [key for _, key in files]))
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)  # the version folder appears whole or not at all
        return out

    def point(self, name: str, version: int, files: list[PublishedFile]) -> PublishedFile:
        target = self.root / name / POINTER
        partial = target.with_name(f".{POINTER}.partial")
        partial.write_text(pointer_json(name, version, str(self.root / name / str(version)), files))
        os.replace(partial, target)  # readers see the old pointer or the new one, never half
        return PublishedFile(str(target), sha256_of(target), target.stat().st_size)

    def pointer(self, name: str) -> dict[str, Any] | None:
        path = self.root / name / POINTER
        return _pointer_from(path.read_text(errors="replace")) if path.is_file() else None

    def manifest(self, name: str, version: int) -> dict[str, str] | None:
        path = self.root / name / str(version) / MANIFEST
        return read_manifest(path.read_text(errors="replace")) if path.is_file() else None

    def digest(self, name: str, version: int, relative: str) -> str | None:
        path = self.root / name / str(version) / relative
        return sha256_of(path) if path.is_file() else None


class S3Publisher:
    """Uploads to ``s3://bucket/prefix/NAME/VERSION/`` with boto3, verifying each object."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "models",
        *,
        endpoint_url: str | None = None,
        max_attempts: int = 4,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket, self.prefix = bucket, prefix.strip("/")
        config = Config(
            retries={"max_attempts": max_attempts, "mode": "standard"},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        self.client = boto3.session.Session().client("s3", endpoint_url=endpoint_url, config=config)
        self.max_attempts = max_attempts

    def key(self, name: str, version: int, relative: str) -> str:
        return "/".join(p for p in (self.prefix, name, str(version), relative) if p)

    def publish(
        self, name: str, version: int, files: list[tuple[Path, str]]
    ) -> list[PublishedFile]:
        import tempfile

        out = [self._put(path, self.key(name, version, relative)) for path, relative in files]
        with tempfile.TemporaryDirectory() as tmp:  # after every file: a manifest lists only
            path = Path(tmp) / MANIFEST  # objects already in place
            path.write_text(manifest_text(out, [relative for _, relative in files]))
            self._put(path, self.key(name, version, MANIFEST))
        return out

    def point(self, name: str, version: int, files: list[PublishedFile]) -> PublishedFile:
        import tempfile

        location = f"s3://{self.bucket}/{self.key(name, version, '')}".rstrip("/")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "production.json"
            path.write_text(pointer_json(name, version, location, files))
            return self._put(path, self._pointer_key(name))  # one PUT: old or new, never half

    def _pointer_key(self, name: str) -> str:
        return "/".join(p for p in (self.prefix, name, POINTER) if p)

    def pointer(self, name: str) -> dict[str, Any] | None:
        body = self._get(self._pointer_key(name))
        return _pointer_from(body.decode(errors="replace")) if body is not None else None

    def manifest(self, name: str, version: int) -> dict[str, str] | None:
        body = self._get(self.key(name, version, MANIFEST))
        return read_manifest(body.decode(errors="replace")) if body is not None else None

    def digest(self, name: str, version: int, relative: str) -> str | None:
        body = self._get(self.key(name, version, relative))
        return hashlib.sha256(body).hexdigest() if body is not None else None

    def read(self, uri: str) -> bytes | None:
        """The bytes of a published object named by its ``s3://`` URI (None: no such object,
        or not under this publisher's bucket and prefix)."""
        base = f"s3://{self.bucket}/{self.prefix}/" if self.prefix else f"s3://{self.bucket}/"
        if not uri.startswith(base) or ".." in uri:
            return None
        return self._get(uri.removeprefix(f"s3://{self.bucket}/"))

    def _get(self, key: str) -> bytes | None:
        """An object's bytes, or None when there is no such object."""
        import botocore.exceptions

        uri = f"s3://{self.bucket}/{key}"
        try:
            body: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except botocore.exceptions.ClientError as err:
            code = err.response.get("Error", {}).get("Code", "error")
            if code in ("NoSuchKey", "404", "NotFound"):
                return None
            raise SourceError(
                f"Reading '{uri}' was refused ({code}). Check the bucket, the credentials and "
                "the bucket policy."
            ) from None
        except botocore.exceptions.EndpointConnectionError:
            raise SourceError(
                f"Cannot reach the S3 endpoint to read '{uri}' after {self.max_attempts} "
                "attempts. Check the endpoint URL and the network."
            ) from None
        except botocore.exceptions.BotoCoreError as err:
            raise SourceError(f"Reading '{uri}' failed: {type(err).__name__}.") from None
        return body

    def _put(self, path: Path, key: str) -> PublishedFile:
        import botocore.exceptions

        uri = f"s3://{self.bucket}/{key}"
        digest = sha256_of(path)
        try:
            with path.open("rb") as body:
                self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=body, Metadata={"sha256": digest}
                )
            stored = self.client.get_object(Bucket=self.bucket, Key=key)
            actual = hashlib.sha256(stored["Body"].read()).hexdigest()
            if stored.get("Metadata", {}).get("sha256") != digest or actual != digest:
                self.client.delete_object(Bucket=self.bucket, Key=key)
                raise SourceError(
                    f"Upload of '{uri}' did not verify (SHA-256 mismatch); the object was removed. "
                    "Publish again."
                )
        except botocore.exceptions.EndpointConnectionError:
            raise SourceError(
                f"Cannot reach the S3 endpoint to publish '{uri}' after {self.max_attempts} "
                "attempts. Check the endpoint URL and the network."
            ) from None
        except botocore.exceptions.ClientError as err:
            code = err.response.get("Error", {}).get("Code", "error")
            raise SourceError(
                f"Publishing '{uri}' was refused ({code}). Check the bucket, the credentials and "
                "the bucket policy."
            ) from None
        except botocore.exceptions.BotoCoreError as err:
            raise SourceError(f"Publishing '{uri}' failed: {type(err).__name__}.") from None
        return PublishedFile(uri, digest, path.stat().st_size)


def publisher_for(stores: StoresConfig) -> Publisher:
    """The publisher ``stores.artifacts`` names: ``s3://bucket/prefix`` or a local folder."""
    target = stores.artifacts
    if target.startswith("s3://"):
        bucket, _, prefix = target.removeprefix("s3://").partition("/")
        return S3Publisher(
            bucket,
            prefix,
            endpoint_url=stores.s3_endpoint_url,
            max_attempts=stores.s3_attempts,
            connect_timeout=stores.s3_timeout_seconds,
            read_timeout=stores.s3_timeout_seconds,
        )
    return LocalPublisher(target)
