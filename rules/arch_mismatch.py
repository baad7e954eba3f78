"""arch-mismatch: changed lines that pin the other CPU architecture than the deployment's hosts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from align.context import ReviewContext, SourceFile
from align.findings import Finding, Severity
from align.manifest import Deployment
from align.rule_api import BaseRule
from align.rules._lines import changed_containing, lines_containing
from align.rules._text import LineKinds, apply_edits, kinds_of, reviewed_files


@dataclass(frozen=True)
class _Arch:
    """How one architecture is spelled: `docker` in platforms and node selectors, `cuda` in NVIDIA repos,
    `multiarch` in Debian library paths."""

    name: str
    tokens: str  # regex alternation of its spellings
    docker: str
    cuda: str
    multiarch: str


_ARM = _Arch("arm64", r"arm64|aarch64|arm64v8", docker="arm64", cuda="sbsa", multiarch="aarch64")
_X86 = _Arch("x86_64", r"amd64|x86_64|x86-64", docker="amd64", cuda="x86_64", multiarch="x86_64")


@dataclass(frozen=True)
class _Pin:
    what: str
    pattern: re.Pattern[str]  # group "arch" is the pinned spelling
    replace_with: str | None  # "docker" or "cuda": the attribute of the deployment's _Arch; None: no fix


def _pins(foreign: _Arch) -> tuple[_Pin, ...]:
    arch = rf"(?P<arch>{foreign.tokens})"
    linux_wheel = "x86_64" if foreign is _X86 else "aarch64"
    download = r"x64|x86_64|amd64" if foreign is _X86 else r"arm64|aarch64"
    return (
        _Pin("a container platform",
             re.compile(rf"(?i:platforms?)[\"']?\s*[:=]?\s*[\"']?linux/{arch}(?![\w/])"), "docker"),
        _Pin("a node selector",
             re.compile(rf"(?:beta\.)?kubernetes\.io/arch[\"']?\s*[:=]\s*[\"']?{arch}(?![\w-])"), "docker"),
        _Pin("an NVIDIA package repository",
             re.compile(rf"developer\.download\.nvidia\.com/\S*?/(?P<arch>{foreign.cuda})/"), "cuda"),
        _Pin("a single-architecture wheel", re.compile(rf"_(?P<arch>{linux_wheel})\.whl\b"), None),
        _Pin("a single-architecture wheel", re.compile(rf"(?:many|musl)linux\w*?_(?P<arch>{linux_wheel})\b"), None),
        _Pin("a single-architecture download",
             re.compile(rf"(?i:(?<![A-Za-z])linux[-_/](?P<arch>{download})(?![\w]))"), None),
        _Pin("a single-architecture download",
             re.compile(rf"(?<![A-Za-z0-9])(?P<arch>{linux_wheel})-(?:unknown|pc)-linux"), None),
        _Pin("an architecture variable",
             re.compile(rf"\b[A-Za-z_]*(?:ARCH|[Aa]rch)\w*[\"']?\s*[:=]\s*\[?\s*[\"']?{arch}(?![\w-])"), None),
        _Pin("a single-architecture library path",
             re.compile(rf"/lib(?:64)?/(?P<arch>{linux_wheel})-linux-gnu\b"), "multiarch"),
        _Pin("a single-architecture binary",
             re.compile(rf"[\"'][\w.-]*?[_-](?P<arch>{foreign.tokens})(?:\.(?:so|a|tar\.gz|tgz|zip|deb|rpm))?[\"']"),
             None),
        _Pin("a kernel configuration",
             re.compile(rf"\bCONFIG_\w*?ARCH_(?P<arch>{foreign.tokens.replace('-', '_').upper()})\w*\s*=\s*y\b"),
             None),
        _Pin("a single-architecture image",
             re.compile(rf"(?<![\w./-])(?P<arch>{foreign.docker}{'v8' if foreign is _ARM else ''})/[a-z]"), None),
    )


_PINS = {"arm64": _pins(_X86), "x86_64": _pins(_ARM)}
# Pins that place one workload: one pod on amd64 says nothing about where the GPU pod of the same file runs.
_PER_WORKLOAD = frozenset({"a node selector"})
_ARCH_OF = {"arm64": _ARM, "x86_64": _X86}
# Code that picks the architecture at run time: its branches name both, on purpose.
_DISPATCH = re.compile(
    r"uname\s+-[mp]|\$\{?(?:TARGETARCH|BUILDARCH|TARGETPLATFORM|ARCH)\b"
    r"|platform\.machine|process\.arch|runtime\.GOARCH|dpkg\s+--print-architecture|\bcase\b|\bmatrix\b"
    r"|\$\(arch\)"
)
# `key: kubernetes.io/arch` of a match expression, or `kubernetes.io/arch:` holding a list of values.
_NODE_ARCH_KEY = re.compile(
    r"key:\s*[\"']?(?:beta\.)?kubernetes\.io/arch\b|(?:beta\.)?kubernetes\.io/arch[\"']?\s*:\s*$"
)
_NOT_IN = re.compile(r"operator:\s*[\"']?(?:NotIn|DoesNotExist)")
_WINDOW = 15
_QUOTES = re.compile(r"[\"']")
_BRANCH_REACH = 8  # lines between a `case "$(uname -m)"` / `matrix:` and the branch that pins an arch


@cache
def _foreign_hint(foreign: _Arch) -> re.Pattern[str]:
    """What a line that pins `foreign` contains (every pin's spelling, the CUDA repository's, `x64`)."""
    return re.compile(f"{foreign.tokens}|{foreign.cuda}|x64", re.IGNORECASE)


@cache
def _foreign_needles(foreign: _Arch) -> tuple[str, ...]:
    """The same spellings as `_foreign_hint`, as plain text (its alternatives are literal)."""
    tokens = foreign.tokens.split("|")
    return (*tokens, *(t.upper() for t in tokens), foreign.cuda, "x64")


@cache
def _own_pattern(own: _Arch) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9])(?:{own.tokens})(?![A-Za-z0-9])" + ("|/sbsa/" if own is _ARM else ""))


@cache
def _affinity_pattern(foreign: _Arch) -> re.Pattern[str]:
    return re.compile(rf"\s*(?:values:\s*\[?\s*|-\s+)[\"']?(?P<arch>{foreign.docker}|{foreign.tokens})[\"']?\s*\]?\s*$")


class ArchMismatch(BaseRule):
    """Catches changed lines that pin the other CPU architecture than the deployment's hosts: on an arm64
    deployment (GH200, GB200: Grace hosts) `--platform=linux/amd64`, compose `platform: linux/amd64`,
    `kubernetes.io/arch: amd64` (node selectors and nodeAffinity values), `*_x86_64.whl` and
    `manylinux*_x86_64` wheels, `linux-amd64` / `Linux-x86_64` / `x86_64-unknown-linux` downloads,
    `ARCH=amd64`, `amd64/` images, and `.../x86_64/` CUDA repositories; the reverse on x86_64 deployments.

    Why it matters: an image, wheel or binary built for the other architecture does not run (exec format
    error), and a node selector for it never schedules.

    Example: `FROM --platform=linux/amd64 nvcr.io/nvidia/pytorch:24.05-py3` on GH200 → suggests
    `FROM --platform=linux/arm64 nvcr.io/nvidia/pytorch:24.05-py3`.

    Multi-architecture lists (`linux/amd64,linux/arm64`) and detection code that handles both
    (`case "$(uname -m)"` branches) are left alone, and so are comments and prose.

    Fix: safe where offered: only platform flags, node selector values and NVIDIA repository paths get a
    suggestion (the other arch's spelling); wheels, downloads and images need a human to find the right
    artifact.
    """

    id = "arch-mismatch"
    default_severity = Severity.ERROR
    summary = "A changed line pins the other CPU architecture than the deployment's hosts."
    fix_safe = True
    file_local = True  # a file's findings depend on that file and the manifest alone

    def check(self, ctx: ReviewContext) -> Iterator[Finding]:
        for source_file, deployment in reviewed_files(ctx):
            own = _ARCH_OF.get(deployment.arch)
            if own is None:
                continue
            foreign = _X86 if own is _ARM else _ARM
            kinds = kinds_of(source_file)
            for line in changed_containing(source_file, _foreign_needles(foreign)):
                finding = self._check_line(source_file, kinds, line, deployment, own, foreign)
                if finding is not None:
                    yield finding

    def _check_line(
        self, source_file: SourceFile, kinds: LineKinds, line: int, deployment: Deployment, own: _Arch, foreign: _Arch
    ) -> Finding | None:
        text = source_file.line_text(line)
        if not _foreign_hint(foreign).search(text):
            return None
        own_re = _own_pattern(own)
        code = _code_text(kinds, line, text)
        if own_re.search(code) or _DISPATCH.search(code):
            return None  # multi-arch list or run-time detection on this very line
        hits: dict[tuple[int, int], str | None] = {}
        labels: list[str] = []
        pinned_texts: list[str] = []
        both = _pinned_kinds(source_file, kinds, own)
        for pin in _PINS[deployment.arch]:
            if pin.what in both and pin.what not in _PER_WORKLOAD:
                continue  # the file builds for the deployment's architecture the same way too: a multi-arch build
            for match in pin.pattern.finditer(text):
                start, end = match.span("arch")
                if kinds.is_prose(line, start, text) or any(s < end and start < e for s, e in hits):
                    continue
                hits[(start, end)] = getattr(own, pin.replace_with) if pin.replace_with else None
                labels.append(pin.what)
                pinned_texts.append(_QUOTES.sub("", match.group(0)).strip())
        affinity = _affinity_value(source_file, line, foreign)
        if affinity is not None and not kinds.is_prose(line, affinity[0], text) and affinity not in hits:
            hits[affinity] = own.docker
            labels.append("a node affinity")
            pinned_texts.append(text[affinity[0] : affinity[1]])
        if not hits or self._handles_both(source_file, kinds, line, own_re):
            return None
        replacements = list(hits.values())
        suggestion = None
        if all(r is not None for r in replacements):
            suggestion = apply_edits(text, [(s, e, r or "") for (s, e), r in hits.items()])
        pinned = pinned_texts[0]
        return self.finding(
            source_file,
            line,
            f"`{pinned}` pins {labels[0]} to {foreign.name}, but deployment `{deployment.name}` runs "
            f"{deployment.gpu.name} on {own.name} hosts.",
            evidence=text,
            deployment=deployment,
            suggestion=suggestion,
            component="CPU architecture",
            stated=foreign.name,
            expected=own.name,
        )

    @staticmethod
    def _handles_both(source_file: SourceFile, kinds: LineKinds, line: int, own_re: re.Pattern[str]) -> bool:
        """True inside code that names both architectures on purpose: `uname -m` / TARGETARCH branches,
        CI matrices, or a YAML list whose sibling items name the deployment's architecture."""
        lines = source_file.lines
        for start in range(line - 1, max(0, line - _BRANCH_REACH - 1), -1):
            if _DISPATCH.search(_code_text(kinds, start, lines[start - 1])):
                # A branch on the architecture a few lines up: do its other branches name ours?
                branch = range(start, min(len(lines), line + _BRANCH_REACH) + 1)
                if any(own_re.search(_code_text(kinds, n, lines[n - 1])) for n in branch):
                    return True
                break
        return any(own_re.search(_code_text(kinds, n, lines[n - 1])) for n in _sibling_items(lines, line))


def _pinned_kinds(source_file: SourceFile, kinds: LineKinds, own: _Arch) -> frozenset[str]:
    """The kinds of pin (`a container platform`, `a node selector`...) the file's code also sets to the
    deployment's own architecture, worked out once per file."""
    memo = source_file.derived(_OwnPins)
    found = memo.get(own.name)
    if found is None:
        pins = _PINS["x86_64" if own is _ARM else "arm64"]  # the patterns that pin `own`
        kinds_found: set[str] = set()
        for line in lines_containing(source_file, _foreign_needles(own)):
            code = _code_text(kinds, line, source_file.line_text(line))
            kinds_found.update(pin.what for pin in pins if pin.pattern.search(code))
        found = memo[own.name] = frozenset(kinds_found)
    return found


class _OwnPins(dict[str, frozenset[str]]):
    def __init__(self, _source_file: SourceFile) -> None:
        super().__init__()


def _code_text(kinds: LineKinds, line: int, text: str) -> str:
    return kinds.code_only(line, text)


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip())


