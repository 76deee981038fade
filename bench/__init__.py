"""`make bench`: what Switchboard costs and how it scales, measured in one run (docs/benchmarks.md)."""
