"""Results told without the server: the one-line result of a run, its charts and a self-contained HTML report."""
