"""`align completion bash|zsh|fish`: completion scripts written from the argument parser itself, so a new
command or option completes without editing a script."""

from __future__ import annotations

import argparse


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> list[tuple[str, str, tuple[str, ...]]]:
    """(long option, help, choices) of each visible option."""
    found = []
    for action in parser._actions:
        longs = [o for o in action.option_strings if o.startswith("--")]
        if not longs or action.help == argparse.SUPPRESS:
            continue
        choices = tuple(str(c) for c in action.choices) if action.choices else ()
        found.append((longs[0], (action.help or "").split("(")[0].strip(), choices))
    return found


def _positional_choices(parser: argparse.ArgumentParser) -> tuple[str, ...]:
    for action in parser._actions:
        if not action.option_strings and action.choices and not isinstance(action, argparse._SubParsersAction):
            return tuple(str(c) for c in action.choices)
    return ()


def completion_script(parser: argparse.ArgumentParser, shell: str) -> str:
    commands = _commands(parser)
    if shell == "bash":
        return _bash(commands)
    if shell == "zsh":
        return _zsh(commands)
    if shell == "fish":
        return _fish(commands)
    raise ValueError(f"unknown shell {shell!r}")


def _bash(commands: dict[str, argparse.ArgumentParser]) -> str:
    cases = []
    for name, sub in commands.items():
        words = [o for o, _, _ in _options(sub)] + list(_positional_choices(sub))
        cases.append(f'        {name}) opts="{" ".join(words)}" ;;')
    return "\n".join([
        "# bash completion for align (align completion bash)",
        "_align() {",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" command="${COMP_WORDS[1]}" opts',
        "    if [ \"$COMP_CWORD\" -eq 1 ]; then",
        f'        COMPREPLY=($(compgen -W "{" ".join(commands)} --help --version --debug" -- "$cur"))',
        "        return",
        "    fi",
        '    case "$command" in',
        *cases,
        '        *) opts="" ;;',
        "    esac",
        '    case "$cur" in',
        '        -*) COMPREPLY=($(compgen -W "$opts --help" -- "$cur")) ;;',
        '        *) COMPREPLY=($(compgen -W "$(printf "%s\\n" $opts | grep -v "^--")" -- "$cur") '
        '$(compgen -f -- "$cur")) ;;',
        "    esac",
        "}",
        "complete -o filenames -F _align align",
        "",
    ])


def _zsh_escape(text: str) -> str:
    return text.replace("'", "'\\''").replace("[", "\\[").replace("]", "\\]").replace(":", "\\:")


def _zsh(commands: dict[str, argparse.ArgumentParser]) -> str:
    described = " ".join(f"'{name}:{_zsh_escape(sub.description or '').split('.')[0][:60]}'"
                         for name, sub in commands.items())
    cases = []
    for name, sub in commands.items():
        specs = []
        for option, help_text, choices in _options(sub):
            values = f":value:({' '.join(choices)})" if choices else ""
            specs.append(f"'{option}[{_zsh_escape(help_text)}]{values}'")
        positional = _positional_choices(sub)
        if positional:
            specs.append(f"'1:value:({' '.join(positional)})'")
        else:
            specs.append("'*:file:_files'")
        cases.append(f"        {name}) _arguments {' '.join(specs)} ;;")
    return "\n".join([
        "#compdef align",
        "# zsh completion for align (align completion zsh)",
        "_align() {",
        "    local -a commands",
        f"    commands=({described})",
        "    if (( CURRENT == 2 )); then",
        "        _describe 'command' commands",
        "        return",
        "    fi",
        "    case $words[2] in",
        *cases,
        "    esac",
        "}",
        '_align "$@"',
        "",
    ])


def _fish(commands: dict[str, argparse.ArgumentParser]) -> str:
    lines = ["# fish completion for align (align completion fish)", "complete -c align -f"]
    for name, sub in commands.items():
        summary = (sub.description or "").split(".")[0].replace("'", "\\'")[:60]
        lines.append(f"complete -c align -n '__fish_use_subcommand' -a {name} -d '{summary}'")
        for option, help_text, choices in _options(sub):
            extra = f" -x -a '{' '.join(choices)}'" if choices else ""
            help_text = help_text.replace("'", "\\'")
            lines.append(f"complete -c align -n '__fish_seen_subcommand_from {name}' -l {option[2:]} "
                         f"-d '{help_text}'{extra}")
        positional = _positional_choices(sub)
        if positional:
            lines.append(f"complete -c align -n '__fish_seen_subcommand_from {name}' -a '{' '.join(positional)}'")
    return "\n".join(lines) + "\n"
