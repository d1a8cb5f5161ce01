"""The plug-in catalog: a new model is one file plus one entry, and the config, the form and the trainer take it."""
from __future__ import annotations

import sys
import textwrap

import pytest

from core import catalog
from core.config import ConfigError, RunConfig, all_keys
from core.engine import generations
from core.presets import get_preset
from dashboard import forms

DUMMY_MODEL = '''
"""A dummy model for the catalog test: one linear feature layer and a head."""
from torch import nn


class Tiny(nn.Module):
    def __init__(self, in_dim, n_classes, hidden):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_dim, hidden), nn.Tanh())
        self.feature_dim = hidden
        self.head = nn.Linear(hidden, n_classes)

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.features(x))


def build(cfg, in_dim, n_classes, image_shape):
    return Tiny(in_dim, n_classes, cfg.hidden)
'''


@pytest.fixture
def tiny_model(tmp_path, monkeypatch):
    """The worked example of CONTRIBUTING.md: a module file, and one catalog entry pointing at it."""
    (tmp_path / "tiny_model.py").write_text(textwrap.dedent(DUMMY_MODEL))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(catalog.MODELS, "tiny", catalog.Model("tiny", "tiny_model", "a one-layer test model",
                                                             inputs=("vector",)))
    yield
    sys.modules.pop("tiny_model", None)


def test_a_new_model_trains_through_the_catalog(tiny_model):
    config = get_preset("dry-run").config({"model.name": "tiny", "method.generations": 1, "data.name": "moons",
                                           "data.n_samples": 200})
    summary = generations.run(config)
    assert summary["status"] == "finished", summary["error"]
    assert summary["generations"][0]["test_accuracy"] > 0.7  # moons are easy: it really trained


def test_the_new_model_is_a_config_choice_and_a_form_option(tiny_model):
    assert "tiny" in all_keys()["model.name"].metadata["choices"]
    field = next(f for f in forms.fields() if f.key == "model.name")
    assert "tiny" in field.choices
    assert not forms.visible(next(f for f in forms.fields() if f.key == "model.depth"), {"model.name": "tiny"})


def test_the_catalog_input_kinds_refuse_a_mismatch(tiny_model):
    with pytest.raises(ConfigError, match="model.name='tiny' needs vector-shaped inputs"):
        RunConfig().override({"model.name": "tiny", "data.name": "digits"})


def test_unknown_names_are_refused_with_the_choices():
    with pytest.raises(ConfigError, match="must be one of mlp, cnn"):
        RunConfig().override({"model.name": "resnet"})
    with pytest.raises(KeyError, match="unknown method 'x'"):
        catalog.method("x")


def test_every_entry_points_at_a_module_with_its_contract():
    for entry in catalog.METHODS.values():
        module = catalog.load(entry)
        assert callable(module.build_model) and callable(module.train_generation), entry.name
    for entry in catalog.MODELS.values():
        assert callable(catalog.load(entry).build), entry.name
    for entry in catalog.DATASETS.values():
        assert callable(catalog.load(entry).load), entry.name


def test_every_owned_key_is_a_config_key_and_every_method_key_has_an_owner():
    keys = all_keys()
    owned = {k for table in catalog.KINDS.values() for e in table.values() for k in e.keys}
    assert owned <= set(keys)
    shared = {"method.name", "method.generations"}
    assert {k for k in keys if k.startswith("method.")} - shared <= owned


def test_facts_match_the_methods():
    assert catalog.method("ban").supervised and not catalog.method("dino").supervised
    assert catalog.method("ban").loss_parts == ("ce", "kd")
