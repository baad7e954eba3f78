"""Line binding inside a bound file (spec §1b).

A file bound to a deployment may still hold text about other targets. A line is not bound to the
deployment when, independently of the GPU mention being judged:
- its path names only other providers or accelerator makers (`cloud-service-providers/azure/...` for a
  deployment on AWS, `docs/installation_amd.md` for an NVIDIA one), or it sits in a per-target folder
  (`configs/h100/` beside `configs/a100/`) or is one of a set of per-target files (`defconfigs/x-a10`,
  `x-h100`, `x-b200`);
- its block (the file; a YAML document; a Markdown section with the sections it holds) names only other
  providers or makers (`## Deploy on AKS`, `resource "google_container_node_pool"`, ROCm);
- it is captured command output pasted into a Markdown code block (nvidia-smi tables, logs);
- it lists several GPUs side by side, none of them the deployment's: a statement (`case`, a condition
  continued over lines), a comment block or a paragraph;
- it is another row of a catalog: one of several look-alike items (table rows, list items, map entries,
  `case` branches, objects of an array) that are each about a different GPU or instance type, this one
  not about the deployment's.

Each decision carries the reason shown in `bound_by` (in an audit, why a finding would not count). The
work is linear in the file: one pass for the structure, one search for GPU mentions.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property

from align.catalog import Catalog, GpuMention, GpuSpec
from align.formats import detect_format
from align.formats.common import COMMENT_MARKERS, comment_start
from align.manifest import Deployment
from align.scope.profile import MULTI_TARGET_MODELS, RepositoryProfile
from align.scope.providers import (
    normalize_provider,
    provider_of_instance_type,
    providers_in_path,
    providers_in_text,
    vendors_in_path,
    vendors_in_text,
)


@dataclass(frozen=True, slots=True)
class LineBinding:
    bound: bool
    reason: str  # what bound the line (added to the file's reason), or why it is not bound


BOUND = LineBinding(True, "")

# Files without an extractor whose lines are code, and their comment markers (by extension or name).
_C_LIKE = ("//",)
_CODE_COMMENTS: dict[str, tuple[str, ...]] = {
    **{ext: _C_LIKE for ext in ("go", "rs", "java", "kt", "scala", "c", "cc", "cpp", "cxx", "h", "hpp", "cu",
                                "cuh", "cs", "swift", "dart", "php", "groovy", "gradle", "proto", "zig")},
    **{ext: ("#",) for ext in ("rb", "r", "jl", "pl", "pm", "mk", "cmake", "nix", "tcl", "ps1", "psm1", "j2",
                               "jinja", "jinja2", "tpl", "cfg", "conf", "ini", "properties")},
    "lua": ("--",), "sql": ("--",), "hs": ("--",),
}
_CODE_NAMES = re.compile(r"^(?:kconfig|makefile|gnumakefile|cmakelists\.txt|jenkinsfile|vagrantfile|rakefile"
                         r"|gemfile|podfile|brewfile|justfile|procfile|defconfig)", re.IGNORECASE)
_PROSE_FORMATS = frozenset({"markdown", "text"})
_PER_TARGET_FILES = 3  # distinct targets among sibling files that make them a per-target set


def deployment_providers(deployment: Deployment) -> set[str]:
    found = {normalize_provider(deployment.provider)} if deployment.provider else set()
    implied = provider_of_instance_type(deployment.instance_type)
    if implied:
        found.add(implied)
    return {p for p in found if p}


class LineBinder:
    """Binds the lines of one file to `deployment`, or says what else they describe."""

    def __init__(
        self,
        path: str,
        text: str,
        deployment: Deployment,
        deployments: tuple[Deployment, ...],
        catalog: Catalog,
        tree: Callable[[], Iterable[str]] | None = None,
        previous: Deployment | None = None,
        *,
        explicit: bool = False,
        profile: RepositoryProfile | None = None,
        base_text: Callable[[], str | None] | None = None,
    ) -> None:
        self.path = path
        self.text = text
        self.deployment = deployment
        # Bound by the deployment's own `paths:`: the user said this file describes it, so its genre (a
        # benchmark write-up, a documented example) does not unbind it; other targets still do.
        self.explicit = explicit
        self.profile = profile or RepositoryProfile()
        self._base_text = base_text
        # The GPU the deployment ran before this change (align.yaml at base): text about it is about this
        # deployment, only stale (stale-reference), never "another target".
        self.gpus = [deployment.gpu] + ([previous.gpu] if previous is not None else [])
        self.catalog = catalog
        self._tree = tree
        self.ours = deployment_providers(deployment)
        # Evidence for any declared deployment's provider keeps a block bound (it is not "another target").
        self.declared = set().union(*(deployment_providers(d) for d in deployments))
        self.vendors = {d.gpu.vendor for d in deployments}
        self.names = {d.name for d in deployments} if len(deployments) > 1 else set()
        name = path.rsplit("/", 1)[-1]
        suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        self.format = detect_format(path, text[:200])
        self.markers = (COMMENT_MARKERS.get(self.format) or _CODE_COMMENTS.get(suffix)
                        or (("#",) if _CODE_NAMES.match(name) else ()))
        self.code = self.format not in _PROSE_FORMATS or bool(self.markers)

    # ---- the answer

    def binding(self, line: int) -> LineBinding:
        if self._file_elsewhere is not None:
            return self._file_elsewhere
        for reason in (self._block_reason(line), self._output.get(line), self._comment_example(line),
                       self._query(line), self._list_reason(line), self._row_reason(line),
                       self._single_target(line)):
            if reason is not None:
                return LineBinding(False, reason)
        return BOUND

    def is_prose(self, first: int, last: int) -> bool:
        """Documentation and comments: a prose document (Markdown, plain text; its code blocks too, which
        show commands and config rather than run them), or comment lines of code."""
        if not self.code:
            return True
        if not self.markers:
            return False
        for number in range(first, last + 1):
            text = self.lines[number - 1] if 0 < number <= len(self.lines) else ""
            if text.strip() and comment_start(text, self.markers) != len(text) - len(text.lstrip()):
                return False
        return True

    # ---- the whole file

    @cached_property
    def _file_elsewhere(self) -> LineBinding | None:
        vendors = vendors_in_path(self.path)
        if vendors and not set(vendors) & self.vendors:
            vendor, segment = next(iter(vendors.items()))
            return LineBinding(False, f"another accelerator: the path names {vendor} (`{segment}`), the "
                                      f"deployment runs {self.deployment.gpu.name}")
        if self.ours:
            named = providers_in_path(self.path)
            if named and not set(named) & self.declared:
                provider, segment = next(iter(named.items()))
                return LineBinding(False, f"another provider: the path names {provider} (`{segment}`), the "
                                          f"deployment runs on {', '.join(sorted(self.ours))}")
        reason = self._per_target_folder() or self._per_target_file()
        return LineBinding(False, reason) if reason else None

    def _per_target_folder(self) -> str | None:
        """A folder named after another GPU or instance type, beside folders named after other targets."""
        parts = self.path.split("/")[:-1]
        for depth, folder in enumerate(parts):
            target = self._target(folder)
            if target is None or self._is_ours(target):
                continue
            folders, _ = self._children("/".join(parts[:depth]))
            others = [s for s in sorted(folders) if s != folder and (t := self._target(s)) is not None
                      and not t.same_model(target)]
            if others:
                return (f"another target: per-target folder `{folder}/` ({target.name}) beside "
                        f"`{others[0]}/`; the deployment runs {self.deployment.gpu.name}")
        return None

    def _per_target_file(self) -> str | None:
        """One of a set of files named after targets (`defconfigs/lambdalabs-gpu-1x-a10`, `...-8x-h100`,
        `...-b200`): at least three targets, so that two files of a migration are not such a set."""
        parent, _, name = self.path.rpartition("/")
        target = self._target(name.rsplit(".", 1)[0] if "." in name else name)
        if target is None or self._is_ours(target):
            return None
        _, files = self._children(parent)
        distinct: list[GpuSpec] = [target]
        for sibling in sorted(files):
            other = self._target(sibling.rsplit(".", 1)[0] if "." in sibling else sibling)
            if other is not None and not any(other.same_model(d) for d in distinct):
                distinct.append(other)
        if len(distinct) < _PER_TARGET_FILES:
            return None
        listed = ", ".join(g.name for g in distinct[:4])
        return (f"another target: `{name}` is one of a set of per-target files ({listed}...); the deployment "
                f"runs {self.deployment.gpu.name}")

    def _target(self, name: str) -> GpuSpec | None:
        mentions = self.catalog.find_mentions(re.sub(r"[-_.]+", " ", name))
        models = {m.gpu.name for m in mentions}
        return mentions[0].gpu if len(models) == 1 else None

    def _children(self, parent: str) -> tuple[set[str], set[str]]:
        """The folders and files directly in `parent`."""
        if self._tree is None:
            return set(), set()
        prefix = parent + "/" if parent else ""
        folders, files = set(), set()
        for path in self._tree():
            if path.startswith(prefix):
                rest = path[len(prefix) :]
                if "/" in rest:
                    folders.add(rest.split("/", 1)[0])
                else:
                    files.add(rest)
        return folders, files

    # ---- blocks: YAML documents, Markdown sections, the file

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @cached_property
    def _blocks(self) -> list[tuple[int, int, str | None]]:
        """(first line, last line, reason it is bound elsewhere or None); for Markdown the innermost
        section that holds a line comes last."""
        if self.format == "markdown" and not self.code:
            return self._sections()
        if self.format == "yaml":
            documents = self._yaml_documents()
            if len(documents) > 1:
                evidence = [self._evidence("\n".join(self.lines[first - 1 : last])) for first, last in documents]
                # The whole file's evidence only for documents that have none of their own.
                whole = self._elsewhere(self.text) if not all(decided for decided, _ in evidence) else None
                return [(first, last, reason if decided else whole)
                        for (first, last), (decided, reason) in zip(documents, evidence, strict=True)]
        return [(1, len(self.lines), self._elsewhere(self.text))]

    def _block_reason(self, line: int) -> str | None:
        reason = None
        for first, last, why in self._blocks:
            if first <= line <= last:
                reason = why
        return reason

    def _elsewhere(self, text: str) -> str | None:
        decided, reason = self._evidence(text)
        return reason if decided else None

    def _evidence(self, text: str) -> tuple[bool, str | None]:
        """(there is evidence, the reason when it points elsewhere). In each dimension (provider, accelerator
        maker, deployment name) evidence is either for a declared deployment or only for others; a block is
        elsewhere when some dimension points only elsewhere."""
        if self.deployment.instance_type and self.deployment.instance_type in text:
            return True, None
        decided = False
        vendors = vendors_in_text(text)
        if vendors:
            decided = True
            if not set(vendors) & self.vendors:
                vendor, written = next(iter(vendors.items()))
                return True, (f"another accelerator: the block names {vendor} (`{written.strip()}`), the "
                              f"deployment runs {self.deployment.gpu.name}")
        if self.ours:
            found = providers_in_text(text)
            if found:
                decided = True
                if not set(found) & self.declared:
                    provider, written = next(iter(found.items()))
                    return True, (f"another provider: the block names {provider} (`{written.strip()}`), the "
                                  f"deployment runs on {', '.join(sorted(self.ours))}")
        named = [n for n in self.names if re.search(rf"\b{re.escape(n)}\b", text)]
        if named:
            decided = True
            if self.deployment.name not in named:
                return True, f"another deployment: the block names deployment `{named[0]}`"
        return decided, None

    def _headings(self) -> list[tuple[int, int]]:
        """(line, level) of Markdown `#` headings and reStructuredText underlined titles, outside code."""
        headings: list[tuple[int, int]] = []
        rst_levels: list[str] = []  # underline characters in the order they appear: their levels
        fence = False
        lines = self.lines
        for number, text in enumerate(lines, 1):
            stripped = text.lstrip()
            if stripped.startswith(("```", "~~~")):
                fence = not fence
            elif fence:
                continue
            elif stripped.startswith("#"):
                level = len(stripped) - len(stripped.lstrip("#"))
                if level <= 6 and stripped[level : level + 1] in (" ", ""):
                    headings.append((number, level))
            elif (number < len(lines) and text.strip() and not text.startswith((" ", "\t"))
                  and _RST_UNDERLINE.match(lines[number]) and len(lines[number].rstrip()) >= len(text.rstrip())):
                char = lines[number].strip()[0]
                if char not in rst_levels:
                    rst_levels.append(char)
                headings.append((number, rst_levels.index(char) + 1))
        return headings

    def _sections(self) -> list[tuple[int, int, str | None]]:
        """Markdown sections, outermost first; a section without evidence inherits its parent's binding.
        A section is also elsewhere when its title makes it a write-up (benchmark results, an example) or
        one of sibling sections each about another GPU (`## A10`, `## H100`)."""
        headings = self._headings()
        total = len(self.lines)
        first_heading = headings[0][0] if headings else total + 1
        decided, reason = self._evidence("\n".join(self.lines[: first_heading - 1]))
        blocks: list[tuple[int, int, str | None]] = [(1, total, reason if decided else None)]
        per_target = self._per_target_sections(headings)
        parents: list[tuple[int, str | None]] = []  # (level, binding) of the enclosing sections
        for index, (line, level) in enumerate(headings):
            end = next((n - 1 for n, lv in headings[index + 1 :] if lv <= level), total)
            own_end = headings[index + 1][0] - 1 if index + 1 < len(headings) else total
            while parents and parents[-1][0] >= level:
                parents.pop()
            inherited = parents[-1][1] if parents else blocks[0][2]
            title = self.lines[line - 1]
            decided, reason = self._evidence("\n".join(self.lines[line - 1 : own_end]))
            if reason is None and not self.explicit and _WRITEUP.search(title):
                decided, reason = True, f"a write-up, not a claim: the section `{title.strip('# ').strip()[:60]}`"
            if reason is None and line in per_target:
                decided, reason = True, per_target[line]
            binding = reason if decided else inherited
            blocks.append((line, end, binding))
            parents.append((level, binding))
        return blocks

    def _per_target_sections(self, headings: list[tuple[int, int]]) -> dict[int, str]:
        """Headings of sibling sections that each name a different GPU: those not about the deployment's."""
        # Sections alike but for their GPU ("### A10 GPU results", "### H100 GPU results"): same parent,
        # same level, the same title once the GPU names are taken out.
        titled: dict[tuple[int, int, str], list[tuple[int, list[GpuSpec]]]] = {}
        for index, (line, level) in enumerate(headings):
            parent = next((j for j in range(index - 1, -1, -1) if headings[j][1] < level), -1)
            mentions = self._all_mentions.get(line, [])
            title = self.lines[line - 1]
            template, offset = title, self._line_starts[line - 1]
            for mention in sorted(mentions, key=lambda m: -m.start):
                template = template[: mention.start - offset] + "{}" + template[mention.end - offset :]
            key = re.sub(r"\W+", " ", template).strip().lower()
            titled.setdefault((parent, level, key), []).append((line, _models(mentions)))
        found: dict[int, str] = {}
        for siblings in titled.values():
            named = [(line, models) for line, models in siblings if models]
            distinct = _models(GpuMention(0, 0, g.name, g, "name") for _, models in named for g in models)
            if len(named) < 2 or len(distinct) < 2:
                continue
            listed = ", ".join(g.name for g in distinct[:4])
            for line, models in named:
                if not any(self._is_ours(g) for g in models):
                    found[line] = f"another target: one of sibling sections about {listed}"
        return found

    def _yaml_documents(self) -> list[tuple[int, int]]:
        documents = []
        start = 1
        for number, text in enumerate(self.lines, 1):
            if text.rstrip() == "---" and number > start:
                documents.append((start, number - 1))
                start = number + 1
        documents.append((start, len(self.lines)))
        return [d for d in documents if d[0] <= d[1]]

    # ---- captured output in Markdown code blocks

    @cached_property
    def _output(self) -> dict[int, str]:
        if self.format != "markdown":
            return {}
        found: dict[int, str] = {}
        for info, body in self._fences:
            self._mark_output(found, info, body)
            intro = " ".join(self.lines[max(0, body[0] - 5) : body[0] - 1]) if body else ""
            if body and not self.explicit and _EXAMPLE_INTRO.search(intro):
                for number in body:
                    found.setdefault(number, "an example in the documentation (the text before the code block "
                                             "introduces it as one)")
            elif body and _ALTERNATIVE_INTRO.search(intro) and not self._names_ours(body):
                # Also in the deployment's own guide: "If you would like to experiment with A100 MIG, create
                # the node pool with ..." offers another setup beside the deployment's.
                for number in body:
                    found.setdefault(number, "an alternative the documentation offers (the text before the code "
                                             "block introduces it as an option), about another GPU")
        return found

    @cached_property
    def _fences(self) -> list[tuple[str, list[int]]]:
        """Markdown code blocks: (info string, the lines inside)."""
        fences: list[tuple[str, list[int]]] = []
        opened, info, body = False, "", []  # type: bool, str, list[int]
        for number, text in enumerate(self.lines, 1):
            stripped = text.strip()
            if stripped.startswith(("```", "~~~")):
                if opened:
                    fences.append((info, body))
                    opened, body = False, []
                else:
                    opened, info = True, stripped.lstrip("`~").strip().lower()
            elif opened:
                body.append(number)
        return fences

    def _query(self, line: int) -> str | None:
        """A command that looks something up (`check_capacity.py --instance-type gpu_1x_h100_sxm5`, `aws ec2
        describe-instance-types`, `gcloud compute accelerator-types list`) names what it asks about, not what
        the deployment runs. Only commands of shell code: shell files and shell blocks of documents."""
        if not self._shell_lines or line not in self._shell_lines or self._names_ours([line]):
            return None
        command = _PROMPT.sub("", self.lines[line - 1]).strip()
        if command.startswith("#"):
            return None  # a comment
        words: list[str] = []
        for token in command.split():
            if token.startswith("-"):
                break  # the options: what the command is asked about
            if not words and ("=" in token or token in _INTERPRETERS):
                continue  # `ENV=x python3 script.py`
            words += _WORD_SPLIT.split(token.rsplit("/", 1)[-1].lower())
            if len(words) >= 8:
                break
        verb = next((w for w in words if w in _QUERY_WORDS), None)
        return f"a query: the command `{verb}` looks up what it names" if verb else None

    @cached_property
    def _shell_lines(self) -> frozenset[int]:
        if self.format == "shell":
            return frozenset(range(1, len(self.lines) + 1))
        if self.format != "markdown":
            return frozenset()
        return frozenset(n for info, body in self._fences if (info.split() or [""])[0] in _SHELL_LANGUAGES
                         for n in body)

    def _names_ours(self, lines: list[int]) -> bool:
        return any(self._is_ours(m.gpu) for n in lines for m in self._all_mentions.get(n, ()))

    def _mark_output(self, found: dict[int, str], info: str, body: list[int]) -> None:
        language = info.split()[0] if info else ""
        if language in _OUTPUT_LANGUAGES:
            kept = body
        elif language in _SESSION_LANGUAGES or (language in ("", "text", "txt", "plaintext", "shell", "bash", "sh")
                                                 and any(_OUTPUT_SIGNS.search(self.lines[n - 1]) for n in body)):
            kept = [n for n in body if not _PROMPT.match(self.lines[n - 1])]
            if language not in _SESSION_LANGUAGES and language:
                # A shell block that shows output: only the lines that are not commands.
                kept = [n for n in kept
                        if _OUTPUT_SIGNS.search(self.lines[n - 1]) or _TABLE_LINE.match(self.lines[n - 1])]
        else:
            return
        for number in kept:
            found[number] = "captured command output (a code block of logs or tool output)"

    # ---- GPU mentions: in code (without comments) and in the whole line

    @cached_property
    def _line_starts(self) -> list[int]:
        starts = [0]
        for text in self.lines:
            starts.append(starts[-1] + len(text) + 1)
        return starts

    def _by_line(self, body: str) -> dict[int, list[GpuMention]]:
        by_line: dict[int, list[GpuMention]] = {}
        for mention in self.catalog.find_mentions(body):
            by_line.setdefault(bisect_right(self._line_starts, mention.start), []).append(mention)
        return by_line

    @cached_property
    def _all_mentions(self) -> dict[int, list[GpuMention]]:
        body = "\n".join(self.lines)
        # Lines split at "\n" alone: the text itself has the same mentions at the same places, and the
        # catalog has just searched that very text for the rules.
        return self._by_line(self.text if body in (self.text, self.text[:-1]) else body)

    @cached_property
    def _code_mentions(self) -> dict[int, list[GpuMention]]:
        if not self.code or not self.markers:
            return self._all_mentions
        # A mention never spans a line break, so a line without a comment names what it names in the
        # whole text; only lines with a comment are searched again without it.
        by_line: dict[int, list[GpuMention]] = {}
        for number, text in enumerate(self.lines, 1):
            code = self._code_part(text)
            if code == text:
                found = self._all_mentions.get(number)
            else:
                offset = self._line_starts[number - 1]
                found = [replace(m, start=m.start + offset, end=m.end + offset)
                         for m in self.catalog.find_mentions(code)]
            if found:
                by_line[number] = found
        return by_line

    def _code_part(self, text: str) -> str:
        """The line without a trailing comment (same length, so columns stay)."""
        at = comment_start(text, self.markers)
        return text if at < 0 else text[:at] + " " * (len(text) - at)

    def _is_ours(self, gpu: GpuSpec) -> bool:
        return any(gpu.same_model(own) or own.same_model(gpu) for own in self.gpus)

    # ---- lists: several GPUs side by side in one statement, comment block or paragraph

    def _list_reason(self, line: int) -> str | None:
        code = self._code_mentions.get(line, [])
        if code:
            first, last = self._statements.get(line, (line, line))
            models = _models(m for n in range(first, last + 1) for m in self._code_mentions.get(n, ()))
            if any(self._is_ours(m.gpu) for m in code):
                return None
        else:
            if not self._all_mentions.get(line):
                return None
            first, last = self._paragraphs.get(line, (line, line))
            models = _models(m for n in range(first, last + 1) for m in self._all_mentions.get(n, ()))
            if any(self._is_ours(m.gpu) for m in self._all_mentions.get(line, ())):
                return None
        if len(models) < 2 or any(self._is_ours(g) for g in models):
            return None
        listed = ", ".join(g.name for g in models[:4]) + (", ..." if len(models) > 4 else "")
        return f"a list, not a claim: lines {first}-{last} name {listed} side by side"

    def _single_target(self, line: int) -> str | None:
        """In a repository whose files name many GPU models (a product, or deployments for many targets), a
        block that names other GPUs and nothing of the deployment's (not its GPU, instance type or name)
        describes those targets: a guide for one, an example, a product's defaults for users (spec §1b)."""
        if not self.profile.multi_target or self.explicit or self._was_ours:
            return None
        block = self._other_target_block(line)
        if block is None:
            return None
        return (f"another target: the repository names {len(self.profile.models)} or more other GPU models, and "
                f"{block}")

    def may_be_another_target(self, line: int) -> bool:
        """Whether `line` could be another target's were the repository to name many GPU models (its block
        names only other GPUs): the engine asks while the profile is still being worked out, and binds
        such a line again once it is known (`scope.profile.PendingProfile`)."""
        return not self.explicit and self._other_target_block(line) is not None

    def _other_target_block(self, line: int) -> str | None:
        first, last = self._innermost_block(line)
        key = (first, last)
        found = self._single_targets.get(key)
        if found is None:
            found = self._single_targets[key] = self._block_target(first, last) or ""
        return found or None

    @cached_property
    def _single_targets(self) -> dict[tuple[int, int], str]:
        return {}

    @cached_property
    def _was_ours(self) -> bool:
        """The file named the deployment's GPU or instance type before this change: the change rewrote the
        deployment's own file, it did not add a guide for another target."""
        if self._base_text is None:
            return False
        before = self._base_text()
        if before is None:
            return False  # added by the change (or a scan): nothing to go by
        own_type = self.deployment.instance_type
        if own_type and own_type.lower().removeprefix("standard_") in before.lower():
            return True
        models = _models(self.catalog.find_mentions(before))
        others = [g for g in models if not self._is_ours(g)]
        # A page that named ours among many GPUs ("Ampere and newer, such as A10, A100, H100, H200") was
        # about GPUs in general, not the deployment's own file.
        return len(others) < len(models) and len(others) < MULTI_TARGET_MODELS

    def _innermost_block(self, line: int) -> tuple[int, int]:
        best = (1, len(self.lines))
        for first, last, _ in self._blocks:
            if first <= line <= last and last - first <= best[1] - best[0]:
                best = (first, last)
        return best

    def _block_target(self, first: int, last: int) -> str | None:
        text = "\n".join(self.lines[first - 1 : last])
        own_type = self.deployment.instance_type
        if own_type and own_type.lower().removeprefix("standard_") in text.lower():
            return None
        if self.names and any(re.search(rf"\b{re.escape(n)}\b", text) for n in self.names):
            return None
        mentions = [m for n in range(first, last + 1) for m in self._all_mentions.get(n, ())]
        if not mentions or any(self._is_ours(m.gpu) for m in mentions):
            return None
        models = _models(mentions)
        listed = " and ".join(g.name for g in models[:3]) + (" and others" if len(models) > 3 else "")
        return f"this block names only {listed}"

    def _comment_example(self, line: int) -> str | None:
        """A line of a comment block that an earlier line of the block introduces as an example
        ("// Example response:" above a JSON shape), in code files."""
        if not self.code or self.explicit or not self.markers:
            return None
        first, _ = self._paragraphs.get(line, (line, line))
        if first == line or not _EXAMPLE_INTRO.search(" ".join(self.lines[first - 1 : line - 1])):
            return None
        return "an example in a comment (an earlier line of the comment introduces it as one)"

    @cached_property
    def _statements(self) -> dict[int, tuple[int, int]]:
        """Code lines continued onto the next (`||`, `,`, `(`...): each line -> its statement's first and
        last line, for statements of up to 12 lines."""
        if not self.code:
            return {}
        found: dict[int, tuple[int, int]] = {}
        lines = self.lines
        start = 1
        for number in range(1, len(lines) + 1):
            text = self._code_part(lines[number - 1]).rstrip() if self.markers else lines[number - 1].rstrip()
            following = lines[number].lstrip() if number < len(lines) else ""
            continues = bool(text) and number - start < 11 and (
                _CONTINUED.search(text) is not None or following.startswith(_CONTINUATION_STARTS))
            if not continues:
                if number > start:
                    for member in range(start, number + 1):
                        found[member] = (start, number)
                start = number + 1
        return found

    @cached_property
    def _paragraphs(self) -> dict[int, tuple[int, int]]:
        """Human text in runs: in Markdown, paragraphs, tables and code blocks (blank lines and headings
        end them); in code, blocks of comment lines. Each line -> its run's first and last line."""
        runs: list[tuple[int, int]] = []
        lines = self.lines
        if self.code:
            if not self.markers:
                return {}
            start = 0
            for number, text in enumerate(lines, 1):
                is_comment = comment_start(text, self.markers) == len(text) - len(text.lstrip()) and text.strip()
                if is_comment and not start:
                    start = number
                elif not is_comment and start:
                    runs.append((start, number - 1))
                    start = 0
            if start:
                runs.append((start, len(lines)))
        else:
            fenced = {n for _, body in self._fences for n in body}
            start = 0
            for number, text in enumerate(lines, 1):
                breaks = not text.strip() or (text.lstrip().startswith("#") and number not in fenced)
                fence_edge = text.strip().startswith(("```", "~~~"))
                if breaks or fence_edge:
                    if start:
                        runs.append((start, number - 1))
                    start = 0
                    continue
                if not start:
                    start = number
            if start:
                runs.append((start, len(lines)))
        found: dict[int, tuple[int, int]] = {}
        for first, last in runs:
            if last - first < 40:  # a long run is a document, not a list
                for number in range(first, last + 1):
                    found[number] = (first, last)
        return found

    # ---- catalogs: rows of look-alike items, each about another GPU or instance type

    @cached_property
    def _structure(self) -> _Structure:
        return _Structure(self.lines, self.markers if self.code else (), self.code, self._fenced_comments)

    @cached_property
    def _fenced_comments(self) -> frozenset[int]:
        """Comment lines of the code blocks of a prose document (`# t4g for g5g instances` above a list item
        of a YAML block): like comments in code, they describe the item below them, they are not items."""
        if self.code:
            return frozenset()
        found: set[int] = set()
        for info, body in self._fences:
            language = info.split()[0] if info else ""
            if language in _SESSION_LANGUAGES or language in _OUTPUT_LANGUAGES:
                continue  # `# ` starts a root prompt there, and output has no comments
            markers = _FENCE_COMMENTS.get(language, ("#", "//"))
            found.update(n for n in body if self.lines[n - 1].lstrip().startswith(markers))
        return frozenset(found)

    @cached_property
    def _other_rows(self) -> dict[int, _Item]:
        """Items (by first line) that are other rows of a catalog."""
        if not self._all_mentions:
            return {}
        rows: dict[int, _Item] = {}
        for run in self._structure.runs():
            if _constrains_scheduling(run[0]):
                continue  # `values: [g6e.2xlarge, g6.2xlarge]` of a node affinity: each value is a claim
            subjects = [self._subject(item) for item in run]
            named = [(item, s) for item, s in zip(run, subjects, strict=True) if s]
            if len(named) < 2:
                continue
            targets = {_target_key(m) for _, subject in named for m in subject}
            if len(targets) < 2:
                continue
            models = _models(m for _, subject in named for m in subject)
            listed = ", ".join(g.name for g in models[:4]) + (", ..." if len(models) > 4 else "")
            for item, subject in named:
                if not self._own_row(subject):
                    item.reason = (f"another row of a catalog: lines {run[0].first}-{run[-1].last} list "
                                   f"{listed} side by side; this row is about {subject[0].text}")
                    rows[item.first] = item
            for item, subject in zip(run, subjects, strict=True):
                if not subject and item.shape in _DATA_ROWS:
                    # `{SKU: "Standard_NG32ads_V620_v1", GPUMem: "32Gi"}` among rows of known GPUs: a row
                    # about a GPU the catalog does not know, never the deployment's (which names its GPU)
                    item.reason = (f"another row of a catalog: lines {run[0].first}-{run[-1].last} list "
                                   f"{listed} side by side; this row names none of them")
                    rows[item.first] = item
        return rows

    def _own_row(self, subject: list[GpuMention]) -> bool:
        """A row about the deployment: it names its GPU, and no instance type other than its own (a table
        of Azure SKUs lists many A100 sizes; the deployment's row is the one of its size)."""
        if not any(self._is_ours(m.gpu) for m in subject):
            return False
        instances = [m for m in subject if m.kind == "instance_type"]
        return not instances or any(self._is_own_instance(m.text) for m in instances)

    def _is_own_instance(self, text: str) -> bool:
        own = self.deployment.instance_type
        if not own:
            return True
        def plain(name: str) -> str:
            return re.sub(r"^(?:standard_|ml\.)", "", name.lower())
        return plain(text) == plain(own)

    def _subject(self, item: _Item) -> list[GpuMention]:
        """What a row is about: the GPUs its first line and first child name (a table row, `H100: 80`,
        `- name: x` + `gpu: H100`, `{` + `"InstanceType": "ml.p4d.24xlarge"`). A GPU deep inside a big
        block (a resource's tag) is a property of the block, not what identifies it."""
        head = [item.first, *(child.first for child in item.children[:1])]
        found = [m for line in head for m in self._code_mentions.get(line, ())]
        # Else what its comments say it is for: a comment above it (`# H100-80GB`) or after it (`<= 16:  # T4`).
        return found or [m for line in (*item.comments, item.first) for m in self._all_mentions.get(line, ())]

    def _row_reason(self, line: int) -> str | None:
        rows = self._other_rows
        if not rows:
            return None
        item = self._structure.owner(line)
        while item is not None:
            if rows.get(item.first) is item:
                return item.reason
            item = item.parent
        return None


