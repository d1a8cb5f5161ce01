"""Attention maps from the stored run to the screen: the pure figure, the Runs page (AppTest) and real Chromium."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.config import RunConfig
from core.engine.runner import execute
from core.evaluation.attention import attention_arrays
from core.models.mlp import MLP
from core.models.vit import ViT
from core.storage.run_store import RunStore
from dashboard.attention_panel import attention_figure, spread

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
TINY_VIT = {"model.name": "vit", "model.dim": 16, "model.heads": 2, "model.depth": 1, "method.generations": 2,
            "train.epochs": 1, "eval.embedding": "pca", "eval.linear_probe": False, "seed": 5}


def _z(trace: dict) -> np.ndarray:
    """A heat map's z as sent to the browser: a list of rows, or plotly's base64-encoded typed array."""
    z = trace["z"]
    if isinstance(z, dict):
        flat = np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"]))
        return flat.reshape([int(n) for n in str(z["shape"]).split(",")])
    return np.asarray(z, dtype=float)


def test_spread_repeats_each_patch_weight_over_its_pixels():
    grid = np.array([[0.1, 0.2], [0.3, 0.4]])
    expected = np.array([[0.1, 0.1, 0.2, 0.2], [0.1, 0.1, 0.2, 0.2], [0.3, 0.3, 0.4, 0.4], [0.3, 0.3, 0.4, 0.4]])
    np.testing.assert_allclose(spread(grid, (4, 4)), expected)


def test_attention_arrays_reach_through_a_label_free_wrapper_and_skip_other_models():
    torch.manual_seed(0)
    vit = ViT((8, 8), 10, patch=2, dim=8, depth=1, heads=2)
    wrapped = torch.nn.Module()
    wrapped.backbone = vit  # how the DINO method holds its backbone
    x = torch.rand(3, 64)
    maps = attention_arrays(wrapped, x)["attention"]
    np.testing.assert_allclose(maps, vit.eval().cls_attention(x).detach().numpy(), rtol=1e-6)
    assert attention_arrays(MLP(64, 10, hidden=8, depth=1), x) == {}


def test_attention_figure_draws_the_mean_and_each_head_over_the_image_for_every_generation():
    image = np.arange(64, dtype=float).reshape(8, 8)
    maps = {0: np.full((2, 4, 4), 1 / 17), 1: np.stack([np.eye(4) / 4, np.zeros((4, 4))])}
    spec = json.loads(attention_figure(image, maps, 7).to_json())
    assert len(spec["data"]) == 2 * 3 * 2  # generations × (mean + 2 heads) × (image, overlay)
    overlays = spec["data"][1::2]
    gen1_mean = _z(overlays[3])
    expected_mean = spread((np.eye(4) / 4 + 0) / 2, (8, 8))  # head mean of generation 1, spread over pixels
    np.testing.assert_allclose(gen1_mean, expected_mean)
    assert all(o["zmax"] == pytest.approx(0.25) for o in overlays)  # one scale: the largest weight shown
    titles = [a["text"] for a in spec["layout"]["annotations"]]
    assert titles == ["gen 0<br>mean", "gen 0<br>head 1", "gen 0<br>head 2", "gen 1<br>mean", "gen 1<br>head 1",
                      "gen 1<br>head 2"]


def _vit_run(root: Path) -> str:
    store = RunStore(root)
    summary = execute(RunConfig().override(TINY_VIT), store, label="digits-ban-vit")
    assert summary["status"] == "finished", summary.get("error")
    return summary["run_id"]


def test_runs_page_shows_the_clicked_points_attention_for_every_generation(app_store):
    run_id = _vit_run(app_store)
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.query_params["run"] = run_id
    at.query_params["point"] = "7"
    at.switch_page("views/runs.py").run()
    assert not at.exception, at.exception
    charts = {c.proto.id: json.loads(c.proto.spec) for c in at.get("plotly_chart")}
    attention = [s for s in charts.values()
                 if "where each generation looks" in s["layout"].get("title", {}).get("text", "")]
    assert len(attention) == 1 and "test input 7" in attention[0]["layout"]["title"]["text"]
    stored = RunStore(app_store).load_arrays(run_id, "gen1")["attention"][7]
    overlays = attention[0]["data"][1::2]
    assert len(overlays) == 2 * 3
    np.testing.assert_allclose(_z(overlays[3]), spread(stored.mean(0), (8, 8)), rtol=1e-5)
    assert any("class token's attention" in c.value for c in at.caption)


def test_runs_page_of_a_model_without_attention_shows_no_map(app_store):
    store = RunStore(app_store)
    summary = execute(RunConfig().override({**TINY_VIT, "model.name": "cnn", "method.generations": 1}), store)
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.query_params["run"] = summary["run_id"]
    at.query_params["point"] = "3"
    at.switch_page("views/runs.py").run()
    assert not at.exception, at.exception
    titles = [json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "") for c in at.get("plotly_chart")]
    assert any(t.startswith("test input 3") for t in titles)
    assert not any("where each generation looks" in t for t in titles)


@pytest.mark.browser
@pytest.mark.timeout(480)
def test_attention_maps_drawn_in_chromium(tmp_path, browser):
    from tests.conftest import start_server, stop_server, wait_healthy

    root = tmp_path / "store"
    run_id = _vit_run(root)
    process, url = start_server(root, tmp_path / "server.log")
    try:
        wait_healthy(url, process)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)
        page.goto(f"{url}/runs?run={run_id}&point=11")
        page.locator(".st-key-point_attention .js-plotly-plot").wait_for()
        drawn = page.evaluate("""() => { const gd = document.querySelector('.st-key-point_attention .js-plotly-plot');
                                         return {traces: gd._fullData.length, title: gd._fullLayout.title.text,
                                                 heat: gd.querySelectorAll('.heatmaplayer image').length}; }""")
        assert drawn["traces"] == 12 and "test input 11" in drawn["title"]
        assert drawn["heat"] == 12  # every heat map was rendered to an image in the browser
        page.locator(".st-key-point_attention").screenshot(path=str(tmp_path / "attention.png"))
        assert (tmp_path / "attention.png").stat().st_size > 5_000
        page.close()
    finally:
        stop_server(process)
