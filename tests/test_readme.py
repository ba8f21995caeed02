"""README.md stays true: its links land, its quotes of mfa-process are what mfa-process says,
its test command is the one CI runs, and a new user meets its sections in the order they need them.

What counts as a message the README quotes (``quoted_messages``):

1. in a fenced block, every line that starts with ``mfa-process: `` (the program's stderr): the
   text after that prefix;
2. every inline code span outside fenced blocks (line breaks inside it read as spaces; a leading
   ``mfa-process: `` is dropped) that reads as prose: it holds a space, and it is neither a command
   line (its first word starts with ``$``, ``|``, ``(``, ``[`` or ``<``, or is a program or
   mfa-process command the README runs: ``COMMAND_WORDS``, or it is a flag and at most two more
   words) nor a setting (``key = value``).
   Spans of that shape that quote someone else (ykman, zenity, an IAM policy, an SDK) are listed
   in ``NOT_OURS`` with whose words they are.

In a quote, ``...`` and a ``<placeholder>`` stand for any text. A quote is produced by the code
when it fits inside one message template of mfa_process/: a string literal or an f-string that is
not a docstring, its holes (``{value}``, ``%s``) standing for any text, except that a hole naming
a local or module constant, or calling a one-line function of the package that returns a
template, is filled with that text first. Holes may not carry most of a quote: at least half as
many characters must match the template's own text as the quote has outside its values (words
with a digit: ARNs, times, ports). A message composed of several (a chain's one clause per code
source) fits no single template: those lines are produced by running mfa-process against the
STS double and compared in full (``RUN_CHECKED``), as are the login lines.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
PACKAGE = REPO / "mfa_process"

PREFIX = "mfa-process: "

# First words of code spans that are command lines, not messages: programs the README runs, and
# mfa-process's own commands written without the program name (`exec --server`, `logout --all`).
COMMAND_WORDS = frozenset(
    """
    mfa-process aws aws-vault granted pip pipx python python3 tox pytest eval export set unset command
    chmod rm sh ykman gnome-keyring-daemon timedatectl apt-get apt sudo brew npm git source ln op pass
    docker terraform Remove-Item Invoke-Expression dbus-run-session ls cat mkdir complete compinit
    login status logout env exec serve configure add remove rotate doctor completion help
    """.split()
)

# Prose-shaped code spans that quote another program or a document, not mfa-process.
NOT_OURS = {
    "BoolIfExists ... false": "the IAM policy's condition",
    "No YubiKey detected": "ykman's own message",
    "cannot open display": "zenity's own message",
    "display dialog ... with hidden answer": "the AppleScript mfa-process hands osascript",
    "Could not load credentials from any providers": "the JavaScript SDK's message",
}

WILDCARD = re.compile(r"\.\.\.|<[A-Za-z_][\w -]*>")


# --- the README ---------------------------------------------------------------------------------


def readme_text() -> str:
    return README.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Fence:
    info: str  # the info string after ```: console, sh, ini, ...
    lines: Tuple[str, ...]
    start: int  # line number of the opening fence (1-based)


def split_fences(text: str) -> Tuple[List[Fence], str]:
    """The fenced blocks, and the prose with each block replaced by as many empty lines (line
    numbers and paragraph breaks stay where they were)."""
    fences: List[Fence] = []
    prose: List[str] = []
    current: Optional[List[str]] = None
    info, start = "", 0
    indent = 0  # a block inside a list item is indented with it: its lines are read without that
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            if current is None:
                current, info, start = [], line.strip()[3:].strip(), number
                indent = len(line) - len(line.lstrip())
            else:
                fences.append(Fence(info, tuple(current), start))
                current = None
            prose.append("")
            continue
        if current is not None:
            current.append(line[indent:] if line[:indent].isspace() else line)
            prose.append("")
        else:
            prose.append(line)
    assert current is None, f"README.md: the fence opened at line {start} is never closed"
    return fences, "\n".join(prose)


def code_spans(prose: str) -> List[Tuple[int, str]]:
    """(line number, text) of every inline code span; a span may run over line breaks within its
    paragraph, which read as spaces (CommonMark)."""
    spans = []
    for paragraph in re.finditer(r"(?:[^\n]+\n?)+", prose):  # a stray backtick stays in its paragraph
        first_line = prose.count("\n", 0, paragraph.start()) + 1
        for match in re.finditer(r"(?<!`)`([^`]+?)`(?!`)", paragraph.group()):
            number = first_line + paragraph.group().count("\n", 0, match.start())
            spans.append((number, " ".join(match.group(1).split())))
    return spans


def is_command_or_setting(span: str) -> bool:
    """A command line (a prompt, a pipe, a program or command first, or a flag and at most two
    more words: `--bind ::1`; longer, it is a message about the flag) or a setting (`key = value`)."""
    words = span.split()
    if words[0].startswith("-"):
        return len(words) <= 3
    return words[0][0] in "$|([<" or words[0] in COMMAND_WORDS or re.match(r"[\w.-]+ = ", span) is not None


def quoted_messages(text: str) -> List[Tuple[int, str]]:
    """(line number, message) of every message README.md quotes as mfa-process's (module docstring)."""
    fences, prose = split_fences(text)
    found = []
    for fence in fences:
        for offset, line in enumerate(fence.lines, 1):
            if line.startswith(PREFIX):
                found.append((fence.start + offset, line[len(PREFIX) :].strip()))
    for number, span in code_spans(prose):
        if " " in span and not is_command_or_setting(span) and span not in NOT_OURS:
            found.append((number, span[len(PREFIX) :] if span.startswith(PREFIX) else span))
    return found


