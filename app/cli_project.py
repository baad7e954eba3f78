"""`align init` (propose an align.yaml) and `align validate` (check one)."""

from __future__ import annotations

import argparse
from pathlib import Path

from align.cli import EXIT_FINDINGS, EXIT_OK, UsageError
from align.cli_output import Writer

MANIFEST_NAMES = ("align.yaml", ".github/align.yaml")


def run_init(args: argparse.Namespace, writer: Writer) -> int:
    from align.catalog import Catalog
    from align.init_manifest import propose, render_manifest

    root = Path(args.repo)
    if not root.is_dir():
        raise UsageError(f"{root} is not a directory")
    existing = next((root / name for name in MANIFEST_NAMES if (root / name).exists()), None)
    files = _read_tree(root)
    proposals = propose(files, Catalog.builtin())
    if not proposals:
        raise UsageError("no GPU is named in this repository's infrastructure, code or docs; write align.yaml by "
                         "hand (`align schema` describes it)")
    text = render_manifest(proposals)
    if not args.write:
        writer.write(text)
        note = "align.yaml exists already: compare, then edit it" if existing else "`align init --write` writes it"
        writer.write(f"# {note}; `align validate` checks it.")
        return EXIT_OK
    if existing is not None:
        raise UsageError(f"{existing} exists already; remove it first or edit it by hand")
    target = root / "align.yaml"
    writer.write(text, target)
    writer.write(f"wrote {target}: check the values (price above all), then `align validate` and commit it")
    return EXIT_OK


def _read_tree(root: Path, limit: int = 5000) -> dict[str, str]:
    """Text files under 1 MB that `align init` reads (infrastructure first, at most `limit`): tracked and
    untracked-but-not-ignored ones in a git repository, else every file outside dot folders."""
    from align.git_worktree import PendingSource
    from align.init_manifest import file_kind
    from align.source import MAX_FILE_BYTES, SourceError

    def wanted(paths: list[str]) -> list[str]:
        kinds = {"infra": 0, "code": 1, "prose": 2}
        readable = [p for p in paths if file_kind(p)]
        return sorted(readable, key=lambda p: (kinds[file_kind(p)], p))[:limit]

    contents: dict[str, bytes]
    try:
        source = PendingSource(root, "worktree")
        contents = dict(source.read_many(source.head_name, wanted(source.list_files(source.head_name))))
    except SourceError:
        paths = [p.relative_to(root).as_posix() for p in sorted(root.rglob("*"))
                 if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts[:-1])]
        contents = {}
        for path in wanted(paths):
            try:
                with (root / path).open("rb") as handle:  # past the cap, one byte says "too large"
                    contents[path] = handle.read(MAX_FILE_BYTES + 1)
            except OSError:
                continue
    texts = {}
    for path, data in contents.items():
        if len(data) <= MAX_FILE_BYTES and b"\0" not in data[:8192]:
            texts[path] = data.decode("utf-8", errors="replace")
    return texts


def run_validate(args: argparse.Namespace, writer: Writer) -> int:
    from align.catalog import Catalog
    from align.manifest import ManifestError, parse_manifest
    from align.rule_api import load_rules

    paths: list[Path] = list(args.files)
    if not paths:
        found = next((Path(name) for name in MANIFEST_NAMES if Path(name).is_file()), None)
        if found is None:
            raise UsageError("no align.yaml here or in .github/; `align init` proposes one")
        paths = [found]
    known = [rule.id for rule in load_rules().rules]
    status = EXIT_OK
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
        try:
            manifest = parse_manifest(text, str(path), Catalog.builtin(), known_rules=known)
        except ManifestError as error:
            writer.write("\n".join(str(issue) for issue in error.issues))
            status = EXIT_FINDINGS
            continue
        described = "; ".join(f"{d.name}: {d.count} × {d.gpu.name}" for d in manifest.deployments)
        writer.write(f"{path}: valid ({described})")
    return status
