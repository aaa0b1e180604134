"""`make bench`: cold start, requests per invoice and payment, overhead latency, a month-end burst
and package size, printed as one table and written to bench/results/latest.json.

Benchmarks, not tests: nothing here asserts a time. Each figure is a count or a ratio measured in
the same run, so a slow or noisy machine moves the absolute times, not the comparisons.
"""