# --- the code's message templates ----------------------------------------------------------------

HOLE = None  # a template item that stands for any text
Template = Tuple[Union[str, None], ...]  # one character, or HOLE, per item
FORMAT_HOLE = re.compile(r"%(?:\([a-z_]+\))?[sdr]|\{[a-z_]*\}")


def _plain(text: str) -> List[Union[str, None]]:
    """A string literal's items: %s and {name} (%-formatting, str.format) are holes."""
    items: List[Union[str, None]] = []
    last = 0
    for match in FORMAT_HOLE.finditer(text):
        items.extend(text[last : match.start()])
        items.append(HOLE)
        last = match.end()
    items.extend(text[last:])
    return items


@dataclass
class Module:
    """One module of the package, as far as its message templates need it."""

    name: str  # dotted: mfa_process.session.lock
    tree: ast.Module
    constants: Dict[str, ast.expr]  # module-level names bound once to a string or an f-string
    functions: Dict[str, ast.FunctionDef]  # module-level functions that return one template
    imports: Dict[str, Tuple[str, str]]  # local name -> (module, name), from `from X import name`


class Package:
    """Every module of mfa_process/, and the message templates they hold (module docstring)."""

    def __init__(self, root: Path) -> None:
        self.modules: Dict[str, Module] = {}
        for path in sorted(root.rglob("*.py")):
            parts = list(path.relative_to(root.parent).with_suffix("").parts)
            package = parts[:-1]  # what relative imports start from, for a package's __init__ too
            if parts[-1] == "__init__":
                parts = parts[:-1]
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            self.modules[".".join(parts)] = Module(
                ".".join(parts), tree, _constants(tree.body), _template_functions(tree), _imports(tree, package)
            )

    def templates(self) -> Iterator[List[Union[str, None]]]:
        for module in self.modules.values():
            docstrings = {id(_docstring(node)) for node in ast.walk(module.tree)}
            yield from self._walk(module, module.tree, [module.constants], docstrings)

    def _walk(
        self, module: Module, node: ast.AST, scopes: List[Dict[str, ast.expr]], docstrings: set
    ) -> Iterator[List[Union[str, None]]]:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            scopes = scopes + [_constants(list(ast.walk(node)))]
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield _plain(node.value)
        elif isinstance(node, ast.JoinedStr) or (isinstance(node, ast.BinOp) and _stringish(node)):
            yield self.items(node, module, scopes, 0)
        for child in ast.iter_child_nodes(node):
            if isinstance(node, ast.JoinedStr) and isinstance(child, ast.Constant):
                continue  # the f-string's own text, already part of its template
            yield from self._walk(module, child, scopes, docstrings)

    def items(
        self, node: ast.expr, module: Module, scopes: List[Dict[str, ast.expr]], depth: int
    ) -> List[Union[str, None]]:
        """The template ``node`` stands for, holes filled where the text is known."""
        if depth > 5:
            return [HOLE]
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return _plain(node.value)
        if isinstance(node, ast.JoinedStr):
            items: List[Union[str, None]] = []
            for value in node.values:
                if isinstance(value, ast.FormattedValue):
                    filled = value.format_spec is None and value.conversion == -1
                    items.extend(self.items(value.value, module, scopes, depth + 1) if filled else [HOLE])
                else:
                    items.extend(self.items(value, module, scopes, depth + 1))
            return items
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self.items(node.left, module, scopes, depth + 1)
            return left + self.items(node.right, module, scopes, depth + 1)
        if isinstance(node, ast.Name):
            for scope in reversed(scopes):
                if node.id in scope:
                    return self.items(scope[node.id], module, scopes, depth + 1)
            found = self._imported(module, node.id, "constants")
            if found is not None:
                owner, expr = found
                return self.items(expr, owner, [owner.constants], depth + 1)  # type: ignore[arg-type]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            own = module.functions.get(node.func.id)
            found = (module, own) if own is not None else self._imported(module, node.func.id, "functions")
            if found is not None:
                owner, function = found
                body = function.body[-1]  # type: ignore[union-attr]
                scope = _constants(list(ast.walk(function)))  # type: ignore[arg-type]
                return self.items(body.value, owner, [owner.constants, scope], depth + 1)  # type: ignore[union-attr]
        return [HOLE]

    def _imported(self, module: Module, name: str, kind: str) -> Optional[Tuple[Module, object]]:
        if name not in module.imports:
            return None
        source, original = module.imports[name]
        owner = self.modules.get(source)
        if owner is None or original not in getattr(owner, kind):
            return None
        return owner, getattr(owner, kind)[original]


