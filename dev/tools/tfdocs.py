"""Render README Inputs and Outputs tables from each module's variables.tf and outputs.tf.

    python dev/tools/tfdocs.py            # rewrite the tables of the root and every modules/*
    python dev/tools/tfdocs.py --check    # exit 1 when any README.md is out of date
    python dev/tools/tfdocs.py --module-dir modules/heartbeat    # one module only

Only the text between the BEGIN/END markers is generated; the rest of each README is kept.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import hcl2

INPUTS_MARKERS = ("<!-- BEGIN_TF_INPUTS -->", "<!-- END_TF_INPUTS -->")
OUTPUTS_MARKERS = ("<!-- BEGIN_TF_OUTPUTS -->", "<!-- END_TF_OUTPUTS -->")

_HCL_OPTIONS = hcl2.SerializationOptions(
    strip_string_quotes=True,
    explicit_blocks=False,
    with_comments=False,
    preserve_heredocs=False,
)


class StaleReadmeError(RuntimeError):
    """The README's generated tables differ from the module's variables and outputs."""


def load_blocks(path: Path, kind: str) -> dict[str, dict[str, Any]]:
    """`variable` or `output` blocks of one .tf file, by name, in file order."""
    with path.open(encoding="utf-8") as handle:
        parsed = hcl2.load(handle, serialization_options=_HCL_OPTIONS)
    return {name: body for block in parsed.get(kind, []) for name, body in block.items()}


def inputs_table(variables: dict[str, dict[str, Any]]) -> str:
    rows = ["| Name | Description | Type | Default | Required |", "|---|---|---|---|:---:|"]
    for name in sorted(variables):
        variable = variables[name]
        required = "default" not in variable
        default = "n/a" if required else _code(_hcl_value(variable["default"]))
        rows.append(
            f"| `{name}` | {_cell(variable.get('description', ''))} "
            f"| {_code(_expression(variable.get('type', 'any')))} | {default} "
            f"| {'yes' if required else 'no'} |"
        )
    return "\n".join(rows)


def outputs_table(outputs: dict[str, dict[str, Any]]) -> str:
    rows = ["| Name | Description |", "|---|---|"]
    rows += [
        f"| `{name}` | {_cell(outputs[name].get('description', ''))} |" for name in sorted(outputs)
    ]
    return "\n".join(rows)


def render_readme(readme: str, module_dir: Path) -> str:
    """The README with both generated sections replaced from the module in `module_dir`."""
    readme = _replace_between(
        readme, INPUTS_MARKERS, inputs_table(load_blocks(module_dir / "variables.tf", "variable"))
    )
    return _replace_between(
        readme, OUTPUTS_MARKERS, outputs_table(load_blocks(module_dir / "outputs.tf", "output"))
    )


def _replace_between(text: str, markers: tuple[str, str], content: str) -> str:
    begin, end = markers
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise StaleReadmeError(f"README has no {begin} ... {end} section")
    return pattern.sub(lambda _: f"{begin}\n{content}\n{end}", text, count=1)


def _expression(value: Any) -> str:
    """An HCL expression as written, without python-hcl2's `${...}` wrapper."""
    text = str(value)
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    return text


def _hcl_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value) if not value.startswith("${") else _expression(value)
    return json.dumps(value, separators=(", ", ": ")).replace('": ', '" = ')


def _code(text: str) -> str:
    return f"`{_cell(text)}`"


def _cell(text: str) -> str:
    """One table cell: a single line with pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def module_dirs(root: Path) -> list[Path]:
    """The root module and every module under `modules/`: each directory with a variables.tf."""
    return [root, *sorted(path.parent for path in root.glob("modules/*/variables.tf"))]


def sync_readme(module_dir: Path, readme_path: Path, check: bool) -> bool:
    """Render one README's tables; True when it was already in sync."""
    current = readme_path.read_text(encoding="utf-8")
    rendered = render_readme(current, module_dir)
    if rendered == current:
        return True
    if check:
        print(
            f"{readme_path}: Inputs/Outputs tables are out of date with variables.tf/outputs.tf; "
            "run `python dev/tools/tfdocs.py`",
            file=sys.stderr,
        )
    else:
        readme_path.write_text(rendered, encoding="utf-8")
        print(f"{readme_path}: tables updated")
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a README is out of date")
    parser.add_argument(
        "--module-dir",
        type=Path,
        action="append",
        help="a module to document (repeatable); default: . and every modules/*",
    )
    parser.add_argument("--readme", type=Path, help="with one --module-dir: its README path")
    args = parser.parse_args(argv)
    dirs = args.module_dir or module_dirs(Path("."))
    if args.readme and len(dirs) != 1:
        parser.error("--readme needs exactly one --module-dir")

    in_sync = True
    for module_dir in dirs:
        readme_path = args.readme or module_dir / "README.md"
        try:
            in_sync &= sync_readme(module_dir, readme_path, args.check)
        except (OSError, StaleReadmeError) as error:
            print(f"{readme_path}: {error}", file=sys.stderr)
            return 1
    return 0 if in_sync or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
