# Benchmark (bench/): stream_processor's broadcast against the seed's sequential loop.
# Not part of `make test`: speed is measured here, never by a timed test (SPEC §5).
.PHONY: bench

BENCH_SIZES ?= 1000 10000

bench: venv package ## Time stream_processor vs the seed's loop at 1k and 10k connections; writes bench/results.md
	BENCH_SIZES="$(BENCH_SIZES)" $(PY) -m bench.run
