"""The module's sizing defaults, from measured figures and AWS's documented facts: the memory of
each function, the sharding threshold (`fan_out_sharding`) and the cost of one broadcast.

    python -m dev.bench.sizing

Prints (a) the memory chosen per function, why, and the measured inputs, (b)
`connections_per_worker` and `max_workers`, (c) the cost of one broadcast: the tables of
README.md, "Sizing" (tests/docs keeps the README equal to this output, and the Terraform and
handler defaults equal to its values).
"""

from __future__ import annotations

from dev.bench.sizing.model import cost_table, inputs_table, memory_table, sharding_text


def main() -> None:
    print("Memory per function\n")
    print(memory_table())
    print("\nInputs\n")
    print(inputs_table())
    print("\nSharding\n")
    print(sharding_text())
    print("\nOne broadcast to every connection of a channel, at the defaults\n")
    print(cost_table())


if __name__ == "__main__":
    main()
