"""Re-run the real-world evaluation from a directory of fetched mirrors (see README.md beside this file).

    python -m bench.realworld.evaluate --mirrors /work/.mirror            # everything
    python -m bench.realworld.evaluate --only kserve__kserve --unjudged /tmp/todo.yaml

Prints, per repository: findings at the judged commit (true / false / not yet judged), the replayed pull
requests that would fail the check (and on what), and the seeds caught; then precision over every judged
finding, recall on the seeds, and the targets of issue 7.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from align.findings import Finding
from align.git_source import GitSource
from align.review import ReviewResult, review_change, scan_commit
from align.rule_api import load_rules

HERE = Path(__file__).parent
MAX_FINDINGS_AT_HEAD = 25  # issue 7: no repository above this unless the findings are true


@dataclass
class Label:
    verdict: str  # tp | fp
    reason: str


@dataclass
class RepoResult:
    slug: str
    scan_findings: list[Finding] = field(default_factory=list)
    verdicts: Counter[str] = field(default_factory=Counter)  # tp / fp / unjudged
    # Findings of the replayed pull requests that the head's scan does not have (one per fingerprint).
    pull_verdicts: Counter[str] = field(default_factory=Counter)
    judged: set[str] = field(default_factory=set)  # fingerprints counted, head or pull requests
    unjudged: list[dict[str, Any]] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)
    pulls: list[tuple[str, str, list[Finding]]] = field(default_factory=list)  # sha, conclusion, failing
    seeds: list[tuple[str, bool, str]] = field(default_factory=list)  # id, caught, detail
    seconds: float = 0.0


class Workspace:
    """A scratch repository that borrows a mirror's objects (never writes into the mirror) and builds
    commits with the manifest laid over them, through git plumbing: nothing is checked out."""

    def __init__(self, mirror: Path, root: Path) -> None:
        self.path = root
        root.mkdir(parents=True, exist_ok=True)
        if not (root / ".git").exists():
            self.git("init", "-q")
            alternates = root / ".git" / "objects" / "info" / "alternates"
            alternates.write_text(str((mirror / "objects").resolve()) + "\n")
        self._memo: dict[tuple[str, str], str] = {}

    def git(self, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(["git", *args], cwd=self.path, input=stdin, capture_output=True, check=True,
                              env={**os.environ, **(env or {})})
        return done.stdout.decode().strip()

    def blob(self, data: bytes) -> str:
        return self.git("hash-object", "-w", "--stdin", stdin=data)

    def commit_with(self, commit: str, files: dict[str, bytes], message: str) -> str:
        """A commit whose tree is `commit`'s with `files` written over it, and `commit` as its parent."""
        index = self.path / ".git" / f"index-{os.getpid()}"
        env = {"GIT_INDEX_FILE": str(index), "GIT_AUTHOR_NAME": "eval", "GIT_AUTHOR_EMAIL": "eval@localhost",
               "GIT_COMMITTER_NAME": "eval", "GIT_COMMITTER_EMAIL": "eval@localhost",
               "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}
        try:
            self.git("read-tree", commit, env=env)
            for path, data in files.items():
                self.git("update-index", "--add", "--cacheinfo", f"100644,{self.blob(data)},{path}", env=env)
            tree = self.git("write-tree", env=env)
        finally:
            index.unlink(missing_ok=True)
        return self.git("commit-tree", tree, "-p", commit, "-m", message, env=env)

    def with_manifest(self, commit: str, manifest: str) -> str:
        key = (commit, manifest)
        if key not in self._memo:
            self._memo[key] = self.commit_with(commit, {"align.yaml": manifest.encode()}, "align.yaml")
        return self._memo[key]

    def show(self, commit: str, path: str) -> bytes:
        return subprocess.run(["git", "show", f"{commit}:{path}"], cwd=self.path, capture_output=True,
                              check=True).stdout

    def parent(self, commit: str) -> str:
        return self.git("rev-parse", f"{commit}^1")


def load_labels(slug: str) -> dict[str, Label]:
    path = HERE / "labels" / f"{slug}.yaml"
    if not path.exists():
        return {}
    labels: dict[str, Label] = {}
    for item in yaml.safe_load(path.read_text()) or []:
        labels[item["fingerprint"]] = Label(item["verdict"], item.get("reason", ""))
    return labels


def _context(ws: Workspace, commit: str, finding: Finding) -> str:
    try:
        lines = ws.show(commit, finding.path).decode("utf-8", "replace").splitlines()
    except subprocess.CalledProcessError:
        return ""
    start = max(0, finding.line - 3)
    return "\n".join(f"{n + 1:>5}: {lines[n][:200]}" for n in range(start, min(len(lines), finding.line + 2)))


def evaluate_repo(spec_path: Path, mirrors: Path, scratch: Path, *, pulls: bool, seeds: bool,
                  debug_seed: str | None = None) -> RepoResult:
    spec = yaml.safe_load(spec_path.read_text())
    slug = spec_path.stem
    owner, name = spec["repo"].split("/")
    ws = Workspace(mirrors / f"{owner}+{name}" / "repo", scratch / slug)
    source = GitSource(ws.path)
    rules = load_rules(include_plugins=False)
    manifest: str = spec["manifest"]
    result = RepoResult(slug)
    started = time.perf_counter()

    head = ws.with_manifest(spec["commit"], manifest)
    scanned = scan_commit(source, head, rules=rules)
    labels = load_labels(slug)
    result.scan_findings = [f for f in scanned.findings if f.path != "align.yaml"]
    _judge(ws, spec["commit"], result, result.scan_findings, labels)

    for pull in (spec.get("pull_requests") or []) if pulls else []:
        sha = pull["commit"]
        reviewed = review_change(source, ws.with_manifest(ws.parent(sha), manifest),
                                 ws.with_manifest(sha, manifest), rules=rules)
        _judge(ws, sha, result, list(reviewed.findings), labels, count=False)
        result.pulls.append((sha, reviewed.conclusion, list(reviewed.failing)))

    for seed in (spec.get("seeds") or []) if seeds else []:
        if debug_seed and seed["id"] != debug_seed:
            continue
        result.seeds.append(_run_seed(ws, source, spec, seed, head, rules, debug=bool(debug_seed)))
    result.seconds = time.perf_counter() - started
    return result


def _judge(ws: Workspace, commit: str, result: RepoResult, findings: list[Finding], labels: dict[str, Label],
           *, count: bool = True) -> None:
    for finding in findings:
        label = labels.get(finding.fingerprint)
        verdict = label.verdict if label else "unjudged"
        if count:
            result.verdicts[verdict] += 1
            result.judged.add(finding.fingerprint)
        elif finding.fingerprint not in result.judged:
            result.pull_verdicts[verdict] += 1
            result.judged.add(finding.fingerprint)
            if label is not None and label.verdict == "fp":
                result.false_positives.append(f"{finding.rule} {finding.path}:{finding.line} in pull request "
                                              f"{commit[:10]} ({label.reason})")
        if label is None and not any(u["fingerprint"] == finding.fingerprint for u in result.unjudged):
            result.unjudged.append({
                "commit": commit, "path": finding.path, "line": finding.line, "rule": finding.rule,
                "fingerprint": finding.fingerprint, "verdict": "?", "reason": "",
                "message": finding.message, "bound_by": getattr(finding, "bound_by", None),
                "context": _context(ws, commit, finding),
            })
        elif label is not None and label.verdict == "fp" and count:
            result.false_positives.append(f"{finding.rule} {finding.path}:{finding.line} ({label.reason})")


def _run_seed(ws: Workspace, source: GitSource, spec: dict[str, Any], seed: dict[str, Any], head: str,
              rules: Any, debug: bool = False) -> tuple[str, bool, str]:
    commit = spec["commit"]
    files: dict[str, bytes] = {}
    for edit in seed["edits"]:
        text = files.get(edit["path"], ws.show(commit, edit["path"])).decode()
        if text.count(edit["find"]) != 1:
            return seed["id"], False, f"`find` occurs {text.count(edit['find'])} times in {edit['path']}"
        files[edit["path"]] = text.replace(edit["find"], edit["replace"]).encode()
    files["align.yaml"] = (seed.get("manifest") or spec["manifest"]).encode()
    seeded = ws.commit_with(commit, files, seed["id"])
    expect = seed.get("expect") or {}
    path = expect.get("path") or seed["edits"][0]["path"]
    text = ws.show(seeded, path).decode()
    needle = expect.get("contains") or seed["edits"][0]["replace"]
    at = text.find(needle)
    if at < 0:
        return seed["id"], False, f"expected text not in {path}"
    line = text.count("\n", 0, at) + 1
    reviewed: ReviewResult = review_change(source, head, seeded, rules=rules, audit=debug)
    if debug:  # every finding near the expected line, bound or not, with why
        print(f"seed {seed['id']}: expect {seed['rule']} {path}:{line}: {text.splitlines()[line - 1][:160]}")
        for f in reviewed.findings:
            if f.path == path and abs(f.line - line) <= 3:
                print(f"  {f.rule} {f.path}:{f.line} [{f.severity}] {f.message[:120]} | {f.bound_by}")
    hit = [f for f in reviewed.findings if f.rule == seed["rule"] and f.path == path and f.line == line
           and not (f.bound_by or "").startswith("unbound")]
    others = [f"{f.rule} {f.path}:{f.line}" for f in reviewed.findings if f not in hit]
    detail = f"{seed['rule']} {path}:{line}" + (f"; also {', '.join(others)}" if others else "")
    return seed["id"], bool(hit), detail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--only", action="append", help="repository slugs (owner__name, comma-separated) to run")
    parser.add_argument("--scratch", type=Path, help="where scratch repositories go (default: a temp dir)")
    parser.add_argument("--no-pulls", action="store_true")
    parser.add_argument("--no-seeds", action="store_true")
    parser.add_argument("--unjudged", type=Path, help="write findings without a label here, as a label skeleton")
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every false positive and seed")
    parser.add_argument("--seed", help="run only this seed, and show every finding near it with why it binds")
    args = parser.parse_args(argv)

    specs = sorted((HERE / "repos").glob("*.yaml"))
    if args.only:
        wanted = {slug for option in args.only for slug in option.split(",")}
        specs = [s for s in specs if s.stem in wanted]
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="align-eval-"))
    results = []
    for spec_path in specs:
        try:
            spec = yaml.safe_load(spec_path.read_text())
        except yaml.YAMLError as error:
            print(f"skip {spec_path.stem}: not valid YAML ({str(error).splitlines()[0]})", file=sys.stderr)
            continue
        mirror = args.mirrors / spec["repo"].replace("/", "+") / "repo"
        if not mirror.exists():
            print(f"skip {spec_path.stem}: no mirror at {mirror}", file=sys.stderr)
            continue
        results.append(evaluate_repo(spec_path, args.mirrors, scratch, pulls=not args.no_pulls and not args.seed,
                                     seeds=not args.no_seeds, debug_seed=args.seed))
        _print_repo(results[-1], args.verbose)
    return _summary(results, args)


