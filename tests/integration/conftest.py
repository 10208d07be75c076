"""One real `terraform apply` of examples/complete on a moto server, shared by every test here.

The fixtures start moto through the harness (dev/harness/moto.py) on a free loopback port, point
Terraform and boto3 at it through the standard AWS_ENDPOINT_URL and test credentials, and
apply `terraform/complete_on_moto` (a thin wrapper of examples/complete) with
pytest-terraform, which destroys it again after the last test that uses it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dev.harness.moto import start_moto
from dev.harness.terraform import offline_terraform_settings
from tests.integration.deployment import TEST_CREDENTIALS, Deployment

REPO_ROOT = Path(__file__).resolve().parents[2]

# The environment of Terraform and boto3 during the tests (plus AWS_ENDPOINT_URL); settings
# that could send them to a real account are removed.
AWS_ON_MOTO = {
    **TEST_CREDENTIALS,
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}
AMBIENT_AWS_SETTINGS = ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    # pytest-terraform resolves its options in its own trylast pytest_configure, which runs
    # before this one; its fixture factory cannot be called earlier (at conftest import).
    config.pluginmanager.import_plugin("tests.integration.terraform_fixture")


@pytest.fixture(scope="package", autouse=True)
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's URL, with Terraform and boto3 configured for it.

    Autouse, so it is set up before the apply; package scope (like the apply), so test
    packages that run later in the same session get the environment back as it was.
    """
    with (
        start_moto(tmp_path_factory.mktemp("moto") / "server.log") as moto,
        pytest.MonkeyPatch.context() as env,
    ):
        for name in AMBIENT_AWS_SETTINGS:
            env.delenv(name, raising=False)
        for name, value in {**AWS_ON_MOTO, "AWS_ENDPOINT_URL": moto.url}.items():
            env.setenv(name, value)
        for name, value in offline_terraform_settings(os.environ).items():
            env.setenv(name, value)
        yield moto.url


@pytest.fixture(scope="package")
def deployment(complete_on_moto) -> Deployment:
    return Deployment(complete_on_moto.outputs["complete"]["value"])


@pytest.fixture(scope="package")
def applied_state(complete_on_moto) -> dict:
    """`terraform show -json` of the applied state (every resource, every module)."""
    return complete_on_moto.terraform.show()
