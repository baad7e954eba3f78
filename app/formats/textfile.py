"""Any other text file: one `code` span per non-blank line, so line-scanning rules still read it."""

from __future__ import annotations

from align.formats import FileFacts
from align.formats.common import build_facts, line_spans


def extract_text(text: str) -> FileFacts:
    return build_facts("text", (), line_spans(text.splitlines()))
