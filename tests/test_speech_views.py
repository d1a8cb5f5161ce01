"""SpecAugment-style views for spoken words: masks are contiguous runs of frames or mel bands, the time shift
moves along the time axis only, and a label-free run on spoken-digits uses these views."""
from __future__ import annotations

import torch

from core.config import RunConfig
from core.data.augment import ImageViewSpec, image_view
from core.data.spoken_masks import band_masks
from core.data.spoken_views import speech_specs


def test_time_mask_zeroes_one_contiguous_run_of_frames_and_nothing_else():
    g = torch.Generator().manual_seed(0)
    images = torch.rand(64, 1, 32, 32) + 0.5  # no zeros to begin with
    out = band_masks(images, time_mask=6, freq_mask=0, generator=g)
    zero_columns = (out == 0).all(dim=2)[:, 0]  # (B, W): columns entirely zero
    assert ((out == 0) == zero_columns[:, None, None, :]).all()  # only whole columns are zeroed
    widths = zero_columns.sum(1)
    assert widths.max() <= 6 and widths.max() >= 4  # 64 draws of 0..6 reach near the top
    for row in zero_columns:
        idx = torch.nonzero(row).flatten()
        if len(idx):
            assert idx.max() - idx.min() + 1 == len(idx)  # contiguous
    kept = out != 0
    assert torch.equal(out[kept], images[kept])


def test_frequency_mask_zeroes_whole_rows():
    g = torch.Generator().manual_seed(1)
    images = torch.rand(32, 1, 32, 32) + 0.5
    out = band_masks(images, time_mask=0, freq_mask=4, generator=g)
    zero_rows = (out == 0).all(dim=3)[:, 0]  # (B, H)
    assert ((out == 0) == zero_rows[:, None, :, None]).all() and zero_rows.sum(1).max() <= 4


def test_time_shift_moves_columns_not_rows():
    g = torch.Generator().manual_seed(2)
    image = torch.zeros(1, 16, 16)
    image[0, 5, 4:8] = 1.0  # a horizontal stroke on row 5
    x = image.reshape(1, 256).repeat(20, 1)
    out = image_view(x, (16, 16), ImageViewSpec(time_shift=3.0), g).reshape(20, 16, 16)
    rows = out.sum(2)  # energy per row
    assert torch.allclose(rows.argmax(1), torch.full((20,), 5))  # the stroke stays on its row
    assert rows[:, 5].min() > 0.9 * 4 - 1e-3  # and keeps its energy (shifts within the canvas)
    starts = out[:, 5].argmax(1)
    assert len(set(starts.tolist())) > 1  # it moved in time


def test_speech_specs_follow_the_config():
    m = RunConfig().override({"method.name": "dino", "method.view_shift": 2.0}).method
    global_view, local_view = speech_specs(m)
    assert global_view.time_shift == 2.0 and global_view.shift == 0.0 and global_view.crop == (1.0, 1.0)
    assert local_view.time_mask == 2 * global_view.time_mask and global_view.freq_mask > 0
