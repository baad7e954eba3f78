"""`Scope`: binds each file to the deployment it describes, or says why it describes none (spec §1b).

A file binds to the first deployment whose `paths:` match it; failing that, to the first deployment that
declares no `paths:` (it governs every file). Either way the default exclusion classes still apply: with
`paths:`, to the part of the path below the glob's fixed folders (`paths: [examples/ours/**]` keeps
`examples/ours/values.yaml` but not `examples/ours/tests/x.py`).

Within a bound file, `blocks.LineBinder` decides line by line (other providers, per-target folders,
catalog rows). The engine drops findings on lines not bound to their deployment, and every kept finding
says what bound it (`Finding.bound_by`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from align.manifest import Deployment, Manifest, matches_any
from align.scope.blocks import BOUND, LineBinder, LineBinding
from align.scope.classes import CLASS_NAMES, classify, describe
from align.scope.profile import RepositoryProfile


@dataclass(frozen=True, slots=True)
class FileScope:
    path: str
    deployment: Deployment | None  # the deployment the file binds to (in an audit: also when excluded)
    reason: str  # what bound it, or why it is not bound
    bound: bool  # False when excluded or governed by no deployment (an audit still reads it)
    excluded: str | None = None  # the exclusion class, when one applies
    explicit: bool = False  # bound by the deployment's own `paths:` (the user said it describes it)


class Scope:
    """File scope for one review. `audit` (`--all`): excluded files are read too, and what they hold is
    reported as notices that say why it would not count."""

    def __init__(
        self,
        manifest: Manifest,
        *,
        audit: bool = False,
        tree: Callable[[], Iterable[str]] | None = None,
        base: Manifest | None = None,
        profile: RepositoryProfile | None = None,
        base_text: Callable[[str], str | None] | None = None,
    ) -> None:
        self.manifest = manifest
        self.profile = profile or RepositoryProfile()
        self.base_text = base_text
        self._previous = {d.name: d for d in base.deployments} if base is not None else {}
        self.audit = audit
        self.active_classes = tuple(c for c in CLASS_NAMES if c not in manifest.scope_include)
        self._memo: dict[str, FileScope] = {}
        self._binders: dict[tuple[str, str], LineBinder] = {}
        self._tree = tree
        self._tree_paths: list[str] | None = None

    def tree(self) -> list[str]:
        """Every path at the reviewed commit (read once, only when a per-target folder needs its siblings)."""
        if self._tree_paths is None:
            self._tree_paths = list(self._tree()) if self._tree is not None else []
        return self._tree_paths

    def line(self, path: str, text: str, deployment: Deployment, line: int) -> LineBinding:
        """Whether `line` of a file bound to `deployment` is about it (see `blocks.LineBinder`)."""
        return self._binder(path, text, deployment).binding(line) if line > 0 else BOUND

    def may_be_another_target(self, path: str, text: str, deployment: Deployment, line: int) -> bool:
        """Whether `line` could be another target's in a repository that names many GPU models (see
        `blocks.LineBinder.may_be_another_target`)."""
        return line > 0 and self._binder(path, text, deployment).may_be_another_target(line)

    def is_prose(self, path: str, text: str, deployment: Deployment, first: int, last: int) -> bool:
        """Whether lines `first`..`last` are prose or comments (their claims do not fail the check)."""
        return self._binder(path, text, deployment).is_prose(first, last)

    def _before(self, path: str) -> Callable[[], str | None] | None:
        reader = self.base_text
        return None if reader is None else (lambda: reader(path))

    def _binder(self, path: str, text: str, deployment: Deployment) -> LineBinder:
        key = (path, deployment.name)
        binder = self._binders.get(key)
        if binder is None or binder.text is not text:
            if len(self._binders) > 256:  # bounded: one review reads files a batch at a time
                self._binders.clear()
            binder = self._binders[key] = LineBinder(path, text, deployment, self.manifest.deployments,
                                                     self.manifest.catalog, self.tree,
                                                     self._previous.get(deployment.name),
                                                     explicit=self.file(path).explicit, profile=self.profile,
                                                     base_text=self._before(path))
        return binder

    def file(self, path: str, text: str | None = None) -> FileScope:
        """The scope of `path`; `text` (its start is enough) lets content classes apply (pinned hashes,
        "Code generated ... DO NOT EDIT"). Memoized per path: pass the text the first time."""
        found = self._memo.get(path)
        if found is None:
            found = self._memo[path] = self._decide(path, text)
        return found

    def _decide(self, path: str, text: str | None) -> FileScope:
        for deployment in self.manifest.deployments:
            if not deployment.paths_declared:
                continue
            glob = next((g for g in deployment.paths if matches_any(path, (g,))), None)
            if glob is not None:
                return self._within(path, text, deployment, f"paths: {glob}", _below_fixed_folders(path, glob))
        catch_all = next((d for d in self.manifest.deployments if not d.paths_declared), None)
        if catch_all is None:
            return FileScope(path, None, "no deployment's `paths:` match this file", False)
        top = path.split("/", 1)[0] + "/**" if "/" in path else "the repository root"
        return self._within(path, text, catch_all, f"default scope: {top}", path)

    def _within(self, path: str, text: str | None, deployment: Deployment, reason: str, rest: str) -> FileScope:
        excluded = classify(rest, text, self.active_classes)
        if excluded is None:
            return FileScope(path, deployment, reason, True, explicit=deployment.paths_declared)
        name, matched = excluded
        why = f"excluded: {name} ({matched}; {describe(name)}); `scope: {{include: [{name}]}}` reviews them"
        return FileScope(path, deployment if self.audit else None, why, False, name)


def _below_fixed_folders(path: str, glob: str) -> str:
    """The part of `path` below the glob's leading folders without wildcards: what the default classes
    still judge inside a folder a user named."""
    fixed = []
    for part in glob.strip("/").split("/")[:-1]:
        if any(c in part for c in "*?["):
            break
        fixed.append(part)
    prefix = "/".join(fixed)
    if prefix and path.startswith(prefix + "/"):
        return path[len(prefix) + 1 :]
    return path