def _print_repo(r: RepoResult, verbose: bool) -> None:
    v = r.verdicts
    failed = [(sha, failing) for sha, conclusion, failing in r.pulls if conclusion == "failure"]
    caught = sum(1 for _, ok, _ in r.seeds if ok)
    print(f"{r.slug:<45} findings {len(r.scan_findings):>4} (tp {v['tp']}, fp {v['fp']}, unjudged {v['unjudged']})"
          f"  pulls failed {len(failed)}/{len(r.pulls)}  seeds {caught}/{len(r.seeds)}  {r.seconds:.1f}s")
    if verbose:
        for line in r.false_positives:
            print(f"    fp: {line}")
        for sha, failing in failed:
            print(f"    failed check {sha[:10]}: " + "; ".join(f"{f.rule} {f.path}:{f.line}" for f in failing[:5]))
        for seed_id, ok, detail in r.seeds:
            print(f"    seed {'ok  ' if ok else 'MISS'} {seed_id}: {detail}")


def _summary(results: list[RepoResult], args: argparse.Namespace) -> int:
    tp = sum(r.verdicts["tp"] for r in results)
    fp = sum(r.verdicts["fp"] for r in results)
    unjudged = sum(r.verdicts["unjudged"] for r in results)
    pull_tp = sum(r.pull_verdicts["tp"] for r in results)
    pull_fp = sum(r.pull_verdicts["fp"] for r in results)
    pull_unjudged = sum(r.pull_verdicts["unjudged"] for r in results)
    all_tp, all_fp = tp + pull_tp, fp + pull_fp
    seeds = [s for r in results for s in r.seeds]
    caught = sum(1 for _, ok, _ in seeds if ok)
    pulls = [p for r in results for p in r.pulls]
    failed_pulls = [p for p in pulls if p[1] == "failure"]
    precision = all_tp / (all_tp + all_fp) if all_tp + all_fp else None
    recall = caught / len(seeds) if seeds else 1.0
    over = [r.slug for r in results if len(r.scan_findings) > MAX_FINDINGS_AT_HEAD and r.verdicts["fp"]]
    figures = {
        "repositories": len(results), "findings": tp + fp + unjudged, "true": tp, "false": fp,
        "unjudged": unjudged, "pull_request_findings": pull_tp + pull_fp + pull_unjudged, "pull_request_true": pull_tp,
        "pull_request_false": pull_fp, "pull_request_unjudged": pull_unjudged,
        "precision": round(precision, 4) if precision is not None else None,
        "seeds": len(seeds), "seeds_caught": caught,
        "recall": round(recall, 4), "pulls": len(pulls), "pulls_failed": len(failed_pulls),
        "repos_over_25_with_false": over,
        "per_repo": {r.slug: {"findings": len(r.scan_findings), **r.verdicts} for r in results},
    }
    print(f"\n{len(results)} repositories: {tp + fp + unjudged} findings at head, {tp} true, {fp} false, "
          f"{unjudged} not judged")
    print(f"pull requests: {pull_tp + pull_fp + pull_unjudged} more findings, {pull_tp} true, {pull_fp} false, "
          f"{pull_unjudged} not judged")
    shown = f"{precision:.3f}" if precision is not None else "n/a (nothing judged)"
    print(f"precision over all judged findings: {shown} ({all_tp} true of {all_tp + all_fp})")
    print(f"seeds: {caught}/{len(seeds)} caught, recall {recall:.3f}")
    print(f"replayed pull requests: {len(pulls)}, failed the check: {len(failed_pulls)}")
    if over:
        print(f"above {MAX_FINDINGS_AT_HEAD} findings with false ones: {', '.join(over)}")
    if args.unjudged:
        todo = [u for r in results for u in r.unjudged]
        args.unjudged.write_text(yaml.safe_dump(todo, sort_keys=False, allow_unicode=True, width=200))
        print(f"{len(todo)} unjudged findings written to {args.unjudged}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
