"""The JSON Schema of `align.yaml`, generated from the manifest's pydantic models and the GPU catalog, for
editors (yaml-language-server, SchemaStore) and `align schema`.

The generated schema ships as package data (`align.schema.json` beside this file) so that printing it
loads neither pydantic nor the catalog; a test checks the shipped file is what the models generate.
Regenerate after changing the models or the catalog: `python -m align.schema --write`.

GPU names: the catalog's names, aliases, labels and exact instance types as an enum, required when the
file declares no `catalog:` of its own (a GPU the built-in catalog lacks is declared there).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("align.schema.json")
SCHEMA_ID = "https://github.com/align-bot/align/raw/main/app/align.schema.json"

_DESCRIPTIONS = {
    "root": {
        "version": "Always 1.",
        "deployments": "The deployments this repository runs on.",
        "catalog": "Extra GPUs or aliases, same fields as the built-in catalog (`align catalog`).",
        "rules": "Per-rule severity override by rule id (`align rules`): error, warning, notice or off.",
        "fail_on": "Lowest severity that fails the check.",
        "ignore": "Path globs never reviewed.",
        "scope": "Default exclusion classes (tests, examples, lockfiles, ...) to review anyway: "
                 "`include: [tests]` (`align scope` lists them).",
        "suppressions": "`allow`: inline `align: ignore[rule-id] reason` comments suppress findings. Read from "
                        "the base commit, so a pull request cannot allow its own.",
    },
    "deployment": {
        "name": "Unique name of the deployment.",
        "gpu": "GPU model: a catalog name or any alias, label or spelling the catalog knows.",
        "count": "GPUs in this deployment.",
        "price_per_gpu_hour": "USD actually paid per GPU-hour.",
        "provider": "Cloud or hosting provider, e.g. lambda, aws, gcp.",
        "instance_type": "Instance type, e.g. gpu_1x_gh200, p5.48xlarge.",
        "gpu_memory_gb": "Memory per GPU in GB (default: the catalog's).",
        "arch": "Host CPU architecture (default: the catalog's; GH200 is arm64).",
        "paths": "Globs of the files this deployment governs (default: all).",
        "memory_pools_gb": "The declared per-GPU memory budget, by pool name.",
        "retired_secrets": "Secret names that must no longer be used.",
    },
}


def _describe(schema: dict[str, Any], descriptions: dict[str, str]) -> None:
    schema.pop("title", None)
    for name, prop in schema.get("properties", {}).items():
        prop.pop("title", None)
        if name in descriptions:
            prop["description"] = descriptions[name]


def gpu_spellings() -> list[str]:
    """Every spelling `gpu:` accepts exactly: names, aliases, labels, exact instance types, as written and
    in lower and upper case (matching is case-insensitive)."""
    from align.catalog import Catalog

    names: dict[str, None] = {}
    for gpu in Catalog.builtin().gpus:
        spellings = [gpu.name, *gpu.aliases, *gpu.product_labels, *gpu.node_labels]
        spellings += [t for t in gpu.instance_types if "*" not in t and "?" not in t]
        for spelling in spellings:
            for variant in (spelling, spelling.lower(), spelling.upper()):
                names.setdefault(variant)
    return list(names)


def build_schema() -> dict[str, Any]:
    from align.manifest import _CatalogEntryModel, _DeploymentModel, _RootModel

    root = _RootModel.model_json_schema()
    deployment = _DeploymentModel.model_json_schema()
    entry = _CatalogEntryModel.model_json_schema()
    _describe(root, _DESCRIPTIONS["root"])
    _describe(deployment, _DESCRIPTIONS["deployment"])
    _describe(entry, {})
    defs = root.setdefault("$defs", {})
    scope = defs.pop("_ScopeModel", None)
    if scope is not None:
        _describe(scope, {"include": "Exclusion class names."})
        defs["scope"] = scope
        root["properties"]["scope"]["anyOf"][0] = {"$ref": "#/$defs/scope"}
    defs["deployment"] = deployment
    defs["catalogEntry"] = entry
    defs["gpuName"] = {"description": "A GPU the built-in catalog knows.", "enum": gpu_spellings()}
    root["properties"]["deployments"]["items"] = {"$ref": "#/$defs/deployment"}
    root["properties"]["catalog"]["items"] = {"$ref": "#/$defs/catalogEntry"}
    # Without a `catalog:` of its own, a deployment's GPU must be one the built-in catalog knows.
    root["if"] = {"not": {"required": ["catalog"]}}
    root["then"] = {"properties": {"deployments": {"items": {"properties": {"gpu": {"$ref": "#/$defs/gpuName"}}}}}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "align.yaml",
        "description": "The deployment a repository runs on, for Align (GPU model, count, price, provider).",
        **root,
    }


def generated_text() -> str:
    return json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"


def schema_text() -> str:
    """The shipped schema (no pydantic import), or a freshly generated one when the file is missing."""
    try:
        return SCHEMA_FILE.read_text(encoding="utf-8")
    except OSError:
        return generated_text()


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        SCHEMA_FILE.write_text(generated_text(), encoding="utf-8")
        print(f"wrote {SCHEMA_FILE}")
    else:
        sys.stdout.write(generated_text())