def _imports(tree: ast.Module, package: List[str]) -> Dict[str, Tuple[str, str]]:
    """Local name -> (absolute module, name) for every `from X import name` in ``tree``."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            source = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                found[alias.asname or alias.name] = (source, alias.name)
    return found


def _docstring(node: ast.AST) -> Optional[ast.AST]:
    if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
        first = node.body[0]
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            return first.value
    return None


def _stringish(node: ast.expr) -> bool:
    """A string, an f-string, or a sum with one of them in it."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _stringish(node.left) or _stringish(node.right)
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(node, ast.JoinedStr)


def _constants(nodes: Sequence[ast.AST]) -> Dict[str, ast.expr]:
    """Names assigned exactly once, to a string or an f-string, among ``nodes``."""
    assigned: Dict[str, List[ast.expr]] = {}
    for node in nodes:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            assigned.setdefault(node.target.id, []).append(node.value)
    return {name: values[0] for name, values in assigned.items() if len(values) == 1 and _stringish(values[0])}


def _template_functions(tree: ast.Module) -> Dict[str, ast.FunctionDef]:
    """The module-level functions whose body (docstring aside) is one `return <template>`."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            body = node.body[1:] if _docstring(node) is not None else node.body
            if len(body) == 1 and isinstance(body[0], ast.Return) and body[0].value is not None:
                if _stringish(body[0].value):
                    found[node.name] = node
    return found


@lru_cache(maxsize=1)
def message_templates() -> Tuple[Template, ...]:
    templates = set()
    for items in Package(PACKAGE).templates():
        template = _squeezed(items)
        if any(item is not HOLE and not item.isspace() for item in template):
            templates.add(template)
    return tuple(templates)


def _squeezed(items: Sequence[Union[str, None]]) -> Template:
    """White space runs as one space, neighbouring holes as one (as quotes are normalised)."""
    out: List[Union[str, None]] = []
    for item in items:
        if item is not HOLE and item.isspace():
            item = " "
            if out and out[-1] == " ":
                continue
        elif item is HOLE and out and out[-1] is HOLE:
            continue
        out.append(item)
    return tuple(out)


# --- matching a quote against a template ---------------------------------------------------------

WILD = None  # a quote item that stands for any text


def quote_items(quote: str) -> Template:
    items: List[Union[str, None]] = []
    last = 0
    for match in WILDCARD.finditer(quote):
        items.extend(quote[last : match.start()])
        items.append(WILD)
        last = match.end()
    items.extend(quote[last:])
    return _squeezed(items)


def fit(quote: Template, template: Template) -> int:
    """The most literal characters of ``quote`` that match ``template``'s own text when ``quote``
    is laid somewhere inside a message made from ``template``; -1 when it fits nowhere. A hole of
    the template takes any run of the quote, a wildcard of the quote any run of the template."""
    impossible = -1 << 30
    n, m = len(quote), len(template)
    # best[j]: for the quote's items from i on, starting at template item j (row i + 1 in ``after``)
    after = [0] * (m + 1)  # i == n: the whole quote is placed
    for i in range(n - 1, -1, -1):
        q = quote[i]
        row = [0] * (m + 1)
        row[m] = after[m] if q is WILD else impossible  # past the template's end only wildcards remain
        for j in range(m - 1, -1, -1):
            t = template[j]
            if q is WILD:
                best = max(after[j], row[j + 1])  # the wildcard ends here, or takes template item j
            elif t is HOLE:
                best = max(after[j], row[j + 1])  # the hole takes quote item i, or ends here
            elif q == t:
                best = 1 + after[j + 1]
            else:
                best = impossible
            row[j] = best
        after = row
    best = max(after)
    return best if best >= 0 else -1


def literal_count(items: Template) -> int:
    """The quote's literal characters outside its values (words with a digit: ARNs, times, ports)."""
    text = "".join(item if item is not WILD else " " for item in items)
    return sum(len(word) + 1 for word in text.split() if not any(char.isdigit() for char in word))