_SCHEDULING = re.compile(
    r"\b(?:nodeSelector|nodeAffinity|affinity|requirements|matchExpressions|nodeSelectorTerms|tolerations"
    r"|node_selector|node_affinity)\b|node\.kubernetes\.io/instance-type|karpenter\.|cloud\.google\.com/gke-"
)


def _constrains_scheduling(item: _Item) -> bool:
    """True for items under a Kubernetes or Karpenter scheduling constraint (where each value is a
    requirement on the nodes the workload runs on, not a row of a catalog)."""
    parent = item.parent
    while parent is not None:
        if _SCHEDULING.search(parent.text):
            return True
        parent = parent.parent
    return False


def _models(mentions: Iterable[GpuMention]) -> list[GpuSpec]:
    """The distinct GPU models among `mentions` (A100 and A100 80GB are one model)."""
    models: list[GpuSpec] = []
    for mention in mentions:
        if not any(mention.gpu.same_model(m) or m.same_model(mention.gpu) for m in models):
            models.append(mention.gpu)
    return models


def _target_key(mention: GpuMention) -> str:
    """Rows about different instance types of one GPU (p5e and p5en) are different rows."""
    return mention.text.lower() if mention.kind == "instance_type" else mention.gpu.name


_EXAMPLE_INTRO = re.compile(
    r"\b(?:for\s+example|for\s+instance|e\.g\.|an?\s+example|examples?\s*:|example\s+(?:of|output|response|payload)"
    r"|sample\s+(?:output|response|payload|data)|looks\s+like\s+(?:this|the\s+following)|like\s*:"
    r"|if\s+(?:you|users?)\s+(?:would\s+like|wants?|wish|prefer))",
    re.IGNORECASE,
)
_SHELL_LANGUAGES = frozenset({"", "sh", "bash", "shell", "zsh", "console", "shell-session", "sh-session", "terminal"})
_INTERPRETERS = frozenset({"python", "python3", "bash", "sh", "sudo", "uv", "run", "poetry", "exec", "time"})
_WORD_SPLIT = re.compile(r"[-_.]+")
# Verbs of commands that look things up. Not `get`: `kubectl get nodes -l gpu=H100` checks the deployment.
_QUERY_WORDS = frozenset({"check", "list", "describe", "query", "search", "lookup", "availability", "capacity",
                          "inspect", "skus", "pricing", "prices"})
