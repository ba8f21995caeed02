"""A chain of code sources (prompt/source_chain.py, choose.code_source): the order, what passes to
the next source and what stops the chain, the same source asked again after a rejected code, the
final message, `auto` as a chain; and what the helpers say that makes a source unavailable."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import pytest
from fakes import FakeBin

from mfa_process.errors import (
    EXIT_FAILURE,
    CallerGoneError,
    CodeCommandError,
    CodeSourceUnavailableError,
    ConfigError,
    MfaProcessError,
    NoCodeSourceError,
    NoPromptError,
    NoTerminalError,
    PromptAbortedError,
    PromptTimeoutError,
    PromptUnavailableError,
)
from mfa_process.prompt.choose import auto_sources, code_source, source_names
from mfa_process.prompt.registry import SOURCES, SourceRequest
from mfa_process.prompt.source_chain import SourceChain, unavailable, what_it_said
from mfa_process.prompt.ykman import ykman_source
from mfa_process.prompt.zenity import zenity_source
from mfa_process.session.session_token import REJECTED_NOTICE
from mfa_process.watchdog import Watchdog, no_watchdog

SERIAL = "arn:aws:iam::123456789012:mfa/alice"
DISPLAY = {"DISPLAY": ":0"}
LOGIN = "run `mfa-process login --profile base` in a terminal first"
SET_COMMAND = "set `mfa_process = <command that prints a code>` in profile 'base'"

Asked = List[Tuple[str, str, Optional[str]]]


class Stub:
    """A code source that answers with ``answers`` in turn (a code, or an error to raise) and
    records every question in the shared ``asked`` list."""

    def __init__(self, name: str, asked: Asked, *answers: object) -> None:
        self.name = name
        self.asked = asked
        self.answers = list(answers)

    def __call__(self, mfa_serial: str, notice: Optional[str]) -> str:
        self.asked.append((self.name, mfa_serial, notice))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, BaseException):
            raise answer
        return str(answer)


def chain(asked: Asked, fix: str = "pass --token-code", **answers: object) -> SourceChain:
    """A chain of stubs named by the keywords, in their order; a tuple is several answers."""
    sources = []
    for name, answer in answers.items():
        given = answer if isinstance(answer, tuple) else (answer,)
        sources.append((name, Stub(name, asked, *given)))
    return SourceChain(sources, fix)


def asked_names(asked: Asked) -> List[str]:
    return [name for name, _, _ in asked]


# What each kind of unavailable source raises (the real messages, from the sources and the watchdog);
# each a factory, so that every test raises errors of its own.
UNAVAILABLE_KINDS: Dict[str, Callable[[], MfaProcessError]] = {
    "no-terminal": lambda: NoTerminalError(f"no terminal to ask for the MFA code (No such device or address); {LOGIN}"),
    "not-installed": lambda: PromptUnavailableError(
        "ykman is not installed (pip install yubikey-manager), or not on PATH; or choose another mfa_prompt"
    ),
    "dialog-timed-out": lambda: PromptTimeoutError("the zenity dialog got no answer within 60 s"),
    "terminal-timed-out": lambda: PromptTimeoutError(f"no answer within 60 s while waiting for the MFA code; {LOGIN}"),
    "no-yubikey": lambda: CodeSourceUnavailableError(
        f"no YubiKey found (ERROR: No YubiKey detected!); plug in the YubiKey that holds OATH account '{SERIAL}'"
    ),
    "no-display": lambda: CodeSourceUnavailableError(
        "no display for the zenity dialog (cannot open display: :9); check DISPLAY or WAYLAND_DISPLAY"
    ),
}

# What ends the chain: the person's answer, a caller that is gone, a configured command that fails.
STOPPING_KINDS: Dict[str, Callable[[], MfaProcessError]] = {
    "cancelled": lambda: PromptAbortedError("the MFA code dialog was cancelled; run the command again to retry"),
    "input-closed": lambda: PromptAbortedError("no MFA code entered (input closed); run the command again to retry"),
    "malformed": lambda: PromptAbortedError("no 6-digit MFA code after 3 answers; run the command again"),
    "caller-gone": lambda: CallerGoneError(
        "the program that started mfa-process is gone; stopped waiting for the MFA code"
    ),
    "command-failed": lambda: CodeCommandError("the mfa_process command failed with exit status 1 (op: not signed in)"),
    "config": lambda: ConfigError("mfa_prompt = command needs `mfa_process = <command that prints a code>`"),
}


# --- order ---------------------------------------------------------------------------------------


def test_the_first_source_that_gives_a_code_answers_and_the_rest_are_not_asked() -> None:
    asked: Asked = []
    sources = chain(asked, ykman="111111", zenity="222222", terminal="333333")

    assert sources(SERIAL, None) == "111111"
    assert asked == [("ykman", SERIAL, None)]
    assert sources.answered_by == "ykman"


def test_sources_are_tried_in_the_order_written() -> None:
    asked: Asked = []
    gone = UNAVAILABLE_KINDS["not-installed"]
    sources = chain(asked, terminal=gone(), zenity=gone(), ykman="123456")

    assert sources(SERIAL, None) == "123456"
    assert asked_names(asked) == ["terminal", "zenity", "ykman"]
    assert sources.names == ["terminal", "zenity", "ykman"]


# --- what passes to the next source --------------------------------------------------------------


@pytest.mark.parametrize("kind", UNAVAILABLE_KINDS)
def test_an_unavailable_source_passes_to_the_next(kind: str) -> None:
    asked: Asked = []
    error = UNAVAILABLE_KINDS[kind]()
    sources = chain(asked, ykman=error, zenity="654321")

    assert unavailable(error)
    assert sources(SERIAL, None) == "654321"
    assert asked == [("ykman", SERIAL, None), ("zenity", SERIAL, None)]
    assert sources.answered_by == "zenity"


def test_no_prompt_error_is_unavailable_too() -> None:
    """A source that finds no way to ask at all (NoPromptError is a NoTerminalError)."""
    assert unavailable(NoPromptError("no terminal and no dialog to ask for the MFA code"))


# --- what stops the chain ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", STOPPING_KINDS)
def test_an_answer_or_a_failure_stops_the_chain_with_its_own_error(kind: str) -> None:
    asked: Asked = []
    error = STOPPING_KINDS[kind]()
    sources = chain(asked, zenity=error, terminal="123456")

    assert not unavailable(error)
    with pytest.raises(MfaProcessError) as raised:
        sources(SERIAL, None)

    assert raised.value is error  # as the source said it, not wrapped in a list of sources
    assert asked_names(asked) == ["zenity"]  # the terminal is never asked
    assert sources.answered_by is None


def test_caller_gone_stops_the_chain_though_it_is_a_kind_of_aborted_prompt() -> None:
    asked: Asked = []
    sources = chain(
        asked, ykman=UNAVAILABLE_KINDS["no-yubikey"](), zenity=STOPPING_KINDS["caller-gone"](), terminal="1"
    )

    with pytest.raises(CallerGoneError):
        sources(SERIAL, None)
    assert asked_names(asked) == ["ykman", "zenity"]


def test_an_error_that_is_no_mfa_process_error_goes_straight_through() -> None:
    asked: Asked = []
    sources = chain(asked, ykman=KeyboardInterrupt(), terminal="123456")

    with pytest.raises(KeyboardInterrupt):
        sources(SERIAL, None)
    assert asked_names(asked) == ["ykman"]


# --- a rejected code -----------------------------------------------------------------------------


def test_after_a_rejected_code_the_same_source_is_asked_again() -> None:
    asked: Asked = []
    sources = chain(
        asked, ykman=UNAVAILABLE_KINDS["no-yubikey"](), zenity=("111111", "222222", "333333"), terminal="999999"
    )

    assert sources(SERIAL, None) == "111111"
    assert sources(SERIAL, REJECTED_NOTICE) == "222222"
    assert sources(SERIAL, REJECTED_NOTICE) == "333333"

    assert asked == [
        ("ykman", SERIAL, None),
        ("zenity", SERIAL, None),
        ("zenity", SERIAL, REJECTED_NOTICE),  # the notice reaches it: it says why it asks again
        ("zenity", SERIAL, REJECTED_NOTICE),
    ]


def test_the_source_asked_again_that_is_now_unavailable_ends_the_run_without_another_source() -> None:
    """A rejected code is no reason to change source: not even when its source then times out."""
    asked: Asked = []
    timed_out = UNAVAILABLE_KINDS["dialog-timed-out"]()
    sources = chain(asked, zenity=("111111", timed_out), terminal="999999")

    assert sources(SERIAL, None) == "111111"
    with pytest.raises(PromptTimeoutError) as raised:
        sources(SERIAL, REJECTED_NOTICE)

    assert raised.value is timed_out
    assert asked_names(asked) == ["zenity", "zenity"]


# --- the final message ---------------------------------------------------------------------------


def test_when_no_source_can_ask_the_error_lists_what_each_said_on_one_line() -> None:
    asked: Asked = []
    kinds = {kind: make() for kind, make in UNAVAILABLE_KINDS.items()}
    sources = chain(
        asked,
        fix=f"{LOGIN}, or pass --token-code",
        ykman=kinds["no-yubikey"],
        zenity=kinds["no-display"],
        kdialog=kinds["dialog-timed-out"],
        terminal=kinds["no-terminal"],
    )

    with pytest.raises(NoCodeSourceError) as raised:
        sources(SERIAL, None)

    assert str(raised.value) == (
        "no code source worked: "
        "ykman: no YubiKey found (ERROR: No YubiKey detected!); "
        "zenity: no display for the zenity dialog (cannot open display: :9); "
        "kdialog: the zenity dialog got no answer within 60 s; "
        "terminal: no terminal to ask for the MFA code (No such device or address); "
        f"fix: {LOGIN}, or pass --token-code"
    )
    assert raised.value.__cause__ is kinds["no-terminal"]
    assert isinstance(raised.value, NoTerminalError)  # the exit status of "no terminal", as before chains
    assert raised.value.exit_code == EXIT_FAILURE
    assert asked_names(asked) == ["ykman", "zenity", "kdialog", "terminal"]


@pytest.mark.parametrize(
    "message, clause",
    [
        ("zenity is not installed or not on PATH; choose another mfa_prompt", "zenity is not installed or not on PATH"),
        ("the zenity dialog got no answer within 60 s", "the zenity dialog got no answer within 60 s"),
        ("no YubiKey found (ykman: a; b); plug it in; or not", "no YubiKey found (ykman: a; b)"),
        ("no display (GTK said:\n  cannot open display); set DISPLAY", "no display (GTK said: cannot open display)"),
        ("unbalanced ) paren; fix", "unbalanced ) paren"),
    ],
    ids=["fix-dropped", "no-fix", "semicolon-in-parentheses", "one-line", "stray-paren"],
)
def test_what_a_source_said_is_its_message_up_to_the_fix(message: str, clause: str) -> None:
    assert what_it_said(PromptUnavailableError(message)) == clause


def test_a_chain_needs_a_source() -> None:
    with pytest.raises(ValueError):
        SourceChain([], "pass --token-code")


# --- choose.code_source: from mfa_prompt to a chain ------------------------------------------------


class Factories:
    """Stub factories for every registry name: each builds a Stub that answers ``answers[name]``
    (unavailable when not given), and records the requests it got."""

    def __init__(self, **answers: object) -> None:
        self.asked: Asked = []
        self.answers = answers
        self.built: List[str] = []
        self.requests: List[SourceRequest] = []

    def factory(self, name: str) -> Callable[[SourceRequest], Stub]:
        def build(request: SourceRequest) -> Stub:
            self.built.append(name)
            self.requests.append(request)
            return Stub(name, self.asked, self.answers.get(name, PromptUnavailableError(f"{name} is not here")))

        return build

    def mapping(self) -> Dict[str, Callable[[SourceRequest], Stub]]:
        return {name: self.factory(name) for name in SOURCES}


def build(
    prompt: str,
    factories: Factories,
    command: Optional[str] = None,
    environ: Optional[Dict[str, str]] = None,
    programs: Tuple[str, ...] = (),
    platform_dialog: Optional[str] = None,
    new_watchdog: Callable[[], Watchdog] = no_watchdog,
):
    return code_source(
        prompt,
        "base",
        command,
        "AWS:alice",
        new_watchdog,
        environ or {},
        which=lambda program: f"/usr/bin/{program}" if program in programs else None,
        platform_dialog=lambda which: platform_dialog,
        sources=factories.mapping(),
    )


def test_one_name_is_that_source_itself_with_its_own_errors() -> None:
    factories = Factories(ykman=PromptUnavailableError("ykman is not installed; or choose another mfa_prompt"))

    source = build("ykman", factories)

    assert isinstance(source, Stub) and source.name == "ykman"
    assert factories.built == ["ykman"]
    with pytest.raises(PromptUnavailableError):  # not a list of one source: the message as it was
        source(SERIAL, None)


def test_several_names_are_a_chain_in_the_order_written() -> None:
    factories = Factories(terminal="123456")

    source = build("ykman,zenity,terminal", factories)

    assert isinstance(source, SourceChain)
    assert source.names == ["ykman", "zenity", "terminal"]
    assert source(SERIAL, None) == "123456"
    assert asked_names(factories.asked) == ["ykman", "zenity", "terminal"]


def test_every_source_of_a_chain_gets_the_profiles_settings() -> None:
    factories = Factories(terminal="123456")
    environ = {"DISPLAY": ":1"}

    build("ykman,terminal", factories, command="op item get aws --otp", environ=environ)

    assert [(r.profile, r.mfa_process_command, r.oath_account) for r in factories.requests] == [
        ("base", "op item get aws --otp", "AWS:alice")
    ] * 2
    assert all(request.environ is environ for request in factories.requests)


def test_every_source_is_built_before_any_is_asked_so_a_misconfigured_one_is_never_skipped() -> None:
    with pytest.raises(ConfigError) as raised:
        code_source("terminal,command", "base", None, None, no_watchdog, {})

    assert "mfa_process" in str(raised.value) and "profile 'base'" in str(raised.value)


def test_a_name_written_twice_is_asked_once() -> None:
    assert source_names("terminal,zenity,terminal", None, {}) == ["terminal", "zenity"]


def test_each_source_of_a_chain_gets_its_own_watchdog_with_the_whole_prompt_timeout() -> None:
    """ykman waits out its timeout; zenity then gets the whole timeout again, from a watchdog of its own."""
    clock = {"now": 0.0}  # moves only when the test moves it
    watchdogs: List[Watchdog] = []

    def new_watchdog() -> Watchdog:
        watchdogs.append(Watchdog(60.0, lambda: True, clock=lambda: clock["now"]))
        return watchdogs[-1]

    def ykman(request: SourceRequest):
        def ask(mfa_serial: str, notice: Optional[str]) -> str:
            watchdog = request.new_watchdog()
            clock["now"] += 60.0  # nobody touched the key
            watchdog.check("the YubiKey")
            raise AssertionError("the watchdog should have fired")

        return ask

    def zenity(request: SourceRequest):
        def ask(mfa_serial: str, notice: Optional[str]) -> str:
            return f"{request.new_watchdog().remaining():.0f}"

        return ask

    source = code_source(
        "ykman,zenity", "base", None, None, new_watchdog, {}, sources={"ykman": ykman, "zenity": zenity}
    )

    assert source(SERIAL, None) == "60"  # zenity's watchdog had all 60 s left
    assert len(watchdogs) == 2 and watchdogs[0] is not watchdogs[1]


# --- auto is a chain ------------------------------------------------------------------------------


def test_auto_is_the_command_the_terminal_the_desktop_dialogs_then_the_platforms() -> None:
    names = list(auto_sources("op item get aws --otp", DISPLAY, lambda p: f"/usr/bin/{p}", lambda which: "osascript"))

    assert names == ["command", "terminal", "zenity", "kdialog", "osascript"]


def test_auto_without_a_command_or_display_is_the_terminal_then_the_platforms_dialog() -> None:
    looked_up: List[str] = []

    def which(program: str) -> Optional[str]:
        looked_up.append(program)
        return f"/usr/bin/{program}"

    assert list(auto_sources(None, {}, which, lambda which: "windows-dialog")) == ["terminal", "windows-dialog"]
    assert looked_up == []  # no display: zenity and kdialog are not even looked for


def test_auto_leaves_out_dialogs_that_are_not_installed() -> None:
    assert list(
        auto_sources(None, DISPLAY, lambda p: "/usr/bin/kdialog" if p == "kdialog" else None, lambda w: None)
    ) == [
        "terminal",
        "kdialog",
    ]


def test_auto_with_a_terminal_that_fails_to_open_falls_through_to_a_dialog() -> None:
    factories = Factories(terminal=UNAVAILABLE_KINDS["no-terminal"](), zenity="123456")

    source = build("auto", factories, environ=DISPLAY, programs=("zenity",))

    assert isinstance(source, SourceChain) and source.names == ["terminal", "zenity"]
    assert source(SERIAL, None) == "123456"
    assert asked_names(factories.asked) == ["terminal", "zenity"]


def test_auto_takes_the_command_first_and_the_terminal_only_after_it() -> None:
    factories = Factories(command="123456", terminal="999999")

    source = build("auto", factories, command="op item get aws --otp")

    assert source(SERIAL, None) == "123456"
    assert asked_names(factories.asked) == ["command"]


def test_a_failing_command_in_auto_stops_it_with_its_own_message() -> None:
    failed = STOPPING_KINDS["command-failed"]()
    factories = Factories(command=failed, terminal="999999")

    with pytest.raises(CodeCommandError) as raised:
        build("auto", factories, command="op item get aws --otp")(SERIAL, None)

    assert raised.value is failed
    assert asked_names(factories.asked) == ["command"]


def test_auto_with_nothing_to_ask_on_says_what_each_said_and_how_to_get_a_code() -> None:
    factories = Factories(terminal=UNAVAILABLE_KINDS["no-terminal"]())

    source = build("auto", factories)  # no command, no display, no platform dialog: the terminal alone
    with pytest.raises(NoCodeSourceError) as raised:
        source(SERIAL, None)

    assert str(raised.value) == (
        "no code source worked: terminal: no terminal to ask for the MFA code (No such device or address); "
        f"fix: {LOGIN}, {SET_COMMAND}, or pass --token-code"
    )
    assert isinstance(raised.value, NoPromptError)


def test_a_chain_written_out_does_not_suggest_a_command_auto_would_have_used() -> None:
    source = build("ykman,terminal", Factories())

    with pytest.raises(NoCodeSourceError) as raised:
        source(SERIAL, None)

    assert str(raised.value).endswith(f"; fix: {LOGIN}, or pass --token-code")
    assert "mfa_process =" not in str(raised.value)


def test_auto_in_a_chain_is_spelled_out_where_it_is_written() -> None:
    names = source_names(
        "ykman,auto,osascript", "op", DISPLAY, lambda p: f"/usr/bin/{p}", platform_dialog=lambda which: "osascript"
    )

    assert names == ["ykman", "command", "terminal", "zenity", "kdialog", "osascript"]


# --- what the helpers say: real programs (fakes on PATH) -----------------------------------------------


@pytest.fixture
def fake_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeBin:
    fakes = FakeBin(tmp_path)
    monkeypatch.setenv("PATH", fakes.isolated_path())
    return fakes


@pytest.mark.parametrize(
    "stderr",
    ["ERROR: No YubiKey detected!\n", "Error: No YubiKey detected!\n", "Error: No YubiKey found on external reader.\n"],
    ids=["ykman-5", "ykman-4", "reader"],
)
def test_ykman_without_a_yubikey_is_unavailable(fake_bin: FakeBin, stderr: str) -> None:
    fake_bin.add("ykman", status=1, stderr=stderr)

    with pytest.raises(CodeSourceUnavailableError) as raised:
        ykman_source(None, lambda: no_watchdog(10), lambda text: None)(SERIAL, None)

    assert unavailable(raised.value)
    assert what_it_said(raised.value) == f"no YubiKey found ({stderr.strip()})"
    assert f"OATH account '{SERIAL}'" in str(raised.value)


def test_ykman_with_a_wrong_account_is_a_failure_that_stops_the_chain(fake_bin: FakeBin) -> None:
    fake_bin.add("ykman", status=1, stderr="Error: No matching account found.\n")

    with pytest.raises(CodeCommandError) as raised:
        ykman_source("AWS:bob", lambda: no_watchdog(10), lambda text: None)(SERIAL, None)

    assert not unavailable(raised.value)
    assert "mfa_oath_account" in str(raised.value)


@pytest.mark.parametrize(
    "status, stderr",
    [
        (1, "(zenity:4242): Gtk-WARNING **: 10:00:00.000: cannot open display: :9\n"),
        (134, "qt.qpa.xcb: could not connect to display \nAborted\n"),  # Qt aborts (SIGABRT)
    ],
    ids=["gtk", "qt"],
)
def test_a_dialog_without_a_display_is_unavailable(fake_bin: FakeBin, status: int, stderr: str) -> None:
    fake_bin.add("zenity", status=status, stderr=stderr)

    with pytest.raises(CodeSourceUnavailableError) as raised:
        zenity_source(lambda: no_watchdog(10))(SERIAL, None)

    assert unavailable(raised.value)
    assert what_it_said(raised.value).startswith("no display for the zenity dialog (")


def test_a_cancelled_dialog_is_the_persons_answer(fake_bin: FakeBin) -> None:
    fake_bin.add("zenity", status=1)

    with pytest.raises(PromptAbortedError) as raised:
        zenity_source(lambda: no_watchdog(10))(SERIAL, None)

    assert not unavailable(raised.value)
    assert "cancelled" in str(raised.value)


def test_a_dialog_that_fails_otherwise_stops_the_chain(fake_bin: FakeBin) -> None:
    fake_bin.add("zenity", status=5, stderr="zenity: unknown option --hide-text\n")

    with pytest.raises(CodeCommandError) as raised:
        zenity_source(lambda: no_watchdog(10))(SERIAL, None)

    assert not unavailable(raised.value)


def test_a_helper_that_is_not_installed_is_unavailable(fake_bin: FakeBin) -> None:
    for source in (zenity_source(lambda: no_watchdog(10)), ykman_source(None, no_watchdog, lambda text: None)):
        with pytest.raises(PromptUnavailableError) as raised:
            source(SERIAL, None)
        assert unavailable(raised.value)
