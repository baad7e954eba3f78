"""align.yaml: strict validation with file, line and field; defaults; globs; base/head precedence."""

from __future__ import annotations

import textwrap

import pytest

from align.catalog import Catalog
from align.manifest import (
    FILE_FIELD,
    KNOWN_RULE_IDS,
    Deployment,
    Manifest,
    ManifestError,
    ManifestIssue,
    effective_manifest,
    matches_any,
    parse_manifest,
)

SPEC_EXAMPLE = """\
version: 1
deployments:
  - name: production              # required, unique
    gpu: GH200                    # required: catalog name or any alias, label or spelling the catalog knows
    count: 3                      # required: GPUs in this deployment
    price_per_gpu_hour: 1.49      # required: USD actually paid
    provider: lambda              # optional
    instance_type: gpu_1x_gh200   # optional
    gpu_memory_gb: 96             # optional: defaults from the catalog
    arch: arm64                   # optional: arm64 | x86_64, defaults from the catalog (GH200 → arm64)
    paths: ["**"]                 # optional: globs of the files this deployment governs (default: all)
    memory_pools_gb:              # optional: the declared per-GPU memory budget, by pool name
      active_models: 40
      inference_cache: 30
      vector_cache: 20
      buffer: 6
    retired_secrets: [LAMBDA_API_KEY]   # optional: secret names that must no longer be used
catalog:                          # optional: extra GPUs or aliases, same fields as the built-in catalog
  - name: MyCustomGPU
    memory_gb: 48
    arch: x86_64
rules:                            # optional: per-rule severity override: error | warning | notice | off
  cost-mismatch: error
fail_on: error                    # optional: lowest severity that fails the check: error | warning | notice | never
ignore: ["docs/archive/**"]       # optional: path globs never reviewed
"""

MINIMAL = """\
version: 1
deployments:
  - name: production
    gpu: {gpu}
    count: 2
    price_per_gpu_hour: 2.5
"""


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.builtin()


def parse(text: str, catalog: Catalog, path: str = "align.yaml") -> Manifest:
    return parse_manifest(textwrap.dedent(text), path, catalog)


def issues_of(text: str, catalog: Catalog) -> list[ManifestIssue]:
    with pytest.raises(ManifestError) as raised:
        parse(text, catalog)
    return raised.value.issues


def where(issues: list[ManifestIssue]) -> list[tuple[int, str]]:
    return [(i.line, i.field) for i in issues]


# --- valid files and defaults -----------------------------------------------------------------------------


def test_the_spec_example(catalog: Catalog) -> None:
    manifest = parse(SPEC_EXAMPLE, catalog)
    assert manifest.path == "align.yaml"
    (production,) = manifest.deployments
    assert production.name == "production" and production.line == 3
    assert production.gpu.name == "GH200"
    assert (production.count, production.price_per_gpu_hour) == (3, 1.49)
    assert (production.gpu_memory_gb, production.arch) == (96, "arm64")
    assert (production.provider, production.instance_type) == ("lambda", "gpu_1x_gh200")
    assert production.paths == ("**",)
    assert production.memory_pools_gb == (
        ("active_models", 40),
        ("inference_cache", 30),
        ("vector_cache", 20),
        ("buffer", 6),
    )
    assert production.retired_secrets == ("LAMBDA_API_KEY",)
    assert production.total_memory_gb == 288
    assert production.monthly_cost == pytest.approx(3 * 1.49 * 730)
    assert manifest.rules == (("cost-mismatch", "error"),)
    assert manifest.severity_override("cost-mismatch") == "error"
    assert manifest.severity_override("arch-mismatch") is None
    assert manifest.fail_on == "error"
    assert manifest.ignore == ("docs/archive/**",)
    custom = manifest.catalog.resolve("MyCustomGPU")  # the manifest carries the extended catalog
    assert custom is not None and custom.memory_gb == 48
    assert manifest.catalog.resolve("GH200") is not None


def test_defaults_come_from_the_catalog(catalog: Catalog) -> None:
    manifest = parse(MINIMAL.format(gpu="GH200"), catalog)
    (deployment,) = manifest.deployments
    assert (deployment.gpu_memory_gb, deployment.arch) == (96, "arm64")
    assert deployment.paths == ("**",)
    assert (deployment.provider, deployment.instance_type) == (None, None)
    assert deployment.memory_pools_gb == () and deployment.retired_secrets == ()
    assert (manifest.rules, manifest.fail_on, manifest.ignore) == ((), "error", ())
    h100 = parse(MINIMAL.format(gpu="H100 SXM"), catalog).deployments[0]
    assert (h100.gpu_memory_gb, h100.arch) == (80, "x86_64")


