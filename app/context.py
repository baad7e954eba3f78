"""The immutable review context handed to every rule."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar, cast

from app.catalog import Catalog
from app.formats import FileFacts, extract
from app.manifest import Deployment, EffectiveManifest, Manifest

_T = TypeVar("_T")


@dataclass(frozen=True)
class SourceFile:
    """A text file at the head commit, with the lines the change touched."""

    path: str
    text: str
    changed_lines: frozenset[int]  # all lines in `scan` mode; added lines in `check` mode
    status: str = "modified"

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @cached_property
    def facts(self) -> FileFacts:
        return extract(self.path, self.text)

    def line_text(self, line: int) -> str:
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""

    def is_changed(self, line: int) -> bool:
        return line in self.changed_lines

    def derived(self, factory: Callable[[SourceFile], _T]) -> _T:
        """`factory(self)`, computed once per file: what several rules read (where comments sit, which
        lines name a GPU) is worked out once, not once per rule. `factory` must depend on the file alone."""
        memo = self._derived
        if factory in memo:
            return cast(_T, memo[factory])
        value = memo[factory] = factory(self)
        return value

    def forget_derived(self) -> None:
        """Drop what was worked out from the text (`facts`, `derived` results): the engine does once every
        file-local rule has read the file, so that a large change does not keep every file's parse alive.
        Anything asked for again is worked out again, the same."""
        self.__dict__.pop("facts", None)  # where cached_property keeps it
        self._derived.clear()

    @cached_property
    def _derived(self) -> dict[Callable[[SourceFile], object], object]:
        return {}


@dataclass(frozen=True)
class ReviewContext:
    catalog: Catalog
    effective: EffectiveManifest
    files: tuple[SourceFile, ...]  # the changed text files (or every file, in scan mode)
    # Every text file at head, read lazily (only stale-reference needs the whole repository).
    repository_files: Callable[[], Iterator[SourceFile]] = field(default=lambda: iter(()))
    mode: str = "check"  # "check" (a change) or "scan" (every file at one commit)

    @property
    def manifest(self) -> Manifest:
        return self.effective.manifest

    @property
    def base_manifest(self) -> Manifest | None:
        return self.effective.base

    @property
    def deployments(self) -> tuple[Deployment, ...]:
        return self.manifest.deployments

    def deployment_for(self, path: str) -> Deployment | None:
        memo = self._deployments_by_path  # every file-local rule asks for every file
        if path not in memo:
            memo[path] = self.manifest.deployment_for(path)
        return memo[path]

    @cached_property
    def _deployments_by_path(self) -> dict[str, Deployment | None]:
        return {}

    def files_with_deployment(self) -> Iterator[tuple[SourceFile, Deployment]]:
        """Each reviewed file with the deployment that governs it (files no deployment governs are skipped)."""
        for source_file in self.files:
            deployment = self.deployment_for(source_file.path)
            if deployment is not None:
                yield source_file, deployment
