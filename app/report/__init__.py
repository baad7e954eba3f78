"""Reporters: one `ReviewResult` as text, JSON, Markdown (the alignment report) or SARIF.

`render(result, fmt, **opts)` passes each format the options it understands and ignores the ones meant
for another format, so a caller (the CLI) can hand the same options to every format. An option that no
format knows is a mistake and raises TypeError.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Literal

from app.report import json_report, markdown, sarif, text
from app.review import ReviewResult

Format = Literal["text", "json", "markdown", "sarif"]
FORMATS: tuple[Format, ...] = ("text", "json", "markdown", "sarif")

_RENDERERS: dict[str, Callable[..., str]] = {
    "text": text.render,
    "json": json_report.render,
    "markdown": markdown.render,
    "sarif": sarif.render,
}


def _options(renderer: Callable[..., str]) -> set[str]:
    return {p.name for p in inspect.signature(renderer).parameters.values() if p.kind is p.KEYWORD_ONLY}


def render(result: ReviewResult, fmt: str, **opts: Any) -> str:
    """Options: `sources` (path -> head text; text, markdown), `color` (text), `max_chars`,
    `extra_sections`, `title` (markdown), `rules`, `information_uri`, `help_uri` (sarif)."""
    if fmt not in _RENDERERS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    known = set().union(*(_options(r) for r in _RENDERERS.values()))
    unknown = sorted(set(opts) - known)
    if unknown:
        raise TypeError(f"unknown report option(s): {', '.join(unknown)}")
    renderer = _RENDERERS[fmt]
    accepted = _options(renderer)
    return renderer(result, **{k: v for k, v in opts.items() if k in accepted})


__all__ = ["FORMATS", "Format", "render"]
