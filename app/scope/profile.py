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

from align.catalog import Catalog, GpuMention, GpuSpec
from align.formats import detect_format

# Models other than the deployment's (and its previous GPU) from which a repository covers many targets.
MULTI_TARGET_MODELS = 4
_MAX_FILES = 20_000  # files read for the profile; beyond, the rest is not looked at (bounded work)


@dataclass(frozen=True)
class RepositoryProfile:
    # distinct GPU models its in-scope files name, ours excluded (up to MULTI_TARGET_MODELS: enough to tell)
    models: tuple[str, ...] = ()

    @property
    def multi_target(self) -> bool:
        return len(self.models) >= MULTI_TARGET_MODELS


def repository_profile(
    files: Iterable[tuple[str, str]],
    catalog: Catalog,
    ours: Iterable[GpuSpec],
    in_scope: Callable[[str, str], bool],
    mentions_of: Callable[[str, str], Iterable[GpuMention]] | None = None,
) -> RepositoryProfile:
    """The profile of the files given as (path, text), counting only code and configuration that is
    `in_scope(path, text)`: documents compare GPUs on purpose ("upgraded from A10 to GH200") and say little
    about how many targets the repository serves; its code and config say it.

    Reading stops once MULTI_TARGET_MODELS models are found (the profile's question is answered), and a
    file's scope is decided only when it would add a model: most files name none or known ones."""
    own = list(ours)
    models: list[GpuSpec] = []
    counted: set[str] = set()  # spellings already resolved to ours or a counted model

    find = mentions_of or (lambda _path, text: catalog.find_mentions(text))

    def new_models(path: str, text: str) -> list[GpuSpec]:
        found: list[GpuSpec] = []
        for mention in find(path, text):
            spelling = mention.text.lower()
            if spelling in counted:
                continue
            gpu = mention.gpu
            if any(gpu.same_model(g) or g.same_model(gpu) for g in (*own, *models, *found)):
                counted.add(spelling)
                continue
            found.append(gpu)
        return found

    for count, (path, text) in enumerate(files):
        if count >= _MAX_FILES or len(models) >= MULTI_TARGET_MODELS:
            break
        if detect_format(path, text[:200]) in ("markdown", "text"):
            continue
        found = new_models(path, text)
        if found and in_scope(path, text):
            models.extend(found)
            counted.update(f.name.lower() for f in found)
    return RepositoryProfile(tuple(m.name for m in models))
