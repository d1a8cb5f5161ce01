"""One module per self-distillation family: a pure loss plus a train-one-generation function."""
