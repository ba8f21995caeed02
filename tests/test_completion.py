"""Shell completion: what the scripts are built from (the commands' own parsers), what each
script holds for every command and option, and the profile names `completion --profiles` lists.
Real shells load the scripts in tests/test_completion_e2e.py."""

from __future__ import annotations

import argparse
import re
from importlib import import_module
from pathlib import Path
from typing import Dict, List

import pytest

from mfa_process.cli import COMMAND_MODULES, COMMANDS, credential_process, main
from mfa_process.cli.common import new_parser
from mfa_process.cli.completion_scripts import (
    CHOICE,
    CHOICE_LIST,
    FLAG,
    HELP_COMMAND,
    PROFILE,
    SHELLS,
    TEXT,
    Command,
    Option,
    command_from_parser,
    commands,
    script,
    summary,
)
from mfa_process.prompt import PROMPTS
from mfa_process.session.shell_env import SHELLS as ENV_SHELLS


@pytest.fixture
def found() -> List[Command]:
    return commands()


def by_name(found: List[Command]) -> Dict[str, Command]:
    return {command.name: command for command in found}


def visible_flags(parser: argparse.ArgumentParser) -> List[str]:
    return [flag for action in parser._actions if action.help != argparse.SUPPRESS for flag in action.option_strings]


def option(command: Command, flag: str) -> Option:
    return next(option for option in command.options if flag in option.flags)


# --- what the scripts are built from ------------------------------------------------------------


def test_every_command_but_help_builds_its_parser_in_build_parser():
    for name, module in COMMAND_MODULES.items():
        if name != HELP_COMMAND:
            assert callable(getattr(import_module(module, "mfa_process.cli"), "build_parser", None)), name


def test_the_commands_are_the_plugin_form_then_every_command_in_order(found):
    assert [command.name for command in found] == ["", *COMMANDS]
    assert "completion" in COMMANDS and "help" in COMMANDS


def test_each_commands_options_are_its_parsers_flags_exactly(found):
    parsers = {"": credential_process.build_parser()}
    for name, module in COMMAND_MODULES.items():
        if name != HELP_COMMAND:
            parsers[name] = import_module(module, "mfa_process.cli").build_parser()
    for command in found:
        if command.name == HELP_COMMAND:
            continue
        flags = [flag for option in command.options for flag in option.flags]
        assert flags == visible_flags(parsers[command.name]), command.name


