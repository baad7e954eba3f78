"""What a repository is about, read once per review: the GPU models its in-scope files name.

Spec §1b ties the scope to the repository: the seed's pull request is "new production files written for
the wrong GPU, in a repository that runs one deployment". A repository whose own files (less the
default exclusions) name many GPU models is not that repository: it is a product, or a collection of
deployments for many targets, and a block of it that consistently names one other target describes that
target. The profile is that evidence, independent of any one mention.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.catalog import Catalog, GpuSpec
from app.formats import detect_format

# Models other than the deployment's (and its previous GPU) from which a repository covers many targets.
MULTI_TARGET_MODELS = 4
_MAX_FILES = 20_000  # files read for the profile; beyond, the rest is not looked at (bounded work)


@dataclass(frozen=True)
class RepositoryProfile:
    models: tuple[str, ...] = ()  # distinct GPU models its in-scope files name, ours excluded

    @property
    def multi_target(self) -> bool:
        return len(self.models) >= MULTI_TARGET_MODELS


def repository_profile(
    files: Iterable[tuple[str, str]],
    catalog: Catalog,
    ours: Iterable[GpuSpec],
    in_scope: Callable[[str, str], bool],
) -> RepositoryProfile:
    """The profile of the files given as (path, text), counting only code and configuration that is
    `in_scope(path, text)`: documents compare GPUs on purpose ("upgraded from A10 to GH200") and say little
    about how many targets the repository serves; its code and config say it."""
    own = list(ours)
    models: list[GpuSpec] = []
    for count, (path, text) in enumerate(files):
        if count >= _MAX_FILES:
            break
        if detect_format(path, text[:200]) in ("markdown", "text") or not in_scope(path, text):
            continue
        for mention in catalog.find_mentions(text):
            gpu = mention.gpu
            if any(gpu.same_model(o) or o.same_model(gpu) for o in own):
                continue
            if not any(gpu.same_model(m) or m.same_model(gpu) for m in models):
                models.append(gpu)
    return RepositoryProfile(tuple(m.name for m in models))
