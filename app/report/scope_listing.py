"""`align scope`: which files bind to which deployment, and why the others do not (spec §1b)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

from align.review import ScopeListing
from align.scope.classes import describe


def render_scope(listing: ScopeListing, fmt: str = "text") -> str:
    if fmt == "json":
        return json.dumps(_as_json(listing), indent=2)
    return _as_text(listing)


def _as_json(listing: ScopeListing) -> dict[str, object]:
    return {
        "ref": listing.ref,
        "manifest": listing.manifest_path,
        "files": [
            {"path": f.path, "deployment": f.deployment.name if f.deployment and f.bound else None,
             "bound": f.bound, "reason": f.reason, "excluded": f.excluded}
            for f in listing.files
        ],
        "notes": list(listing.notes),
    }


def _as_text(listing: ScopeListing) -> str:
    out = [f"Scope at {listing.ref[:12]}" + (f" ({listing.manifest_path})" if listing.manifest_path else "")]
    out += [f"  note: {note}" for note in listing.notes]
    bound: dict[str, list[str]] = defaultdict(list)
    excluded: dict[str, list[str]] = defaultdict(list)
    unmatched: list[str] = []
    for item in listing.files:
        if item.bound and item.deployment is not None:
            bound[item.deployment.name].append(f"{item.path}  ({item.reason})")
        elif item.excluded:
            excluded[item.excluded].append(f"{item.path}  ({item.reason.split(';')[0].removeprefix('excluded: ')})")
        else:
            unmatched.append(f"{item.path}  ({item.reason})")
    for name, paths in bound.items():
        out.append(f"\nDeployment `{name}`: {len(paths)} file(s) in scope")
        out += [f"  {p}" for p in paths]
    counts = Counter({name: len(paths) for name, paths in excluded.items()})
    if counts:
        out.append(f"\nExcluded by default: {sum(counts.values())} file(s)")
        for name, count in counts.most_common():
            out.append(f"  {name} ({describe(name)}): {count}; `scope: {{include: [{name}]}}` reviews them")
            out += [f"    {p}" for p in excluded[name]]
    if unmatched:
        out.append(f"\nNo deployment: {len(unmatched)} file(s)")
        out += [f"  {p}" for p in unmatched]
    return "\n".join(out) + "\n"