def test_an_option_added_to_a_parser_is_completed_with_what_its_value_is():
    parser = new_parser("mfa-process demo", "Demo the completion. More text.", "")
    parser.add_argument("--profile", metavar="NAME")
    parser.add_argument("--role-profile", metavar="NAME")
    parser.add_argument("--color", choices=("red", "green"))
    parser.add_argument("--prompt", metavar="SOURCE")
    parser.add_argument("--wait", metavar="SECONDS", help="how long to wait (default: 3)")
    parser.add_argument("-q", "--quiet", action="store_true", help="say less; much less")
    parser.add_argument("--secret-switch", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("shell", choices=("bash", "zsh"))
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

    command = command_from_parser("demo", parser)

    assert command.description == "Demo the completion"
    assert [opt.flags for opt in command.options] == [
        ("-h", "--help"),
        ("--profile",),
        ("--role-profile",),
        ("--color",),
        ("--prompt",),
        ("--wait",),
        ("-q", "--quiet"),
    ]
    assert option(command, "--profile").kind == option(command, "--role-profile").kind == PROFILE
    assert (option(command, "--color").kind, option(command, "--color").values) == (CHOICE, ("red", "green"))
    assert (option(command, "--prompt").kind, option(command, "--prompt").values) == (CHOICE_LIST, PROMPTS)
    assert (option(command, "--wait").kind, option(command, "--wait").metavar) == (TEXT, "SECONDS")
    assert option(command, "--wait").description == "how long to wait"
    assert (option(command, "--quiet").kind, option(command, "--quiet").description) == (FLAG, "say less")
    assert command.arguments == ("bash", "zsh")
    assert command.runs_command


def test_the_real_commands_values(found):
    named = by_name(found)
    for name in ("", "login", "env", "exec", "serve", "rotate"):
        assert option(named[name], "--profile").kind == PROFILE, name
        assert option(named[name], "--prompt").values == PROMPTS, name
        assert option(named[name], "--duration").kind == TEXT, name
    assert option(named["exec"], "--role-profile").kind == option(named["serve"], "--role-profile").kind == PROFILE
    assert option(named["env"], "--shell").values == option(named["serve"], "--shell").values == ENV_SHELLS
    assert named["completion"].arguments == SHELLS
    assert named[HELP_COMMAND].arguments == COMMANDS
    assert [command.name for command in found if command.runs_command] == ["exec"]
    assert "--profiles" not in [flag for opt in named["completion"].options for flag in opt.flags]  # hidden


@pytest.mark.parametrize(
    "text, expected",
    [
        ("base profile with long-term keys and mfa_serial", "base profile with long-term keys and mfa_serial"),
        ("session length, 901..129600 (default: $MFA_PROCESS_DURATION, 43200)", "session length, 901..129600"),
        ("where the code comes from: auto, terminal", "where the code comes from"),
        ("Remove cached MFA sessions.", "Remove cached MFA sessions"),
        ("Run it; with --server, more.", "Run it"),
        ("Start an MFA session now, so that every process is served from the cache.", "Start an MFA session now"),
        ('a `$(rm -rf ~)` [bracket] "quoted" \\ back\nslash', "a rm -rf ~ bracket quoted back slash"),
    ],
)
def test_a_description_is_the_first_clause_in_characters_no_shell_quoting_changes(text, expected):
    assert summary(text) == expected


# --- the scripts --------------------------------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
def test_a_word_a_shell_could_expand_is_refused_not_embedded(shell):
    for bad in ("$(touch x)", "a b", "`x`", "x;y", "*"):
        command = Command("demo", "", (Option(("--color",), "", CHOICE, (bad,), "C"),))
        with pytest.raises(ValueError, match="not a plain word"):
            script(shell, [command])


def test_bash_completes_every_command_its_options_and_values(found):
    text = script("bash", found)
    assert text.rstrip().endswith("complete -F _mfa_process mfa-process")
    assert f'_mfa_process_words "$cur" "" {" ".join(COMMANDS)}' in text  # the first word
    for command in found:
        words = " ".join(['"$cur"', '""', *(flag for opt in command.options for flag in opt.flags)])
        assert f'"{command.name}") _mfa_process_words {words} ;;' in text
    cases = dict(re.findall(r"^        (\S+)\)\n            (.+)$", text, re.M))
    profiles = next(patterns for patterns, action in cases.items() if action.startswith("_mfa_process_profiles"))
    assert set(profiles.split("|")) == {
        f"{command.name}:{flag}"
        for command in found
        for opt in command.options
        if opt.kind == PROFILE
        for flag in opt.flags
    }
    assert f'_mfa_process_words "$cur" "$prefix" {" ".join(ENV_SHELLS)}' in cases["env:--shell|serve:--shell"]
    assert '"$3" completion --profiles 2>/dev/null' in text
    assert not re.search(r"^[^#]*compgen -W", text, re.M)  # it expands the candidates: profile names are the files'


def test_zsh_completes_every_command_its_options_and_values(found):
    text = script("zsh", found)
    assert text.startswith("#compdef mfa-process\n")
    assert "compdef _mfa_process mfa-process" in text
    for command in found:
        function = f"_mfa_process_command_{command.name}" if command.name else "_mfa_process_plugin"
        body = text[text.index(f"\n{function}() {{\n") :]
        body = body[: body.index("\n}\n")]
        for opt in command.options:
            for flag in opt.flags:
                assert re.search(rf"^        '(\([^)]*\))?{re.escape(flag)}[=+\[']", body, re.M), (command.name, flag)
        if command.name:
            assert f"        '{command.name}:" in text
    login = text[text.index("\n_mfa_process_command_login() {") :]
    assert "'--profile=[base profile with long-term keys and mfa_serial]:NAME:_mfa_process_profiles'" in login
    assert f"'--prompt=[where the code comes from]:SOURCE:{{_values -s , SOURCE {' '.join(PROMPTS)}}}'" in login
    assert "'*::command:_normal'" in text[text.index("\n_mfa_process_command_exec() {") :]
    assert "_call_program profiles ${(q)program} completion --profiles 2>/dev/null" in text  # never evaluated


def test_fish_completes_every_command_its_options_and_values(found):
    text = script("fish", found)
    assert "complete -c mfa-process -f\n" in text
    for command in found:
        condition = f"-n '__mfa_process_using \\'{command.name}\\''"
        if command.name:
            assert f"complete -c mfa-process -n __mfa_process_first -a {command.name} -d " in text
        for opt in command.options:
            names = " ".join(f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}" for flag in opt.flags)
            assert f"complete -c mfa-process {condition} {names}" in text, (command.name, opt.flags)
    assert (
        "complete -c mfa-process -n '__mfa_process_using \\'login\\'' -l profile -x -a '(__mfa_process_profiles)'"
        in text
    )
    assert "command $program completion --profiles 2>/dev/null" in text
    assert f"-l shell -x -a '{' '.join(ENV_SHELLS)}'" in text


# --- mfa-process completion ---------------------------------------------------------------------


@pytest.fixture
def aws_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An AWS config and credentials file under tmp_path, named by the environment main() reads."""
    config = tmp_path / ".aws" / "config"
    config.parent.mkdir()
    config.write_text("[default]\nregion = us-east-1\n[profile base]\nmfa_serial = x\n[profile admin]\nrole_arn = y\n")
    credentials = tmp_path / ".aws" / "credentials"
    credentials.write_text("[base]\nregion = eu-west-1\n[ci bot]\nregion = x\n[odd\x1bname]\nregion = x\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    return tmp_path


def test_profiles_lists_both_files_sorted_once_each_without_control_characters(aws_files, capsys):
    assert main(["completion", "--profiles"]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == ("admin\nbase\nci bot\ndefault\n", "")


def test_profiles_of_no_files_is_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none either"))
    assert main(["completion", "--profiles"]) == 0
    assert capsys.readouterr() == ("", "")


def test_profiles_of_a_broken_file_is_one_line_on_stderr_and_nothing_on_stdout(aws_files, capsys):
    (aws_files / ".aws" / "config").write_text("[profile base]\nno equals sign here\n")
    assert main(["completion", "--profiles"]) != 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "cannot parse" in err and "line 2" in err


@pytest.mark.parametrize("shell", SHELLS)
def test_completion_prints_the_script_of_the_shell_named(shell, capsys):
    assert main(["completion", shell]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == (script(shell, commands()), "")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["completion"], "the following arguments are required: shell"),
        (["completion", "tcsh"], "invalid choice: 'tcsh'"),
        (["completion", "bash", "zsh"], "unrecognized arguments: 1 word (not shown)"),
    ],
)
def test_a_missing_or_unknown_shell_is_named_in_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    out, err = capsys.readouterr()
    assert stop.value.code == 2 and out == ""
    assert err.count("\n") == 1 and message in err


def test_the_help_shows_how_to_install_each_script(capsys):
    with pytest.raises(SystemExit):
        main(["completion", "--help"])
    out = capsys.readouterr().out
    assert 'eval "$(mfa-process completion bash)"' in out
    assert 'eval "$(mfa-process completion zsh)"' in out
    assert "mfa-process completion fish > ~/.config/fish/completions/mfa-process.fish" in out
    assert "--profiles" not in out
