"""What a run is worth: metrics, the per-generation evaluation and baselines, 2-D views of features."""
