"""The engine: the generation loop, the sinks it reports to, the runner that records a run, the job queue."""
