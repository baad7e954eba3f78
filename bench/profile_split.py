"""Where `align check` spends its time: reading, format extraction, each rule, suggestion verification.

    python bench/generate_large_pr.py /tmp/bigpr && python bench/profile_split.py /tmp/bigpr
"""

import sys
import time

from align import engine
from align.catalog import Catalog
from align.context import ReviewContext
from align.git_source import GitSource
from align.review import _load_effective, _source_files
from align.rule_api import load_rules

src = GitSource(sys.argv[1])
base, head = src.resolve("main"), src.resolve("HEAD")
t0 = time.perf_counter()
rules = load_rules()
eff, _ = _load_effective(src, base, head, Catalog.builtin(), [r.id for r in rules.rules])
changes = src.changed_files(base, head)
assert eff is not None
files, _ = _source_files(src, head, changes, eff, False)
t1 = time.perf_counter()
print(f"read {t1-t0:.2f}s")
for f in files:
    f.facts  # noqa: B018 (cached property: forces extraction)
t2 = time.perf_counter()
print(f"extract {t2-t1:.2f}s")
ctx = ReviewContext(catalog=eff.manifest.catalog, effective=eff, files=tuple(files))
allf = []
for r in rules.rules:
    a = time.perf_counter()
    fs = list(r.check(ctx))
    allf += fs
    print(f"  {r.id:24} {time.perf_counter() - a:.2f}s {len(fs)}")
t3 = time.perf_counter()
print(f"rules {t3-t2:.2f}s")
fs = engine._assign_fingerprints(allf)
fs = engine._merge_and_verify_suggestions(ctx, rules.rules, fs)
print(f"verify {time.perf_counter()-t3:.2f}s  suggestions={sum(1 for f in fs if f.suggestion)}")