_ALTERNATIVE_INTRO = re.compile(
    r"\bif\s+(?:you|users?)\s+(?:would\s+like|wants?|wish|prefer)\s+to\s+(?:experiment|try|use\s+(?:a|an|the)\s+"
    r"(?:different|other))|\balternatively\b|\boptionally\b|\binstead\s+of\s+(?:the|this)\b",
    re.IGNORECASE,
)
_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+])\1{2,}\s*$")
# Section titles of write-ups that are not claims about the deployment (spec §1b: benchmark write-ups).
# Not "Example" or "Demo": a deployment's own guide walks through it under such titles.
_WRITEUP = re.compile(
    r"\b(?:benchmarks?|benchmarking|results?|experiments?|experimental|evaluations?|case\s+stud(?:y|ies))\b",
    re.IGNORECASE,
)
_CONTINUED = re.compile(r"(?:\|\||&&|\bor|\band|[,(\[{+\\])$")
_CONTINUATION_STARTS = ("||", "&&", "or ", "and ", ".", "+ ")
# Line-comment markers of the languages of Markdown code blocks (others, and blocks without one: both).
_FENCE_COMMENTS: dict[str, tuple[str, ...]] = {
    **{lang: ("#",) for lang in ("yaml", "yml", "sh", "bash", "shell", "zsh", "python", "py", "toml", "dockerfile",
                                 "ini", "conf", "make", "makefile", "r", "ruby", "perl")},
    **{lang: ("//",) for lang in ("js", "javascript", "ts", "typescript", "go", "c", "cpp", "c++", "cuda", "java",
                                  "rust", "jsonc", "json5", "kotlin", "scala", "swift", "csharp", "cs")},
}  # HCL and Terraform take both
_OUTPUT_LANGUAGES = frozenset({"log", "logs", "output", "console-output", "stdout", "stderr", "nvidia-smi"})
_SESSION_LANGUAGES = frozenset({"console", "shell-session", "sh-session", "terminal", "pycon", "ipython"})
_PROMPT = re.compile(r"^\s*(?:\$|#|>>>|\.\.\.|PS\s*\S*>|\w+@[\w.-]+:\S*[$#])\s")
# Lines only tools print: nvidia-smi frames and tables, log prefixes, kubectl's column headers.
_OUTPUT_SIGNS = re.compile(
    r"NVIDIA-SMI\s+\d|^\s*[+|][-=+]{10,}|\|\s+\d+\s+NVIDIA\b|Driver Version:|CUDA Version:"
    r"|^\s*(?:\[\s*)?\d{4}-\d\d-\d\d[T ]\d\d:\d\d|^\s*[IWEF]\d{4}\s+\d\d:\d\d"
    r"|^\s*(?:INFO|WARN(?:ING)?|ERROR|DEBUG)\b[:\s]"
    r"|^\s*NAME\s{2,}(?:READY|STATUS|TYPE|CAPACITY|AGE)\b|^\s*\w[\w.-]*\s+\d+/\d+\s+(?:Running|Pending|Completed)\b"
    # what command-line tools print about their progress: check marks, "Checking ...", "Selected: ..."
    r"|[✓✗✔✘✅❌]|^\s*(?:Checking|Selected|Found|Using|Trying|Waiting|Created|Deleted|Launching)\b",
)
_TABLE_LINE = re.compile(r"^\s*[|+]")


