"""SpecAugment's masks (Park et al. 2019): a run of frames and a run of mel bands of a log-mel image set to 0,
which is silence in spoken-digits' images. Called by core/data/augment.py for specs that ask for them."""
from __future__ import annotations

import torch


def band_masks(images: torch.Tensor, time_mask: int, freq_mask: int, generator: torch.Generator) -> torch.Tensor:
    """(B, 1, H, W) → the same with one run of 0..freq_mask rows and one of 0..time_mask columns set to 0, each
    run's width and start drawn uniformly per image."""
    b, _, h, w = images.shape
    keep = torch.ones(b, 1, h, w, device=images.device)
    for size, length, axis in ((freq_mask, h, 2), (time_mask, w, 3)):
        if size <= 0:
            continue
        width = torch.randint(0, size + 1, (b,), generator=generator, device=generator.device).to(images.device)
        start = (torch.rand(b, generator=generator, device=generator.device).to(images.device)
                 * (length - width + 1)).floor()
        pos = torch.arange(length, device=images.device)
        band = (pos[None, :] >= start[:, None]) & (pos[None, :] < (start + width)[:, None])  # (B, length)
        keep = keep * (~band).float().view(b, 1, *((length, 1) if axis == 2 else (1, length)))
    return images * keep