def _sibling_items(lines: list[str], line: int) -> list[int]:
    """The other lines of the YAML list `line` is an item of (or lies inside): a matrix or a platform list."""
    item = line
    if not lines[item - 1].lstrip().startswith("- "):
        # `arch: amd64` inside a `- os: linux` item: walk up to the item that holds it.
        indent = _indent(lines[line - 1])
        item -= 1
        while item >= 1 and line - item <= _WINDOW and (
            not lines[item - 1].strip() or _indent(lines[item - 1]) >= indent
        ):
            item -= 1
        if item < 1 or line - item > _WINDOW or not lines[item - 1].lstrip().startswith("- "):
            return []
    indent = _indent(lines[item - 1])

    def in_list(n: int) -> bool:
        current = lines[n - 1]
        if not current.strip():
            return True
        return _indent(current) > indent or (_indent(current) == indent and current.lstrip().startswith("- "))

    first = item
    while first > 1 and item - first < _WINDOW * 2 and in_list(first - 1):
        first -= 1
    last = item
    while last < len(lines) and last - item < _WINDOW * 2 and in_list(last + 1):
        last += 1
    return [n for n in range(first, last + 1) if n != line]


def _affinity_value(source_file: SourceFile, line: int, foreign: _Arch) -> tuple[int, int] | None:
    """`values: [amd64]` or `- amd64` under a `key: kubernetes.io/arch` match expression (operator In)."""
    text = source_file.line_text(line)
    match = _affinity_pattern(foreign).match(text)
    if match is None:
        return None
    for n in range(line - 1, max(0, line - 6), -1):
        previous = source_file.line_text(n)
        if _NOT_IN.search(previous):
            return None
        if _NODE_ARCH_KEY.search(previous):
            return match.span("arch")
        if previous.lstrip().startswith("- key:"):
            return None  # another match expression
    return None
