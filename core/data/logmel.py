"""Log-mel spectrograms and MFCCs in numpy: torchaudio has no build for the pinned torch, and these are short.

STFT: periodic Hann window, frames centred on multiples of the hop (the signal reflect-padded by half a window), the
one-sided power spectrum |X_k|^2. Mel scale: HTK's, mel(f) = 2595 log10(1 + f / 700), so mel(1000 Hz) = 1000.
Filterbank: triangles whose corners sit at equally spaced mels (peak 1, no area normalisation). The log keeps
values non-negative, log(1 + power / FLOOR), because image datasets are scaled by their maximum
(core/data/splits.py): a negative log would flip sign there. MFCC: the orthonormal DCT-II of the log-mel bands.
"""
from __future__ import annotations

import numpy as np
from scipy.fft import dct

FLOOR = 1e-6  # power below which a band counts as silence (waveforms in [-1, 1])


def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def stft_power(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """(..., samples) → (..., frames, n_fft // 2 + 1) power spectra; frame t is centred on sample t·hop."""
    pad = n_fft // 2
    padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad, pad)], mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft, axis=-1)[..., ::hop, :]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic Hann
    spectrum = np.fft.rfft(frames * window, axis=-1)
    return spectrum.real ** 2 + spectrum.imag ** 2


def mel_filterbank(n_mels: int, n_fft: int, rate: int, f_min: float = 0.0, f_max: float | None = None) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1): band m rises linearly from corner m to a peak of 1 at corner m+1 and falls to 0
    at corner m+2, the n_mels + 2 corners equally spaced in mel between f_min and f_max (default rate / 2)."""
    f_max = rate / 2 if f_max is None else f_max
    corners = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))
    freqs = np.arange(n_fft // 2 + 1) * rate / n_fft
    lower, centre, upper = corners[:-2, None], corners[1:-1, None], corners[2:, None]
    rising = (freqs - lower) / (centre - lower)
    falling = (upper - freqs) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling))


def log_mel(x: np.ndarray, rate: int, n_mels: int = 32, n_fft: int = 512, hop: int = 256,
            frames: int | None = None) -> np.ndarray:
    """(..., samples) → (..., n_mels, frames) float32 log-mel spectrogram, low frequencies in row 0; ``frames``
    keeps the first that many (all when None)."""
    power = stft_power(np.asarray(x, dtype=np.float64), n_fft, hop)
    if frames is not None:
        power = power[..., :frames, :]
    mel = power @ mel_filterbank(n_mels, n_fft, rate).T  # (..., frames, n_mels)
    return np.log1p(mel / FLOOR).swapaxes(-1, -2).astype(np.float32)


def mfcc(log_mel_bands: np.ndarray, n_coefficients: int = 13) -> np.ndarray:
    """(..., n_mels, frames) log-mel → (..., n_coefficients, frames): orthonormal DCT-II over the mel axis."""
    return dct(log_mel_bands, type=2, axis=-2, norm="ortho")[..., :n_coefficients, :]


def mfcc_mean_std(log_mel_bands: np.ndarray, n_coefficients: int = 13) -> np.ndarray:
    """(n, n_mels, frames) → (n, 2·n_coefficients): each coefficient's mean and standard deviation over time, the
    classic fixed-length summary of a word."""
    c = mfcc(log_mel_bands, n_coefficients)
    return np.concatenate([c.mean(-1), c.std(-1)], axis=-1).astype(np.float32)


def mfcc_features(x_train: np.ndarray, x_test: np.ndarray,
                  image_shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Flattened log-mel images → MFCC mean/std vectors, standardised with the training part's statistics (k-NN
    would otherwise weigh c0, the loudness, above everything)."""
    train, test = (mfcc_mean_std(x.reshape(len(x), *image_shape)) for x in (x_train, x_test))
    mean, std = train.mean(0), train.std(0)
    std[std == 0] = 1.0
    return (train - mean) / std, (test - mean) / std
