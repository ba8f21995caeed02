"""Shell completion scripts for bash, zsh and fish, generated from the commands' own argparse
parsers: an option added to a command is completed without anyone editing a script.

What a script knows is fixed when it is printed (commands, options, choices); what changes
between two TABs, the profile names in the AWS files, it asks `mfa-process completion --profiles`
for at TAB time. Only `mfa-process completion` imports this module: the cache hit never does.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from importlib import import_module
from typing import Dict, List, Sequence, Tuple

from ..prompt import PROMPTS

SHELLS = ("bash", "zsh", "fish")
HELP_COMMAND = "help"  # runs no parser of its own: its argument is a command name

# What an option's value is, for the scripts to offer.
FLAG = "flag"  # no value
TEXT = "text"  # free text (a duration, an ARN): nothing to offer
PROFILE = "profile"  # a profile of the AWS files, listed at TAB time
CHOICE = "choice"  # one of the parser's choices
CHOICE_LIST = "list"  # several choices, comma-separated

PROFILE_OPTIONS = frozenset({"--profile", "--role-profile"})
LIST_OPTIONS: Dict[str, Tuple[str, ...]] = {"--prompt": PROMPTS}  # argparse takes any string: settings checks it

# Everything a script embeds as a bare word: nothing a shell would expand or split.
_WORD = re.compile(r"-{0,2}[A-Za-z0-9][A-Za-z0-9_.-]*")
SUMMARY_WIDTH = 60
_DESCRIPTION_END = re.compile(r"\. |: |; | \(|\n\n")


@dataclass(frozen=True)
class Option:
    """One option of a command: its flags, what its value is, and a short description."""

    flags: Tuple[str, ...]
    description: str
    kind: str
    values: Tuple[str, ...] = ()
    metavar: str = ""

    @property
    def takes_value(self) -> bool:
        return self.kind != FLAG


@dataclass(frozen=True)
class Command:
    """A command (name "" is the plugin form, `mfa-process --profile NAME`) and what follows it."""

    name: str
    description: str
    options: Tuple[Option, ...]
    arguments: Tuple[str, ...] = ()  # what its positional argument may be
    runs_command: bool = False  # exec: after `--`, a command line of its own


def commands() -> List[Command]:
    """The plugin form, then every command of cli/__init__.py in its order, from their parsers."""
    from . import COMMAND_MODULES
    from .credential_process import build_parser

    found = [command_from_parser("", build_parser())]
    for name, module_name in COMMAND_MODULES.items():
        if name == HELP_COMMAND:
            found.append(Command(name, "a command's help, as COMMAND --help shows it", (), tuple(COMMAND_MODULES)))
            continue
        build = getattr(import_module(module_name, __package__), "build_parser", None)
        if build is None:  # a command whose parser is not readable: its name alone is completed
            found.append(Command(name, "", ()))
        else:
            found.append(command_from_parser(name, build()))
    return found


def command_from_parser(name: str, parser: argparse.ArgumentParser) -> Command:
    """What ``parser`` accepts, as the scripts complete it: options its --help hides are left out."""
    options: List[Option] = []
    arguments: List[str] = []
    runs_command = False
    for action in parser._actions:
        if action.help == argparse.SUPPRESS and action.nargs != argparse.REMAINDER:  # exec hides its COMMAND
            continue
        if not action.option_strings:
            runs_command = runs_command or action.nargs == argparse.REMAINDER
            arguments.extend(str(choice) for choice in action.choices or ())
            continue
        options.append(_option(action))
    return Command(name, summary(parser.description or ""), tuple(options), tuple(arguments), runs_command)


def _option(action: argparse.Action) -> Option:
    flags = tuple(action.option_strings)
    description = summary(action.help or "")
    metavar = action.metavar if isinstance(action.metavar, str) else action.dest.upper()
    if action.nargs == 0:
        return Option(flags, description, FLAG)
    if PROFILE_OPTIONS.intersection(flags):
        return Option(flags, description, PROFILE, metavar=metavar)
    if action.choices:
        return Option(flags, description, CHOICE, tuple(str(choice) for choice in action.choices), metavar)
    for flag in flags:
        if flag in LIST_OPTIONS:
            return Option(flags, description, CHOICE_LIST, LIST_OPTIONS[flag], metavar)
    return Option(flags, description, TEXT, metavar=metavar)


def summary(text: str) -> str:
    """The first clause of a help text, on one line, in characters every shell's quoting keeps as
    they are: what zsh and fish show next to a candidate."""
    first = _DESCRIPTION_END.split(text, maxsplit=1)[0]
    plain = " ".join(re.sub(r"[^A-Za-z0-9 ,.'/_+~-]+", " ", first).split())
    if len(plain) > SUMMARY_WIDTH and ", " in plain:  # the main clause
        plain = plain.split(", ", 1)[0]
    return plain.rstrip(".,")


def script(shell: str, found: Sequence[Command]) -> str:
    """The completion script for ``shell`` (one of SHELLS) completing ``found``."""
    for command in found:
        _check_words([command.name] if command.name else [])
        _check_words(command.arguments)
        for option in command.options:
            _check_words([*option.flags, *option.values, *([option.metavar] if option.metavar else [])])
    return {"bash": bash_script, "zsh": zsh_script, "fish": fish_script}[shell](found)


def _check_words(words: Sequence[str]) -> None:
    for word in words:
        if not _WORD.fullmatch(word):
            raise ValueError(f"not a plain word for a completion script: {word!r}")


# --- bash ---------------------------------------------------------------------------------------

BASH_HEAD = """\
# bash completion for mfa-process; in ~/.bashrc:  eval "$(mfa-process completion bash)"
# Candidates are matched in shell code, never through compgen -W, which would expand them:
# profile names come from the AWS files.