def test_declared_memory_and_arch_win_over_the_catalog(catalog: Catalog) -> None:
    text = MINIMAL.format(gpu="GH200") + "    gpu_memory_gb: 94.5\n    arch: x86_64\n"
    deployment = parse(text, catalog).deployments[0]
    assert (deployment.gpu_memory_gb, deployment.arch) == (94.5, "x86_64")


@pytest.mark.parametrize(
    ("gpu", "canonical"),
    [
        ("GH200", "GH200"),
        ("gh200", "GH200"),
        ("Grace Hopper", "GH200"),
        ("NVIDIA-GH200-480GB", "GH200"),
        ("H100-SXM5", "H100 SXM"),
        ("a100_80gb", "A100 80GB"),
        ("A100", "A100"),
    ],
)
def test_gpu_by_any_spelling(catalog: Catalog, gpu: str, canonical: str) -> None:
    deployment = parse(MINIMAL.format(gpu=f'"{gpu}"'), catalog).deployments[0]
    assert deployment.gpu.name == canonical


def test_a_label_never_gives_the_memory(catalog: Catalog) -> None:
    assert parse(MINIMAL.format(gpu="NVIDIA-GH200-480GB"), catalog).deployments[0].gpu_memory_gb == 96


def test_a_gpu_from_the_files_own_catalog(catalog: Catalog) -> None:
    text = MINIMAL.format(gpu="mi355x") + "catalog:\n  - {name: MI355X, memory_gb: 288, arch: x86_64, vendor: amd}\n"
    deployment = parse(text, catalog).deployments[0]
    assert (deployment.gpu.name, deployment.gpu_memory_gb, deployment.gpu.vendor) == ("MI355X", 288, "amd")


def test_github_directory_path_is_kept(catalog: Catalog) -> None:
    assert parse(MINIMAL.format(gpu="L4"), catalog, ".github/align.yaml").path == ".github/align.yaml"


def test_price_may_be_an_integer_or_zero(catalog: Catalog) -> None:
    text = MINIMAL.format(gpu="T4").replace("2.5", "0")
    assert parse(text, catalog).deployments[0].price_per_gpu_hour == 0


def test_pools_that_exactly_fill_the_gpu_are_fine(catalog: Catalog) -> None:
    text = MINIMAL.format(gpu="GH200") + "    memory_pools_gb: {a: 60, b: 36}\n"
    assert parse(text, catalog).deployments[0].memory_pools_gb == (("a", 60), ("b", 36))


def test_plugin_rule_ids_can_be_allowed(catalog: Catalog) -> None:
    text = MINIMAL.format(gpu="GH200") + "rules: {acme-rule: off}\n"
    manifest = parse_manifest(text, "align.yaml", catalog, (*KNOWN_RULE_IDS, "acme-rule"))
    assert manifest.rules == (("acme-rule", "off"),)


