# Benchmark (dev/bench/README.md): stream_processor's broadcast against the original sequential loop,
# and what the $connect authorizer costs. Not part of `make test`: speed is measured here, never
# by a timed test.
# BENCH_SIZES / BENCH_CONCURRENCY (environment or `make bench BENCH_SIZES=1000`) narrow the run.
.PHONY: bench

bench: venv package ## Time stream_processor vs the original loop at 1k and 10k connections, and the $connect authorizer; writes dev/bench/results.md
	$(PY) -m dev.bench.run
