"""Python through `ast`: constant assignments, dict literals, keyword arguments, strings, docstrings, comments.

Strings and comments come from one regular-expression pass over the source (what `tokenize` would
give, at a fraction of its cost); the tree walk then only enters subtrees that can hold a call.
"""

from __future__ import annotations

import ast
import math
import re

from align.formats import Assignment, FileFacts, SpanKind, TextSpan
from align.formats.common import build_facts, env_aliases, line_spans

_SKIPPED_FIELDS = frozenset({"ctx", "op", "ops", "type_comment", "type_ignores"})
# Nodes with nothing below them that a rule reads: not worth a trip through the traversal.
_LEAVES = frozenset({ast.Name, ast.Constant, ast.JoinedStr, ast.alias, ast.Pass, ast.Break, ast.Continue,
                     ast.Global, ast.Nonlocal})
# Comments and string literals (any prefix: a backslash-quote never ends a literal, raw or not).
_LEXER = re.compile(
    r"(#[^\n]*)"
    r"|('''(?:[^'\\]|\\.|'(?!''))*(?:''')?"  # '''...'''
    r'|"""(?:[^"\\]|\\.|"(?!""))*(?:""")?'  # """..."""
    r"|'(?:[^'\\\n]|\\.)*'?"
    r'|"(?:[^"\\\n]|\\.)*"?)',
    re.DOTALL,
)
_FIELDS: dict[type, tuple[str, ...]] = {}
_SKIP, _EXPRESSION, _OTHER = 0, 1, 2
_CATEGORY: dict[type, int] = {}
_NUMERIC_OPS: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
                                 ast.Mod: "%", ast.Pow: "**"}
_FALLBACK_ASSIGN = re.compile(r"\s*([A-Za-z_][\w.]*)\s*(?::[^=]*)?=(?!=)\s*(.+?)\s*$")
_DEF_NODES = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
_NO_VALUE = object()  # not a constant: no assignment


def extract_python(text: str) -> FileFacts:
    lines = text.splitlines()
    spans = line_spans(lines)
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return _fallback(text, lines, spans, exc)
    collector = _Collector(lines)
    collector.collect(tree)
    spans.extend(_strings_and_comments(text, collector.docstring_lines))
    assignments = sorted(collector.assignments, key=_line_of)
    assignments.extend(env_aliases(assignments))
    return build_facts("python", assignments, spans)


def _line_of(item: Assignment) -> int:
    return item.line


