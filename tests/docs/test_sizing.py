"""The sizing defaults are the model's (dev/bench/sizing): the README's tables are its output, and
the Terraform and handler defaults are its values, so a new measurement changes all of them."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path

from dev.bench.sizing import model

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


@functools.cache
def _printed_by_the_model() -> str:
    return subprocess.run(
        [sys.executable, "-m", "dev.bench.sizing"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout


def _variable_block(path: Path, name: str) -> str:
    text = path.read_text(encoding="utf-8")
    start = text.index(f'variable "{name}" {{')
    return text[start : text.index("\n}\n", start)]


def test_readme_cost_table_is_what_the_model_prints():
    table = model.cost_table()
    assert table in _printed_by_the_model()
    assert table in README


def test_readme_memory_table_is_what_the_model_prints():
    table = model.memory_table()
    assert table in _printed_by_the_model()
    assert table in README


def test_readme_inputs_table_is_what_the_model_prints():
    table = model.inputs_table()
    assert table in _printed_by_the_model()
    assert table in README


def test_readme_sharding_rule_is_what_the_model_prints():
    text = model.sharding_text()
    assert text in _printed_by_the_model()
    assert text in README


def test_root_module_defaults_each_functions_memory_to_the_models():
    main_tf = (ROOT / "main.tf").read_text(encoding="utf-8")
    block = re.search(r"default_memory_sizes = \{(.*?)\}", main_tf, re.DOTALL).group(1)
    defaults = {name: int(mb) for name, mb in re.findall(r"(\w+)\s*=\s*(\d+)", block)}
    assert defaults == model.memory_sizes()


def test_lambda_memory_sizes_description_gives_the_models_defaults():
    block = _variable_block(ROOT / "variables.tf", "lambda_memory_sizes")
    missing = [
        f"`{function}` {memory}"
        for function, memory in model.memory_sizes().items()
        if f"`{function}` {memory}" not in block
    ]
    assert missing == []


def test_handler_sharding_defaults_are_the_models():
    assert model.connections_per_worker() == model.LIMITS.DEFAULT_CONNECTIONS_PER_WORKER
    assert model.max_workers() == model.LIMITS.DEFAULT_MAX_WORKERS


def test_terraform_sharding_defaults_are_the_models():
    expected = (
        f"connections_per_worker = optional(number, {model.connections_per_worker()})",
        f"max_workers            = optional(number, {model.max_workers()})",
    )
    for path, name in (
        (ROOT / "variables.tf", "fan_out_sharding"),
        (ROOT / "modules" / "incident-stream" / "variables.tf", "sharding"),
    ):
        block = _variable_block(path, name)
        assert [line for line in expected if line not in block] == [], path
