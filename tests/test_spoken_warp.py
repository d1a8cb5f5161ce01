"""core/data/spoken_warp.py against numbers made another way: log-mel images of pure tones (core/data/logmel.py)."""
import numpy as np
import torch

from core.data import logmel
from core.data.augment import ImageViewSpec, image_view
from core.data.spoken_warp import band_centres_hz, stretch_time, voice_warp, warp_frequency

RATE, N = 8000, 32


def tone_image(f_hz: float) -> torch.Tensor:
    """(1, 1, 32, 32) log-mel image of a pure tone at ``f_hz``, computed by the data's own STFT and filterbank."""
    t = np.arange(RATE) / RATE
    image = logmel.log_mel(0.5 * np.sin(2 * np.pi * f_hz * t), RATE, n_mels=N, frames=N)
    return torch.from_numpy(image)[None, None]


def peak_row(image: torch.Tensor) -> torch.Tensor:
    return image[..., 16].argmax(dim=2).flatten()  # the loudest mel row of a middle frame, per image


def test_a_tone_moves_to_the_band_of_the_scaled_frequency():
    centres = band_centres_hz(N).numpy()
    for r, q in ((10, 12), (20, 18), (25, 27), (15, 14), (8, 9)):  # factors 0.85..1.2
        f, a = float(centres[r]), float(centres[q] / centres[r])
        assert peak_row(tone_image(f)).item() == r and peak_row(tone_image(a * f)).item() == q
        assert peak_row(warp_frequency(tone_image(f), torch.tensor([a]))).item() == q, (r, q, a)
    for f, a in ((500.0, 1.2), (1000.0, 0.85), (1500.0, 1.15), (700.0, 0.9)):  # off the centres: within a band
        warped = warp_frequency(tone_image(f), torch.tensor([a]))
        assert abs(peak_row(warped).item() - peak_row(tone_image(a * f)).item()) <= 1, (f, a)


def test_band_centres_follow_the_filterbank():
    bank = logmel.mel_filterbank(N, 4096, RATE)  # fine FFT grid: each triangle peaks at its centre
    freqs = np.arange(bank.shape[1]) * RATE / 4096
    assert np.allclose(freqs[bank.argmax(1)], band_centres_hz(N).numpy(), atol=RATE / 4096)
    assert abs(band_centres_hz(N)[-1].item() - logmel.mel_to_hz(logmel.hz_to_mel(4000) * 32 / 33)) < 1e-6


def test_factor_one_is_the_identity_and_batches_warp_independently():
    x = torch.rand(5, 1, N, N)
    assert torch.allclose(warp_frequency(x, torch.ones(5)), x, atol=1e-5)
    assert torch.allclose(stretch_time(x, torch.ones(5)), x, atol=1e-6)
    factors = torch.tensor([0.8, 1.0, 1.1, 1.2, 0.9])
    batch = warp_frequency(x, factors)
    one_by_one = torch.cat([warp_frequency(x[i:i + 1], factors[i:i + 1]) for i in range(5)])
    assert torch.allclose(batch, one_by_one)


def test_time_stretch_resamples_frames_about_the_middle():
    x = torch.zeros(1, 1, N, N)
    x[..., 19] = 1.0  # frame 19 is 3.5 frames after the middle (15.5)
    # Slower (0.5): output frame t reads input 15.5 + (t − 15.5)·0.5, so frame 19 lands at 22.5, twice as wide.
    slower = stretch_time(x, torch.tensor([0.5]))[0, 0, 3]
    expected = torch.zeros(N)
    expected[21:25] = torch.tensor([0.25, 0.75, 0.75, 0.25])
    assert torch.allclose(slower, expected)
    faster = stretch_time(x, torch.tensor([2.0]))[0, 0, 3]  # frame 17 reads 18.5: half of frame 19
    expected = torch.zeros(N)
    expected[17] = 0.5
    assert torch.allclose(faster, expected)
    x[..., 19] = 0.0
    x[..., 25] = 1.0  # 9.5 after the middle: slowed by 2 it would land at 34.5, outside the image
    assert stretch_time(x, torch.tensor([0.5])).sum() == 0


def test_views_with_warps_keep_shape_and_range_and_default_specs_do_not_warp():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(8, N * N)
    out = image_view(x, (N, N), ImageViewSpec(freq_warp=0.15, time_stretch=0.1, speed=0.1), g)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1 and not torch.allclose(out, x)
    assert torch.allclose(image_view(x, (N, N), ImageViewSpec(), torch.Generator().manual_seed(0)), x, atol=1e-5)
    assert torch.equal(voice_warp(x.view(8, 1, N, N), 0.0, 0.0, 0.0, g), x.view(8, 1, N, N))
