"""The one orchestration path: (source, base, head) -> ReviewResult. The CLI, the service and the demo
all call `review_change` / `scan_commit`; nothing here knows about GitHub, HTTP or a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from align.catalog import Catalog
from align.context import ReviewContext, SourceFile
from align.deadline import Deadline, expired
from align.engine import run_rules
from align.findings import Finding, Severity, Waiver
from align.finishing import finish_findings, manifest_errors_in_diff
from align.manifest import MANIFEST_PATHS, EffectiveManifest, ManifestError, effective_manifest
from align.result import NO_MANIFEST_REASON, Conclusion, ReviewResult, SkippedFile, conclusion_for
from align.rule_api import LoadedRules, load_rules
from align.scope.binding import FileScope, Scope
from align.scope.profile import PendingProfile
from align.source import (
    MAX_FILE_BYTES,
    MAX_FILE_NUMBERS,
    MAX_LINE_CHARS,
    FileChange,
    ReadText,
    RepoSource,
    added_lines_between,
    as_read,
)

NO_MANIFEST_HELP = (
    "No `align.yaml` was found at the repository root or in `.github/` on either side of this change, so "
    "there is no deployment to compare against. Add one, for example:\n\n"
    "```yaml\nversion: 1\ndeployments:\n  - name: production\n    gpu: GH200\n    count: 3\n"
    "    price_per_gpu_hour: 1.49\n```"
)


def _read_manifest(source: RepoSource, ref: str) -> tuple[str, str] | None:
    for path in MANIFEST_PATHS:
        data = source.read(ref, path)
        if data is not None:
            return path, data.decode("utf-8", errors="replace")
    return None


def _load_effective(
    source: RepoSource, base: str | None, head: str, catalog: Catalog, rule_ids: Sequence[str]
) -> tuple[EffectiveManifest | None, list[Finding]]:
    base_file = _read_manifest(source, base) if base else None
    head_file = _read_manifest(source, head)
    path = (head_file or base_file or (MANIFEST_PATHS[0], ""))[0]
    try:
        effective = effective_manifest(
            base_file[1] if base_file else None, head_file[1] if head_file else None, path, catalog,
            known_rules=rule_ids,
        )
    except ManifestError as error:
        from align.rules.manifest_invalid import findings_for_error

        return None, findings_for_error(error)
    return effective, []


def _decode(data: bytes) -> str | None:
    """The text a review reads (what is data emptied: `as_read`), or None when there is none."""
    text, _reason = _decode_lines(data)
    return text.text if text else None


def _decode_lines(data: bytes) -> tuple[ReadText | None, str | None]:
    if len(data) > MAX_FILE_BYTES:
        return None, f"larger than {MAX_FILE_BYTES // 1_000_000} MB"
    if b"\x00" in data[:8192]:
        return None, "binary"
    try:
        return as_read(data.decode("utf-8")), None
    except UnicodeDecodeError:
        return None, "not UTF-8 text"


def _unread_lines_note(read: ReadText, changed: frozenset[int]) -> str | None:
    """What a reviewer should know of the lines not read: only those the review would have looked at."""
    notes = []
    long_lines = [n for n in read.long_lines if n in changed]
    if long_lines:
        shown = ", ".join(str(n) for n in long_lines[:5]) + (", ..." if len(long_lines) > 5 else "")
        notes.append(f"{len(long_lines)} line(s) longer than {MAX_LINE_CHARS:,} characters not read (line {shown}): "
                     "minified or generated data")
    end = read.numbers_end_at
    if end is not None and any(n >= end for n in changed):
        notes.append(f"not read from line {end:,} on: the file holds more than {MAX_FILE_NUMBERS:,} numbers "
                     "(a table of data, by the look of it)")
    return "; ".join(notes) or None


def _source_files(
    source: RepoSource,
    ref: str,
    changes: Sequence[FileChange],
    effective: EffectiveManifest,
    scan: bool,
    base: str | None = None,
) -> tuple[list[SourceFile], list[SkippedFile]]:
    manifest = effective.manifest
    wanted = [c for c in changes if c.status != "removed" and not manifest.is_ignored(c.path)]
    skipped: list[SkippedFile] = []
    contents = source.read_many(ref, [c.path for c in wanted])
    # A change without a patch is binary, or a text diff GitHub would not show (over about 100 KB): its
    # lines are worked out here from both sides, so that it is reviewed like any other file.
    patchless = [c for c in wanted if c.binary and not scan]
    before = source.read_many(base, [c.previous_path or c.path for c in patchless]) if base and patchless else {}
    files: list[SourceFile] = []
    for change in wanted:
        data = contents.get(change.path)
        if data is None:
            skipped.append(SkippedFile(change.path, "could not be read"))
            continue
        decoded, reason = _decode_lines(data)
        if decoded is None:
            skipped.append(SkippedFile(change.path, reason or "unreadable"))
            continue
        text = decoded.text
        if scan:
            changed = frozenset(range(1, text.count("\n") + 2))
        elif change.binary:
            # Both sides as they are: a change inside what is not read still needs its note.
            changed = added_lines_between(_old_text(before.get(change.previous_path or change.path)),
                                          data.decode("utf-8"))
        else:
            changed = change.added_lines
        files.append(SourceFile(change.path, text, changed, change.status))
        note = _unread_lines_note(decoded, changed)
        if note is not None:
            skipped.append(SkippedFile(change.path, note))
    return files, skipped


def _old_text(data: bytes | None) -> str:
    """A changed file's text before the change, as it is (lines of data included), or "" if none."""
    if data is None or len(data) > MAX_FILE_BYTES or b"\x00" in data[:8192]:
        return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return ""


