"""Benchmarks of the Self-Distillation Lab; `python bench/run.py [--quick]` is the entry point."""