# --- errors: every one with its line and field ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "field", "says"),
    [
        (MINIMAL.format(gpu="GGH200"), 4, "deployments[0].gpu", "did you mean 'GH200'"),
        (MINIMAL.format(gpu="H2000"), 4, "deployments[0].gpu", "did you mean 'H200'"),
        (MINIMAL.format(gpu="GH200").replace("count: 2", "count: 0"), 5, "deployments[0].count", "greater than 0"),
        (MINIMAL.format(gpu="GH200").replace("count: 2", "count: 2.5"), 5, "deployments[0].count", "integer"),
        (MINIMAL.format(gpu="GH200").replace("count: 2", 'count: "2"'), 5, "deployments[0].count", "integer"),
        (MINIMAL.format(gpu="GH200").replace("count: 2", "count: true"), 5, "deployments[0].count", "integer"),
        (MINIMAL.format(gpu="GH200").replace("2.5", "-1"), 6, "deployments[0].price_per_gpu_hour", "or equal to 0"),
        (MINIMAL.format(gpu="GH200").replace("2.5", '"$2.50"'), 6, "deployments[0].price_per_gpu_hour", "number"),
        (MINIMAL.format(gpu="GH200") + "    arch: amd64\n", 7, "deployments[0].arch", "'arm64' or 'x86_64'"),
        (MINIMAL.format(gpu="GH200") + "    gpus: 3\n", 7, "deployments[0].gpus", "unknown key"),
        (MINIMAL.format(gpu="GH200") + "    gpu_memory_gb: 0\n", 7, "deployments[0].gpu_memory_gb", "greater than 0"),
        (MINIMAL.format(gpu="GH200") + "    paths: []\n", 7, "deployments[0].paths", "must not be empty"),
        (MINIMAL.format(gpu="GH200") + "    paths: [src, 3]\n", 7, "deployments[0].paths[1]", "string"),
        (
            MINIMAL.format(gpu="GH200") + "    memory_pools_gb:\n      models: 60\n      cache: -5\n",
            9,
            "deployments[0].memory_pools_gb.cache",
            "greater than 0",
        ),
        (
            MINIMAL.format(gpu="GH200") + "    memory_pools_gb: {a: 60, b: 40, c: 30, d: 11}\n",
            7,
            "deployments[0].memory_pools_gb",
            "60 + 40 + 30 + 11 = 141 GB > 96 GB",
        ),
        (
            MINIMAL.format(gpu="H200") + "    gpu_memory_gb: 80\n    memory_pools_gb: {a: 60, b: 40}\n",
            8,
            "deployments[0].memory_pools_gb",
            "100 GB > 80 GB",
        ),
        (
            MINIMAL.format(gpu="GH200") + "    instance_type: p5.48xlarge\n",
            7,
            "deployments[0].instance_type",
            "H100 SXM",
        ),
        (MINIMAL.format(gpu="GH200").replace("  - name: production\n    gpu", "  - gpu"), 3, "deployments[0].name", ""),
        (MINIMAL.format(gpu="GH200").replace("version: 1", "version: 2"), 1, "version", "must be 1"),
        (MINIMAL.format(gpu="GH200").replace("version: 1\n", ""), 1, "version", "required"),
        ("version: 1\ndeployments: []\n", 2, "deployments", "must not be empty"),
        ("version: 1\ndeployments:\n", 2, "deployments", "list"),
        ("version: 1\n", 1, "deployments", "required"),
        (MINIMAL.format(gpu="GH200") + "fail_on: sometimes\n", 7, "fail_on", "'never'"),
        (MINIMAL.format(gpu="GH200") + "rules:\n  cost-mismatch: loud\n", 8, "rules.cost-mismatch", "'off'"),
        (MINIMAL.format(gpu="GH200") + "rules:\n  cost-mismatc: off\n", 8, "rules.cost-mismatc", "'cost-mismatch'"),
        (MINIMAL.format(gpu="GH200") + "ignore: docs/**\n", 7, "ignore", "list"),
        (MINIMAL.format(gpu="GH200") + "colour: red\n", 7, "colour", "unknown key"),
        (MINIMAL.format(gpu="GH200") + "catalog:\n  - name: Foo\n    memory_gb: 8\n", 8, "catalog[0].arch", "arm64"),
        (MINIMAL.format(gpu="GH200") + "catalog:\n  - {name: Foo, arch: x86_64}\n", 8, "catalog[0].memory_gb", ""),
        (MINIMAL.format(gpu="GH200") + "catalog:\n  - {name: Foo, size: 8}\n", 8, "catalog[0].size", "unknown key"),
    ],
)
def test_each_error_names_line_and_field(catalog: Catalog, text: str, line: int, field: str, says: str) -> None:
    issues = issues_of(text, catalog)
    assert (line, field) in where(issues), issues
    issue = next(i for i in issues if (i.line, i.field) == (line, field))
    assert says in issue.message
    assert issue.path == "align.yaml"


def test_all_errors_are_collected_in_line_order(catalog: Catalog) -> None:
    text = """\
    version: 1
    deployments:
      - name: a
        gpu: GGH200
        count: 0
        price_per_gpu_hour: 1.49
      - name: a
        gpu: H200
        count: 1
        price_per_gpu_hour: cheap
    fail_on: sometimes
    """
    assert where(issues_of(text, catalog)) == [
        (4, "deployments[0].gpu"),
        (5, "deployments[0].count"),
        (7, "deployments[1].name"),
        (10, "deployments[1].price_per_gpu_hour"),
        (11, "fail_on"),
    ]