_mfa_process_words() {  # $1 typed, $2 prefix to keep, then the candidates
    local typed="$1" prefix="$2" word
    shift 2
    for word in "$@"; do
        [[ $word == "$typed"* ]] && COMPREPLY+=("$prefix$word")
    done
    return 0
}

_mfa_process_profiles() {  # $1 typed, $2 prefix to keep, $3 the program
    local name quoted
    while IFS= read -r name; do
        if [[ $name == "$1"* ]]; then
            printf -v quoted '%q' "$name"
            COMPREPLY+=("$2$quoted")
        fi
    done < <("$3" completion --profiles 2>/dev/null)
    return 0
}

_mfa_process() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="" option="" prefix="" command="" program="${COMP_WORDS[0]}" i word
    COMPREPLY=()
    [[ $program == "~/"* ]] && program="$HOME/${program#"~/"}"
    ((COMP_CWORD >= 1)) && prev="${COMP_WORDS[COMP_CWORD - 1]}"
    # --option=value: COMP_WORDBREAKS usually has '=', which makes it three words: --option = value
    if [[ $cur == "=" && $prev == --* ]]; then
        option="$prev"
        cur=""
    elif [[ $prev == "=" ]] && ((COMP_CWORD >= 2)); then
        option="${COMP_WORDS[COMP_CWORD - 2]}"
    elif [[ $cur == --*=* ]]; then
        option="${cur%%=*}"
        prefix="$option="
        cur="${cur#*=}"
    else
        option="$prev"
    fi
"""

BASH_TAIL = """\
complete -F _mfa_process mfa-process
"""


def bash_script(found: Sequence[Command]) -> str:
    named = [command for command in found if command.name]
    lines = [BASH_HEAD]
    lines.append("    if ((COMP_CWORD >= 2)); then")
    lines.append('        case "${COMP_WORDS[1]}" in')
    lines.append(f'            {"|".join(c.name for c in named)}) command="${{COMP_WORDS[1]}}" ;;')
    lines.append("        esac")
    lines.append("    fi")
    for command in found:
        if command.runs_command:
            lines.extend(_bash_after_double_dash(command.name))
    # the value of an option
    actions: Dict[str, List[str]] = {}
    for command in found:
        for option in command.options:
            if option.takes_value:
                patterns = actions.setdefault(_bash_value_action(option), [])
                patterns.extend(f"{command.name}:{flag}" for flag in option.flags)
    lines.append('    case "$command:$option" in')
    for action, patterns in actions.items():
        lines.append(f"        {'|'.join(patterns)})")
        lines.append(f"            {action}")
        lines.append("            return 0")
        lines.append("            ;;")
    lines.append("    esac")
    lines.append("    [[ -n $prefix ]] && return 0  # --flag=: no value to offer")
    # an option, a command, an argument
    lines.append("    if [[ $cur == -* ]]; then")
    lines.append('        case "$command" in')
    for command in found:
        words = ['"$cur"', '""', *(flag for option in command.options for flag in option.flags)]
        lines.append(f'            "{command.name}") _mfa_process_words {" ".join(words)} ;;')
    lines.append("        esac")
    lines.append("    elif ((COMP_CWORD == 1)); then")
    lines.append(f'        _mfa_process_words "$cur" "" {" ".join(c.name for c in named)}')
    with_arguments = [command for command in named if command.arguments]
    if with_arguments:
        lines.append("    else")
        lines.append('        case "$command" in')
        for command in with_arguments:
            lines.append(f'            {command.name}) _mfa_process_words "$cur" "" {" ".join(command.arguments)} ;;')
        lines.append("        esac")
    lines.append("    fi")
    lines.append("    return 0")
    lines.append("}")
    lines.append("")
    return "\n".join(lines) + "\n" + BASH_TAIL


def _bash_value_action(option: Option) -> str:
    if option.kind == PROFILE:
        return '_mfa_process_profiles "$cur" "$prefix" "$program"'
    if option.kind == CHOICE:
        return f'_mfa_process_words "$cur" "$prefix" {" ".join(option.values)}'
    if option.kind == CHOICE_LIST:  # complete the last of the comma-separated values
        return (
            'local head=""; [[ $cur == *,* ]] && head="${cur%,*},"; '
            f'_mfa_process_words "${{cur##*,}}" "$prefix$head" {" ".join(option.values)}'
        )
    return ":"  # free text: nothing to offer


def _bash_after_double_dash(name: str) -> List[str]:
    """After `--`, a command line of its own: bash-completion's _command_offset completes it as
    one; without bash-completion, a command name, then file names."""
    return [
        f'    if [[ $command == "{name}" ]]; then',
        "        for ((i = 2; i < COMP_CWORD; i++)); do",
        '            if [[ ${COMP_WORDS[i]} == "--" ]]; then',
        "                if declare -F _command_offset >/dev/null; then",
        "                    _command_offset $((i + 1))",
        "                elif ((i + 1 == COMP_CWORD)); then",
        '                    while IFS= read -r word; do COMPREPLY+=("$word"); done < <(compgen -c -- "$cur")',
        "                else",
        "                    compopt -o default 2>/dev/null",
        "                fi",
        "                return 0",
        "            fi",
        "        done",
        "    fi",
    ]


# --- zsh ----------------------------------------------------------------------------------------

ZSH_HEAD = """\
#compdef mfa-process
# zsh completion for mfa-process; in ~/.zshrc, after compinit:  eval "$(mfa-process completion zsh)"
# or saved as _mfa_process in a folder of $fpath, before compinit.

