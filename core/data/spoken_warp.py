"""Views of log-mel images that change the voice but keep the word: speed perturbation and VTLP (Ko et al. 2015,
Jaitly & Hinton 2013), done on the image rather than the audio.

Why: time shifts and SpecAugment masks (core/data/spoken_masks.py) keep the speaker's pitch and formants, so a
label-free method can agree on two views of a clip by encoding the voice, which does not help to recognise a word
said by a voice never heard in training. A view whose frequencies are scaled by a factor ``a`` (a shorter or longer
vocal tract, a faster or slower recording) moves the energy at f Hz to a·f Hz; the word stays the same.

Frequency warp: output mel row m, whose band centre is f_m Hz, reads the input at the fractional row whose centre
would be f_m / a Hz (rows are the triangles of core/data/logmel.py's mel_filterbank: centres equally spaced in HTK
mel between 0 and rate / 2, row 0 the lowest), by linear interpolation between the two nearest rows. Time stretch:
output frame t reads input frame c + (t − c)·a about the image's middle frame c, so a > 1 is faster (shorter).
Positions outside the image read 0, which is silence in spoken-digits' images. One factor per image, the whole
batch at once (gather and lerp, no Python loop over images). Reached through ImageViewSpec's ``freq_warp``,
``time_stretch`` and ``speed`` (core/data/augment.py), off by default. Tried on speech-dino (bench/TUNING.md, third
pass): level with the preset's views on validation and on the held-out seeds, so no preset uses it yet.
"""
from __future__ import annotations

import torch

from core.data.logmel import hz_to_mel, mel_to_hz
from core.data.spoken_audio import RATE


def row_of_hz(f_hz: torch.Tensor, n_mels: int, rate: int = RATE) -> torch.Tensor:
    """Fractional mel row whose band centre is ``f_hz``: centre m sits at mel (m + 1)·Δ, Δ = mel(rate / 2) /
    (n_mels + 1), the n_mels + 2 filter corners being equally spaced from mel 0 to mel(rate / 2)."""
    step = float(hz_to_mel(rate / 2)) / (n_mels + 1)
    mel = 2595.0 * torch.log10(1.0 + f_hz.clamp(min=0) / 700.0)  # hz_to_mel, in torch
    return mel / step - 1.0


def band_centres_hz(n_mels: int, rate: int = RATE) -> torch.Tensor:
    """(n_mels,) centre frequency of each mel row, in Hz (float64)."""
    step = float(hz_to_mel(rate / 2)) / (n_mels + 1)
    return torch.as_tensor(mel_to_hz(step * torch.arange(1, n_mels + 1, dtype=torch.float64).numpy()))


def _resample(images: torch.Tensor, pos: torch.Tensor, axis: int) -> torch.Tensor:
    """Linear interpolation of (B, 1, H, W) ``images`` along ``axis`` (2: rows, 3: columns) at fractional
    positions ``pos`` (B, length of that axis); positions outside [0, length − 1] blend towards 0."""
    moved = images.movedim(axis, -1)  # the resampled axis last: (B, 1, other, length)
    length = moved.shape[-1]
    lo = pos.floor()
    frac = (pos - lo).to(images.dtype)
    lo = lo.long()
    padded = torch.nn.functional.pad(moved, (1, 1))  # one 0 on each side
    per_image = (moved.shape[0], 1, 1, length)
    out = torch.zeros_like(moved)
    for offset, weight in ((0, 1 - frac), (1, frac)):
        idx = (lo + offset + 1).clamp(0, length + 1)  # index into the padded axis; beyond it reads the pad's 0
        out = out + padded.gather(3, idx.view(per_image).expand(moved.shape)) * weight.view(per_image)
    return out.movedim(-1, axis)


def warp_frequency(images: torch.Tensor, factor: torch.Tensor, rate: int = RATE) -> torch.Tensor:
    """(B, 1, H, W) log-mel images, (B,) factors → each image with its energy at f Hz moved to factor·f Hz."""
    h = images.shape[2]
    centres = band_centres_hz(h, rate).to(images.device)  # (H,)
    source_hz = centres[None, :] / factor.to(torch.float64)[:, None]  # (B, H)
    return _resample(images, row_of_hz(source_hz, h, rate).to(torch.float32), axis=2)


def stretch_time(images: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W), (B,) factors → each image played ``factor`` times faster about its middle frame."""
    w = images.shape[3]
    middle = (w - 1) / 2
    t = torch.arange(w, device=images.device, dtype=torch.float32)
    return _resample(images, middle + (t[None, :] - middle) * factor.to(torch.float32)[:, None], axis=3)


def voice_warp(images: torch.Tensor, freq_warp: float, time_stretch: float, speed: float,
               generator: torch.Generator) -> torch.Tensor:
    """(B, 1, H, W) → random voice-changing views: per image, a frequency factor from [1 − freq_warp,
    1 + freq_warp], a time factor from [1 − time_stretch, 1 + time_stretch], and a speed factor from
    [1 − speed, 1 + speed] that scales both axes at once (speed perturbation); a width of 0 draws nothing."""
    b = images.shape[0]

    def draw(width: float) -> torch.Tensor:
        u = torch.rand(b, generator=generator, device=generator.device).to(images.device)
        return 1.0 + width * (2 * u - 1)

    ones = torch.ones(b, device=images.device)
    f_factor = draw(freq_warp) if freq_warp > 0 else ones
    t_factor = draw(time_stretch) if time_stretch > 0 else ones
    if speed > 0:
        s = draw(speed)
        f_factor, t_factor = f_factor * s, t_factor * s
    if freq_warp > 0 or speed > 0:
        images = warp_frequency(images, f_factor)
    if time_stretch > 0 or speed > 0:
        images = stretch_time(images, t_factor)
    return images
