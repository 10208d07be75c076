"""The pytest-terraform fixture `complete_on_moto`: examples/complete applied once.

A plugin module (registered by conftest.py once pytest-terraform is configured) so that the
fixture is shared by every test module: the `terraform(...)` factory registers it in the
namespace of the module that calls it.
"""

from pytest_terraform import terraform

terraform("complete_on_moto", scope="package")