class _Collector:
    """Assignments, keyword arguments and docstrings from the tree. Strings and comments come from a
    lexer pass instead, so the walk can skip every subtree that holds no call (most of them)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.assignments: list[Assignment] = []
        self.docstring_lines: dict[int, int] = {}  # first line → last line of each docstring
        self._paren_lines = {number for number, line in enumerate(lines, 1) if "(" in line}

    def collect(self, tree: ast.AST) -> None:
        stack: list[ast.AST] = [tree]
        paren_lines = self._paren_lines
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind in _DEF_NODES:
                docstring = _docstring(node)
                if docstring is not None:
                    self.docstring_lines[docstring.lineno] = docstring.end_lineno or docstring.lineno
            elif kind is ast.Assign:
                self._assign(node)  # type: ignore[arg-type]
            elif kind is ast.AnnAssign:
                annotated: ast.AnnAssign = node  # type: ignore[assignment]
                target = _target_path(annotated.target)
                if target and annotated.value is not None:
                    self._value(target, annotated.value)
            elif kind is ast.Call:
                self._call(node)  # type: ignore[arg-type]
            fields = _FIELDS.get(kind)
            if fields is None:
                fields = _FIELDS[kind] = tuple(name for name in kind._fields if name not in _SKIPPED_FIELDS)
            for name in fields:
                value = getattr(node, name)
                for item in value if type(value) is list else (value,):
                    category = _CATEGORY.get(type(item))
                    if category is None:
                        category = _category(type(item))
                    if category == _SKIP:
                        continue
                    # An expression can only hold a call if a `(` is on one of its lines.
                    if category == _EXPRESSION and item.lineno not in paren_lines \
                            and item.end_lineno == item.lineno:
                        continue
                    stack.append(item)

    # ---- assignments

    def _assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Tuple | ast.List) and isinstance(node.value, ast.Tuple | ast.List):
                if len(target.elts) == len(node.value.elts):
                    for each_target, each_value in zip(target.elts, node.value.elts, strict=True):
                        path = _target_path(each_target)
                        if path:
                            self._value(path, each_value)
                continue
            path = _target_path(target)
            if path:
                self._value(path, node.value)

    def _call(self, node: ast.Call) -> None:
        name = _dotted(node.func) or "<call>"
        for keyword in node.keywords:
            if keyword.arg is not None:
                self._value((name, keyword.arg), keyword.value)
        for argument in node.args:
            if isinstance(argument, ast.Dict):
                self._value((name,), argument)

    def _value(self, path: tuple[str, ...], node: ast.expr) -> None:
        """Leaves of a constant, a folded numeric expression, or a dict / list / tuple literal."""
        if isinstance(node, ast.Dict):
            for key, item in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str | int | float | bool):
                    self._value((*path, str(key.value)), item)
            return
        if isinstance(node, ast.List | ast.Tuple):
            for position, element in enumerate(node.elts):
                self._value((*path, str(position)), element)
            return
        value = _constant(node)
        if value is _NO_VALUE:
            return
        line, end_line = node.lineno, node.end_lineno or node.lineno
        raw = _segment(self.lines, line, node.col_offset, end_line, node.end_col_offset or 0)
        self.assignments.append(Assignment(path, value, raw, line, end_line))  # type: ignore[arg-type]


def _category(kind: type) -> int:
    """How the walk treats a child of this type (cached per type: `isinstance` per node is costly)."""
    if kind in _LEAVES or not issubclass(kind, ast.AST):
        category = _SKIP
    elif issubclass(kind, ast.expr):
        category = _EXPRESSION
    else:
        category = _OTHER
    _CATEGORY[kind] = category
    return category


def _docstring(node: ast.AST) -> ast.Constant | None:
    body = getattr(node, "body", None)
    if body and isinstance(body[0], ast.Expr):
        value = body[0].value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value
    return None


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _target_path(node: ast.expr) -> tuple[str, ...]:
    """`NAME` → (NAME,), `self.x` → ("self", "x"), `CONFIG["gpu"]` → ("CONFIG", "gpu")."""
    if isinstance(node, ast.Name):
        return (node.id,)
    if isinstance(node, ast.Attribute):
        dotted = _dotted(node)
        return tuple(dotted.split(".")) if dotted else ()
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        parent = _target_path(node.value)
        return (*parent, str(node.slice.value)) if parent else ()
    return ()


def _constant(node: ast.expr) -> object:
    """A scalar constant, or a numeric expression of constants folded (`141 * 1024**3`)."""
    if isinstance(node, ast.Constant):
        value = node.value
        return value if value is None or isinstance(value, str | int | float | bool) else _NO_VALUE
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _constant(node.operand)
        if isinstance(operand, int | float) and not isinstance(operand, bool):
            return -operand if isinstance(node.op, ast.USub) else operand
        return _NO_VALUE
    if isinstance(node, ast.BinOp) and type(node.op) in _NUMERIC_OPS:
        left, right = _constant(node.left), _constant(node.right)
        numeric = (int, float)
        if not (isinstance(left, numeric) and isinstance(right, numeric)) or isinstance(left, bool) \
                or isinstance(right, bool):
            return _NO_VALUE
        return _fold(_NUMERIC_OPS[type(node.op)], left, right)
    return _NO_VALUE


def _fold(op: str, left: float, right: float) -> object:
    try:
        if op == "+":
            result = left + right
        elif op == "-":
            result = left - right
        elif op == "*":
            result = left * right
        elif op == "/":
            result = left / right
        elif op == "//":
            result = left // right
        elif op == "%":
            result = left % right
        else:
            if abs(right) > 64 or abs(left) > 2**32:  # a constant, not a way to burn CPU
                return _NO_VALUE
            result = left**right
    except (ArithmeticError, ValueError):
        return _NO_VALUE
    if isinstance(result, complex) or (isinstance(result, float) and not math.isfinite(result)):
        return _NO_VALUE
    return result


def _segment(lines: list[str], line: int, col: int, end_line: int, end_col: int) -> str:
    """Source text between two `ast` positions (columns are UTF-8 byte offsets)."""
    if line == end_line:
        text = lines[line - 1] if line <= len(lines) else ""
        if text.isascii():
            return text[col:end_col]
        return text.encode()[col:end_col].decode(errors="replace")
    chunk = lines[line - 1 : end_line]
    if not chunk:
        return ""
    first = chunk[0].encode()[col:].decode(errors="replace")
    last = chunk[-1].encode()[:end_col].decode(errors="replace")
    return "\n".join([first, *chunk[1:-1], last]) if len(chunk) > 1 else first


def _strings_and_comments(text: str, docstring_lines: dict[int, int]) -> list[TextSpan]:
    """`string` spans (the literal as written, per line), docstrings as `prose`, `comment` spans."""
    spans: list[TextSpan] = []
    line, counted = 1, 0  # line numbers by counting newlines between matches (they come in order)
    for match in _LEXER.finditer(text):
        start = match.start()
        line += text.count("\n", counted, start)
        counted = start
        comment = match.group(1)
        if comment is not None:
            body = comment[1:].strip()
            if body:
                spans.append(TextSpan(line, body, "comment"))
            continue
        literal = match.group(2)
        quote = 3 if literal[:3] in ('"""', "'''") else 1
        inner = literal[quote:-quote] if len(literal) >= 2 * quote and literal[-1] == literal[0] else literal[quote:]
        kind: SpanKind = "prose" if line in docstring_lines else "string"
        for offset, part in enumerate(inner.split("\n")):
            part = part.strip()
            if part:
                spans.append(TextSpan(line + offset, part, kind))
    return spans


def _fallback(text: str, lines: list[str], spans: list[TextSpan], exc: BaseException) -> FileFacts:
    """A file that does not parse: strings and comments, and `NAME = literal` lines read one by one."""
    if isinstance(exc, SyntaxError):
        reason = f"line {exc.lineno}: {exc.msg}" if exc.lineno else str(exc.msg)
    else:
        reason = f"{type(exc).__name__}: {exc}"
    assignments: list[Assignment] = []
    spans.extend(_strings_and_comments(text, {}))
    for number, line in enumerate(lines, 1):
        match = _FALLBACK_ASSIGN.match(line)
        if match is None:
            continue
        value, raw = _literal(match.group(2))
        if value is not _NO_VALUE:
            path = tuple(match.group(1).split("."))
            assignments.append(Assignment(path, value, raw, number, number))  # type: ignore[arg-type]
    return build_facts("python", assignments, spans, f"Python syntax error, {reason}")


def _literal(text: str) -> tuple[object, str]:
    """(value, the literal as written) of a one-line constant expression (a trailing comment is not it)."""
    try:
        node = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return _NO_VALUE, text
    return _constant(node), _segment([text], 1, node.col_offset, 1, node.end_col_offset or len(text))
