"""The fuzz harness's parts: inputs (cases, grammar, mutate), running (oracle, pool),
judging (classify, claims) and keeping what failed (report). See benchmarks/fuzz.py."""