def _base_reader(source: RepoSource, base: str, changes: Sequence[FileChange]) -> Callable[[str], str | None]:
    """The text of a changed file before the change (read when asked, once)."""
    previous = {c.path: c.previous_path or c.path for c in changes if c.status != "added"}
    memo: dict[str, str | None] = {}

    def read(path: str) -> str | None:
        if path not in memo:
            data = source.read(base, previous[path]) if path in previous else None
            memo[path] = _decode(data) if data is not None else None
        return memo[path]

    return read


_PROFILE_BYTES = 64_000_000  # text read to profile a repository; beyond, the rest is not looked at


def _profile(
    source: RepoSource, ref: str, effective: EffectiveManifest, files: Sequence[SourceFile],
    deadline: Deadline | None = None,
) -> PendingProfile:
    """Which GPU models the repository's in-scope files name (spec §1b: what the repository is about): the
    engine reads the reviewed files' while the rules do, then the rest of the tree at `ref` if needed."""
    manifest = effective.manifest
    scope = Scope(manifest)
    known = {f.path for f in files}

    def rest() -> Iterator[tuple[str, str]]:
        paths = [p for p in source.list_files(ref) if p not in known and not manifest.is_ignored(p)
                 and scope.file(p).bound]  # by path first: excluded files are not read at all
        budget = _PROFILE_BYTES
        for start in range(0, len(paths), 500):
            if expired(deadline):
                return  # the profile of what was read; the review itself stops right after
            contents = source.read_many(ref, paths[start : start + 500])
            for path, data in contents.items():
                text = _decode(data)
                if text is None:
                    continue
                budget -= len(text)
                if budget < 0:
                    return
                yield path, text

    ours = [d.gpu for d in manifest.deployments]
    if effective.base is not None:
        ours += [d.gpu for d in effective.base.deployments]
    return PendingProfile(manifest.catalog, tuple(ours), lambda path, text: scope.file(path, text).bound, rest)


def _unlisted_note(source: RepoSource, ref: str) -> str | None:
    """What a reviewer should know when the repository's other files could not be listed (a source that can
    say so: the service's, reading through GitHub's API)."""
    unlisted: Callable[[str], str | None] | None = getattr(source, "unlisted", None)
    why = unlisted(ref) if unlisted is not None else None
    if why is None:
        return None
    return (f"Only the changed files were read: {why}. Files outside this change were not looked at, so an old "
            "GPU, memory or price stated elsewhere in the repository (`stale-reference`) is not listed.")


def _repository_files(source: RepoSource, ref: str, effective: EffectiveManifest) -> Iterator[SourceFile]:
    paths = [p for p in source.list_files(ref) if not effective.manifest.is_ignored(p)]
    contents = source.read_many(ref, paths)
    for path in paths:
        data = contents.get(path)
        if data is None:
            continue
        text = _decode(data)
        if text is not None:
            yield SourceFile(path, text, frozenset())


def _finish(
    base: str,
    head: str,
    findings: list[Finding],
    waivers: Sequence[Waiver],
    fail_on: str,
    **fields: object,
) -> ReviewResult:
    kept: list[Finding] = []
    waived: list[tuple[Finding, Waiver]] = []
    for finding in findings:
        waiver = next((w for w in waivers if w.matches(finding)), None)
        if waiver is not None:
            waived.append((finding, waiver))
        else:
            kept.append(finding)
    conclusion = conclusion_for(kept, fail_on)
    if fields.get("stopped") and conclusion == "success":
        conclusion = "neutral"  # a review that stopped early cannot say the change is aligned
    return ReviewResult(
        base=base,
        head=head,
        conclusion=conclusion,
        findings=tuple(kept),
        waived=tuple(waived),
        fail_on=fail_on,
        **fields,  # type: ignore[arg-type]
    )


def review_change(
    source: RepoSource,
    base: str,
    head: str,
    *,
    catalog: Catalog | None = None,
    rules: LoadedRules | None = None,
    waivers: Sequence[Waiver] = (),
    changes: Sequence[FileChange] | None = None,
    audit: bool = False,
    deadline: Deadline | None = None,
) -> ReviewResult:
    """Review the change from `base` to `head`. `changes` may be passed when the caller already has them
    (the service gets them from the pull request files API). `audit` (`--all`): mentions that are not
    bound to a deployment are reported too, as notices that say why they do not count. `deadline`: once
    it passes, the result holds what was found so far and says where it stopped (`stopped`)."""
    return _review(source, base, head, catalog=catalog, rules=rules, waivers=waivers, changes=changes, scan=False,
                   audit=audit, deadline=deadline)


