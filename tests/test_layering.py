"""The package's layers: every import points down (or within its own layer), never up.

    cli -> server -> session -> keystore -> config -> prompt -> system -> errors, redact, watchdog

Read from the source with ast, so imports inside functions and under TYPE_CHECKING count too:
a layer that needs something from above is a design question, not a lazy import away.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

import mfa_process

PACKAGE = "mfa_process"
ROOT = Path(mfa_process.__file__).resolve().parent

# Higher imports lower. A new part (keys/, server/) gets its place here before it lands.
LAYERS: Dict[str, int] = {
    "errors": 0,
    "redact": 0,
    "watchdog": 0,
    "system": 1,
    "prompt": 2,
    "config": 3,
    "keystore": 4,
    "session": 5,
    "server": 6,
    "doctor": 6,
    "cli": 7,
    "__main__": 8,
    "__init__": 8,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join([PACKAGE, *parts])


def part_of(module: str) -> str:
    """The top-level part of the package a module belongs to: `config` for mfa_process.config.settings."""
    return module.split(".")[1] if "." in module else "__init__"


def imported_modules(path: Path, name: str = "") -> Iterator[Tuple[int, str]]:
    """(line, absolute module name) of every import of this package's modules in ``path``
    (whose module name is ``name``, by default found from where it lies)."""
    name = name or module_name(path)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                base = anchor[: len(anchor) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not (target == PACKAGE or target.startswith(PACKAGE + ".")):
                continue
            if target == PACKAGE or node.module is None:  # `from . import x`: x may be a module
                for alias in node.names:
                    yield node.lineno, f"{target}.{alias.name}"
            else:
                yield node.lineno, target


def modules() -> List[Path]:
    return sorted(ROOT.rglob("*.py"))


def test_every_part_of_the_package_has_a_layer() -> None:
    unplaced = sorted({part_of(module_name(path)) for path in modules()} - set(LAYERS))

    assert unplaced == [], f"give {unplaced} a place in LAYERS (and in the README's layout section)"


@pytest.mark.parametrize("path", modules(), ids=lambda path: module_name(path))
def test_imports_point_down(path: Path) -> None:
    source = part_of(module_name(path))
    upward = [
        f"line {line}: {target} ({part_of(target)}, layer {LAYERS.get(part_of(target))})"
        for line, target in imported_modules(path)
        if LAYERS.get(part_of(target), 0) > LAYERS.get(source, 0)
    ]

    assert upward == [], f"{module_name(path)} ({source}, layer {LAYERS.get(source)}) imports upward: {upward}"


def test_the_check_sees_relative_absolute_and_nested_imports(tmp_path: Path) -> None:
    """The parser itself, on a module that imports upward in every way this package writes imports."""
    fake = tmp_path / "fake.py"
    fake.write_text(
        "from __future__ import annotations\n"
        "import os\n"
        "from ..config.settings import Settings\n"
        "from . import codes\n"
        "import mfa_process.cli\n"
        "if False:\n"
        "    from ..session import cache\n"
        "def later():\n"
        "    from mfa_process.session.chain import build_provider\n"
    )

    found = [target for _, target in imported_modules(fake, "mfa_process.prompt.fake")]

    assert found == [
        "mfa_process.config.settings",
        "mfa_process.prompt.codes",
        "mfa_process.cli",
        "mfa_process.session",
        "mfa_process.session.chain",
    ]
    assert [part_of(target) for target in found] == ["config", "prompt", "cli", "session", "session"]
