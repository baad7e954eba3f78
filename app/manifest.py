"""`align.yaml`: parsing with line numbers, strict validation, and base/head precedence.

INTERFACE CONTRACT (implementation owned by the catalog/manifest work). Keep these names.

The file is read with ruamel.yaml's round-trip loader (it keeps the line of every key and item), then
validated part by part with strict pydantic models, so one run reports every problem, each with its line.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from align.catalog import Catalog, GpuSpec
from align.catalog.data import CatalogEntryError
from align.manifest_limits import (
    LimitExceeded,
    ManifestLimits,
    ValueBudget,
    depth_problem,
    limited_yaml,
    size_problem,
    spelling_problems,
)
from align.path_glob import compile_glob
from align.scope.classes import CLASS_NAMES

MANIFEST_PATHS = ("align.yaml", ".github/align.yaml")
SeverityName = Literal["error", "warning", "notice", "off"]
FailOn = Literal["error", "warning", "notice", "never"]
SuppressionsSetting = Literal["allow", "deny"]  # `align: ignore[rule] reason` comments honoured or not
Arch = Literal["arm64", "x86_64"]

# The built-in rule ids (spec section 3): `rules:` may configure only these, plus installed plugins' ids.
KNOWN_RULE_IDS: tuple[str, ...] = (
    "gpu-model-mismatch",
    "unknown-gpu-model",
    "gpu-memory-mismatch",
    "gpu-memory-overcommit",
    "capacity-mismatch",
    "cost-mismatch",
    "arch-mismatch",
    "retired-secret",
    "arithmetic-error",
    "manifest-changed",
    "stale-reference",
    "manifest-invalid",
)
FILE_FIELD = "(file)"  # the `field` of an issue about the whole file (empty, not YAML, not a mapping)


@dataclass(frozen=True, slots=True)
class ManifestIssue:
    path: str
    line: int
    field: str  # dotted, e.g. "deployments[0].gpu"
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.message}"


class ManifestError(Exception):
    def __init__(self, issues: list[ManifestIssue]) -> None:
        super().__init__("; ".join(str(i) for i in issues))
        self.issues = issues


@dataclass(frozen=True)
class Deployment:
    name: str
    gpu: GpuSpec
    count: int
    price_per_gpu_hour: float
    gpu_memory_gb: float  # declared, else the catalog's
    arch: Literal["arm64", "x86_64"]  # declared, else the catalog's
    provider: str | None = None
    instance_type: str | None = None
    paths: tuple[str, ...] = ("**",)
    paths_declared: bool = False  # `paths:` written in align.yaml (else every file, less the exclusions)
    memory_pools_gb: tuple[tuple[str, float], ...] = ()
    retired_secrets: tuple[str, ...] = ()
    line: int = 0  # line of this deployment in align.yaml

    @property
    def total_memory_gb(self) -> float:
        return self.count * self.gpu_memory_gb

    @property
    def monthly_cost(self) -> float:
        """USD per month at 730 hours for the whole deployment."""
        return self.count * self.price_per_gpu_hour * 730

    def governs(self, path: str) -> bool:
        """True when `path` matches one of `paths` (gitignore-style globs, `**` crosses directories)."""
        return matches_any(path, self.paths)


@dataclass(frozen=True)
class Manifest:
    path: str
    deployments: tuple[Deployment, ...]
    rules: tuple[tuple[str, SeverityName], ...] = ()
    fail_on: FailOn = "error"
    ignore: tuple[str, ...] = ()
    catalog: Catalog = field(default_factory=Catalog)  # the built-in catalog extended by `catalog:`
    # Default exclusion classes (spec §1b) switched back on with `scope: {include: [...]}`.
    scope_include: tuple[str, ...] = ()
    # `suppressions: allow`: inline `align: ignore[rule-id] reason` comments are honoured (from base).
    suppressions: SuppressionsSetting = "deny"

    def severity_override(self, rule_id: str) -> SeverityName | None:
        return dict(self.rules).get(rule_id)

    def deployment_for(self, path: str) -> Deployment | None:
        """The first deployment whose `paths` govern `path`."""
        return next((d for d in self.deployments if d.governs(path)), None)

    def is_ignored(self, path: str) -> bool:
        return matches_any(path, self.ignore)


# --- globs ------------------------------------------------------------------------------------------------


def matches_any(path: str, patterns: Sequence[str]) -> bool:
    """gitignore-like: `**` crosses directories, `*` and `?` do not; a pattern without a slash matches at
    any depth; a pattern also matches everything below a directory it names."""
    path = path.lstrip("/").removeprefix("./")
    return any(compile_glob(pattern).matches(path) for pattern in patterns)


# --- the schema -------------------------------------------------------------------------------------------

_Text = Annotated[str, Field(min_length=1)]
_Positive = Annotated[float, Field(gt=0)]


class _Strict(BaseModel):
    # strict: "3" is not a count and `true` is not a price; YAML already typed every scalar.
    model_config = ConfigDict(extra="forbid", strict=True)


class _ScopeModel(_Strict):
    include: list[_Text] = Field(default_factory=list)  # exclusion classes to review anyway


class _RootModel(_Strict):
    version: Literal[1]
    deployments: Annotated[list[Any], Field(min_length=1)]  # items validated one by one (_DeploymentModel)
    catalog: list[Any] = Field(default_factory=list)  # items validated one by one (_CatalogEntryModel)
    rules: dict[str, SeverityName] = Field(default_factory=dict)
    fail_on: FailOn = "error"
    ignore: list[_Text] = Field(default_factory=list)
    scope: _ScopeModel | None = None
    suppressions: SuppressionsSetting = "deny"


class _DeploymentModel(_Strict):
    name: _Text
    gpu: _Text
    count: Annotated[int, Field(gt=0)]
    price_per_gpu_hour: Annotated[float, Field(ge=0)]
    provider: _Text | None = None
    instance_type: _Text | None = None
    gpu_memory_gb: _Positive | None = None
    arch: Arch | None = None
    paths: Annotated[list[_Text], Field(min_length=1)] = Field(default_factory=lambda: ["**"])
    memory_pools_gb: dict[str, _Positive] = Field(default_factory=dict)
    retired_secrets: list[_Text] = Field(default_factory=list)


class _CatalogEntryModel(_Strict):
    name: _Text
    family: _Text | None = None
    memory_gb: _Positive | None = None
    arch: Arch | None = None
    vendor: _Text | None = None
    generic: bool | None = None
    aliases: list[_Text] = Field(default_factory=list)
    product_labels: list[_Text] = Field(default_factory=list)
    node_labels: list[_Text] = Field(default_factory=list)
    instance_types: list[_Text] = Field(default_factory=list)


# --- parsing ----------------------------------------------------------------------------------------------

Loc = tuple[str | int, ...]


class _Issues:
    """Collects issues, finding each one's line in the round-trip YAML tree."""

    def __init__(self, path: str, tree: Any) -> None:
        self.path = path
        self.tree = tree
        self.items: list[ManifestIssue] = []

    def add(self, loc: Loc, message: str) -> None:
        self.items.append(ManifestIssue(self.path, _line_of(self.tree, loc), _dotted(loc), message))

    def validate(self, model: type[_Strict], data: object, loc: Loc = ()) -> Any:
        """The validated model, or None after recording every error in `data`."""
        try:
            return model.model_validate(data)
        except ValidationError as error:
            for detail in error.errors():
                where = tuple(p for p in detail["loc"] if p != "[key]")
                message = _message(detail["type"], detail["msg"], detail.get("input"), model)
                if detail["type"] == "extra_forbidden" and where:
                    message = _unknown_key(str(where[-1]), model)
                self.add(loc + where, message)
            return None