# ---- the indentation structure every format shares


@dataclass(eq=False)
class _Item:
    first: int
    indent: int
    shape: str
    parent: _Item | None
    text: str = ""  # the first line, stripped
    comments: tuple[int, ...] = ()  # comment lines right above it, which describe it
    last: int = 0
    reason: str = ""
    children: list[_Item] = field(default_factory=list)


_LIST = re.compile(r"^(?:[-*+]|\d+[.)])\s+")
_BRANCH = re.compile(r"^(?:case\b|when\b|elif\b|elsif\b|else\s+if\b|if\b|\}\s*else\s+if\b|default\b)")
_KEY = re.compile(r"""^(?:["'`]?)([^"'`:=\s][^"'`:=]{0,60}?)(?:["'`]?)\s*(?::(?!:)|=>|=(?!=)|\))""")
_LEAD = re.compile(r"[A-Za-z_][\w.]*")
def _alike(item: _Item, other: _Item) -> bool:
    if item.shape == other.shape:
        return item.shape != "other"
    if item.shape.startswith("key:") and other.shape.startswith("key:") and item.children and other.children:
        keys = {c.shape for c in item.children if c.shape.startswith("key:")}
        return len(keys & {c.shape for c in other.children if c.shape.startswith("key:")}) >= 2
    return False


