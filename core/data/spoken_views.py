"""SpecAugment-style views of log-mel images (Park et al. 2019) for label-free runs on spoken-digits.

A view of a spoken word should keep the word: it may start a little earlier or later (time shift, along the
frame axis only: a shift across mel bands would change the voice, not the timing), and lose a few consecutive
frames (time masking) or a few consecutive mel bands (frequency masking); masked cells read 0, which is silence in
spoken-digits' images (core/data/spoken.py). Shifting is done by core/data/augment.py's ``time_shift``; the masks
are drawn in core/data/spoken_masks.py (which augment.py calls).
"""
from __future__ import annotations

from core.config import MethodConfig
from core.data.augment import ImageViewSpec

TIME_MASK = 6  # widest masked run of frames (of 32)
FREQ_MASK = 4  # widest masked run of mel bands (of 32)


def speech_specs(m: MethodConfig) -> tuple[ImageViewSpec, ImageViewSpec]:
    """(global, local) view specs for spoken words: time shift of up to ``method.view_shift`` frames, time and
    frequency masks; local views mask twice as wide. No crop, rotation or stroke change (meaningless here)."""
    global_view = ImageViewSpec(time_shift=m.view_shift, time_mask=TIME_MASK, freq_mask=FREQ_MASK)
    local_view = ImageViewSpec(time_shift=m.view_shift, time_mask=2 * TIME_MASK, freq_mask=2 * FREQ_MASK)
    return global_view, local_view
