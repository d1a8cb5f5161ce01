"""What the Introduction page says, kept apart from drawing it so tests can read it: the teacher → student →
next generation diagram (Graphviz DOT, drawn in the browser by Streamlit's own bundle: no network) and the
presets with their texts, read from core/presets.py rather than copied."""
from __future__ import annotations

from core import catalog
from core.presets import PRESETS, Preset

DEMO_PRESET = "digits-ban-noisy"  # Launch's DEFAULT_PRESET (a test keeps them equal)
GENERATIONS_DRAWN = 3

WHAT = (
    "**Self-distillation** trains a network, then trains a fresh copy of the same network to imitate it. "
    "The trained one is the *teacher*; the copy is the *student*. The student does not learn from the labels "
    "alone but from the teacher's outputs, softened by a temperature so that its second and third guesses "
    "count too. When the student is trained, it becomes the teacher of the next generation.")
WHY = (
    "Why would a copy learn anything its teacher did not know? On noisy labels, generation 0 memorises part of "
    "the wrong labels; its outputs are smoother than those labels, so each later generation copies less of "
    "the noise. Label-free (DINO-style) runs use no labels at all: a student matches a slowly moving average of "
    "itself (the teacher) across differently shifted or cropped views of the same input, and the features it "
    "learns are scored with a k-NN classifier against fair baselines.")
WHERE = (
    "On **Launch** you pick a preset and start a run; the **Runs** page then shows it live: the loss per epoch "
    "(and, for supervised runs, the accuracy per epoch), the accuracy per generation, and a 2-D view of the "
    "features, generation by generation. **Compare** overlays runs, and **Theory** works self-distillation out "
    "in closed form for kernel ridge regression.")


def diagram(generations: int = GENERATIONS_DRAWN) -> str:
    """The chain as DOT: labels teach generation 0; each generation, softened at temperature T, teaches the next."""
    lines = ["digraph selfdistillation {", "  rankdir=LR; bgcolor=transparent;",
             '  node [shape=box, style="rounded,filled", fontname="sans-serif", fontsize=14, color="#4a7cc2", '
             'fillcolor="#eef4fb"];', '  edge [fontname="sans-serif", fontsize=12, color="#555555"];',
             '  labels [label="training data\\n(with its labels)", shape=folder, fillcolor="#f4f5f7", '
             'color="#8A8F98"];']
    for g in range(generations):
        role = "teacher" if g == 0 else "student, then teacher" if g < generations - 1 else "student"
        lines.append(f'  g{g} [label="generation {g}\\n({role})"];')
    lines.append('  labels -> g0 [label="learns the labels"];')
    for g in range(1, generations):
        lines.append(f'  g{g - 1} -> g{g} [label="soft outputs\\nat temperature T"];')
    lines.append('  more [label="…", shape=plaintext, style=""];')
    lines.append(f'  g{generations - 1} -> more;')
    lines.append("}")
    return "\n".join(lines)


def preset_rows() -> list[tuple[Preset, str]]:
    """Every preset with what kind of run it is (born-again or label-free, and how many runs it launches)."""
    rows = []
    for preset in PRESETS.values():
        config = preset.config()
        kind = "supervised (born-again)" if catalog.method(config.method.name).supervised else "label-free (DINO)"
        runs = f", {len(preset.variants)} runs compared" if preset.variants else ""
        rows.append((preset, f"{kind}, {config.method.generations} generation"
                             f"{'s' if config.method.generations != 1 else ''} on {config.data.name}{runs}"))
    return rows
