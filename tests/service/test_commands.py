"""Parsing `/align` commands and judging waivers (no GitHub needed)."""

from __future__ import annotations

from align.service.commands import Command, find_command_line, help_text, ignore_problem, parse_command

RULES = ["gpu-model-mismatch", "cost-mismatch"]


def test_parse_each_command() -> None:
    assert parse_command("/align review").name == "review"
    assert parse_command("/align").name == "help"
    assert parse_command("/ALIGN Help").name == "help"
    assert parse_command("/align explain cost-mismatch") == Command("explain", "cost-mismatch",
                                                                    text="/align explain cost-mismatch")
    ignore = parse_command("/align ignore gpu-model-mismatch  the vendor's doc names H200 on purpose")
    assert (ignore.name, ignore.target, ignore.reason) == (
        "ignore", "gpu-model-mismatch", "the vendor's doc names H200 on purpose")
    assert parse_command("/align ignore gpu-model-mismatch").reason is None
    assert parse_command("/align deploy now") == Command("unknown", "deploy", text="/align deploy now")
    assert parse_command("/alignment review").name == "unknown"


def test_find_command_line_skips_quotes_and_code() -> None:
    assert find_command_line("LGTM\n  /align review  \nthanks") == "/align review"
    assert find_command_line("> /align review") is None
    assert find_command_line("```\n/align review\n```") is None
    assert find_command_line("```\n/align review\n```\n/align help") == "/align help"
    assert find_command_line("see /align review") is None
    assert find_command_line("/alignment") is None


def test_ignore_needs_a_known_target_and_a_reason() -> None:
    assert ignore_problem(parse_command("/align ignore cost-mismatch budget doc"), RULES) is None
    assert ignore_problem(parse_command("/align ignore 0123456789abcdef vendor doc"), RULES) is None
    assert "reason" in (ignore_problem(parse_command("/align ignore cost-mismatch"), RULES) or "")
    assert "neither a rule" in (ignore_problem(parse_command("/align ignore no-such-rule why"), RULES) or "")
    assert "fingerprint" in (ignore_problem(parse_command("/align ignore"), RULES) or "")
    long_reason = parse_command("/align ignore cost-mismatch " + "why " * 200)
    assert "at most 500 characters" in (ignore_problem(long_reason, RULES) or "")


def test_help_lists_commands_and_rules() -> None:
    text = help_text(RULES)
    for word in ("/align review", "/align ignore", "/align explain", "/align help", "`cost-mismatch`"):
        assert word in text


def test_only_ascii_align_at_the_start_of_a_line_is_a_command() -> None:
    for lookalike in ("/alıgn review", "/alİgn review", "/align\u00a0review", "／align review", "\u200b/align review",
                      "\u00a0/align review", "/align\u2003review", "x\u2028/align review", "/ALİGN review"):
        assert find_command_line(lookalike) is None, lookalike
    assert find_command_line("ok\r\n\t  /ALIGN Review") == "/ALIGN Review"
    assert parse_command("/align REVİEW") == Command("unknown", "REVİEW", text="/align REVİEW")
    assert parse_command("/align review\u00a0") == Command("unknown", "review\u00a0", text="/align review\u00a0")
    ignore = parse_command("/align ignore\tcost-mismatch  a reason with ünïcode ")
    assert (ignore.name, ignore.target, ignore.reason) == ("ignore", "cost-mismatch", "a reason with ünïcode")
