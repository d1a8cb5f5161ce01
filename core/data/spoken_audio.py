"""The words zero…nine spoken by espeak-ng, then made less tidy: time stretch, gain, time shift, additive noise.

espeak-ng (Debian package ``espeak-ng``) writes a WAV to stdout; its header's length field is left at a placeholder
when it streams, so the frames are read to the end of the bytes rather than trusted. Two synthesis calls run at a
time (threads: each waits on its own espeak-ng process). Everything random is drawn from one seeded generator
before any process starts, so the same seed gives the same clips whatever order the processes finish in.
"""
from __future__ import annotations

import io
import shutil
import subprocess
import wave
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.signal import resample_poly

from core.data.files import DataError

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
RATE = 8000  # Hz after resampling: telephone band, enough for digits
CLIP = RATE  # samples per clip: one second
ESPEAK_RATE = 22050
INSTALL = "espeak-ng is not installed: spoken-digits synthesizes its words with it; install the Debian package " \
          "espeak-ng (sudo apt-get install espeak-ng)"

# How untidy a take is (bench/TUNING.md): espeak-ng's own speed (words per minute) and pitch (0-99), then a stretch
# of the waveform (which shifts pitch too), a gain, a random start in the clip and white noise at a random SNR.
SPEED = (110, 210)
PITCH = (15, 85)
STRETCH = (0.8, 1.25)
GAIN_DB = (-12.0, 6.0)
SNR_DB = (0.0, 15.0)
WORD_GAP = 60  # espeak-ng -g: pause between words, in 10 ms units at the default speed


def espeak_path() -> str:
    """The espeak-ng binary; DataError (one line naming the package and the command) when it is missing."""
    path = shutil.which("espeak-ng")
    if path is None:
        raise DataError(INSTALL)
    return path


def synthesize(binary: str, voice: str, speed: int, pitch: int) -> list[np.ndarray]:
    """The ten words in one espeak-ng call (a process per word cost more than the speech), as float64 samples in
    [-1, 1] at RATE Hz. The words are spoken with long gaps (-g) and cut at the nine longest silences, which are
    tens of times longer than any silence inside a word (the stop in "six", "eight")."""
    done = subprocess.run([binary, "-v", voice, "-s", str(speed), "-p", str(pitch), "-g", str(WORD_GAP), "--stdout",
                           " ".join(WORDS)], capture_output=True, check=False, timeout=120)
    if done.returncode != 0 or len(done.stdout) < 44:
        raise DataError(f"espeak-ng failed for voice {voice!r}: {done.stderr.decode(errors='replace').strip()}")
    with wave.open(io.BytesIO(done.stdout)) as w:
        rate, width = w.getframerate(), w.getsampwidth()
        frames = w.readframes(1 << 30)  # the streamed header's length is a placeholder: read what is there
    if width != 2:
        raise DataError(f"espeak-ng wrote {8 * width}-bit audio; 16-bit expected")
    samples = np.frombuffer(frames[: len(frames) // 2 * 2], dtype="<i2").astype(np.float64) / 32768.0
    words = split_words(samples)
    if len(words) != len(WORDS):
        raise DataError(f"espeak-ng voice {voice!r}: could not cut its speech into {len(WORDS)} words")
    g = np.gcd(RATE, rate)
    return [resample_poly(word, RATE // g, rate // g) for word in words]


def split_words(x: np.ndarray, threshold: float = 0.02) -> list[np.ndarray]:
    """Cut speech at its len(WORDS) - 1 longest silences; [] unless they stand clearly apart from the rest."""
    loud = np.flatnonzero(np.abs(x) > threshold * max(np.abs(x).max(), 1e-9))
    if len(loud) < 2:
        return []
    gaps = np.diff(loud)
    cuts = np.sort(np.argsort(gaps)[-(len(WORDS) - 1):])
    rest = np.delete(gaps, cuts)
    if len(cuts) != len(WORDS) - 1 or (rest.size and gaps[cuts].min() < 3 * rest.max()):
        return []
    starts = np.concatenate([[loud[0]], loud[cuts + 1]])
    ends = np.concatenate([loud[cuts], [loud[-1]]]) + 1
    return [x[a:b] for a, b in zip(starts, ends)]


def trim(x: np.ndarray, threshold: float = 0.02) -> np.ndarray:
    """The word without the silence espeak-ng puts around it."""
    loud = np.flatnonzero(np.abs(x) > threshold * max(np.abs(x).max(), 1e-9))
    return x[loud[0]: loud[-1] + 1] if loud.size else x


def stretch(x: np.ndarray, factor: float) -> np.ndarray:
    """Play ``factor`` times longer (linear interpolation): slower and lower."""
    n = max(2, int(round(len(x) * factor)))
    return np.interp(np.linspace(0, len(x) - 1, n), np.arange(len(x)), x)


def place(x: np.ndarray, start_fraction: float) -> np.ndarray:
    """The word in a CLIP-long clip, starting at ``start_fraction`` of the free room (cropped when too long)."""
    out = np.zeros(CLIP)
    x = x[:CLIP]
    start = int(start_fraction * (CLIP - len(x)))
    out[start: start + len(x)] = x
    return out


def untidy(x: np.ndarray, draws: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Apply one take's draws (stretch, gain dB, start, SNR dB) and its white-noise stream to a clean word."""
    factor, gain_db, start, snr_db = draws
    word = stretch(trim(x), factor)
    word = word / max(np.abs(word).max(), 1e-9) * 0.5 * 10 ** (gain_db / 20)
    clip = place(word, start)
    signal_power = np.mean(word ** 2)
    clip = clip + noise * np.sqrt(signal_power * len(word) / CLIP / 10 ** (snr_db / 10))
    return np.clip(clip, -1.0, 1.0)


def takes(voices: list[str], per_voice_word: int, seed: int,
          workers: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every voice saying every word ``per_voice_word`` times: one espeak-ng call per take (its own speed and
    pitch), then each clip its own stretch, gain, start and noise.

    Returns (waveforms int16 (n, CLIP), labels (n,), voice index (n,)), rows voice by voice, take by take, word
    by word."""
    binary = espeak_path()
    rng = np.random.default_rng(seed)
    calls = [(v, t) for v in range(len(voices)) for t in range(per_voice_word)]
    speeds = rng.integers(SPEED[0], SPEED[1] + 1, size=len(calls))
    pitches = rng.integers(PITCH[0], PITCH[1] + 1, size=len(calls))
    n = len(calls) * len(WORDS)
    draws = np.stack([np.exp(rng.uniform(*np.log(STRETCH), size=n)), rng.uniform(*GAIN_DB, size=n),
                      rng.uniform(size=n), rng.uniform(*SNR_DB, size=n)], axis=1)
    noise_seeds = rng.integers(0, 2 ** 63, size=n)

    def one(c: int) -> np.ndarray:
        words = synthesize(binary, voices[calls[c][0]], int(speeds[c]), int(pitches[c]))
        rows = range(c * len(WORDS), (c + 1) * len(WORDS))
        return np.stack([np.round(32767 * untidy(w, draws[i], np.random.default_rng(noise_seeds[i]).standard_normal(
            CLIP))).astype(np.int16) for w, i in zip(words, rows)])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        waves = np.concatenate(list(pool.map(one, range(len(calls)))))
    labels = np.tile(np.arange(len(WORDS), dtype=np.int64), len(calls))
    voice_ids = np.repeat(np.array([v for v, _ in calls], dtype=np.int64), len(WORDS))
    return waves, labels, voice_ids
