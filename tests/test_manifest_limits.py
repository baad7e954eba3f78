"""align.yaml is bounded work (issue 8, item 8): each limit is a `manifest-invalid` issue that names it,
never a file silently cut, a stack overflow or a memory blow-up."""

from __future__ import annotations

import pytest

from align.catalog import Catalog
from align.manifest import FILE_FIELD, ManifestError, effective_manifest, parse_manifest
from align.manifest_limits import ManifestLimits
from tests.helpers import GH200_MANIFEST


def _issues(text: str, limits: ManifestLimits | None = None) -> list[tuple[int, str, str]]:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text, "align.yaml", Catalog.builtin(), limits=limits or ManifestLimits())
    return [(i.line, i.field, i.message) for i in caught.value.issues]


def alias_bomb(levels: int) -> str:
    lines = ["version: 1", 'x0: &x0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"x{i}: &x{i} [" + ",".join([f"*x{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join([*lines, f"deployments: *x{levels - 1}"]) + "\n"


def deeply_nested(depth: int) -> str:
    return "version: 1\ndeployments: " + "[" * depth + "]" * depth + "\n"


@pytest.mark.timeout(20)
def test_a_520_byte_alias_bomb_is_invalid_without_expanding_it() -> None:
    text = alias_bomb(10)  # 9**10 values once expanded (34-70 s and 1.2 GB, or MemoryError, before)
    assert len(text) <= 570
    [(_line, field, message)] = _issues(text)
    assert field == FILE_FIELD
    assert "more than 100,000 values once aliases are expanded" in message


def test_too_many_alias_references_are_invalid_at_the_alias_that_passes_the_limit() -> None:
    text = "version: 1\nlist: &a [1]\ndeployments:\n" + "".join("  - *a\n" for _ in range(101))
    [(line, _field, message)] = _issues(text)
    assert "more than 100 aliases" in message
    assert line == 4 + 100  # the 101st reference


def test_a_few_aliases_are_still_fine() -> None:
    text = GH200_MANIFEST.replace("    count: 3\n", "    count: &n 3\n") + "ignore: [*n]\n"
    assert _issues(text)[0][2].startswith("must be a valid string")  # validated as usual, not a limit


@pytest.mark.timeout(20)
@pytest.mark.parametrize("depth", [21, 100_000])
def test_a_deeply_nested_manifest_is_invalid_naming_the_depth_limit(depth: int) -> None:
    [(line, field, message)] = _issues(deeply_nested(depth))  # RecursionError ("could not complete") before
    assert message == "nested more than 20 levels deep (mappings and lists): the limit"
    assert (line, field) == (2, FILE_FIELD)


def test_nesting_up_to_the_limit_is_read() -> None:
    issues = _issues(deeply_nested(19))
    assert not any("levels deep" in message for *_, message in issues)


def test_a_manifest_over_one_megabyte_is_invalid_not_cut() -> None:
    padding = "".join(f"# note {n:07d} about the deployment below, kept for the record\n" for n in range(16_000))
    text = GH200_MANIFEST + padding + GH200_MANIFEST.split("deployments:\n")[1].replace("production", "second")
    assert len(text.encode()) > 1_000_000
    assert _issues(text) == [(1, FILE_FIELD, "larger than the 1,000,000-byte limit for align.yaml: nothing past "
                              "the limit would be read, so none of the file is used (move rarely used entries "
                              "out, or shorten it)")]
    # What a source that hands over the first 1,000,001 bytes gives is refused the same way.
    assert "1,000,000-byte limit" in _issues(text.encode()[:1_000_001].decode(errors="replace"))[0][2]


def test_too_many_deployments_are_invalid_naming_the_limit() -> None:
    entry = GH200_MANIFEST.split("deployments:\n")[1]
    text = "version: 1\ndeployments:\n" + "".join(entry.replace("production", f"d{n}") for n in range(3))
    limits = ManifestLimits(max_deployments=2)
    assert _issues(text, limits) == [(2, "deployments", "3 entries, more than the limit of 2")]
    parse_manifest(text, "align.yaml", Catalog.builtin())  # three are fine by default


def test_too_many_catalog_entries_are_invalid_naming_the_limit() -> None:
    entries = "".join(f"  - name: Custom{n}\n    memory_gb: 8\n    arch: x86_64\n" for n in range(501))
    text = GH200_MANIFEST + "catalog:\n" + entries
    assert _issues(text) == [(15, "catalog", "501 entries, more than the limit of 500")]


def test_the_limits_apply_to_the_base_and_the_head() -> None:
    with pytest.raises(ManifestError) as caught:
        effective_manifest(GH200_MANIFEST, deeply_nested(50), "align.yaml", Catalog.builtin())
    assert "levels deep" in caught.value.issues[0].message
    with pytest.raises(ManifestError) as caught:
        effective_manifest(alias_bomb(10), GH200_MANIFEST, "align.yaml", Catalog.builtin())
    assert "(in the base commit's version)" in caught.value.issues[0].message


def test_catalog_spellings_past_the_length_limit_are_invalid() -> None:
    text = GH200_MANIFEST + "catalog:\n  - name: Custom\n    memory_gb: 8\n    arch: x86_64\n" \
        f"    aliases: [ok, {'x' * 201}]\n"
    assert _issues(text) == [(19, "catalog[0].aliases[1]", "201 characters, more than the limit of 200")]


def test_more_than_ten_many_star_instance_globs_are_invalid() -> None:
    globs = ", ".join(f'"g{n}*x*y"' for n in range(11))
    text = GH200_MANIFEST + f"catalog:\n  - name: Custom\n    memory_gb: 8\n    arch: x86_64\n" \
        f"    instance_types: [{globs}, 'one*star']\n"
    [(line, field, message)] = _issues(text)
    assert (line, field) == (19, "catalog[0].instance_types[10]")
    assert message == "more than 10 instance-type globs with several `*`: the limit"
