"""The autoencoder baseline: the run's backbone trained without labels to reconstruct its input.

A label-free method should beat the simplest label-free training of the same network, not only the untrained
one. The backbone (built through the catalog, as the method builds it) is followed by a small MLP decoder back
to the input and trained on the mean squared reconstruction error with Adam at its default learning rate (not
the run's: a learning rate that breaks the method must not break its baseline), for as many epochs as one
generation, on its own seeded random streams (the run's global random state is left as it was)."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from core import catalog
from core.config import RunConfig
from core.data.splits import Dataset

BATCH_SIZE = 128
LEARNING_RATE = 1e-3  # Adam's default
SEED_OFFSET = 777  # the autoencoder's streams: seed * 1000 + 777, apart from every generation's


def build_autoencoder(config: RunConfig, data: Dataset) -> tuple[nn.Module, nn.Module]:
    """(backbone, decoder): the configured model and an MLP from its features back to the input."""
    backbone = catalog.load(catalog.model(config.model.name)).build(config.model, data.n_features, data.n_classes,
                                                                    data.image_shape)
    width = backbone.feature_dim
    decoder = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, data.n_features))
    return backbone, decoder


def train_autoencoder(config: RunConfig, data: Dataset, x_train: torch.Tensor,
                      check_stop: Callable[[], None] = lambda: None) -> nn.Module:
    """The backbone after ``config.train.epochs`` epochs of reconstruction training (in eval mode on return)."""
    seed = config.seed * 1000 + SEED_OFFSET
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        backbone, decoder = build_autoencoder(config, data)
    backbone, decoder = backbone.to(x_train.device).train(), decoder.to(x_train.device).train()
    parameters = list(backbone.parameters()) + list(decoder.parameters())
    optimizer = torch.optim.Adam(parameters, lr=LEARNING_RATE)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(config.train.epochs):
        order = torch.randperm(len(x_train), generator=generator).to(x_train.device)
        for batch in order.split(BATCH_SIZE):
            if len(batch) < 2:  # batch norm cannot normalise a single sample
                continue
            check_stop()
            x = x_train[batch]
            loss = nn.functional.mse_loss(decoder(backbone.features(x)), x)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return backbone.eval()
