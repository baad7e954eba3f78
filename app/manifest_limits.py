"""Limits on what reading one `align.yaml` may cost: a pull request writes the file, so its size, nesting,
aliases and counts are bounded, and a file over a limit is reported (`manifest-invalid`, naming the limit)
instead of being cut, recursed into until the stack runs out, or expanded until memory runs out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import AliasEvent


@dataclass(frozen=True)
class ManifestLimits:
    max_bytes: int = 1_000_000  # also what the archive and the contents API hand over in full
    max_depth: int = 20  # nested mappings and lists; a real manifest uses 4
    max_aliases: int = 100  # `*name` references
    max_values: int = 100_000  # keys, items and scalars once aliases are expanded (a 520-byte file made 10**9)
    max_deployments: int = 100
    max_catalog_entries: int = 500
    max_spelling_chars: int = 200  # a catalog name, alias, label or instance type
    max_wide_globs: int = 10  # instance types with several `*`: each is matched by an NFA over every text


_SPELLING_FIELDS = ("name", "aliases", "product_labels", "node_labels", "instance_types")


def spelling_problems(entries: object, limits: ManifestLimits) -> list[tuple[tuple[str | int, ...], str]]:
    """(where, message) for `catalog:` spellings past the length limit, and for the first instance-type
    glob with several `*` past their limit. Every review matches every spelling against every text."""
    if not isinstance(entries, list):
        return []
    problems: list[tuple[tuple[str | int, ...], str]] = []
    wide = 0
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        for field in _SPELLING_FIELDS:
            values = entry.get(field)
            listed = [values] if isinstance(values, str) else values if isinstance(values, list) else []
            for position, value in enumerate(listed):
                if not isinstance(value, str):
                    continue
                where: tuple[str | int, ...] = ("catalog", index, field) if field == "name" else (
                    "catalog", index, field, position)
                if len(value) > limits.max_spelling_chars:
                    problems.append((where, f"{len(value):,} characters, more than the limit of "
                                            f"{limits.max_spelling_chars}"))
                elif field == "instance_types" and value.count("*") > 1:
                    wide += 1
                    if wide == limits.max_wide_globs + 1:
                        problems.append((where, f"more than {limits.max_wide_globs} instance-type globs with "
                                                "several `*`: the limit"))
    return problems


class LimitExceeded(Exception):
    """A limit of ManifestLimits was passed; `line` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def size_problem(text: str, limits: ManifestLimits) -> str | None:
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size <= limits.max_bytes:
        return None
    # A source may hand over only the first max_bytes + 1 bytes: "larger than", not the exact size.
    return (f"larger than the {limits.max_bytes:,}-byte limit for align.yaml: nothing past the limit would be "
            "read, so none of the file is used (move rarely used entries out, or shorten it)")


class _CountingComposer(Composer):
    """ruamel's composer, counting alias references as it meets them (before anything is expanded)."""

    limit = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.parser.check_event(AliasEvent):
            self.aliases += 1
            if self.aliases > self.limit:
                mark = self.parser.peek_event().start_mark
                raise LimitExceeded(mark.line + 1, f"more than {self.limit} aliases (`*name`): the limit")
        return super().compose_node(parent, index)


def limited_yaml(limits: ManifestLimits) -> YAML:
    """A round-trip loader that stops at the depth and alias limits."""
    yaml = YAML(typ="rt")
    yaml.max_depth = limits.max_depth + 1  # ruamel counts the document's root node as depth 1

    class LimitedComposer(_CountingComposer):
        limit = limits.max_aliases

    yaml.Composer = LimitedComposer
    return yaml


def depth_problem(error: MarkedYAMLError, limits: ManifestLimits) -> str | None:
    if type(error).__name__ != "MaxDepthExceededError":
        return None
    return f"nested more than {limits.max_depth} levels deep (mappings and lists): the limit"


class ValueBudget:
    """Counts values as aliases are expanded into plain data; raises past `max_values`."""

    def __init__(self, limits: ManifestLimits) -> None:
        self.left = limits.max_values
        self.limit = limits.max_values

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise LimitExceeded(1, f"more than {self.limit:,} values once aliases are expanded: the limit")