def _grams(text: str, size: int) -> set:
    return {text[index : index + size] for index in range(len(text) - size + 1)}


def produced_by(quote: str) -> Optional[Template]:
    """The template that produces ``quote`` (module docstring), or None."""
    items = quote_items(quote)
    literals = literal_count(items)
    chunks = ["".join(c) for c in _chunks(items)]
    size = min(8, max((len(chunk) for chunk in chunks), default=0))
    grams = set().union(*(_grams(chunk, size) for chunk in chunks)) if size else set()
    best, best_template = -1, None
    for template in message_templates():
        text = "".join(item if item is not HOLE else "\0" for item in template)
        if grams and not any(gram in text for gram in grams):
            continue
        score = fit(items, template)
        if score > best:
            best, best_template = score, template
    if best_template is not None and best * 2 >= literals:
        return best_template
    return None


def _chunks(items: Template) -> Iterator[List[str]]:
    chunk: List[str] = []
    for item in items:
        if item is WILD:
            if chunk:
                yield chunk
            chunk = []
        else:
            chunk.append(item)  # type: ignore[arg-type]
    if chunk:
        yield chunk


# --- GitHub's heading anchors ----------------------------------------------------------------------


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text as rendered (code marks and emphasis gone, a
    link's text kept), lower case, everything but letters, digits, marks, `_`, `-` and spaces
    dropped, each space a hyphen."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = text.replace("`", "").replace("*", "")
    kept = [
        char
        for char in text.lower()
        if char in "-_ " or unicodedata.category(char)[0] in ("L", "N", "M") or unicodedata.category(char) == "Pc"
    ]
    return "".join(kept).replace(" ", "-")


def anchors(text: str) -> List[str]:
    """Every heading's anchor, in order; a repeated one gets -1, -2, ... as on GitHub."""
    _, prose = split_fences(text)
    seen: Dict[str, int] = {}
    found = []
    for line in prose.splitlines():
        match = re.match(r"#{1,6} +(.*?) *#* *$", line)
        if not match:
            continue
        slug = github_slug(match.group(1))
        if slug in seen:
            seen[slug] += 1
            slug = f"{slug}-{seen[slug]}"
        else:
            seen[slug] = 0
        found.append(slug)
    return found


def section(text: str, title: str) -> str:
    """The text of the `## title` section, up to the next `## ` heading."""
    _, prose = split_fences(text)  # headings are found in the prose only, the text is cut from ``text``
    lines = text.splitlines()
    prose_lines = prose.splitlines()
    starts = [index for index, line in enumerate(prose_lines) if line.startswith("## ")]
    for position, index in enumerate(starts):
        if prose_lines[index][3:].strip() == title:
            end = starts[position + 1] if position + 1 < len(starts) else len(lines)
            return "\n".join(lines[index:end])
    raise AssertionError(f"README.md has no section '## {title}'")


def h2_titles(text: str) -> List[str]:
    _, prose = split_fences(text)
    return [line[3:].strip() for line in prose.splitlines() if line.startswith("## ")]


# The messages the e2e tests below produce by running mfa-process and compare in full, by how their
# README line starts; a quote inside one of these lines is checked by that run.
RUN_CHECKED = (
    "logged in: profile base,",
    "already logged in: profile base,",
    "no code source worked: ykman:",
    "no code source worked: terminal:",
)


def readme_line(start: str) -> str:
    """The one `mfa-process: ` line of a fenced block whose message starts with ``start``."""
    fences, _ = split_fences(readme_text())
    found = [
        line[len(PREFIX) :]
        for fence in fences
        for line in fence.lines
        if line.startswith(PREFIX) and line[len(PREFIX) :].startswith(start)
    ]
    assert len(found) == 1, f"README.md should show one `mfa-process: {start}...` line, not {len(found)}"
    return found[0]


def run_checked(quote: str) -> bool:
    """True when ``quote`` (wildcards aside) lies inside a README line that a run checks in full."""
    pieces = [piece.strip() for piece in WILDCARD.split(quote) if piece.strip()]
    lines = [readme_line(start) for start in RUN_CHECKED]
    return any(all(piece in line for piece in pieces) for line in lines)


# --- the tests ------------------------------------------------------------------------------------


def test_the_readme_quotes_messages_and_the_rule_finds_them() -> None:
    """The rule is not vacuous: the lines of fenced blocks, the Troubleshooting leads and the
    prose's quotes are all found."""
    quotes = [quote for _, quote in quoted_messages(readme_text())]

    assert len(quotes) >= 30
    assert "AWS rejected the MFA code" in quotes  # a Troubleshooting lead
    assert "no cached sessions" in quotes  # a quote in the prose
    assert any(quote.startswith("logged in: profile base") for quote in quotes)  # a console block's line
    assert not any(quote.startswith(("mfa-process --profile", "duration_seconds")) for quote in quotes)


@pytest.mark.parametrize(
    "number, quote", quoted_messages(readme_text()), ids=lambda value: str(value)[:50] if isinstance(value, str) else ""
)
def test_every_quoted_message_is_produced_by_the_code(number: int, quote: str) -> None:
    # a quote inside a RUN_CHECKED line is produced by running mfa-process (the e2e tests below)
    assert run_checked(quote) or produced_by(quote) is not None, (
        f"README.md line {number} quotes `{quote}`, which no message of mfa_process/ produces: "
        "quote the real message (`...` for the parts that vary)"
    )


def test_the_run_checked_lines_are_in_the_readme() -> None:
    for start in RUN_CHECKED:
        assert readme_line(start)


def test_every_quote_of_another_program_is_in_the_readme() -> None:
    """NOT_OURS holds only what the README quotes, so it cannot grow into a way around the check."""
    _, prose = split_fences(readme_text())
    spans = {span for _, span in code_spans(prose)}

    assert sorted(set(NOT_OURS) - spans) == []


@pytest.mark.parametrize(
    "quote",
    [
        "no terminal to ask for the MFA code; run the demo",  # a real start, a made-up end
        "the session of profile 'base' has ended; mfa-process is renewing it",  # the value the code adds left out
        "the cache file is damaged; delete it",  # nothing like it in the code
        "logged out: profile base",
    ],
)
def test_a_message_the_code_does_not_produce_is_not_taken(quote: str) -> None:
    assert produced_by(quote) is None


@pytest.mark.parametrize(
    "quote",
    [
        "no terminal to ask for the MFA code",  # a fragment of a message
        "waited 95 s for another mfa-process",  # a value where the code has a hole
        "STS returned a session that expires at ...; this machine's clock says ...",  # wildcards
        "the session of profile 'base' has ended (...); mfa-process is renewing it",  # a hole filled in
    ],
)
def test_a_message_the_code_produces_is_taken(quote: str) -> None:
    assert produced_by(quote) is not None


def test_fit_lays_a_quote_inside_a_template() -> None:
    template = _squeezed(list("waited ") + [HOLE] + list(" s for another"))

    assert fit(quote_items("waited 95 s for"), template) == len("waited  s for")
    assert fit(quote_items("for another"), template) == len("for another")
    assert fit(quote_items("waited ... another"), template) == len("waited  another")
    # a quote may end inside a hole, which takes the rest: why produced_by asks for half its text
    assert fit(quote_items("waited 95 s for a friend"), template) == len("waited ")
    assert fit(quote_items("no cached session files"), _squeezed(list("no cached sessions"))) == -1


def test_every_anchor_link_resolves_to_a_heading() -> None:
    text = readme_text()
    _, prose = split_fences(text)
    known = set(anchors(text))

    links = re.findall(r"\]\(#([^)\s]+)\)", prose)

    assert links, "README.md links to none of its own sections: is the pattern right?"
    assert [link for link in links if link not in known] == []


def test_github_slugs() -> None:
    assert github_slug("Long runs and containers: the credentials server") == (
        "long-runs-and-containers-the-credentials-server"
    )
    assert github_slug("YubiKey: `mfa_prompt = ykman`") == "yubikey-mfa_prompt--ykman"
    assert github_slug("Several sources, tried in order") == "several-sources-tried-in-order"
    assert anchors("## configure\n\n### configure\n") == ["configure", "configure-1"]


def test_the_quick_start_comes_first_with_one_command_per_step() -> None:
    text = readme_text()
    quick = section(text, "Quick start")
    fences, _ = split_fences(quick)

    assert h2_titles(text)[0] == "Quick start"
    assert len(quick.splitlines()) <= 50, "the quick start should fit on one screen"
    commands = [fence.lines for fence in fences]
    assert all(len(lines) == 1 for lines in commands), f"one command per step: {commands}"
    steps = [lines[0] for lines in commands]
    assert len(steps) == 4
    assert steps[0].startswith("pipx install")
    assert steps[1].startswith("mfa-process configure --profile base --mfa-serial arn:aws:iam::")
    assert steps[2].startswith("aws ") and "--profile mfa" in steps[2]
    assert steps[3].endswith("examples/demo.py")


def test_sections_come_in_the_order_a_user_meets_them() -> None:
    wanted = [
        "Quick start",
        "Install",
        "Configure",
        "Use",
        "Commands",
        "Long runs and containers: the credentials server",
        "Keys in the keyring",
        "Sessions that fit the policy",
        "Where the code comes from",
        "How it behaves",
        "Threat model",
        "Troubleshooting",
        "Try it without AWS",
        "Performance",
        "Running the tests",
        "Layout",
    ]
    titles = h2_titles(readme_text())

    assert [title for title in titles if title in wanted] == wanted


def test_troubleshooting_starts_with_doctor() -> None:
    trouble = section(readme_text(), "Troubleshooting")
    first_paragraph = trouble.split("\n\n")[1]

    assert "`mfa-process doctor --profile base`" in first_paragraph


def test_the_install_section_works_without_pip_install_user() -> None:
    """PEP 668 systems refuse `pip install --user`: the README gives pipx, how to get it, and a venv."""
    install = section(readme_text(), "Install")

    assert "pipx install ." in install
    assert "sudo apt install pipx" in install and "brew install pipx" in install
    assert "python3 -m venv ~/.local/share/mfa-process" in install
    assert "~/.local/share/mfa-process/bin/pip install ." in install
    assert "externally-managed-environment" in install


def test_the_test_command_is_the_one_ci_runs() -> None:
    """README's "Running the tests" block, and .ci/run doing the same in its virtual environments."""
    tests = section(readme_text(), "Running the tests")
    fences, _ = split_fences(tests)
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")

    [block] = [fence.lines for fence in fences if fence.info == "sh"]
    assert block == (
        "python3 -m venv .venv",
        ". .venv/bin/activate",
        "pip install -e '.[test]'",
        "npm install --no-package-lock --prefix tests/js",
        "pytest",
    )
    assert re.search(r"-m venv --clear \"\$venv\"", ci)
    assert re.search(r"\"\$venv/bin/pip\" install (-q )?-e '\.\[test\]'", ci)
    assert "npm install --no-package-lock --prefix tests/js" in ci
    assert re.search(r"\. \"\$venv/bin/activate\" && pytest\)", ci), "CI runs plain `pytest`, as the README says"


def test_the_packages_the_readme_asks_for_are_those_ci_installs() -> None:
    tests = section(readme_text(), "Running the tests")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    [listed] = re.findall(r"`apt-get install ([^`]+)`", tests)

    installed = set(" ".join(re.findall(r"apt-get install -y --no-install-recommends ([a-z0-9. +-]+)", ci)).split())
    installed |= set(re.findall(r"_packages\+=\(([a-z0-9.+-]+)\)", ci))  # the list installed when missing
    assert sorted(set(listed.split()) - installed) == []


def test_commands_the_readme_runs_exist() -> None:
    from mfa_process.cli import COMMANDS

    text = readme_text()
    fences, prose = split_fences(text)
    spans = [span for _, span in code_spans(prose)] + [line for fence in fences for line in fence.lines]

    # where a command line starts: a span or line, a shell prompt, `$(`, a setting's value, a backtick
    named = {
        match for span in spans for match in re.findall(r"(?:^|\$ |\$\(|= |`)mfa-process ([a-z][\w-]*)(?![\w<-])", span)
    }

    assert named, "README.md names no command: is the pattern right?"
    assert sorted(named - set(COMMANDS)) == []


def test_the_layout_names_every_part_of_the_package() -> None:
    layout = section(readme_text(), "Layout")
    parts = {path.name + "/" for path in PACKAGE.iterdir() if path.is_dir() and (path / "__init__.py").exists()}
    parts |= {path.name for path in PACKAGE.glob("*.py") if path.name != "__init__.py"}

    assert sorted(part for part in parts if part not in layout) == []


# --- produced by running mfa-process (e2e: the STS double, fake helper programs) -------------------


def normalised(line: str) -> str:
    """A login line with its values (times, time left) as placeholders, for comparing shapes."""
    line = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z][A-Za-z0-9+-]*", "<time>", line)
    return re.sub(r"\(\d+h \d+m left\)", "(<left> left)", line)