def test_duplicate_deployment_names(catalog: Catalog) -> None:
    second = "  - name: production\n    gpu: H200\n    count: 1\n    price_per_gpu_hour: 3\n"
    text = MINIMAL.format(gpu="GH200") + second
    (issue,) = issues_of(text, catalog)
    assert (issue.line, issue.field) == (7, "deployments[1].name")
    assert "duplicate" in issue.message and "deployments[0]" in issue.message


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("", 1, "empty"),
        ("# only a comment\n", 1, "empty"),
        ("- a list\n", 1, "mapping"),
        ("version: 1\ndeployments: [\n  {name: a\nfail_on: error\n", 4, "not valid YAML"),
        ("version: 1\ndeployments:\n  - name: a\n   gpu: GH200\n", 4, "not valid YAML"),
        ("version: 1\nversion: 1\n", 2, "duplicate key"),
    ],
)
def test_file_level_errors(catalog: Catalog, text: str, line: int, says: str) -> None:
    (issue,) = issues_of(text, catalog)
    assert (issue.line, issue.field) == (line, FILE_FIELD)
    assert says in issue.message


def test_issue_and_error_text_name_file_line_and_field(catalog: Catalog) -> None:
    with pytest.raises(ManifestError) as raised:
        parse_manifest(MINIMAL.format(gpu="GGH200"), ".github/align.yaml", catalog)
    assert str(raised.value.issues[0]).startswith(".github/align.yaml:4: deployments[0].gpu: unknown GPU 'GGH200'")
    assert ".github/align.yaml:4" in str(raised.value)


# --- globs ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("**", "a/b/c.py", True),
        ("**", "README.md", True),
        ("docs/archive/**", "docs/archive/2024/old.md", True),
        ("docs/archive/**", "docs/archive/old.md", True),
        ("docs/archive/**", "docs/current.md", False),
        ("docs/archive/**", "x/docs/archive/old.md", False),
        ("docs/*.md", "docs/a.md", True),
        ("docs/*.md", "docs/sub/a.md", False),  # `*` does not cross directories
        ("docs/**/*.md", "docs/sub/deeper/a.md", True),
        ("docs/**/*.md", "docs/a.md", True),
        ("**/values.yaml", "charts/app/values.yaml", True),
        ("**/values.yaml", "values.yaml", True),
        ("*.md", "deep/down/notes.md", True),  # no slash: any depth, like .gitignore
        ("*.md", "notes.mdx", False),
        ("infra", "infra/main.tf", True),  # a directory name covers what is below it
        ("infra/", "infra/main.tf", True),
        ("/infra/*.tf", "infra/main.tf", True),
        ("k8s/prod-?.yaml", "k8s/prod-1.yaml", True),
        ("k8s/prod-?.yaml", "k8s/prod-10.yaml", False),
        ("k8s/[ab].yaml", "k8s/b.yaml", True),
        ("k8s/[!ab].yaml", "k8s/b.yaml", False),
        ("a+b(c).txt", "a+b(c).txt", True),  # regex characters are literal
    ],
)
def test_globs(pattern: str, path: str, expected: bool) -> None:
    assert matches_any(path, [pattern]) is expected


def test_governs_ignore_and_deployment_for(catalog: Catalog) -> None:
    text = """\
    version: 1
    deployments:
      - name: training
        gpu: H100 SXM
        count: 8
        price_per_gpu_hour: 3.29
        paths: ["train/**", "*.ipynb"]
      - name: serving
        gpu: GH200
        count: 3
        price_per_gpu_hour: 1.49
    ignore: ["docs/archive/**", "vendor"]
    """
    manifest = parse(text, catalog)
    training, serving = manifest.deployments
    assert training.governs("train/run.py") and training.governs("notebooks/explore.ipynb")
    assert not training.governs("serve/app.py")
    assert serving.governs("anything/at/all.py")
    assert manifest.deployment_for("train/run.py") is training
    assert manifest.deployment_for("serve/app.py") is serving
    assert manifest.is_ignored("docs/archive/old.md") and manifest.is_ignored("vendor/lib/x.py")
    assert not manifest.is_ignored("docs/guide.md")
    assert not manifest.is_ignored("align.yaml")


# --- base and head ----------------------------------------------------------------------------------------