_mfa_process_profiles() {
    local -a expl profiles
    # the program as typed (words[1] before the command's words were shifted): unquoted, a leading ~/
    # expanded and passed quoted, since _call_program evals its words and code typed there must not run
    local program=${(Q)_mfa_process_program}
    if [[ $program == '~/'* ]]; then
        program=$HOME/${program:2}
    fi
    profiles=(${(f)"$(_call_program profiles ${(q)program} completion --profiles 2>/dev/null)"})
    _wanted profiles expl 'AWS profile' compadd -a - profiles
}
"""

ZSH_TAIL = """\
if [[ $funcstack[1] == _mfa_process ]]; then
    _mfa_process "$@"  # autoloaded from $fpath: this first call completes
else
    compdef _mfa_process mfa-process
fi
"""


def zsh_script(found: Sequence[Command]) -> str:
    named = [command for command in found if command.name]
    lines = [ZSH_HEAD]
    for command in found:
        lines.append(f"{_zsh_function(command.name)}() {{")
        specs = [_zsh_option_spec(option, flag) for option in command.options for flag in option.flags]
        if command.arguments:
            specs.append(_sh_single(f"1:argument:({' '.join(command.arguments)})"))
        if command.runs_command:
            specs.append(_sh_single("*::command:_normal"))
        lines.append("    _arguments -s -S : \\")
        lines.extend(f"        {spec} \\" for spec in specs)
        lines[-1] = lines[-1][: -len(" \\")]
        lines.append("}")
        lines.append("")
    lines.append("_mfa_process() {")
    lines.append("    local _mfa_process_program=$words[1] command")
    lines.append("    local -a commands")
    lines.append("    commands=(")
    lines.extend(f"        {_sh_single(f'{c.name}:{c.description}')}" for c in named)
    lines.append("    )")
    lines.append("    if ((CURRENT > 2)); then")
    lines.append("        case $words[2] in")
    lines.append(f"            ({'|'.join(c.name for c in named)})")
    lines.append("                command=$words[2]")
    lines.append("                shift words")
    lines.append("                ((CURRENT--))")
    lines.append('                curcontext="${curcontext%:*:*}:mfa-process-$command:"')
    lines.append("                _mfa_process_command_$command")
    lines.append("                return")
    lines.append("                ;;")
    lines.append("        esac")
    lines.append("    fi")
    lines.append("    if ((CURRENT == 2)) && [[ $PREFIX != -* ]]; then")
    lines.append("        _describe -t commands 'mfa-process command' commands")
    lines.append("        return")
    lines.append("    fi")
    lines.append(f"    {_zsh_function('')}")
    lines.append("}")
    lines.append("")
    return "\n".join(lines) + "\n" + ZSH_TAIL


def _zsh_function(name: str) -> str:
    return f"_mfa_process_command_{name}" if name else "_mfa_process_plugin"


def _zsh_option_spec(option: Option, flag: str) -> str:
    exclusive = f"({' '.join(option.flags)})" if len(option.flags) > 1 else ""
    description = f"[{option.description}]" if option.description else ""
    if not option.takes_value:
        return _sh_single(f"{exclusive}{flag}{description}")
    glue = "=" if flag.startswith("--") else "+"  # --opt VALUE or --opt=VALUE; -o VALUE or -oVALUE
    return _sh_single(f"{exclusive}{flag}{glue}{description}:{option.metavar}:{_zsh_value_action(option)}")


def _zsh_value_action(option: Option) -> str:
    if option.kind == PROFILE:
        return "_mfa_process_profiles"
    if option.kind == CHOICE:
        return f"({' '.join(option.values)})"
    if option.kind == CHOICE_LIST:
        return f"{{_values -s , {option.metavar} {' '.join(option.values)}}}"
    return " "  # free text: the metavar is shown as the hint


def _sh_single(text: str) -> str:
    """``text`` single-quoted for sh, bash and zsh."""
    return "'" + text.replace("'", "'\\''") + "'"


# --- fish ---------------------------------------------------------------------------------------

FISH_HEAD = """\
# fish completion for mfa-process:  mfa-process completion fish > ~/.config/fish/completions/mfa-process.fish

