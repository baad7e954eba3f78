"""Reporters: one `ReviewResult` as text, JSON, Markdown (the alignment report), SARIF, GitHub workflow
commands or JUnit XML.

`render(result, fmt, **opts)` passes each format the options it understands and ignores the ones meant
for another format, so a caller (the CLI) can hand the same options to every format. An option that no
format knows is a mistake and raises TypeError. A format's module is imported only when it is used (the
text reporter loads rich; JSON output should not pay for it).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from align.result import ReviewResult

Format = Literal["text", "json", "markdown", "sarif", "github", "junit"]
FORMATS: tuple[Format, ...] = ("text", "json", "markdown", "sarif", "github", "junit")

_MODULES: dict[str, str] = {
    "text": "align.report.text",
    "json": "align.report.json_report",
    "markdown": "align.report.markdown",
    "sarif": "align.report.sarif",
    "github": "align.report.github",
    "junit": "align.report.junit",
}
# Keyword options each format accepts (checked against the renderers' signatures in the tests).
OPTIONS: dict[str, frozenset[str]] = {
    "text": frozenset({"sources", "color"}),
    "json": frozenset(),
    "markdown": frozenset({"sources", "max_chars", "extra_sections", "title"}),
    "sarif": frozenset({"rules", "information_uri", "help_uri"}),
    "github": frozenset(),
    "junit": frozenset(),
}


def renderer(fmt: str) -> Callable[..., str]:
    if fmt not in _MODULES:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    render_function: Callable[..., str] = importlib.import_module(_MODULES[fmt]).render
    return render_function


def keyword_options(function: Callable[..., str]) -> set[str]:
    return {p.name for p in inspect.signature(function).parameters.values() if p.kind is p.KEYWORD_ONLY}


def render(result: ReviewResult, fmt: str, **opts: Any) -> str:
    """Options: `sources` (path -> head text; text, markdown), `color` (text), `max_chars`,
    `extra_sections`, `title` (markdown), `rules`, `information_uri`, `help_uri` (sarif)."""
    function = renderer(fmt)
    known = set().union(*OPTIONS.values())
    unknown = sorted(set(opts) - known)
    if unknown:
        raise TypeError(f"unknown report option(s): {', '.join(unknown)}")
    return function(result, **{k: v for k, v in opts.items() if k in OPTIONS[fmt]})


__all__ = ["FORMATS", "OPTIONS", "Format", "render", "renderer"]