def test_the_login_lines_are_what_login_prints(aws) -> None:  # type: ignore[no-untyped-def]
    first = aws.run(["login", "--profile", "base", "--token-code", aws.code()])
    again = aws.run(["login", "--profile", "base"])

    assert first.returncode == 0 and again.returncode == 0, first.stderr + again.stderr
    assert normalised(first.stderr.strip()) == normalised(PREFIX + readme_line("logged in: profile base,"))
    assert normalised(again.stderr.strip()) == normalised(PREFIX + readme_line("already logged in: profile base,"))


def test_the_chain_line_is_what_a_chain_of_missing_sources_prints(aws) -> None:  # type: ignore[no-untyped-def]
    from fakes import FakeBin

    fakes = FakeBin(aws.root / "fakes")
    fakes.install(aws.env)  # PATH: the fakes and a few real tools; no zenity
    fakes.add("ykman", status=1, stderr="ERROR: No YubiKey detected!\n")
    aws.write_config(f"[profile base]\nmfa_serial = {aws.user.mfa_serial}\nmfa_prompt = ykman, zenity, terminal\n")

    result = aws.run(["--profile", "base"])  # no terminal: a new session, as an IDE starts it

    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == PREFIX + readme_line("no code source worked: ykman:")
    assert aws.sts.calls() == 0