def parse_manifest(
    text: str,
    path: str,
    catalog: Catalog,
    known_rules: Collection[str] = KNOWN_RULE_IDS,
    limits: ManifestLimits = ManifestLimits(),  # noqa: B008 (frozen)
) -> Manifest:
    """Parse and strictly validate one align.yaml. Raises ManifestError naming file, line and field.

    `catalog` is extended with the file's own `catalog:` entries, and that extended catalog resolves the
    deployments' GPUs and becomes `Manifest.catalog`. `known_rules`: the rule ids `rules:` may configure
    (pass the built-in ids plus those of installed plugins). A file past one of `limits` is invalid, with
    an issue naming the limit (and nothing else is checked)."""
    tree = _load(text, path, limits)
    issues = _Issues(path, tree)
    try:
        data = _plain(tree, ValueBudget(limits))
    except LimitExceeded as error:
        raise ManifestError([ManifestIssue(path, error.line, FILE_FIELD, error.message)]) from None
    for key, most in (("deployments", limits.max_deployments), ("catalog", limits.max_catalog_entries)):
        if isinstance(data.get(key), list) and len(data[key]) > most:
            issues.add((key,), f"{len(data[key]):,} entries, more than the limit of {most:,}")
    for where, message in spelling_problems(data.get("catalog"), limits):
        issues.add(where, message)
    if issues.items:
        raise ManifestError(issues.items)
    root = issues.validate(_RootModel, data)

    extended = _extend_catalog(issues, data.get("catalog"), catalog)
    deployments = _deployments(issues, data.get("deployments"), extended)
    rules = data.get("rules")
    if isinstance(rules, dict):
        for rule_id in rules:
            if rule_id not in known_rules:
                close = difflib.get_close_matches(rule_id, list(known_rules), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else "; `align rules` lists the known ids"
                issues.add(("rules", rule_id), f"unknown rule {rule_id!r}{hint}")

    scope = data.get("scope")
    if isinstance(scope, dict) and isinstance(scope.get("include"), list):
        for index, name in enumerate(scope["include"]):
            if isinstance(name, str) and name not in CLASS_NAMES:
                close = difflib.get_close_matches(name, list(CLASS_NAMES), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                issues.add(("scope", "include", index),
                           f"unknown exclusion class {name!r}{hint} (known: {', '.join(CLASS_NAMES)})")

    if issues.items or root is None:
        raise ManifestError(sorted(issues.items, key=lambda i: i.line))
    return Manifest(
        path=path,
        deployments=tuple(deployments),
        rules=tuple(root.rules.items()),
        fail_on=root.fail_on,
        ignore=tuple(root.ignore),
        catalog=extended,
        scope_include=tuple(root.scope.include) if root.scope else (),
        suppressions=root.suppressions,
    )


def _load(text: str, path: str, limits: ManifestLimits) -> CommentedMap:
    def fail(line: int, message: str) -> ManifestError:
        return ManifestError([ManifestIssue(path, line, FILE_FIELD, message)])

    too_large = size_problem(text, limits)
    if too_large is not None:
        raise fail(1, too_large)
    try:
        tree = limited_yaml(limits).load(text)
    except LimitExceeded as error:
        raise fail(error.line, error.message) from None
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = depth_problem(error, limits) or f"not valid YAML: {error.problem or error.context or 'syntax error'}"
        raise fail(mark.line + 1 if mark else 1, problem) from None
    except YAMLError as error:
        raise fail(1, f"not valid YAML: {error}") from None
    if tree is None:
        raise fail(1, "the file is empty: it needs `version: 1` and at least one deployment")
    if not isinstance(tree, CommentedMap):
        raise fail(1, "must be a mapping with `version: 1` and `deployments:`")
    return tree


def _extend_catalog(issues: _Issues, entries: object, catalog: Catalog) -> Catalog:
    if not isinstance(entries, list):
        return catalog  # a wrong type is reported by the root model
    for index, entry in enumerate(entries):
        loc: Loc = ("catalog", index)
        model = issues.validate(_CatalogEntryModel, entry, loc)
        if model is None:
            continue
        try:
            catalog = catalog.extend([model.model_dump(exclude_unset=True)], ref=issues.path)
        except CatalogEntryError as error:
            issues.add((*loc, error.field), error.message)
    return catalog


def _deployments(issues: _Issues, items: object, catalog: Catalog) -> list[Deployment]:
    if not isinstance(items, list):
        return []
    result: list[Deployment] = []
    first_with_name: dict[str, int] = {}
    for index, item in enumerate(items):
        loc: Loc = ("deployments", index)
        model = issues.validate(_DeploymentModel, item, loc)
        # Name and GPU are checked even when other fields are wrong, so one run reports everything.
        fields = item if isinstance(item, dict) else {}
        name, gpu_name = fields.get("name"), fields.get("gpu")
        if isinstance(name, str):
            if name in first_with_name:
                other = first_with_name[name]
                issues.add((*loc, "name"), f"duplicate deployment name {name!r} (also deployments[{other}])")
            first_with_name.setdefault(name, index)
        gpu = _resolve_gpu(issues, gpu_name, (*loc, "gpu"), catalog) if isinstance(gpu_name, str) else None
        if model is not None and gpu is not None:
            result.append(_deployment(issues, model, gpu, loc, catalog))
    return result


def _resolve_gpu(issues: _Issues, name: str, loc: Loc, catalog: Catalog) -> GpuSpec | None:
    gpu = catalog.resolve(name) if name.strip() else None
    if gpu is None and name.strip():
        near = catalog.nearest(name)
        hint = f"; did you mean {near!r}?" if near else ""
        issues.add(loc, f"unknown GPU {name!r}{hint} (a GPU the catalog lacks goes under `catalog:`)")
    return gpu


def _deployment(issues: _Issues, model: _DeploymentModel, gpu: GpuSpec, loc: Loc, catalog: Catalog) -> Deployment:
    memory = model.gpu_memory_gb if model.gpu_memory_gb is not None else gpu.memory_gb
    pools = tuple(model.memory_pools_gb.items())
    total = sum(size for _, size in pools)
    if total > memory + 1e-9:
        arithmetic = " + ".join(f"{size:g}" for _, size in pools)
        issues.add(
            (*loc, "memory_pools_gb"),
            f"pools add up to more than one GPU's memory: {arithmetic} = {total:g} GB > {memory:g} GB",
        )
    if model.instance_type is not None:
        implied = catalog.resolve(model.instance_type)
        if implied is not None and not implied.same_model(gpu):
            issues.add(
                (*loc, "instance_type"),
                f"instance type {model.instance_type!r} has {implied.name} GPUs, not {gpu.name}",
            )
    return Deployment(
        name=model.name,
        gpu=gpu,
        count=model.count,
        price_per_gpu_hour=model.price_per_gpu_hour,
        gpu_memory_gb=memory,
        arch=model.arch or gpu.arch,
        provider=model.provider,
        instance_type=model.instance_type,
        paths=tuple(model.paths),
        paths_declared="paths" in model.model_fields_set,
        memory_pools_gb=pools,
        retired_secrets=tuple(model.retired_secrets),
        line=_line_of(issues.tree, loc),
    )


def _plain(node: Any, budget: ValueBudget) -> Any:
    """Round-trip YAML values as plain Python (ScalarFloat -> float, CommentedMap -> dict...), so that
    strict validation sees ordinary types. Keys become strings. Every value spends from `budget`: aliases
    are expanded here, and a few hundred bytes of nested aliases expand to billions of values."""
    budget.spend()
    if isinstance(node, Mapping):
        return {str(key): _plain(value, budget) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value, budget) for value in node]
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def _line_of(tree: Any, loc: Loc) -> int:
    """1-based line of the deepest key or item of `loc` that exists (a missing key: its parent's line)."""
    line, node = 1, tree
    for part in loc:
        if isinstance(node, CommentedMap):
            key = next((k for k in node if str(k) == str(part)), None)
            if key is None:
                break
            with suppress(KeyError, TypeError):  # merged (<<) keys carry no position of their own
                line = node.lc.key(key)[0] + 1
            node = node[key]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            with suppress(KeyError, TypeError):
                line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or FILE_FIELD


def _message(kind: str, text: str, given: object, model: type[_Strict]) -> str:
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return f"unknown key; allowed: {', '.join(model.model_fields)}"
    if kind == "too_short":
        return "must not be empty"
    return f"{text.replace('Input should be', 'must be')}, got {_show(given)}"


def _unknown_key(key: str, model: type[_Strict]) -> str:
    """"unknown key 'cout'; did you mean 'count'? (allowed: ...)" for a misspelt key."""
    close = difflib.get_close_matches(key, list(model.model_fields), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key {key!r}{hint} (allowed: {', '.join(model.model_fields)})"


def _show(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value) if isinstance(value, str) else str(value)


# --- base and head ----------------------------------------------------------------------------------------

ManifestOrigin = Literal["both", "added", "base_only"]


@dataclass(frozen=True)
class EffectiveManifest:
    """What a review runs against: settings from base, deployments from head (spec section 1)."""

    manifest: Manifest
    base: Manifest | None  # for manifest-changed / stale-reference deltas
    origin: ManifestOrigin


def _never_narrower(base: tuple[Deployment, ...], head: tuple[Deployment, ...]) -> tuple[Deployment, ...]:
    """Head's deployments (what the change proposes), but a change may widen what is checked, never narrow
    it: a deployment keeps the files its base `paths:` governed, and a secret retired on either side stays
    retired. (Removing a deployment is reported by manifest-changed.)"""
    before = {d.name: d for d in base}
    result = []
    for deployment in head:
        old = before.pop(deployment.name, None)
        if old is not None:
            paths_declared = old.paths_declared and deployment.paths_declared
            paths = tuple(dict.fromkeys((*old.paths, *deployment.paths))) if paths_declared else ("**",)
            secrets = tuple(dict.fromkeys((*old.retired_secrets, *deployment.retired_secrets)))
            deployment = replace(deployment, paths=paths, paths_declared=paths_declared, retired_secrets=secrets)
        result.append(deployment)
    return tuple(result)


def effective_manifest(
    base_text: str | None,
    head_text: str | None,
    path: str,
    catalog: Catalog,
    known_rules: Collection[str] = KNOWN_RULE_IDS,
    limits: ManifestLimits = ManifestLimits(),  # noqa: B008 (frozen)
) -> EffectiveManifest | None:
    """Combine base and head align.yaml texts. None when neither side has one.

    `rules`, `fail_on`, `ignore`, `catalog` from base; `deployments` from head (resolved with the base's
    catalog). Added by the PR: head's file wholly. Raises ManifestError when the file that counts is invalid.

    With both sides, both must be valid: head's deployments are what the change proposes, and base's
    settings are what the check runs under. Head's deployments may use GPUs from head's own `catalog:`,
    but the review's catalog (what text is matched against) stays the base's, so a change cannot teach
    the catalog that its wrong GPU is an alias of the right one. Issues about the base version say so.
    """
    if base_text is None and head_text is None:
        return None
    if base_text is None:
        return EffectiveManifest(parse_manifest(head_text or "", path, catalog, known_rules, limits), None, "added")
    if head_text is None:
        base = parse_manifest(base_text, path, catalog, known_rules, limits)
        return EffectiveManifest(base, base, "base_only")

    issues: list[ManifestIssue] = []
    base_manifest: Manifest | None = None
    try:
        base_manifest = parse_manifest(base_text, path, catalog, known_rules, limits)
    except ManifestError as error:
        issues += [
            ManifestIssue(i.path, i.line, i.field, f"{i.message} (in the base commit's version)") for i in error.issues
        ]
    head_catalog = base_manifest.catalog if base_manifest is not None else catalog
    try:
        head_manifest = parse_manifest(head_text, path, head_catalog, known_rules, limits)
    except ManifestError as error:
        issues = error.issues + issues
    if issues or base_manifest is None:
        raise ManifestError(issues)
    manifest = Manifest(
        path=path,
        deployments=_never_narrower(base_manifest.deployments, head_manifest.deployments),
        rules=base_manifest.rules,
        fail_on=base_manifest.fail_on,
        ignore=base_manifest.ignore,
        catalog=base_manifest.catalog,
        scope_include=base_manifest.scope_include,
        suppressions=base_manifest.suppressions,
    )
    return EffectiveManifest(manifest, base_manifest, "both")