# Shapes of rows that carry data (a struct literal, a map entry, a quoted value, an enum variant, a table
# row): in a catalog of them, a row that names no known GPU is one more row about another target.
_DATA_ROWS = frozenset({"literal", "entry", "scalar", "variant", "row"})
_VARIANT = re.compile(r"^[A-Za-z_]\w*\s*(?:\([^()]*\))?\s*[,;|]?\s*$")
_SCALAR = re.compile(r"""^(?:"[^"]*"|'[^']*')\s*,?\s*$""")
_CLOSER = re.compile(r"^(?:[\]})]+\s*[,;]?|end|fi|esac|done|endif|endfor|endwhile)\s*$")


def _shape(stripped: str, code: bool) -> str:
    """What kind of item a line starts: a table row, a list item (with its key), a branch, a keyed entry,
    a quoted value; in code, else the word it starts with (the `config X` entries of a Kconfig choice)."""
    if stripped.startswith("|"):
        return "row"
    listed = _LIST.match(stripped)
    if listed:
        key = _KEY.match(stripped[listed.end() :])
        return "list:" + (key.group(1).strip().lower() if key and not re.search(r"\d", key.group(1)) else "")
    if _BRANCH.match(stripped):
        return "branch"
    if stripped.startswith(("{", "(", "[")):
        return "literal"
    if _SCALAR.match(stripped):
        return "scalar"
    if code and _VARIANT.match(stripped):
        return "variant"  # `T4,` / `H100(80),` in an enum or a list of identifiers
    key = _KEY.match(stripped)
    if key:
        name = key.group(1).strip()
        # Keys that carry data (a GPU name, a number) are entries of a map: alike whatever their names.
        return "entry" if re.search(r"\d", name) else "key:" + name.lower()
    lead = _LEAD.match(stripped)
    if code and lead:
        return "lead:" + lead.group(0).lower()
    return "other"


