"""Where trials run: local worker processes or a Dask cluster, behind one interface (base.Executor)."""
