"""TypeScript / JavaScript (Pulumi, CDK) through tree-sitter: object properties and constants with their key
paths, string and template literals, comments.

Key paths follow the nesting a reader sees: `const config = {gpu: {memory: 141}}` → ("config", "gpu",
"memory"); an object passed to a call or constructor is named after the callee:
`new aws.ec2.Instance("web", {instanceType: "p5.48xlarge"})` → ("aws.ec2.Instance", "instanceType").
"""

from __future__ import annotations

import re
import threading
from functools import cache

import tree_sitter
import tree_sitter_typescript

from align.formats import Assignment, FileFacts, FormatName, Scalar, TextSpan
from align.formats.common import build_facts, env_aliases, line_spans, unescape

_QUERY = """
(comment) @comment
(string) @string
(template_string) @template
(number) @number
(true) @literal
(false) @literal
(null) @literal
"""
_PASS_THROUGH = frozenset({"as_expression", "satisfies_expression", "parenthesized_expression",
                           "non_null_expression", "type_assertion"})
_NAMED_BY_FIELD = {"variable_declarator": "name", "public_field_definition": "name", "enum_assignment": "name",
                   "property_signature": "name", "required_parameter": "pattern", "optional_parameter": "pattern"}
_CALLEE_FIELD = {"call_expression": "function", "new_expression": "constructor"}
_NUMBER = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9_]*\.?[0-9_]+(?:[eE][-+]?[0-9_]+)?)n?")
_BLOCK_COMMENT_LINE = re.compile(r"^\s*\*(?!/)\s?")
_local = threading.local()  # a tree-sitter Parser is not safe to share between threads


@cache
def _language(tsx: bool) -> tree_sitter.Language:
    grammar = tree_sitter_typescript.language_tsx() if tsx else tree_sitter_typescript.language_typescript()
    return tree_sitter.Language(grammar)


@cache
def _query(tsx: bool) -> tree_sitter.Query:
    extra = "(jsx_text) @jsx" if tsx else ""
    return tree_sitter.Query(_language(tsx), _QUERY + extra)


