"""Sweeps: a spec, Optuna driven by ask/tell on one driver that alone writes the store, and executors."""
