"""The immutable review context handed to every rule."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar, cast

from align.catalog import Catalog, GpuMention
from align.formats import FileFacts, extract
from align.manifest import Deployment, EffectiveManifest, Manifest
from align.scope.binding import FileScope, LineBinding, Scope
from align.scope.profile import PendingProfile, RepositoryProfile

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

    def mentions(self, catalog: Catalog) -> list[GpuMention]:
        """`catalog.find_mentions(self.text)`, found once: several rules and the repository profile read them."""
        memo = self._derived
        key = ("mentions", id(catalog))
        found = cast(tuple[Catalog, list[GpuMention]] | None, memo.get(key))
        if found is None or found[0] is not catalog:  # the same id, another catalog: not ours
            found = (catalog, catalog.find_mentions(self.text))
            memo[key] = found
        return found[1]

    def forget_derived(self) -> None:
        """Drop what was worked out from the text (`facts`, `derived` results): the engine does once every
        file-local rule has read the file, so that a large change does not keep every file's parse alive.
        Anything asked for again is worked out again, the same."""
        self.__dict__.pop("facts", None)  # where cached_property keeps it
        self._derived.clear()

    @cached_property
    def _derived(self) -> dict[object, object]:
        return {}


@dataclass(frozen=True)
class ReviewContext:
    catalog: Catalog
    effective: EffectiveManifest
    files: tuple[SourceFile, ...]  # the changed text files (or every file, in scan mode)
    # Every text file at head, read lazily (only stale-reference needs the whole repository).
    repository_files: Callable[[], Iterator[SourceFile]] = field(default=lambda: iter(()))
    mode: str = "check"  # "check" (a change) or "scan" (every file at one commit)
    audit: bool = False  # `--all`: excluded files and unbound lines are read too, reported as notices

    # Every path at the reviewed commit, for scope decisions that look at a file's neighbours.
    tree: Callable[[], Iterator[str]] | None = None
    # What the repository is about: the GPU models its in-scope files name (spec §1b). Pending: the engine
    # works it out while the rules read the files, and decides "another target" lines afterwards.
    profile: RepositoryProfile | PendingProfile = field(default_factory=RepositoryProfile)
    # A changed file's text before the change (None: added, or a scan): whether it was the deployment's.
    base_text: Callable[[str], str | None] | None = None

    @cached_property
    def scope(self) -> Scope:
        """Which file binds to which deployment (spec §1b), decided once for the review."""
        profile = self.profile if isinstance(self.profile, RepositoryProfile) else RepositoryProfile()
        return Scope(self.manifest, audit=self.audit, tree=self.tree, base=self.base_manifest, profile=profile,
                     base_text=self.base_text)

    @cached_property
    def files_by_path(self) -> dict[str, SourceFile]:
        return {f.path: f for f in self.files}

    def line_binding(self, source_file: SourceFile, deployment: Deployment, line: int) -> LineBinding:
        """Whether a line of a file bound to `deployment` is about it, or why not (spec §1b). Rules rarely
        need it: the engine drops findings on lines that are not."""
        return self.scope.line(source_file.path, source_file.text, deployment, line)

    @property
    def manifest(self) -> Manifest:
        return self.effective.manifest

    @property
    def base_manifest(self) -> Manifest | None:
        return self.effective.base

    @property
    def deployments(self) -> tuple[Deployment, ...]:
        return self.manifest.deployments

    def file_scope(self, source_file: SourceFile | str) -> FileScope:
        """The file's scope: the deployment it binds to and why (or why none)."""
        if isinstance(source_file, str):
            return self.scope.file(source_file)
        return self.scope.file(source_file.path, source_file.text)

    def deployment_for(self, source_file: SourceFile | str) -> Deployment | None:
        """The deployment a file binds to: None for files out of scope (excluded, or no `paths:` match),
        except in an audit, which reads them too."""
        return self.file_scope(source_file).deployment

    def files_with_deployment(self) -> Iterator[tuple[SourceFile, Deployment]]:
        """Each reviewed file with the deployment it binds to (files out of scope are skipped)."""
        for source_file in self.files:
            deployment = self.deployment_for(source_file)
            if deployment is not None:
                yield source_file, deployment