function __mfa_process_command --description 'the mfa-process command on the line; empty for the plugin form'
    set -l words (commandline -opc)
    if set -q words[2]; and contains -- $words[2] {commands}
        if contains -- $words[2] {runs_command}; and contains -- -- $words[3..-1]
            echo "$words[2] --"  # what follows -- is a command line of its own
        else
            echo $words[2]
        end
    end
end

function __mfa_process_using --argument-names command
    set -l current (__mfa_process_command)
    test "$current" = "$command"
end

function __mfa_process_first --description 'completing the first argument'
    test (count (commandline -opc)) -eq 1
end

function __mfa_process_profiles
    set -l program (commandline -opc)[1]
    string match -q '~/*' -- $program; and set program $HOME/(string sub -s 3 -- $program)
    command $program completion --profiles 2>/dev/null
end

function __mfa_process_list --description 'comma-separated values: the ones typed, then each choice'
    set -l typed (commandline -ct | string replace -r -- '^--[^=]*=' '')
    set -l head (string match -r -- '^.*,' $typed); or set head ''
    for value in $argv
        echo $head$value
    end
end

function __mfa_process_inner --description 'the command line after --, completed as its own'
    set -l words (commandline -opc)
    set -l at (contains -i -- -- $words)
    complete -C (string join ' ' -- (string escape -- $words[(math $at + 1)..-1]) (commandline -ct))
end

complete -c mfa-process -f
"""


def fish_script(found: Sequence[Command]) -> str:
    named = [command for command in found if command.name]
    runs_command = [command.name for command in found if command.runs_command] or ["-"]
    head = FISH_HEAD.replace("{commands}", " ".join(c.name for c in named))
    lines = [head.replace("{runs_command}", " ".join(runs_command))]
    for command in named:
        lines.append(
            f"complete -c mfa-process -n __mfa_process_first -a {command.name} -d {_fish(command.description)}"
        )
    for command in found:
        using = _fish(f"__mfa_process_using {_fish(command.name)}")
        for option in command.options:
            parts = ["complete -c mfa-process -n", using]
            for flag in option.flags:
                parts.append(f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}")
            if option.takes_value:
                parts.append("-x")
                action = _fish_value_action(option)
                if action:
                    parts.append(f"-a {_fish(action)}")
            if option.description:
                parts.append(f"-d {_fish(option.description)}")
            lines.append(" ".join(parts))
        if command.arguments:
            lines.append(f"complete -c mfa-process -n {using} -a {_fish(' '.join(command.arguments))}")
        if command.runs_command:
            inner = _fish(f"__mfa_process_using {_fish(command.name + ' --')}")
            lines.append(f"complete -c mfa-process -n {inner} -a '(__mfa_process_inner)'")
    return "\n".join(lines) + "\n"


def _fish_value_action(option: Option) -> str:
    if option.kind == PROFILE:
        return "(__mfa_process_profiles)"
    if option.kind == CHOICE:
        return " ".join(option.values)
    if option.kind == CHOICE_LIST:
        return f"(__mfa_process_list {' '.join(option.values)})"
    return ""


def _fish(text: str) -> str:
    """``text`` single-quoted for fish (where a backslash escapes a quote or a backslash)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
