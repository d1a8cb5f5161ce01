"""Bad command-line input exits 2 with one line and leaves no run behind; JSON output is strict."""
from __future__ import annotations

import json
import math

import pytest

from core.cli.main import main
from core.cli.strict_json import dumps
from core.storage.run_store import RunStore


def _run(capsys, tmp_path, *argv) -> tuple[int, str, str]:
    code = main(["--store", str(tmp_path / "store"), *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("content, message", [
    ("0", "must hold a JSON object of config sections, got int"),
    ("[1, 2]", "must hold a JSON object of config sections, got list"),
    ("{not json", "not valid JSON"),
    (b"\xff\xfe\x00garbage", "cannot read it (not UTF-8 text)"),
])
def test_a_bad_config_file_exits_2_naming_it(capsys, tmp_path, content, message):
    path = tmp_path / "config.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, _, err = _run(capsys, tmp_path, "run", "--config", str(path))
    assert code == 2 and message in err and str(path) in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert RunStore(tmp_path / "store").list_runs() == []


def test_a_config_folder_exits_2(capsys, tmp_path):
    code, _, err = _run(capsys, tmp_path, "run", "--config", str(tmp_path))
    assert code == 2 and "cannot read it (a folder, not a file)" in err


def test_an_unusable_data_file_is_refused_before_any_run_exists(capsys, tmp_path):
    code, _, err = _run(capsys, tmp_path, "run", "--preset", "dry-run", "--set", "data.name=file",
                        "--set", "data.path=/etc/passwd")
    assert code == 2 and "passwd" in err and "Traceback" not in err
    assert RunStore(tmp_path / "store").list_runs() == []


def test_export_onto_a_file_or_below_one_exits_2(capsys, tmp_path):
    code, out, _ = _run(capsys, tmp_path, "run", "--preset", "dry-run", "--set", "eval.embedding=none", "--json")
    run_id = json.loads(out)["run_id"]
    a_file = tmp_path / "taken.txt"
    a_file.write_text("x")
    code, _, err = _run(capsys, tmp_path, "export", run_id, "--out", str(a_file))
    assert code == 2 and "is a file; name a folder" in err
    code, _, err = _run(capsys, tmp_path, "export", run_id, "--out", str(a_file / "deeper"))
    assert code == 2 and f"is below {a_file}, which is a file" in err
    code, out, _ = _run(capsys, tmp_path, "export", run_id, "--out", str(tmp_path / "new" / "folder"))
    assert code == 0 and "metrics.csv" in out


def test_json_output_has_no_nan(capsys, tmp_path):
    code, out, _ = _run(capsys, tmp_path, "run", "--preset", "dry-run", "--set", "eval.embedding=none", "--json")
    assert code == 0 and "NaN" not in out
    summary = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert summary["generations"][0]["memorized_noise"] is None  # clean data: no flipped label to reproduce
    assert dumps({"a": [math.nan, math.inf, 1.5]}) == '{"a": [null, null, 1.5]}'


def test_estimate_prints_and_runs_nothing(capsys, tmp_path):
    code, out, _ = _run(capsys, tmp_path, "run", "--preset", "dry-run", "--estimate")
    assert code == 0 and "on this machine" in out
    assert RunStore(tmp_path / "store").list_runs() == []


def test_too_few_samples_to_split_are_refused_before_any_run_exists(capsys, tmp_path):
    """Regression: blobs with 50 samples and a 5% test split failed inside the run (exit 1)."""
    code, _, err = _run(capsys, tmp_path, "run", "--preset", "dry-run", "--set", "data.name=blobs",
                        "--set", "data.n_samples=50", "--set", "data.test_fraction=0.05")
    assert code == 2 and "needs" in err and "samples" in err and "Traceback" not in err
    assert RunStore(tmp_path / "store").list_runs() == []
