"""README Inputs/Outputs tables are generated from variables.tf/outputs.tf and kept in sync."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TFDOCS = ROOT / "dev" / "tools" / "tfdocs.py"


def run_tfdocs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TFDOCS), *args], capture_output=True, text=True, check=False
    )


@pytest.fixture
def module_copy(tmp_path: Path) -> Path:
    for name in ("variables.tf", "outputs.tf", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_readme_tables_match_variables_and_outputs() -> None:
    result = run_tfdocs("--check", "--module-dir", str(ROOT))
    assert result.returncode == 0, result.stderr


def test_new_variable_makes_the_readme_stale(module_copy: Path) -> None:
    with (module_copy / "variables.tf").open("a", encoding="utf-8") as handle:
        handle.write('\nvariable "new_input" {\n  description = "Added."\n  type = bool\n}\n')

    result = run_tfdocs("--check", "--module-dir", str(module_copy))

    assert result.returncode == 1
    assert "out of date" in result.stderr


def test_regenerated_tables_list_the_new_variable_as_required(module_copy: Path) -> None:
    with (module_copy / "variables.tf").open("a", encoding="utf-8") as handle:
        handle.write('\nvariable "new_input" {\n  description = "Added."\n  type = bool\n}\n')

    assert run_tfdocs("--module-dir", str(module_copy)).returncode == 0

    readme = (module_copy / "README.md").read_text(encoding="utf-8")
    assert "| `new_input` | Added. | `bool` | n/a | yes |" in readme
    assert run_tfdocs("--check", "--module-dir", str(module_copy)).returncode == 0


def test_removed_output_makes_the_readme_stale(module_copy: Path) -> None:
    outputs = (module_copy / "outputs.tf").read_text(encoding="utf-8")
    start = outputs.index('output "dead_letter_queue_url"')
    (module_copy / "outputs.tf").write_text(outputs[:start], encoding="utf-8")

    assert run_tfdocs("--check", "--module-dir", str(module_copy)).returncode == 1


def test_text_outside_the_markers_is_kept(module_copy: Path) -> None:
    readme = module_copy / "README.md"
    readme.write_text("# Title\n\nHand-written.\n\n" + readme.read_text(encoding="utf-8"))

    assert run_tfdocs("--module-dir", str(module_copy)).returncode == 0

    assert readme.read_text(encoding="utf-8").startswith("# Title\n\nHand-written.\n\n")
