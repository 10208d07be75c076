"""The only code that starts processes for local runs, tests, the demo and the benchmark.

moto (with the emulator's patches), Terraform with the offline provider settings, the
emulator, the fake `@connections` server, and the local stack that puts them together; each
process in a group of its own, stopped as a group. It starts the emulator as a process and
imports nothing of it but the public names of `dev.emulator`.
"""
