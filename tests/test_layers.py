"""The documented layering holds: import-linter's contracts (pyproject.toml) for the
packages, and the same rules for the top-level modules, which import-linter cannot take
as roots."""

from __future__ import annotations

import ast
import tomllib

import pytest
from importlinter import configuration
from importlinter.application.use_cases import lint_imports

from settings import ROOT

CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
NOT_CODE = {"tests", "migrations"}


def _imports(module: str) -> set[str]:
    """The top-level names a top-level module imports (at any depth of its code)."""
    tree = ast.parse((ROOT / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def test_the_import_contracts_are_kept(capsys: pytest.CaptureFixture[str]) -> None:
    configuration.configure()  # what the `lint-imports` command does first
    kept = lint_imports(config_filename=str(ROOT / "pyproject.toml"), cache_dir=None, no_logo=True)
    assert kept, capsys.readouterr().out


def test_every_package_is_under_contract() -> None:
    packages = {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in NOT_CODE and not path.parent.name.startswith(".")
    }
    assert packages == set(CONFIG["root_packages"])
    layered = {
        name.strip() for layer in CONFIG["contracts"][0]["layers"] for name in layer.split("|")
    }
    assert layered == packages


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("settings", {"cli", "server", *CONFIG["root_packages"]}),  # below everything
        ("server", {"cli", "bench"}),  # the app never runs the tooling's entry points
    ],
)
def test_top_level_modules_import_only_below_them(module: str, forbidden: set[str]) -> None:
    assert _imports(module) & forbidden == set()