def _parser(tsx: bool) -> tree_sitter.Parser:
    parsers: dict[bool, tree_sitter.Parser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    parser = parsers.get(tsx)
    if parser is None:
        parser = parsers[tsx] = tree_sitter.Parser(_language(tsx))
    return parser


def extract_typescript(text: str) -> FileFacts:
    return _extract(text, "typescript", tsx=False)


def extract_javascript(text: str) -> FileFacts:
    return _extract(text, "javascript", tsx=False)


def extract_tsx(text: str, fmt: FormatName = "typescript") -> FileFacts:
    return _extract(text, fmt, tsx=True)


def _extract(text: str, fmt: FormatName, *, tsx: bool) -> FileFacts:
    source = text.encode("utf-8", errors="surrogatepass")
    tree = _parser(tsx).parse(source)
    if tree.root_node.has_error and fmt == "javascript" and not tsx and "<" in text:
        retry = _parser(True).parse(source)  # plain .js files may hold JSX
        if not retry.root_node.has_error:
            tree, tsx = retry, True
    lines = text.splitlines()
    spans = line_spans(lines)
    reader = _Reader(source, lines)
    captures = tree_sitter.QueryCursor(_query(tsx)).captures(tree.root_node)
    for node in captures.get("comment", ()):
        reader.comment(node)
    for node in captures.get("string", ()):
        reader.string(node)
    for node in captures.get("template", ()):
        reader.template(node)
    for node in captures.get("jsx", ()):
        reader.text_span(node, node.text.decode(errors="replace") if node.text else "", "string")
    for name in ("number", "literal"):
        for node in captures.get(name, ()):
            reader.leaf(node, _scalar(node, reader.text(node)))
    spans.extend(reader.spans)
    assignments = [found for _, found in sorted(reader.assignments, key=lambda pair: pair[0])]
    assignments.extend(env_aliases(assignments))
    parse_error = _syntax_error(tree.root_node) if tree.root_node.has_error else None
    return build_facts(fmt, assignments, spans, parse_error)


class _Reader:
    def __init__(self, source: bytes, lines: list[str]) -> None:
        self.source = source
        self.lines = lines
        self.spans: list[TextSpan] = []
        self.assignments: list[tuple[int, Assignment]] = []  # (start byte, assignment): sorted at the end
        self._indexes: dict[int, dict[int, int]] = {}  # array start byte → {element start byte: index}
        self._containers: dict[int, tuple[str, ...]] = {}  # node id → key path of an object / array

    def text(self, node: tree_sitter.Node) -> str:
        return self.source[node.start_byte : node.end_byte].decode("utf-8", errors="replace")

    # ---- spans

    def comment(self, node: tree_sitter.Node) -> None:
        raw = self.text(node)
        line = node.start_point[0] + 1
        if raw.startswith("//"):
            self._add(line, raw[2:], "comment")
            return
        body = raw[2:-2] if raw.endswith("*/") else raw[2:]
        for offset, part in enumerate(body.split("\n")):
            self._add(line + offset, _BLOCK_COMMENT_LINE.sub("", part), "comment")

    def string(self, node: tree_sitter.Node) -> None:
        raw = self.text(node)
        value = unescape(raw[1:-1])
        self.text_span(node, value, "string")
        self.leaf(node, value)

    def template(self, node: tree_sitter.Node) -> None:
        raw = self.text(node)
        self.text_span(node, raw[1:-1], "string")
        if not any(child.type == "template_substitution" for child in node.named_children):
            self.leaf(node, unescape(raw[1:-1]))

    def text_span(self, node: tree_sitter.Node, value: str, kind: str) -> None:
        line = node.start_point[0] + 1
        for offset, part in enumerate(value.split("\n")):
            self._add(line + offset, part, kind)

    def _add(self, line: int, text: str, kind: str) -> None:
        text = text.strip()
        if text:
            self.spans.append(TextSpan(line, text, kind))  # type: ignore[arg-type]

    # ---- assignments

    def leaf(self, node: tree_sitter.Node, value: Scalar) -> None:
        """A literal in a value position: emit it with the key path of the objects around it."""
        anchor = node
        parent = node.parent
        if node.type == "number" and parent is not None and parent.type == "unary_expression":
            operator = parent.child_by_field_name("operator")
            if operator is None or operator.type not in ("-", "+"):
                return
            if operator.type == "-" and isinstance(value, int | float):
                value = -value
            anchor = parent
        path = self._path(anchor)
        if path:
            raw = self.text(anchor)
            found = Assignment(path, value, raw, anchor.start_point[0] + 1, anchor.end_point[0] + 1)
            self.assignments.append((anchor.start_byte, found))

    def _path(self, node: tree_sitter.Node) -> tuple[str, ...] | None:
        """Key path of a literal, or None when it is not in a value position (a call argument, an operand,
        an object key)."""
        current, parent = _unwrap(node)
        if parent is None:
            return None
        kind = parent.type
        if kind == "pair":
            value, key = parent.child_by_field_name("value"), parent.child_by_field_name("key")
            if value is None or key is None or value.start_byte != current.start_byte:
                return None  # the literal is the key itself
            container = parent.parent
            base = self._container_path(container) if container is not None else ()
            return (*base, self._key(key))
        if kind == "array":
            return (*self._container_path(parent), str(self._index(parent, current)))
        return self._named(parent, current)

    def _container_path(self, node: tree_sitter.Node) -> tuple[str, ...]:
        """Key path of an object or array literal (memoized: all its leaves share it)."""
        cached = self._containers.get(node.id)
        if cached is not None:
            return cached
        current, parent = _unwrap(node)
        path: tuple[str, ...] = ()
        if parent is not None:
            kind = parent.type
            if kind == "pair":
                key = parent.child_by_field_name("key")
                container = parent.parent
                if key is not None and container is not None:
                    path = (*self._container_path(container), self._key(key))
            elif kind == "array":
                path = (*self._container_path(parent), str(self._index(parent, current)))
            elif kind == "arguments":
                call = parent.parent
                callee = call.child_by_field_name(_CALLEE_FIELD.get(call.type, "function")) if call else None
                path = (_compact(self.text(callee)),) if callee is not None else ()
            else:
                path = self._named(parent, current) or ()
        self._containers[node.id] = path
        return path

    def _named(self, parent: tree_sitter.Node, current: tree_sitter.Node) -> tuple[str, ...] | None:
        """(NAME,) for `const NAME = ...`, a class field, an enum member, or `target = ...`."""
        kind = parent.type
        field = _NAMED_BY_FIELD.get(kind)
        if field is not None:
            name, value = parent.child_by_field_name(field), parent.child_by_field_name("value")
            if name is None or value is None or value.start_byte != current.start_byte:
                return None
            return (self.text(name),)
        if kind == "assignment_expression":
            right, left = parent.child_by_field_name("right"), parent.child_by_field_name("left")
            if right is None or left is None or right.start_byte != current.start_byte:
                return None
            return tuple(_compact(self.text(left)).split("."))
        return None

    def _key(self, key: tree_sitter.Node) -> str:
        text = self.text(key)
        if key.type == "string":
            return unescape(text[1:-1])
        return text

    def _index(self, array: tree_sitter.Node, element: tree_sitter.Node) -> int:
        positions = self._indexes.get(array.start_byte)
        if positions is None:
            children = [child for child in array.named_children if child.type != "comment"]
            positions = self._indexes[array.start_byte] = {child.start_byte: i for i, child in enumerate(children)}
        return positions.get(element.start_byte, 0)


def _scalar(node: tree_sitter.Node, raw: str) -> Scalar:
    if node.type == "true":
        return True
    if node.type == "false":
        return False
    if node.type == "null":
        return None
    if _NUMBER.fullmatch(raw):
        digits = raw.replace("_", "").rstrip("n")
        try:
            return int(digits, 0) if not any(c in digits for c in ".eE") or digits[:2].lower() == "0x" \
                else float(digits)
        except ValueError:
            pass
    return raw


def _unwrap(node: tree_sitter.Node) -> tuple[tree_sitter.Node, tree_sitter.Node | None]:
    """(the outermost `x as T` / `(x)` / `x!` around node, its parent)."""
    current, parent = node, node.parent
    while parent is not None and parent.type in _PASS_THROUGH:
        current, parent = parent, parent.parent
    return current, parent


def _compact(text: str) -> str:
    """Callee / assignment target text on one line: `aws.ec2\n  .Instance` → `aws.ec2.Instance`."""
    return "".join(text.split()) if " " in text or "\n" in text or "\t" in text else text


def _syntax_error(root: tree_sitter.Node) -> str:
    node = root
    while not (node.is_error or node.is_missing):
        for child in node.children:
            if child.has_error or child.is_missing or child.is_error:
                node = child
                break
        else:
            break
    what = f"missing {node.type}" if node.is_missing else "unexpected syntax"
    return f"syntax error at line {node.start_point[0] + 1}: {what}"
