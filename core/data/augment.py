"""Random views of a batch for label-free training: whole-batch tensor ops, no per-sample Python loops.

    views = make_views(x, image_shape=(8, 8), n_global=2, n_local=2, generator=g)   # list of (B, D)

Images (flat rows in [0, 1]): strokes are thickened or thinned (a blend towards a 3×3 dilation or erosion),
then one ``affine_grid``/``grid_sample`` call per view crops, zooms, shifts (and optionally rotates) every
sample by its own offsets; optionally a small patch of another image of the batch is pasted on (clutter the
features should learn to ignore); optional pixel masking and noise follow; values stay in [0, 1]. By default
global views keep 80-100% of the image side, local views zoom into a window of 60-80%; ``image_specs`` builds
other strengths (a wider shift for a digit on a larger canvas, a window larger than the image to zoom out).
Other vectors (2-D toy sets, CSV features, standardised): per-sample scaling, feature masking and
gaussian noise.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class ImageViewSpec:
    """How strongly one kind of image view distorts its input; the defaults leave the image as it is."""

    crop: tuple[float, float] = (1.0, 1.0)  # side of the sampled window / the image side (> 1 zooms out)
    shift: float = 0.0  # largest extra translation of the window, in pixels
    rotate: float = 0.0  # largest rotation of the window, in degrees
    thickness: float = 0.0  # largest blend towards a 3×3 dilation (thicker strokes) or erosion (thinner ones)
    mask: float = 0.0  # probability that a pixel is set to 0
    noise: float = 0.0  # std of the additive gaussian noise
    fragment: int = 0  # side of a patch of another image of the batch pasted at a random position; 0: none
    time_shift: float = 0.0  # largest extra translation along the width (time) axis only, in pixels (frames)
    time_mask: int = 0  # widest run of columns set to 0 (SpecAugment; core/data/spoken_masks.py)
    freq_mask: int = 0  # widest run of rows set to 0
    freq_warp: float = 0.0  # mel rows moved by a frequency factor in [1 - w, 1 + w] (core/data/spoken_warp.py)
    time_stretch: float = 0.0  # frames resampled by a factor in [1 - s, 1 + s] about the middle frame
    speed: float = 0.0  # both of the above by one factor in [1 - v, 1 + v] (speed perturbation)


@dataclass(frozen=True)
class VectorViewSpec:
    """How strongly one kind of vector view distorts its input; the defaults leave the vector as it is."""

    scale: float = 0.0  # each sample is multiplied by a factor drawn from [1 - scale, 1 + scale]
    mask: float = 0.0  # probability that a feature is set to 0
    noise: float = 0.0  # std of the additive gaussian noise


# On digits, pixel masking and noise in the views lowered the k-NN of DINO features and rotations gave nothing,
# while thicker/thinner strokes helped a little; they stay available as knobs.
GLOBAL_IMAGE = ImageViewSpec(crop=(0.8, 1.0), shift=1.0, thickness=0.3)
LOCAL_IMAGE = ImageViewSpec(crop=(0.6, 0.8), shift=1.0, thickness=0.3)
GLOBAL_VECTOR = VectorViewSpec(scale=0.1, mask=0.1, noise=0.1)
LOCAL_VECTOR = VectorViewSpec(scale=0.2, mask=0.3, noise=0.2)
FRAGMENT_SIDE = 4  # side of the patch a fragment view pastes
FRAGMENT_MIN_INK = 2.0  # a pasted patch holds at least this much ink (two full pixels): never a blank patch


def image_specs(shift: float = 1.0, crop: tuple[float, float] = (0.8, 1.0),
                fragment: int = 0) -> tuple[ImageViewSpec, ImageViewSpec]:
    """(global, local) image view specs: ``crop`` is the global window's side range, ``shift`` (pixels) and
    ``fragment`` apply to both kinds. The defaults give GLOBAL_IMAGE and LOCAL_IMAGE."""
    return (ImageViewSpec(crop=crop, shift=shift, thickness=GLOBAL_IMAGE.thickness, fragment=fragment),
            ImageViewSpec(crop=LOCAL_IMAGE.crop, shift=shift, thickness=LOCAL_IMAGE.thickness, fragment=fragment))


def _uniform(shape: tuple[int, ...], low: float, high: float, generator: torch.Generator,
             device: torch.device) -> torch.Tensor:
    """Uniform draws in [low, high), made with ``generator`` on its own device, then moved to ``device``."""
    u = torch.rand(shape, generator=generator, device=generator.device)
    return (low + (high - low) * u).to(device)


def _keep_mask(shape: tuple[int, ...], p: float, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """1.0 where an entry is kept, 0.0 where it is masked (probability ``p``)."""
    return (_uniform(shape, 0.0, 1.0, generator, device) >= p).float()


def _stroke_width(images: torch.Tensor, amount: torch.Tensor) -> torch.Tensor:
    """Blend each image towards its 3×3 dilation (amount > 0) or erosion (amount < 0) by |amount|."""
    thicker = F.max_pool2d(images, 3, stride=1, padding=1)
    thinner = -F.max_pool2d(-images, 3, stride=1, padding=1)
    return images + amount.clamp(min=0) * (thicker - images) + (-amount).clamp(min=0) * (thinner - images)


def image_view(x: torch.Tensor, image_shape: tuple[int, int], spec: ImageViewSpec,
               generator: torch.Generator) -> torch.Tensor:
    """One random view of flat images ``x`` (B, H·W) in [0, 1]; the result has the same shape and range."""
    b, (h, w) = x.shape[0], image_shape
    images = x.reshape(b, 1, h, w)  # (B, 1, H, W)
    if spec.thickness > 0:
        images = _stroke_width(images, _uniform((b, 1, 1, 1), -spec.thickness, spec.thickness, generator, x.device))
    if spec.freq_warp > 0 or spec.time_stretch > 0 or spec.speed > 0:
        from core.data.spoken_warp import voice_warp  # voice-changing views of spoken words

        images = voice_warp(images, spec.freq_warp, spec.time_stretch, spec.speed, generator)
    side = _uniform((b,), *spec.crop, generator, x.device)  # window side in units of the image side
    # The window centre may move so that the window stays inside the image (a window larger than the image may
    # not move for that reason), plus up to `shift` pixels more.
    room_x = (1 - side).clamp(min=0) + 2 * (spec.shift + spec.time_shift) / w  # coordinates span 2 per side
    room_y = (1 - side).clamp(min=0) + 2 * spec.shift / h
    cx = room_x * _uniform((b,), -1.0, 1.0, generator, x.device)
    cy = room_y * _uniform((b,), -1.0, 1.0, generator, x.device)
    angle = torch.deg2rad(_uniform((b,), -spec.rotate, spec.rotate, generator, x.device))
    cos, sin = side * torch.cos(angle), side * torch.sin(angle)
    theta = torch.stack([torch.stack([cos, -sin, cx], 1), torch.stack([sin, cos, cy], 1)], 1)  # (B, 2, 3)
    grid = F.affine_grid(theta, [b, 1, h, w], align_corners=False)
    out = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if spec.fragment > 0:
        out = paste_fragments(out, x.reshape(b, 1, h, w), spec.fragment, generator)
    if spec.time_mask > 0 or spec.freq_mask > 0:
        from core.data.spoken_masks import band_masks  # SpecAugment masks for spoken words

        out = band_masks(out, spec.time_mask, spec.freq_mask, generator)
    out = out.reshape(b, h * w) * _keep_mask((b, h * w), spec.mask, generator, x.device)
    out = out + spec.noise * torch.randn(out.shape, generator=generator, device=generator.device).to(x.device)
    return out.clamp_(0.0, 1.0)


def paste_fragments(images: torch.Tensor, sources: torch.Tensor, side: int,
                    generator: torch.Generator) -> torch.Tensor:
    """Paste on each of ``images`` (B, 1, H, W) a side×side patch of another row of ``sources`` (same shape),
    drawn among that row's patches holding at least FRAGMENT_MIN_INK (any patch where none does), at a random
    position; where the patch overlaps strokes the brighter pixel stays (strokes cross, none is erased)."""
    b, _, h, w = images.shape
    if b < 2 or side > min(h, w):
        return images
    rand = lambda high, shape: torch.randint(high, shape, generator=generator, device=generator.device)  # noqa: E731
    other = (torch.arange(b) + 1 + rand(b - 1, (b,)).cpu()) % b  # i + 1 .. i + b − 1: never the image itself
    patches = F.unfold(sources[other.to(sources.device)], side)  # (B, side², positions)
    ink = patches.sum(1)  # (B, positions)
    weights = (ink >= FRAGMENT_MIN_INK).float()
    weights[weights.sum(1) == 0] = 1.0
    pick = torch.multinomial(weights.to(generator.device), 1, generator=generator).to(images.device)  # (B, 1)
    patch = patches.gather(2, pick[:, None, :].expand(b, side * side, 1)).reshape(b, side, side)
    top, left = rand(h - side + 1, (b, 1, 1)).to(images.device), rand(w - side + 1, (b, 1, 1)).to(images.device)
    steps = torch.arange(side, device=images.device)
    rows, cols = top + steps[None, :, None], left + steps[None, None, :]  # (B, side, 1), (B, 1, side)
    batch = torch.arange(b, device=images.device)[:, None, None]
    out = images.clone()
    out[batch, 0, rows, cols] = torch.maximum(out[batch, 0, rows, cols], patch)
    return out


def vector_view(x: torch.Tensor, spec: VectorViewSpec, generator: torch.Generator) -> torch.Tensor:
    """One random view of feature rows ``x`` (B, D): scaled per sample, masked per feature, plus noise."""
    scale = _uniform((x.shape[0], 1), 1 - spec.scale, 1 + spec.scale, generator, x.device)
    noise = torch.randn(x.shape, generator=generator, device=generator.device).to(x.device)
    return x * scale * _keep_mask(tuple(x.shape), spec.mask, generator, x.device) + spec.noise * noise


def make_views(x: torch.Tensor, image_shape: tuple[int, int] | None, n_global: int = 2, n_local: int = 0,
               generator: torch.Generator | None = None,
               specs: tuple[ImageViewSpec, ImageViewSpec] | None = None) -> list[torch.Tensor]:
    """``n_global`` mild views then ``n_local`` aggressive ones of the batch ``x``, each (B, D) like ``x``.
    ``specs`` (global, local) replaces GLOBAL_IMAGE and LOCAL_IMAGE for images."""
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    if image_shape is not None:
        if x.shape[1] != image_shape[0] * image_shape[1]:
            raise ValueError(f"rows of {x.shape[1]} values do not match image_shape {image_shape}")
        one = lambda spec: image_view(x, image_shape, spec, generator)  # noqa: E731
        specs = specs or (GLOBAL_IMAGE, LOCAL_IMAGE)
    else:
        one = lambda spec: vector_view(x, spec, generator)  # noqa: E731
        specs = (GLOBAL_VECTOR, LOCAL_VECTOR)
    return [one(specs[0]) for _ in range(n_global)] + [one(specs[1]) for _ in range(n_local)]
