"""A webhook body as JSON, within limits that the parser itself does not keep.

Python's `json` recurses once per nesting level: a body nested 100,000 deep raises RecursionError (a 500),
and one nested a few hundred deep parses into an object that later recursive code may choke on. So the
nesting is measured first, in one pass without recursion, and a body deeper than `max_depth` is refused
as malformed (400) before it is parsed. GitHub's webhook payloads nest about 8 levels (its published
examples: at most 8); the default limit, 64, leaves ample room.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_DEPTH = 64

# A string, to its closing quote or to the end of an unterminated one: a match never fails, so removing
# strings stays linear whatever the body.
_STRING = re.compile(rb'"(?:[^"\\]|\\.?)*(?:"|\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = frozenset(b"[{")


class MalformedPayload(ValueError):
    """The body is not a JSON object GitHub could have sent; the message says why (safe to return)."""


def json_depth_exceeds(body: bytes, max_depth: int) -> bool:
    """True when arrays and objects in `body` nest deeper than `max_depth` (brackets in strings not counted).
    Stops at the first level too deep."""
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return False
    depth = 0
    for bracket in _STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        if bracket in _OPENING:
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
    return False


def parse_payload(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> dict[str, Any]:
    """The delivery's JSON object, or MalformedPayload."""
    if json_depth_exceeds(body, max_depth):
        raise MalformedPayload(f"JSON nested deeper than {max_depth} levels")
    try:
        payload = json.loads(body)
    except RecursionError:  # not reached with a sane max_depth; kept so no body can answer 500
        raise MalformedPayload(f"JSON nested deeper than {max_depth} levels") from None
    except ValueError:
        raise MalformedPayload("body is not JSON") from None
    if not isinstance(payload, dict):
        raise MalformedPayload("body is not a JSON object")
    return payload