class _Structure:
    """Items by indentation: a line starts an item; the lines indented under it belong to it, and a
    closing line (`},`, `end`, `fi`) closes the item it is level with."""

    def __init__(self, lines: list[str], markers: tuple[str, ...], code: bool,
                 comment_lines: frozenset[int] = frozenset()) -> None:
        self.items: list[_Item] = []
        self.roots: list[_Item] = []
        self._owner: list[_Item | None] = [None] * (len(lines) + 2)
        stack: list[_Item] = []
        last_text = 0
        leading: list[int] = []  # comment lines right above the next item: they describe it (`# H100-80GB`)
        for number, text in enumerate(lines, 1):
            stripped = text.strip()
            if not stripped:
                self._owner[number] = stack[-1] if stack else None
                leading = []
                continue
            if number in comment_lines or (markers and comment_start(text, markers) == len(text) - len(text.lstrip())):
                self._owner[number] = stack[-1] if stack else None
                leading.append(number)
                continue
            indent = len(text) - len(text.lstrip(" \t"))
            while stack and stack[-1].indent > indent:
                stack.pop().last = last_text
            if _CLOSER.match(stripped) and stack and stack[-1].indent == indent:
                self._owner[number] = stack[-1]
                last_text = number
                continue
            while stack and stack[-1].indent >= indent:
                stack.pop().last = last_text
            parent = stack[-1] if stack else None
            item = _Item(number, indent, _shape(stripped, code), parent, stripped[:200], comments=tuple(leading))
            for comment in leading:
                self._owner[comment] = item
            leading = []
            (parent.children if parent else self.roots).append(item)
            self.items.append(item)
            stack.append(item)
            self._owner[number] = item
            last_text = number
        while stack:
            stack.pop().last = last_text

    def owner(self, line: int) -> _Item | None:
        return self._owner[line] if 0 < line < len(self._owner) else None

    def runs(self) -> Iterable[list[_Item]]:
        """Consecutive sibling items of the same shape (what a table, list, map or switch is made of), or
        sibling blocks built alike (`small:` / `medium:` / `large:` profiles with the same keys)."""
        for siblings in (self.roots, *(item.children for item in self.items)):
            run: list[_Item] = []
            for item in siblings:
                if run and _alike(item, run[-1]):
                    run.append(item)
                    continue
                if len(run) >= 2:
                    yield run
                run = [item]
            if len(run) >= 2:
                yield run
