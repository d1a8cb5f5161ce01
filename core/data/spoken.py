"""``data.name=spoken-digits``: the words zero…nine, synthesized by espeak-ng, as 32×32 log-mel images.

Voices are an accent (en, en-us, en-gb-scotland, …) with a speaker variant (+m1…+m7, +f1…+f5): 96 voices, each
saying every word TAKES times with its own speed, pitch, stretch, gain, start and noise (core/data/spoken_audio.py).
The split is **by voice**, never by clip: the test voices are never heard in training, the validation voices are a
third disjoint set (so the generation chosen on validation is chosen on unheard voices too), and the training part
holds the rest. The shares follow ``data.test_fraction`` (of the voices) and ``data.val_fraction`` (of the voices
left). The clips are synthesized once per seed and cached in the store (``<store>/cache/``, an .npz without
pickles); the log-mel features are recomputed from the cached int16 waveforms, which is fast.
"""
from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import numpy as np

from core.config import DataConfig
from core.data import logmel
from core.data.spoken_audio import RATE, WORDS, takes
from core.storage.run_store import default_root

ACCENTS = ("en", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029", "en-us-nyc")
VARIANTS = tuple(f"m{i}" for i in range(1, 8)) + tuple(f"f{i}" for i in range(1, 6))
VOICES = tuple(f"{a}+{v}" for a in ACCENTS for v in VARIANTS)
TAKES = 2  # takes of each word per voice: 96 voices × 10 words × 2 = 1,920 clips
N_MELS = FRAMES = 32
TOP_NATS = 12.0  # dynamic range kept below each image's loudest cell: 12 nats, about 52 dB
VERSION = 1  # bump when synthesis changes, so old caches are not read


def cache_path(seed: int) -> Path:
    """``<store>/cache/`` (``$SDLAB_DATA_CACHE`` instead when set), one file per seed and voice set."""
    folder = Path(os.environ.get("SDLAB_DATA_CACHE") or default_root() / "cache")
    tag = hashlib.sha256(f"{VERSION}|{TAKES}|{'|'.join(VOICES)}".encode()).hexdigest()[:10]
    return folder / f"spoken-digits-{tag}-seed{seed}.npz"


def clips(seed: int) -> dict[str, np.ndarray]:
    """The waveforms (int16, RATE Hz), labels and voice index of every clip: from the cache, or synthesized and
    cached. The dict's ``synthesis_seconds`` is 0 on a cache hit."""
    path = cache_path(seed)
    if path.exists():
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in ("waves", "labels", "voice_ids")} | {"synthesis_seconds": 0.0}
    started = time.perf_counter()
    waves, labels, voice_ids = takes(list(VOICES), TAKES, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, waves=waves, labels=labels, voice_ids=voice_ids)
    tmp.replace(path)  # atomic: a reader never sees half a cache
    return {"waves": waves, "labels": labels, "voice_ids": voice_ids,
            "synthesis_seconds": time.perf_counter() - started}


def features(waves: np.ndarray) -> np.ndarray:
    """int16 (n, samples) → (n, N_MELS·FRAMES) log-mel images, flattened row-major (mel rows, time columns).

    Each image is taken relative to its own loudest cell and keeps TOP_NATS below it (librosa's ``top_db``): the
    gain of a take no longer shifts every value, and the noise floor far below the word reads 0."""
    images = logmel.log_mel(waves.astype(np.float32) / 32768.0, RATE, n_mels=N_MELS, frames=FRAMES)
    images = np.maximum(images - images.max(axis=(1, 2), keepdims=True) + TOP_NATS, 0.0)
    return images.reshape(len(waves), N_MELS * FRAMES)


def voice_split(cfg: DataConfig, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, val, test) voice indices: a seeded shuffle of the voices, cut by the configured fractions."""
    n_voices = len(VOICES)
    order = np.random.default_rng(seed + 104_729).permutation(n_voices)
    n_test = max(1, int(round(cfg.test_fraction * n_voices)))
    n_val = int(round(cfg.val_fraction * (n_voices - n_test))) if cfg.val_fraction > 0 else 0
    n_val = max(1, n_val) if cfg.val_fraction > 0 else 0
    test, val, train = order[:n_test], order[n_test: n_test + n_val], order[n_test + n_val:]
    return np.sort(train), np.sort(val), np.sort(test)


def split_indices(cfg: DataConfig, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices (train, val, test) of ``load``'s rows, split by voice (core/data/splits.py calls this instead
    of its stratified split). Rows come voice by voice, 10·TAKES rows each."""
    per_voice = len(WORDS) * TAKES
    parts = voice_split(cfg, seed)
    return tuple(np.concatenate([np.arange(v * per_voice, (v + 1) * per_voice) for v in p]).astype(np.int64)
                 if len(p) else np.zeros(0, dtype=np.int64) for p in parts)


def facts(cfg: DataConfig, seed: int) -> dict:
    """What ``run --json`` reports under "dataset": the voices of each part (no synthesis needed)."""
    train, val, test = voice_split(cfg, seed)
    return {"train_voices": [VOICES[i] for i in train], "val_voices": [VOICES[i] for i in val],
            "test_voices": [VOICES[i] for i in test], "sample_rate": RATE, "clips_per_voice": len(WORDS) * TAKES}


def test_waveforms(cfg: DataConfig, seed: int) -> np.ndarray:
    """int16 (n_test, samples) waveforms of the test split, in the order of the dataset's test rows."""
    return clips(seed)["waves"][split_indices(cfg, seed)[2]]


def test_arrays(cfg: DataConfig, seed: int) -> dict[str, np.ndarray]:
    """What a run keeps beside its test inputs (core/data/splits.py asks): the test clips' audio, for listening."""
    return {"test_audio": test_waveforms(cfg, seed), "audio_rate": np.array(RATE)}


def load(cfg: DataConfig, seed: int) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    data = clips(seed)
    return features(data["waves"]), data["labels"], (N_MELS, FRAMES)
