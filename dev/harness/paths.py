"""Where things are in this repository, for everything that runs it locally."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = REPO_ROOT / ".build"
FUNCTION_PACKAGES_DIR = REPO_ROOT / "functions" / "dist"
LOCAL_EXAMPLE_DIR = REPO_ROOT / "examples" / "local"
TERRAFORM_CLI_CONFIG = BUILD_DIR / "terraformrc"
TERRAFORM_PLUGIN_CACHE = BUILD_DIR / "plugin-cache"
TERRAFORM_CLI_CONFIG_SCRIPT = REPO_ROOT / "dev" / "tools" / "terraform-cli-config.sh"
