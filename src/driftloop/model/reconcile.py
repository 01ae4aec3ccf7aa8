"""Production is always published: the registry's production version against what consumers read.

A publish is several writes (the version's files, its checksum manifest, then the production
pointer) after the registry moved its ``production`` alias. A process that dies in between leaves
the registry saying v4 while the pointer still names v3, or v4's files missing or half there. Every
run checks, before its own retrain and publish, that the pointer names the registry's production
version, that the version's manifest is there and that every file it lists is stored with its
checksum; when anything differs it publishes the production version again, whole (the pointer
last, so readers never see a pointer to files not yet in place). Publishing is idempotent, so
finishing a publish that was in fact complete costs a re-upload and nothing else; when everything
matches, nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from driftloop.actions.publish import PublishedFile, Publisher

if TYPE_CHECKING:
    from driftloop.model.registry import Registry

__all__ = ["Reconciled", "check", "published_problems", "reconcile"]


@dataclass(frozen=True, slots=True)
class Reconciled:
    """What reconciling found and did.

    ``production``: the registry's production version (None: there is none, nothing to check).
    ``pointed``: the version the pointer named before (None: no readable pointer).
    ``problems``: how the published state differed from the registry's (empty: it matched).
    ``published``: the files written to repair it (empty: nothing written).
    """

    name: str
    production: int | None
    pointed: int | None
    problems: tuple[str, ...]
    checked: int = 0
    published: tuple[PublishedFile, ...] = ()

    @property
    def consistent(self) -> bool:
        return not self.problems

    def line(self) -> str:
        """One line for the run's output and record.

        Examples
        --------
        >>> Reconciled("bikes", 4, 3, ("the pointer names v3",), published=()).line()
        'production v4 of bikes was not published (the pointer names v3)'
        >>> Reconciled("bikes", 4, 4, (), checked=5).line()
        'production v4 of bikes is published (5 files match their checksums)'
        """
        if self.production is None:
            return f"{self.name} has no production version"
        if not self.problems:
            return (
                f"production v{self.production} of {self.name} is published "
                f"({self.checked} files match their checksums)"
            )
        text = f"production v{self.production} of {self.name} was not published"
        text += f" ({'; '.join(self.problems)})"
        return text + ("; published it" if self.published else "")


def published_problems(publisher: Publisher, name: str, version: int) -> tuple[list[str], int]:
    """How the published state differs from ``version`` being production, and how many files
    were checked; no problems means the pointer names it and every file matches its checksum."""
    problems: list[str] = []
    pointer = publisher.pointer(name)
    if pointer is None:
        problems.append("no production pointer")
    elif "version" not in pointer:
        problems.append("the production pointer is unreadable")
    elif pointer.get("version") != version:
        problems.append(f"the pointer names v{pointer.get('version', '?')}")
    manifest = publisher.manifest(name, version)
    if not manifest:
        problems.append(f"v{version} has no checksum manifest")
        return problems, 0
    missing = [key for key, sha in manifest.items() if publisher.digest(name, version, key) != sha]
    if missing:
        problems.append(f"{_files(missing)} missing or not matching the manifest")
    if pointer and pointer.get("version") == version:
        named = {key.rsplit("/", 1)[-1]: sha for key, sha in manifest.items()}
        if pointer.get("files") != named:
            problems.append("the pointer's checksums differ from the manifest's")
    return problems, len(manifest)


def _files(keys: list[str]) -> str:
    shown = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
    return f"{len(keys)} file{'s' if len(keys) > 1 else ''} ({shown})"


def check(registry: Registry, publisher: Publisher, name: str) -> Reconciled:
    """Compare the registry's production version with what is published; write nothing.

    Examples
    --------
    >>> import tempfile
    >>> from driftloop.actions.publish import LocalPublisher
    >>> from driftloop.model.registry import Registry
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     registry = Registry(f"sqlite:///{tmp}/mlflow.db", f"{tmp}/artifacts")
    ...     check(registry, LocalPublisher(f"{tmp}/published"), "bikes").line()
    'bikes has no production version'
    """
    production = registry.production_version(name)
    if production is None:
        return Reconciled(name, None, None, ())
    pointer = publisher.pointer(name)
    pointed = pointer.get("version") if pointer else None
    problems, checked = published_problems(publisher, name, production)
    return Reconciled(
        name, production, pointed if isinstance(pointed, int) else None, tuple(problems), checked
    )


def reconcile(registry: Registry, publisher: Publisher, name: str) -> Reconciled:
    """Finish a half-done publish: publish the registry's production version again when what is
    published differs from it (the pointer last); write nothing when it matches."""
    from dataclasses import replace

    from driftloop.model.lifecycle import publish_version

    found = check(registry, publisher, name)
    if found.production is None or found.consistent:
        return found
    published = publish_version(registry, publisher, name, found.production)
    return replace(found, published=published)
