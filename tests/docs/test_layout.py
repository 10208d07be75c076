"""The repository layout keeps its promises: what may import what, and an emulator that knows
AWS but not this product.

- `dev/emulator` imports nothing outside itself; `dev/harness` imports only the public names
  of `dev.emulator` (its `__init__`) and starts the emulator as a process; the demo and the
  benchmark import the harness; `dev/tools` and the Lambda code import no tooling at all.
- Nothing imports a command-line entry point (`__main__.py`, or a module that runs as a script).
- Nothing but the tests imports the `tests` package.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("dev", "functions", "tests")
SKIPPED = ("functions/dist",)

EMULATOR_DIR = REPO_ROOT / "dev" / "emulator"
PRODUCT_LIBRARY_DIR = REPO_ROOT / "functions" / "lib" / "incident_ws"

# Words that name this product, its channels or its configuration. `events` is also
# EventBridge's service name and `routes` an API Gateway term, so neither is listed as a word.
PRODUCT_WORDS = re.compile(r"incident|remediation|history|channel|dashboard", re.IGNORECASE)
PRODUCT_VARIABLES = re.compile(
    r"\b(CHANNELS|ROUTES|CONNECTIONS_TABLE|MAX_CONCURRENCY|CHANNEL_NAME|CONNECTION_TTL_SECONDS"
    r"|STORE_SOURCE_IP|WS_ENDPOINT)\b"
)
EXTERNAL_REFERENCE = re.compile(r"SPEC\s*§|\bseed\s*0\d\d\b", re.IGNORECASE)
# Everything whose comments and docs must point only at what is in the repository (the
# changelog is history and keeps its own words).
SELF_CONTAINED = (
    *("main.tf", "variables.tf", "outputs.tf", "versions.tf", "modules", "examples", "functions"),
    *("dev", "mk", "Makefile", "tests", "docs", "README.md", "CONTRIBUTING.md"),
)
NOT_TEXT = (".png", ".zip")
GENERATED_PARTS = {".terraform", "__pycache__", ".hypothesis", ".pytest_cache"}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int

    def __str__(self) -> str:
        return f"{self.importer}:{self.line} imports {self.imported}"


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def python_files() -> Iterator[Path]:
    for top in SCANNED:
        for path in sorted((REPO_ROOT / top).rglob("*.py")):
            relative = path.relative_to(REPO_ROOT).as_posix()
            if not relative.startswith(SKIPPED):
                yield path


def imports_of(path: Path, modules: set[str]) -> Iterator[Import]:
    """Every module `path` imports: `from package import module` counts as that module."""
    importer = module_name(path)
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (Import(importer, alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0]
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield Import(importer, submodule if submodule in modules else base, node.lineno)


MODULES = {module_name(path) for path in python_files()}
ALL_IMPORTS = [found for path in python_files() for found in imports_of(path, MODULES)]


def is_within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def imports_by(package: str) -> list[Import]:
    """What the modules of `package` import of this repository's `dev` and `tests` packages."""
    return [
        found
        for found in ALL_IMPORTS
        if is_within(found.importer, package)
        and (is_within(found.imported, "dev") or is_within(found.imported, "tests"))
    ]


def runs_as_script(path: Path) -> bool:
    main_guard = re.compile(r"^if __name__ == .__main__.:", re.MULTILINE)
    return path.name == "__main__.py" or bool(main_guard.search(path.read_text()))


# Each package may import its own modules and, with `*`, the modules of other packages;
# without `*` only that module itself (the emulator's public names, in its `__init__`).
ALLOWED = {
    "dev.emulator": ("dev.emulator.*",),
    "dev.harness": ("dev.harness.*", "dev.emulator"),
    "dev.demo": ("dev.demo.*", "dev.harness.*"),
    "dev.bench": ("dev.bench.*", "dev.harness.*"),
    "dev.tools": ("dev.tools.*",),
    "functions": (),
}


def allowed_by(rule: str, imported: str) -> bool:
    if rule.endswith(".*"):
        return is_within(imported, rule.removesuffix(".*"))
    return imported == rule


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_imports_only_what_the_layout_allows(package):
    rules = ALLOWED[package]

    wrong = [
        str(found)
        for found in imports_by(package)
        if not any(allowed_by(rule, found.imported) for rule in rules)
    ]

    assert wrong == [], f"{package} may import only {rules} of this repository"


def test_no_command_line_entry_point_is_imported():
    scripts = {module_name(path) for path in python_files() if runs_as_script(path)}

    wrong = [str(found) for found in ALL_IMPORTS if found.imported in scripts]

    assert wrong == [], f"entry points run as processes, never imported: {sorted(scripts)}"


def test_only_tests_import_the_tests_package():
    wrong = [
        str(found)
        for found in ALL_IMPORTS
        if is_within(found.imported, "tests") and not is_within(found.importer, "tests")
    ]

    assert wrong == []


def test_the_emulator_names_nothing_of_this_product():
    found = []
    for path in sorted(EMULATOR_DIR.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                for match in (*PRODUCT_WORDS.finditer(line), *PRODUCT_VARIABLES.finditer(line)):
                    found.append(f"{path.relative_to(REPO_ROOT)}:{number}: {match[0]}")

    assert found == []


def test_no_emulator_file_or_class_shares_a_name_with_the_product_library():
    def names(directory: Path) -> tuple[set[str], set[str]]:
        files = {path.name for path in directory.glob("*.py")} - {"__init__.py"}
        classes = {
            node.name
            for path in directory.glob("*.py")
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ClassDef)
        }
        return files, classes

    emulator_files, emulator_classes = names(EMULATOR_DIR)
    library_files, library_classes = names(PRODUCT_LIBRARY_DIR)

    assert emulator_files & library_files == set()
    assert emulator_classes & library_classes == set()


def test_comments_and_docs_point_only_at_what_is_in_the_repository():
    found = []
    for top in SELF_CONTAINED:
        root = REPO_ROOT / top
        for path in sorted([root] if root.is_file() else root.rglob("*")):
            if path.suffix in NOT_TEXT or GENERATED_PARTS & set(path.parts):
                continue
            if path.is_file():
                text = path.read_text(errors="replace")
                found += [
                    f"{path.relative_to(REPO_ROOT)}: {match[0]}"
                    for match in EXTERNAL_REFERENCE.finditer(text)
                ]

    assert found == []


def test_every_make_target_is_listed_by_make_help():
    makefiles = [REPO_ROOT / "Makefile", *sorted((REPO_ROOT / "mk").glob("*.mk"))]
    target = re.compile(r"^([a-zA-Z0-9_-]+):(?!=)(.*)$", re.MULTILINE)

    undocumented = [
        f"{path.relative_to(REPO_ROOT)}: {match[1]}"
        for path in makefiles
        for match in target.finditer(path.read_text())
        if "## " not in match[2]
    ]

    assert undocumented == []
