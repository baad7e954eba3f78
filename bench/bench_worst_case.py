"""The engine on worst-shaped files, each as a ratio to an ordinary file of the same format and size.

    python bench/bench_worst_case.py [--size 1000000] [--only python,yaml] [--shapes names,prices]

Issue 8, item 9: no input freezes a review. For each format the engine reads (Python, YAML, JSON, Markdown,
HCL/Terraform, shell, Go), files of `--size` bytes (default 1 MB, the engine's cap) in these shapes:

- ordinary: lines of that format as a repository has them, a GPU named now and then (the baseline);
- names: lines of a wrong GPU name written over and over (a list literal, a string, a sentence), as many
  times as a line that makes a claim may name GPUs (MAX_MENTIONS_OF_A_CLAIM: more, and the line is data);
- words: the same with a name that holds no digit ("Grace Blackwell"), which the file's budget of numbers
  (MAX_FILE_NUMBERS) does not count;
- prices: one line of hourly prices (a price table: no finding, but every price is read);
- numbers: one line of figures and calculations ("3 x 141 GB = 423 GB", "60+40+30+11 = 141");
- suggestions: one short line per finding, each with a suggestion the engine verifies;
- mixed: lines that each hold a wrong GPU, memory and price;
- stale: the deployment's GPU and price change, and an unchanged one-line file (read by stale-reference)
  holds the old values over and over.

Every shape is reviewed in the same process as its baseline (all rules, suggestions verified, one worker),
the figure being seconds(shape) / seconds(ordinary): machine noise cancels out, and a super-linear rule
shows up as a ratio that grows with --size. Target: at most 3x each.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from align.engine import run_rules
from align.rule_api import builtin_rules
from align.rules._text import MAX_MENTIONS_OF_A_CLAIM
from align.source import MAX_LINE_CHARS, as_read
from tests.helpers import GH200_MANIFEST, make_context

H200_MANIFEST = (GH200_MANIFEST.replace("gpu: GH200", "gpu: H200").replace("1.49", "2.49")
                 .replace("gpu_1x_gh200", "gpu_1x_h200").replace("      buffer: 6\n", "      buffer: 51\n"))

# path, a line of ordinary content, and how a list of words / one string / one comment is written.
FORMATS: dict[str, dict[str, str]] = {
    "python": {"path": "deploy/serve.py", "ordinary": 'workers = int(os.environ.get("WORKERS", "{n}"))  # GH200 pool\n',
               "list": 'GPUS = [{items}]\n', "item": '"{w}"', "sep": ", ", "assign": 'GPU_{n} = "{w}"\n',
               "comment": "# {text}\n"},
    "yaml": {"path": "deploy/values.yaml", "ordinary": "  replica_{n}: {{cpu: 4, memory: 16Gi, gpu: GH200}}\n",
             "list": "gpus: [{items}]\n", "item": "{w}", "sep": ", ", "assign": "gpu_{n}: {w}\n",
             "comment": "# {text}\n"},
    "json": {"path": "deploy/config.json", "ordinary": '  "replica_{n}": {{"cpu": 4, "gpu": "GH200"}},\n',
             "list": '{{"gpus": [{items}]}}\n', "item": '"{w}"', "sep": ", ", "assign": '{{"gpu_{n}": "{w}"}}\n',
             "comment": '{{"description": "{text}"}}\n',
             # The ordinary file is one JSON object, as a configuration file is (its lines alone do not parse).
             "open": "{{\n", "close": '  "end": 0\n}}\n'},
    "markdown": {"path": "docs/deployment.md", "ordinary": "Replica {n} serves the chat model on one GH200 node.\n",
                 "list": "{items}\n", "item": "{w}", "sep": " and ", "assign": "- node {n} runs on {w}\n",
                 "comment": "{text}\n"},
    "hcl": {"path": "infra/main.tf", "ordinary": '  tags = {{ replica_{n} = "GH200" }}\n',
            "list": "gpus = [{items}]\n", "item": '"{w}"', "sep": ", ", "assign": 'gpu_{n} = "{w}"\n',
            "comment": "# {text}\n"},
    "shell": {"path": "scripts/launch.sh", "ordinary": 'echo "starting replica {n} on GH200" >> "$LOG"\n',
              "list": 'GPUS="{items}"\n', "item": "{w}", "sep": " ", "assign": 'GPU_{n}="{w}"\n',
              "comment": "# {text}\n"},
    "go": {"path": "cmd/serve/main.go", "ordinary": '\tlog.Printf("replica %d on GH200", {n})\n',
           "list": 'var gpus = []string{{{items}}}\n', "item": '"{w}"', "sep": ", ",
           "assign": 'const gpu{n} = "{w}"\n', "comment": "// {text}\n"},
}


def _fill(size: int, make: Callable[[int], str]) -> str:
    """Lines from `make(n)` until `size` characters."""
    out: list[str] = []
    total = n = 0
    while total < size:
        line = make(n)
        out.append(line)
        total += len(line)
        n += 1
    return "".join(out)[:size].rsplit("\n", 1)[0] + "\n"


def _one_line(template: str, words: list[str], fmt: dict[str, str], size: int) -> str:
    items, total, index = [], 0, 0
    while total < size - 40:
        word = fmt["item"].format(w=words[index % len(words)])
        items.append(word)
        total += len(word) + len(fmt["sep"])
        index += 1
    return template.format(items=fmt["sep"].join(items))


def _names_line(fmt: dict[str, str], name: str) -> str:
    """A list of `name` as long as a claim may be (MAX_MENTIONS_OF_A_CLAIM names)."""
    return fmt["list"].format(items=fmt["sep"].join([fmt["item"].format(w=name)] * MAX_MENTIONS_OF_A_CLAIM))


def _at_the_limit(line: str, size: int) -> str:
    """`line` cut to the longest line a review reads (MAX_LINE_CHARS), repeated to `size`: the worst
    shapes on lines that are read, where a single megabyte line is not."""
    line = line.rstrip("\n")[: MAX_LINE_CHARS - 1]
    return _fill(size, lambda _n: line + "\n")


def shapes(fmt: dict[str, str], size: int) -> dict[str, tuple[dict[str, str], dict[str, str], str | None]]:
    """name -> (changed files, unchanged repository files, base manifest or None)."""
    path = fmt["path"]
    line = MAX_LINE_CHARS
    opening, closing = fmt.get("open", "").format(), fmt.get("close", "").format()
    ordinary = opening + _fill(size - len(opening) - len(closing), lambda n: fmt["ordinary"].format(n=n)) + closing
    one_line = _one_line(fmt["list"], ["H200"], fmt, size)
    names = _at_the_limit(_names_line(fmt, "H200"), size)
    words = _at_the_limit(_names_line(fmt, "Grace Blackwell"), size)
    prices = _at_the_limit(fmt["comment"].format(text=" ".join(["$2.49/hour"] * (line // 11))), size)
    numbers = _at_the_limit(
        fmt["comment"].format(text=" ".join(["3 x 141 GB = 423 GB, 60+40+30+11 = 141 GB;"] * (line // 44))), size)
    suggestions = _fill(size, lambda n: fmt["assign"].format(n=n, w="H200"))
    mixed = _fill(size, lambda n: fmt["comment"].format(text=f"node {n}: H200 with 141 GB at $2.49/hour"))
    stale = _at_the_limit(fmt["comment"].format(text=" ".join(["H200 with 141 GB at $2.49/hour;"] * (line // 32))),
                          size)
    return {
        "ordinary": ({path: ordinary}, {}, None),
        "one-line": ({path: one_line}, {}, None),
        "names": ({path: names}, {}, None),
        "words": ({path: words}, {}, None),
        "prices": ({path: prices}, {}, None),
        "numbers": ({path: numbers}, {}, None),
        "suggestions": ({path: suggestions}, {}, None),
        "mixed": ({path: mixed}, {}, None),
        "stale": ({"deploy/readme.txt": "GH200\n"}, {path: stale}, H200_MANIFEST),
    }


def review_seconds(files: dict[str, str], repository: dict[str, str], base: str | None) -> tuple[float, int]:
    """Seconds to read the files as a review does (what is data emptied: `as_read`) and run every rule."""
    rules = builtin_rules()
    start = time.perf_counter()
    files, repository = _as_read(files), _as_read(repository)
    ctx = make_context(files, repository=repository, base_manifest=base)
    findings = run_rules(ctx, rules, workers=1)
    return time.perf_counter() - start, len(findings)


def _best_of(runs: int, case: tuple[dict[str, str], dict[str, str], str | None]) -> tuple[float, int]:
    """The fastest of `runs` reviews: on a shared machine the others measure its neighbours too."""
    results = [review_seconds(*case) for _ in range(runs)]
    return min(seconds for seconds, _found in results), results[0][1]


def _as_read(files: dict[str, str]) -> dict[str, str]:
    return {path: as_read(text).text for path, text in files.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--only", default=",".join(FORMATS))
    parser.add_argument("--shapes", default="one-line,names,words,prices,numbers,suggestions,mixed,stale")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs, baseline and shape alike")
    args = parser.parse_args()
    review_seconds({"warm.py": 'GPU = "H200"\n'}, {}, None)  # imports and the catalog index, before timing
    wanted = args.shapes.split(",")
    print(f"size {args.size:,} bytes; seconds (findings); ratio to ordinary")
    print(f"| format | ordinary | {' | '.join(wanted)} |")
    print("|---|---:|" + "---:|" * len(wanted))
    worst = 0.0
    for name in args.only.split(","):
        cases = shapes(FORMATS[name], args.size)
        base_seconds, base_found = _best_of(args.repeat, cases["ordinary"])
        cells = [f"{base_seconds:.2f} s ({base_found})"]
        for shape in wanted:
            seconds, found = _best_of(args.repeat, cases[shape])
            ratio = seconds / base_seconds
            worst = max(worst, ratio)
            cells.append(f"{ratio:.2f}x ({found})")
        print(f"| {name} | {' | '.join(cells)} |", flush=True)
    print(f"worst ratio: {worst:.2f}x")


if __name__ == "__main__":
    main()