def scan_commit(
    source: RepoSource,
    ref: str,
    *,
    catalog: Catalog | None = None,
    rules: LoadedRules | None = None,
    audit: bool = False,
) -> ReviewResult:
    """Audit every file at one commit against its manifest: the "all files that need updating" list."""
    return _review(source, None, ref, catalog=catalog, rules=rules, waivers=(), changes=None, scan=True,
                   audit=audit)


@dataclass(frozen=True)
class ScopeListing:
    """`align scope`: every file at one commit with the deployment it binds to, or why none (spec §1b)."""

    ref: str
    manifest_path: str | None
    files: tuple[FileScope, ...] = ()
    notes: tuple[str, ...] = ()


def list_scope(source: RepoSource, ref: str, *, catalog: Catalog | None = None) -> ScopeListing:
    """The scope of every file at `ref` under the manifest found there."""
    catalog = catalog or Catalog.builtin()
    sha = source.resolve(ref)
    effective, invalid = _load_effective(source, None, sha, catalog, [r.id for r in load_rules().rules])
    if invalid:
        return ScopeListing(sha, None, notes=tuple(f.message for f in invalid))
    if effective is None:
        return ScopeListing(sha, None, notes=(NO_MANIFEST_HELP,))
    manifest = effective.manifest
    scope = Scope(manifest)
    paths = [p for p in source.list_files(sha) if not manifest.is_ignored(p)]
    contents = source.read_many(sha, paths)
    files = []
    for path in paths:
        data = contents.get(path)
        text = data[:4096].decode("utf-8", errors="replace") if data is not None else None
        files.append(scope.file(path, text))
    ignored = sum(1 for p in source.list_files(sha) if manifest.is_ignored(p))
    notes = (f"{ignored} file(s) matched `ignore:` and are never reviewed",) if ignored else ()
    return ScopeListing(sha, manifest.path, tuple(files), notes)


def _review(
    source: RepoSource,
    base: str | None,
    head: str,
    *,
    catalog: Catalog | None,
    rules: LoadedRules | None,
    waivers: Sequence[Waiver],
    changes: Sequence[FileChange] | None,
    scan: bool,
    audit: bool = False,
    deadline: Deadline | None = None,
) -> ReviewResult:
    catalog = catalog or Catalog.builtin()
    rules = rules or load_rules()
    base_sha = source.resolve(base) if base else ""
    head_sha = source.resolve(head)
    mode = "scan" if scan else "check"
    notes = list(rules.errors)

    rule_ids = [rule.id for rule in rules.rules]  # plugins' ids may be configured in `rules:` too
    effective, invalid = _load_effective(source, base_sha or None, head_sha, catalog, rule_ids)
    if invalid:
        if not scan:  # errors the change wrote into align.yaml get inline comments on its lines
            invalid = manifest_errors_in_diff(invalid, changes or source.changed_files(base_sha, head_sha))
        return _finish(base_sha, head_sha, invalid, (), "error", notes=tuple(notes), mode=mode)
    if effective is None:
        return ReviewResult(base_sha, head_sha, "skipped", notes=(NO_MANIFEST_HELP, *notes), mode=mode,
                            skipped_reason=NO_MANIFEST_REASON)
    if effective.origin == "added" and not scan:
        notes.insert(0, f"`{effective.manifest.path}` is added by this change, so its own settings are used.")

    if changes is None:
        if scan:
            changes = [FileChange(p, "unchanged", frozenset()) for p in source.list_files(head_sha)]
        else:
            changes = source.changed_files(base_sha, head_sha)
    files, skipped = _source_files(source, head_sha, changes, effective, scan, base_sha or None)
    profile = _profile(source, head_sha, effective, files, deadline)
    ctx = ReviewContext(
        catalog=effective.manifest.catalog,
        effective=effective,
        files=tuple(files),
        repository_files=lambda: _repository_files(source, head_sha, effective),
        mode=mode,
        audit=audit,
        tree=lambda: iter(source.list_files(head_sha)),
        profile=profile,
        base_text=_base_reader(source, base_sha, changes) if base_sha else None,
    )
    if expired(deadline):
        assert deadline is not None
        deadline.stop(0, len(files))
    findings = run_rules(ctx, rules.rules, deadline=deadline) if deadline is None or not deadline.stopped else []
    finished = finish_findings(findings, files, lambda paths: source.read_many(head_sha, paths), effective, mode)
    unlisted = _unlisted_note(source, head_sha)
    if unlisted:
        notes.append(unlisted)
    stopped = deadline.stopped.describe() if deadline is not None and deadline.stopped else None
    return _finish(
        base_sha,
        head_sha,
        list(finished.kept),
        waivers,
        effective.manifest.fail_on,
        effective=effective,
        changes=tuple(changes),
        skipped=tuple(skipped),
        notes=(*notes, *finished.notes),
        files_reviewed=len(files),
        mode=mode,
        suppressed=finished.suppressed,
        stopped=stopped,
    )


__all__ = [
    "Conclusion", "ReviewResult", "ScopeListing", "Severity", "SkippedFile", "conclusion_for", "list_scope",
    "review_change", "scan_commit",
]
