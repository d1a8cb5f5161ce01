"""The bench's machinery on tiny sizes: FLOP counts against hand counts, the timing helpers on fake timers, both
training loops for one epoch, and the driver's output format. No timing is asserted."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bench.flops import forward_flops, generation_flops
from bench.measure import interleave, median_ratio
from bench.trainer_speed import dataloader_seconds, digits, project_seconds
from core.models.cnn import CNN
from core.models.mlp import MLP

ROOT = Path(__file__).resolve().parents[1]


def test_forward_flops_of_a_two_layer_mlp_by_hand():
    # 4 -> 3 -> 3 -> 2: 2·(4·3 + 3·3 + 3·2) = 54 FLOPs per sample; biases and ReLUs are not counted.
    model = MLP(in_dim=4, n_classes=2, hidden=3, depth=2)
    assert forward_flops(model, torch.zeros(5, 4)) == 54
    assert model.training  # the count runs in eval mode and restores the mode


def test_forward_flops_of_the_cnn_by_hand():
    # 8×8 input: conv 1→16 and 16→32 (3×3, padding 1) at 8×8, pool to 4×4, dense 512→20, head 20→10.
    conv1, conv2 = 2 * 1 * 9 * 16 * 64, 2 * 16 * 9 * 32 * 64
    dense, head = 2 * 32 * 4 * 4 * 20, 2 * 20 * 10
    model = CNN((8, 8), n_classes=10, hidden=20, batch_norm=True)
    assert forward_flops(model, torch.zeros(2, 64)) == conv1 + conv2 + dense + head


def test_generation_flops_counts_training_test_and_teacher_passes():
    assert generation_flops(10, n_train=100, n_test=20, epochs=3, with_teacher=False) == 10 * (3 * 100 * 3 + 20 * 3)
    assert generation_flops(10, 100, 20, 3, True) - generation_flops(10, 100, 20, 3, False) == 10 * 100


def test_interleave_alternates_and_median_ratio_pairs_rounds():
    calls = []
    times = interleave({"a": lambda: calls.append("a") or 2.0, "b": lambda: calls.append("b") or 1.0}, rounds=3)
    assert calls == ["a", "b"] * 3 and times == {"a": [2.0] * 3, "b": [1.0] * 3}
    assert median_ratio([4.0, 9.0, 1.0], [2.0, 3.0, 1.0]) == pytest.approx(2.0)


def test_both_training_loops_run_one_epoch():
    cpu = torch.device("cpu")
    config, data, tensors = digits(1, cpu)
    assert project_seconds(config, data, tensors, cpu) > 0
    assert project_seconds(config, data, tensors, cpu, fast_step=False) > 0
    assert dataloader_seconds(config, data, cpu) > 0


def test_run_quick_only_flops_prints_name_value_lines_and_writes_the_table(tmp_path):
    out = tmp_path / "RESULTS.md"
    result = subprocess.run([sys.executable, "bench/run.py", "--quick", "--only", "flops", "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines and all(re.fullmatch(r"\w+: \S+", line) for line in lines), lines
    assert "trainer_forward_mflops_per_sample: 0.169" in lines  # 2·(64·256 + 256·256 + 256·10) FLOPs
    table = out.read_text()
    assert "| trainer_forward_mflops_per_sample | 0.169 |" in table and "Command: `python bench/run.py" in table


def test_unknown_section_is_refused():
    result = subprocess.run([sys.executable, "bench/run.py", "--only", "nope"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 2 and "unknown section" in result.stderr


def test_a_new_results_run_keeps_the_notes_written_by_hand(tmp_path):
    from bench.run import NOTES, NOTES_HEADING, write_results
    path = tmp_path / "RESULTS.md"
    figures = {"matmul_gflops": {"section": "flops", "cpu": 100.0}}
    write_results(path, figures, ["cpu"], "python bench/run.py", 1.0, "test machine")
    assert path.read_text().endswith(NOTES)  # a new file starts from the generated notes
    path.write_text(path.read_text() + "\n- **a measurement by hand, 2026-12-03** (`python bench/x.py`): 1.5 s\n")
    write_results(path, {"matmul_gflops": {"section": "flops", "cpu": 200.0}}, ["cpu"], "python bench/run.py", 1.0,
                  "test machine")
    text = path.read_text()
    assert "| flops | matmul_gflops | 200 |" in text and "| 100 |" not in text  # the table is new
    assert text.count(NOTES_HEADING) == 1 and "a measurement by hand, 2026-12-03" in text  # the notes are kept
