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
from itertools import islice

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
    known: Iterable[GpuSpec] = (),
) -> RepositoryProfile:
    """The profile of the files given as (path, text), counting only code and configuration that is
    `in_scope(path, text)`: documents compare GPUs on purpose ("upgraded from A10 to GH200") and say little
    about how many targets the repository serves; its code and config say it. `known`: models other files
    were already found to name.

    Reading stops once MULTI_TARGET_MODELS models are found (the profile's question is answered), and a
    file's scope is decided only when it would add a model: most files name none or known ones."""
    own = list(ours)
    models: list[GpuSpec] = []
    for gpu in known:
        if not _counted(gpu, [*own, *models]):
            models.append(gpu)
    counted: set[str] = set()  # spellings already resolved to ours or a counted model

    def new_models(path: str, text: str) -> list[GpuSpec]:
        found: list[GpuSpec] = []
        for mention in catalog.find_mentions(text):
            spelling = mention.text.lower()
            if spelling in counted:
                continue
            gpu = mention.gpu
            if _counted(gpu, [*own, *models, *found]):
                counted.add(spelling)
                continue
            found.append(gpu)
        return found

    if len(models) < MULTI_TARGET_MODELS:  # else the reviewed files answered it: the rest is not even listed
        for path, text in islice(files, _MAX_FILES):
            if _is_document(path, text):
                continue
            found = new_models(path, text)
            if found and in_scope(path, text):
                models.extend(found)
                counted.update(f.name.lower() for f in found)
                if len(models) >= MULTI_TARGET_MODELS:
                    break  # answered: the next file is not even read
    return RepositoryProfile(tuple(m.name for m in models[:MULTI_TARGET_MODELS]))


def _counted(gpu: GpuSpec, models: Iterable[GpuSpec]) -> bool:
    return any(gpu.same_model(g) or g.same_model(gpu) for g in models)


def _is_document(path: str, text: str) -> bool:
    return detect_format(path, text[:200]) in ("markdown", "text")


@dataclass(frozen=True)
class PendingProfile:
    """A profile worked out while the rules read the changed files, rather than by a serial pass over them
    before the rules start (on a 3,000-file change that pass was a tenth of the review). The engine asks
    `models_in` of each reviewed file once the rules have found its mentions (in whichever worker process
    read it), then `finish`es with what they named: the rest of the tree is read only if that was not
    enough. Until then, no line is another target's for want of a profile; the engine binds those that
    could be again afterwards (`LineBinder.may_be_another_target`)."""

    catalog: Catalog
    ours: tuple[GpuSpec, ...]
    in_scope: Callable[[str, str], bool]
    # The rest of the repository's files as (path, text), read only when the reviewed files name too few.
    rest: Callable[[], Iterable[tuple[str, str]]]

    def models_in(self, path: str, text: str, mentions: Iterable[GpuMention]) -> list[GpuSpec]:
        """The models other than ours that one reviewed file names, if it counts (in-scope code or config)."""
        if _is_document(path, text):
            return []
        found: list[GpuSpec] = []
        for mention in mentions:
            if not _counted(mention.gpu, [*self.ours, *found]):
                found.append(mention.gpu)
        return found if found and self.in_scope(path, text) else []

    def finish(self, named: Iterable[GpuSpec]) -> RepositoryProfile:
        """The profile, from the models the reviewed files named and, if needed, the rest of the tree."""
        return repository_profile(self.rest(), self.catalog, self.ours, self.in_scope, known=named)
