"""core/data/logmel.py against numbers worked out by hand or from the published formulas, not from its own output."""
from __future__ import annotations

import numpy as np
import pytest

from core.data import logmel


def test_htk_mel_scale_published_values():
    # mel(f) = 2595 log10(1 + f/700): 1000 Hz is 1000 mel by design; 700 Hz is 2595·log10(2) = 781.17 mel
    assert logmel.hz_to_mel(1000.0) == pytest.approx(1000.0, abs=0.02)
    assert logmel.hz_to_mel(700.0) == pytest.approx(781.17, abs=0.01)
    assert logmel.hz_to_mel(4000.0) == pytest.approx(2146.06, abs=0.01)  # 2595·log10(6.7142857)
    f = np.array([0.0, 123.0, 1000.0, 3999.0])
    np.testing.assert_allclose(logmel.mel_to_hz(logmel.hz_to_mel(f)), f, atol=1e-9)


def test_one_band_filterbank_by_hand():
    # one band between 0 and 4000 Hz: its peak at mel 2146.06 / 2 = 1073.03,
    # i.e. 700·(10^(1073.03/2595) − 1) = 1113.8 Hz
    bank = logmel.mel_filterbank(1, 512, 8000)[0]
    freqs = np.arange(257) * 8000 / 512
    assert freqs[bank.argmax()] == pytest.approx(1113.8, abs=8000 / 512)
    assert bank.max() == pytest.approx(1.0, abs=0.02) and bank[0] == 0.0 and bank[-1] == 0.0
    # linear rise: at 556.9 Hz (half way to the peak) the weight is one half
    assert np.interp(556.9, freqs, bank) == pytest.approx(0.5, abs=0.01)


def test_hand_worked_four_sample_stft():
    # x = 0, 1, 0, −1 repeated; frame 1 is centred on sample 4: samples 2..5 = [0, −1, 0, 1]; periodic Hann(4) =
    # [0, .5, 1, .5]; windowed [0, −.5, 0, .5]; DFT: X0 = 0, X1 = (−.5)(−i) + (.5)(i) = i, X2 = .5 − .5 = 0
    x = np.tile([0.0, 1.0, 0.0, -1.0], 2)
    power = logmel.stft_power(x, n_fft=4, hop=4)
    assert power.shape == (3, 3)  # 1 + 8 // 4 frames, 4 // 2 + 1 bins
    np.testing.assert_allclose(power[1], [0.0, 1.0, 0.0], atol=1e-12)


def test_parseval_on_one_frame():
    rng = np.random.default_rng(0)
    x, n = rng.standard_normal(4096), 512
    power = logmel.stft_power(x, n_fft=n, hop=256)
    t = 5  # frame t covers x[t·256 − 256 : t·256 + 256] (centred, half a window of padding)
    segment = x[t * 256 - 256: t * 256 + 256] * (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n))
    one_sided = power[t, 0] + power[t, -1] + 2 * power[t, 1:-1].sum()
    assert one_sided == pytest.approx(n * np.sum(segment ** 2), rel=1e-10)


@pytest.mark.parametrize("tone", [300.0, 1000.0, 2500.0])
def test_pure_tone_lands_in_the_band_holding_its_frequency(tone):
    rate, n_mels = 8000, 32
    x = 0.5 * np.sin(2 * np.pi * tone * np.arange(rate) / rate)
    image = logmel.log_mel(x, rate, n_mels=n_mels, frames=32)
    assert image.shape == (32, 32)
    loudest = np.bincount(image.argmax(axis=0), minlength=n_mels).argmax()
    # band m spans corners m..m+2, corners equally spaced in mel from 0 to mel(4000)
    corners = logmel.mel_to_hz(np.linspace(0, 2595 * np.log10(1 + 4000 / 700), n_mels + 2))
    assert corners[loudest] < tone < corners[loudest + 2]
    assert abs(corners[loudest + 1] - tone) == min(abs(corners[1:-1] - tone))  # the band peaking nearest the tone
    assert image.min() >= 0.0  # log(1 + power / floor) never negative


def test_mfcc_of_a_flat_spectrum_is_the_orthonormal_dc_term():
    bands = np.full((1, 32, 4), 3.0)
    c = logmel.mfcc(bands, 13)
    assert c[0, 0] == pytest.approx(np.full(4, 3.0 * np.sqrt(32)))  # orthonormal DCT-II: c0 = sum / sqrt(N)
    np.testing.assert_allclose(c[0, 1:], 0.0, atol=1e-12)
    summary = logmel.mfcc_mean_std(bands, 13)
    assert summary.shape == (1, 26) and summary[0, 13:].max() == pytest.approx(0.0, abs=1e-6)
