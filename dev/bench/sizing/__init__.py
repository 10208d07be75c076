"""The module's sizing defaults from a model of measured figures (model.py), printed by
`python -m dev.bench.sizing`."""
