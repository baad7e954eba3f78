"""The rule contract, the built-in list and third-party rules from the `align.rules` entry-point group."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import ClassVar, Protocol, runtime_checkable

from align.context import ReviewContext, SourceFile
from align.findings import Finding, Severity
from align.manifest import Deployment

ENTRY_POINT_GROUP = "align.rules"


@runtime_checkable
class Rule(Protocol):
    """A rule is a small stateless class: metadata as class attributes, its docstring as documentation
    (what it catches, why it matters, an example, whether its fix is safe)."""

    id: ClassVar[str]
    default_severity: ClassVar[Severity]
    summary: ClassVar[str]  # one line for `align rules` and the report
    fix_safe: ClassVar[bool]  # True when its suggestions can be applied without human judgement

    def check(self, ctx: ReviewContext) -> Iterable[Finding]: ...


class BaseRule:
    """Convenience base: builds findings with this rule's id and default severity."""

    id: ClassVar[str] = ""
    default_severity: ClassVar[Severity] = Severity.WARNING
    summary: ClassVar[str] = ""
    fix_safe: ClassVar[bool] = False

    def check(self, ctx: ReviewContext) -> Iterable[Finding]:
        raise NotImplementedError

    def finding(
        self,
        source_file: SourceFile | str,
        line: int,
        message: str,
        *,
        evidence: str,
        deployment: Deployment | None = None,
        end_line: int | None = None,
        suggestion: str | None = None,
        in_diff: bool | None = None,
        component: str | None = None,
        stated: str | None = None,
        expected: str | None = None,
        details: tuple[str, ...] = (),
        bound_by: str | None = None,
    ) -> Finding:
        """`evidence` is the offending text (not the line number): it makes the fingerprint."""
        path = source_file if isinstance(source_file, str) else source_file.path
        if in_diff is None:
            in_diff = isinstance(source_file, SourceFile) and source_file.is_changed(line)
        return Finding(
            rule=self.id,
            severity=self.default_severity,
            path=path,
            line=line,
            end_line=end_line or line,
            message=message,
            suggestion=suggestion,
            deployment=deployment.name if deployment else None,
            in_diff=in_diff,
            evidence=evidence,
            component=component,
            stated=stated,
            expected=expected,
            details=details,
            bound_by=bound_by,
        )

    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or cls.summary)


@dataclass(frozen=True)
class LoadedRules:
    rules: tuple[Rule, ...]
    errors: tuple[str, ...]  # broken plugins: reported, never fatal


def builtin_rules() -> list[Rule]:
    from align.rules import BUILTIN_RULES

    return [rule_class() for rule_class in BUILTIN_RULES]


def load_rules(include_plugins: bool = True) -> LoadedRules:
    rules: list[Rule] = builtin_rules()
    errors: list[str] = []
    if include_plugins:
        known = {rule.id for rule in rules}
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = entry_point.load()
                rule = loaded() if isinstance(loaded, type) else loaded
                if not isinstance(rule, Rule) or not rule.id:
                    raise TypeError("does not implement the Rule protocol (id, default_severity, summary, check)")
                if rule.id in known:
                    raise ValueError(f"rule id {rule.id!r} is already taken")
            except Exception as exc:  # a broken plugin must not take the engine down
                errors.append(f"plugin {entry_point.name!r} ({entry_point.value}): {exc}")
                continue
            known.add(rule.id)
            rules.append(rule)
    return LoadedRules(tuple(rules), tuple(errors))