BASE = MINIMAL.format(gpu="GH200") + "rules:\n  cost-mismatch: error\nfail_on: warning\nignore: [docs/archive/**]\n"


def test_no_manifest_on_either_side(catalog: Catalog) -> None:
    assert effective_manifest(None, None, "align.yaml", catalog) is None


def test_added_by_the_pull_request(catalog: Catalog) -> None:
    effective = effective_manifest(None, BASE, "align.yaml", catalog)
    assert effective is not None and effective.origin == "added" and effective.base is None
    assert effective.manifest.fail_on == "warning"  # the head's own settings: there is nothing else
    assert effective.manifest.deployments[0].gpu.name == "GH200"


def test_removed_by_the_pull_request(catalog: Catalog) -> None:
    effective = effective_manifest(BASE, None, "align.yaml", catalog)
    assert effective is not None and effective.origin == "base_only"
    assert effective.manifest.deployments[0].gpu.name == "GH200"
    assert effective.base is effective.manifest


def test_settings_from_base_deployments_from_head(catalog: Catalog) -> None:
    head = (
        MINIMAL.format(gpu="H200").replace("2.5", "2.49")
        + "rules:\n  gpu-model-mismatch: 'off'\n  cost-mismatch: notice\nfail_on: never\nignore: ['**']\n"
    )
    effective = effective_manifest(BASE, head, "align.yaml", catalog)
    assert effective is not None and effective.origin == "both"
    manifest = effective.manifest
    assert manifest.deployments[0].gpu.name == "H200"
    assert manifest.deployments[0].price_per_gpu_hour == 2.49
    # a pull request cannot switch off its own checks
    assert manifest.severity_override("gpu-model-mismatch") is None
    assert manifest.severity_override("cost-mismatch") == "error"
    assert manifest.fail_on == "warning"
    assert manifest.ignore == ("docs/archive/**",)
    assert not manifest.is_ignored("src/app.py")
    assert effective.base is not None and effective.base.deployments[0].gpu.name == "GH200"


def test_head_catalog_resolves_head_gpus_but_does_not_teach_the_review(catalog: Catalog) -> None:
    head = MINIMAL.format(gpu="MI355X") + "catalog:\n  - {name: MI355X, memory_gb: 288, arch: x86_64}\n"
    head += "  - {name: GH200, aliases: [H200]}\n"  # an attempt to make "H200" read as the right GPU
    effective = effective_manifest(BASE, head, "align.yaml", catalog)
    assert effective is not None
    assert effective.manifest.deployments[0].gpu.name == "MI355X"
    h200 = effective.manifest.catalog.resolve("H200")
    assert h200 is not None and h200.name == "H200"


def test_base_catalog_resolves_head_gpus(catalog: Catalog) -> None:
    base = BASE + "catalog:\n  - {name: MyCustomGPU, memory_gb: 48, arch: x86_64}\n"
    head = MINIMAL.format(gpu="MyCustomGPU")
    effective = effective_manifest(base, head, "align.yaml", catalog)
    assert effective is not None and effective.manifest.deployments[0].gpu_memory_gb == 48
    assert effective.manifest.catalog.resolve("MyCustomGPU") is not None


def test_invalid_head_raises_with_head_lines(catalog: Catalog) -> None:
    with pytest.raises(ManifestError) as raised:
        effective_manifest(BASE, MINIMAL.format(gpu="GGH200"), "align.yaml", catalog)
    assert where(raised.value.issues) == [(4, "deployments[0].gpu")]


def test_invalid_base_raises_and_says_so(catalog: Catalog) -> None:
    broken_base = BASE.replace("fail_on: warning", "fail_on: sometimes")
    with pytest.raises(ManifestError) as raised:
        effective_manifest(broken_base, BASE, "align.yaml", catalog)
    (issue,) = raised.value.issues
    assert (issue.line, issue.field) == (9, "fail_on")
    assert "base" in issue.message


def test_invalid_added_manifest_raises(catalog: Catalog) -> None:
    with pytest.raises(ManifestError):
        effective_manifest(None, "version: 1\n", "align.yaml", catalog)


def test_deployment_is_a_frozen_value(catalog: Catalog) -> None:
    deployment = parse(MINIMAL.format(gpu="GH200"), catalog).deployments[0]
    assert isinstance(deployment, Deployment)
    with pytest.raises(AttributeError):
        deployment.count = 4  # type: ignore[misc]
