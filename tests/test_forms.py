"""dashboard.forms: the Launch form read from the config metadata."""
from __future__ import annotations

import pytest

from core.config import ConfigError, RunConfig, all_keys
from dashboard import forms


def _field(key: str) -> forms.Field:
    return next(f for f in forms.fields() if f.key == key)


def test_every_config_key_but_the_upload_path_has_a_field():
    keys = {f.key for f in forms.fields()}
    assert keys == (set(all_keys()) - {"data.path"}) | {"seed"}


def test_groups_follow_the_config_sections():
    groups = forms.grouped()
    assert list(groups) == ["Data", "Model", "Method", "Training", "Evaluation"]
    assert "method.alpha" in [f.key for f in groups["Method"]]
    assert groups["Training"][-1].key == "seed"


def test_fields_take_kind_help_and_method_from_the_metadata():
    alpha = _field("method.alpha")
    assert (alpha.kind, alpha.owners, alpha.step) == ("float", ("method:ban",), 0.1)
    assert alpha.help.startswith("weight of the distillation term") and "≤ 1" in alpha.help
    assert _field("method.name").kind == "select" and _field("method.name").choices == ("ban", "dino")
    assert _field("eval.linear_probe").kind == "bool"
    assert _field("train.lr").step == pytest.approx(1e-4)
    assert _field("model.hidden").step == 1 and _field("train.grad_clip").step == 1.0
    assert "> 0" in _field("method.temperature").help


def test_method_and_dataset_specific_fields_show_only_where_they_matter():
    ban = {"method.name": "ban", "data.name": "digits"}
    assert forms.visible(_field("method.alpha"), ban)
    assert not forms.visible(_field("method.teacher_temp"), ban)
    assert forms.visible(_field("method.teacher_temp"), {**ban, "method.name": "dino"})
    assert not forms.visible(_field("data.n_samples"), ban)
    assert forms.visible(_field("data.n_samples"), {**ban, "data.name": "moons"})
    assert forms.visible(_field("data.label_column"), {**ban, "data.name": "file"})


def test_the_method_selector_stays_on_every_method():
    """Regression: a help text starting with "ban:" once hid the method selector on label-free presets."""
    for method in ("ban", "dino"):
        assert forms.visible(_field("method.name"), {"method.name": method, "data.name": "digits"})


def test_model_keys_follow_the_chosen_model():
    assert forms.visible(_field("model.depth"), {"model.name": "mlp"})
    assert not forms.visible(_field("model.depth"), {"model.name": "cnn"})


def test_build_config_keeps_base_values_for_fields_not_shown():
    base = RunConfig().override({"method.generations": 2, "method.out_dim": 64})
    config = forms.build_config(base, {"method.alpha": 0.25})
    assert (config.method.alpha, config.method.generations, config.method.out_dim) == (0.25, 2, 64)


def test_build_config_refuses_invalid_values_with_the_config_message():
    with pytest.raises(ConfigError, match="method.alpha=1.5: must be <= 1.0"):
        forms.build_config(RunConfig(), {"method.alpha": 1.5})


def test_differences_lists_only_changed_keys():
    assert forms.differences({"method.alpha": 0.5, "train.epochs": 60}, RunConfig()) == {"method.alpha": 0.5}