def test_the_no_terminal_line_is_what_the_default_prints_without_a_terminal(aws) -> None:  # type: ignore[no-untyped-def]
    aws.env.pop("DISPLAY", None)
    aws.env.pop("WAYLAND_DISPLAY", None)

    result = aws.run(["--profile", "base"])  # mfa_prompt unset: auto; no terminal, no display

    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == PREFIX + readme_line("no code source worked: terminal:")
    assert aws.sts.calls() == 0


def test_the_quick_start_gets_a_working_profile(aws) -> None:  # type: ignore[no-untyped-def]
    """Steps 2 and 3 of the quick start as a new user runs them: a base profile made by
    `aws configure` (keys and a region), then `configure` exactly as the README writes it, then the
    first call at a terminal, which asks for the code once, and a second that does not."""
    import pexpect
    from aws_home import spawn

    fences, _ = split_fences(section(readme_text(), "Quick start"))
    configure, first_call = fences[1].lines[0], fences[2].lines[0]
    assert aws.user.mfa_serial in configure  # the README's example device is the double's
    aws.write_config("[profile base]\nregion = us-east-1\n")

    result = aws.run(configure.split()[1:])
    assert result.returncode == 0, result.stderr

    child = spawn(first_call.split()[0], aws, args=first_call.split()[1:])
    child.expect_exact(f"Enter MFA code for {aws.user.mfa_serial}: ")
    child.sendline(aws.code())
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.logfile_read.getvalue()
    assert aws.user.account in child.logfile_read.getvalue()

    again = spawn(first_call.split()[0], aws, args=first_call.split()[1:])
    again.expect(pexpect.EOF)
    again.close()
    assert again.exitstatus == 0 and "Enter MFA code" not in again.logfile_read.getvalue()
    assert aws.sts.calls("GetSessionToken") == 1
