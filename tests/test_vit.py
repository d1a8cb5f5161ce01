"""The tiny Vision Transformer: its pieces against independent computations, its config keys, and real runs of both
methods into a real store (attention maps stored per generation and exported)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from core import catalog
from core.config import ConfigError, RunConfig
from core.engine.runner import execute
from core.models.vit import ViT, build
from core.storage.export import export_run
from core.storage.run_store import RunStore
from tests.claim_support import preset_runs

TINY = {"model.name": "vit", "model.dim": 16, "model.heads": 2, "model.depth": 1, "method.generations": 2,
        "train.epochs": 1, "eval.embedding": "pca", "eval.linear_probe": False}


def test_patches_are_the_image_squares_in_row_major_order():
    model = ViT((8, 8), 10, patch=2, dim=8, depth=1, heads=2)
    x = torch.arange(2 * 64, dtype=torch.float32).view(2, 64)
    patches = model.patches(x)
    assert patches.shape == (2, 16, 4)
    image = x[1].view(8, 8)
    for r in range(4):
        for c in range(4):  # patch r·4 + c is rows 2r..2r+1, cols 2c..2c+1, flattened row by row
            assert torch.equal(patches[1, r * 4 + c], image[2 * r:2 * r + 2, 2 * c:2 * c + 2].reshape(-1))


def test_attention_matches_torch_multihead_attention_with_the_same_weights():
    torch.manual_seed(0)
    model = ViT((8, 8), 10, patch=2, dim=16, depth=1, heads=4)
    attn = model.blocks[0].attn
    reference = nn.MultiheadAttention(16, 4, batch_first=True)
    with torch.no_grad():
        reference.in_proj_weight.copy_(attn.qkv.weight)
        reference.in_proj_bias.copy_(attn.qkv.bias)
        reference.out_proj.weight.copy_(attn.out.weight)
        reference.out_proj.bias.copy_(attn.out.bias)
    tokens = torch.randn(3, 17, 16)
    out, weights = attn(tokens, return_weights=True)
    expected, expected_weights = reference(tokens, tokens, tokens, need_weights=True, average_attn_weights=False)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(weights, expected_weights, atol=1e-6, rtol=1e-5)


def test_cls_attention_is_the_last_blocks_class_row_over_the_patches():
    torch.manual_seed(1)
    model = ViT((8, 8), 10, patch=2, dim=16, depth=2, heads=4).eval()
    x = torch.rand(5, 64)
    maps = model.cls_attention(x)
    assert maps.shape == (5, 4, 4, 4)
    # recompute by hand: tokens through block 0, then block 1's normalised qkv and a softmax of q_cls · k / √d
    z = model.blocks[0](model._tokens(x))
    block = model.blocks[1]
    q, k, _ = block.attn.qkv(block.norm1(z)).view(5, 17, 3, 4, 4).permute(2, 0, 3, 1, 4)
    scores = (q[:, :, 0:1] @ k.transpose(-2, -1)).squeeze(2) / 2.0  # (B, heads, 17); √(16/4) = 2
    by_hand = torch.softmax(scores, -1)[:, :, 1:].reshape(5, 4, 4, 4)
    torch.testing.assert_close(maps, by_hand)
    assert torch.all(maps >= 0) and torch.all(maps.sum((-2, -1)) <= 1 + 1e-6)
    # the features really are the class token: changing it changes them (not by a constant, which layer norm removes)
    before = model.features(x)
    with torch.no_grad():
        model.cls_token.add_(torch.linspace(-1, 1, 16))
    assert not torch.allclose(before, model.features(x))


def test_config_keys_are_owned_by_the_vit_and_bad_values_refused():
    assert catalog.uses_key("model.patch", {"model": "vit"}) and not catalog.uses_key("model.patch", {"model": "mlp"})
    assert catalog.uses_key("model.depth", {"model": "mlp"}) and catalog.uses_key("model.depth", {"model": "vit"})
    with pytest.raises(ConfigError, match="model.heads=3: must divide model.dim=64"):
        RunConfig().override({"model.name": "vit", "model.heads": 3})
    with pytest.raises(ConfigError, match="layer norm"):
        RunConfig().override({"model.name": "vit", "model.batch_norm": True})
    with pytest.raises(ConfigError, match="needs image-shaped inputs"):
        RunConfig().override({"model.name": "vit", "data.name": "moons"})
    cfg = RunConfig().override({"model.name": "vit", "model.patch": 3}).model
    with pytest.raises(ValueError, match="model.patch=3: must divide"):
        build(cfg, 64, 10, (8, 8))


def _run(tmp_path, overrides: dict) -> tuple[RunStore, dict]:
    store = RunStore(tmp_path / "store")
    summary = execute(RunConfig().override(overrides), store)
    assert summary["status"] == "finished", summary.get("error")
    return store, summary


def test_born_again_vit_stores_and_exports_attention_for_every_generation(tmp_path):
    store, summary = _run(tmp_path, {**TINY, "seed": 3})
    run_id = summary["run_id"]
    n_test = len(store.load_arrays(run_id, "run")["y_test"])
    for g in (0, 1):
        maps = store.load_arrays(run_id, f"gen{g}")["attention"]
        assert maps.shape == (n_test, 2, 4, 4)
        assert np.all(maps >= 0) and np.all(maps.sum((2, 3)) <= 1 + 1e-5)
    assert summary["generations"][1]["teacher_agreement"] > 0  # generation 1 did learn from generation 0
    written = export_run(store, run_id, tmp_path / "out")
    assert {p.name for p in written} >= {"attention_gen0.npz", "attention_gen1.npz"}
    exported = np.load(tmp_path / "out" / "attention_gen1.npz")
    stored = store.load_arrays(run_id, "gen1")["attention"]
    np.testing.assert_allclose(exported["heads"], stored)
    np.testing.assert_allclose(exported["mean"], (stored[:, 0] + stored[:, 1]) / 2, rtol=1e-6)
    np.testing.assert_array_equal(exported["labels"], store.load_arrays(run_id, "run")["y_test"])


def test_label_free_vit_on_shifted_digits_maps_the_whole_canvas(tmp_path):
    store, summary = _run(tmp_path, {**TINY, "method.name": "dino", "method.generations": 1, "method.out_dim": 16,
                                     "method.local_views": 0, "data.name": "digits-shifted", "seed": 4})
    maps = store.load_arrays(summary["run_id"], "gen0")["attention"]
    assert maps.shape[1:] == (2, 8, 8)  # a 16×16 canvas in 2×2 patches
    assert "test_accuracy" not in summary["generations"][0]  # label-free: no classifier was trained
    assert 0 < summary["generations"][0]["knn_accuracy"] <= 1


def test_models_without_attention_store_no_maps(tmp_path):
    store, summary = _run(tmp_path, {**TINY, "model.name": "cnn", "method.generations": 1})
    assert "attention" not in store.load_arrays(summary["run_id"], "gen0")
    assert not any(p.name.startswith("attention") for p in export_run(store, summary["run_id"], tmp_path / "o"))


# ---- the presets' claims, on seeds that tuned nothing (tuning used seed 0); whole preset runs ------------------
def _preset_runs(preset: str, seeds=(100, 101, 102)) -> list[dict]:
    return preset_runs(preset, seeds, {"eval.embedding": "none"})  # one seed per core at once, each in its own process


@pytest.mark.slow
def test_digits_ban_vit_later_generations_copy_less_noise_and_the_chosen_one_beats_generation_0():
    """digits-ban-vit's text: generation 0 reproduces 14-21% of the flipped labels, every later generation less on
    every seed (5-7% by generation 2); the generation chosen on validation scores above generation 0 on test."""
    for summary in _preset_runs("digits-ban-vit"):
        memorized = [g["memorized_noise"] for g in summary["generations"]]
        assert all(b < a for a, b in zip(memorized, memorized[1:])), memorized
        assert 0.10 <= memorized[0] <= 0.25 and memorized[-1] <= min(0.08, 0.6 * memorized[0]), memorized
        test = [g["test_accuracy"] for g in summary["generations"]]
        assert test[summary["best_generation"]] - test[0] >= 0.01, (summary["best_generation"], test)


@pytest.mark.slow
def test_vit_dino_runs_label_free_and_stays_far_below_raw_pixels():
    """vit-dino's description: a short label-free run whose k-NN stays far below raw pixels."""
    for summary in _preset_runs("vit-dino", seeds=(100, 101)):
        knn, raw = summary["generations"][0]["knn_accuracy"], summary["baselines"]["raw_knn_accuracy"]
        assert knn < raw - 0.3, (knn, raw)
