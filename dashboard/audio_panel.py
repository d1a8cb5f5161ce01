"""Listen to a clicked test clip of a speech run: the point detail already draws its log-mel image (the input the
network saw) and the class probabilities per generation; this adds the sound itself.

A spoken-digits run keeps its test clips as int16 samples with their rate (``test_audio`` and ``audio_rate`` in the
run's run.npz; core/data/spoken.py). They are wrapped as a 16-bit mono WAV with the standard library, so what plays
is exactly what was stored. Runs without audio show nothing here.
"""
from __future__ import annotations

import io
import wave
from typing import Mapping

import numpy as np
import streamlit as st

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    """16-bit mono WAV of int16 ``samples`` at ``rate`` Hz."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(rate))
        w.writeframes(np.asarray(samples, dtype="<i2").tobytes())
    return buffer.getvalue()


def show(run_arrays: Mapping[str, np.ndarray], index: int) -> None:
    audio = run_arrays.get("test_audio")
    if audio is None or index >= len(audio):
        return
    label = int(run_arrays["y_test"][index])
    word = WORDS[label] if label < len(WORDS) else str(label)
    st.markdown(f"**Listen:** test clip {index}, the word “{word}” spoken by a voice never heard in training")
    st.audio(wav_bytes(audio[index], int(run_arrays["audio_rate"])), format="audio/wav")
    st.caption("Above: its 32×32 log-mel image (rows: mel bands, low to high; columns: 31 ms frames), the input the "
               "network saw, and each generation's class probabilities.")
