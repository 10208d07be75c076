"""Tooling to develop, run locally, test and measure the module; none of it is deployed."""
