"""The immutable review context handed to every rule."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

from app.catalog import Catalog
from app.formats import FileFacts, extract
from app.manifest import Deployment, EffectiveManifest, Manifest


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
        return self.manifest.deployment_for(path)

    def files_with_deployment(self) -> Iterator[tuple[SourceFile, Deployment]]:
        """Each reviewed file with the deployment that governs it (files no deployment governs are skipped)."""
        for source_file in self.files:
            deployment = self.deployment_for(source_file.path)
            if deployment is not None:
                yield source_file, deployment
