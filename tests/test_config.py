"""Config validation: every bad value is refused with a message naming the key, the value and what is allowed."""
import json

import pytest

from core.config import ConfigError, RunConfig, all_keys, parse_assignments
from core.presets import PRESETS, get_preset

BAD_VALUES = [
    ("seed", "-1", ">= 0"),
    ("seed", "1.5", "number"),
    ("data.name", "mnist", "one of"),
    ("data.label_noise", "0.95", "<= 0.9"),
    ("data.label_noise", "-0.1", ">= 0"),
    ("data.label_noise", "nan", "finite"),
    ("data.test_fraction", "0", ">= 0.05"),
    ("data.test_fraction", "0.9", "<= 0.8"),
    ("model.name", "resnet", "one of"),
    ("model.hidden", "0", ">= 2"),
    ("model.hidden", "wide", "number"),
    ("model.depth", "9", "<= 8"),
    ("model.batch_norm", "maybe", "true or false"),
    ("method.name", "distill", "one of"),
    ("method.generations", "0", ">= 1"),
    ("method.temperature", "0", "> 0"),
    ("method.temperature", "-2", "> 0"),
    ("method.temperature", "inf", "finite"),
    ("method.alpha", "1.5", "<= 1"),
    ("method.alpha", "-0.5", ">= 0"),
    ("method.teacher_temp", "0", "> 0"),
    ("method.center_momentum", "2", "<= 1"),
    ("method.local_views", "-1", ">= 0"),
    ("train.epochs", "0", ">= 1"),
    ("train.batch_size", "0", ">= 1"),
    ("train.lr", "0", "> 0"),
    ("train.lr", "fast", "number"),
    ("train.weight_decay", "-1", ">= 0"),
    ("train.optimizer", "lbfgs", "one of"),
    ("train.device", "tpu", "one of"),
    ("eval.embedding", "mds", "one of"),
    ("eval.knn_k", "0", ">= 1"),
]


@pytest.mark.parametrize("key,value,allowed", BAD_VALUES)
def test_bad_value_is_refused_with_key_value_and_rule(key, value, allowed):
    with pytest.raises(ConfigError) as err:
        RunConfig().override({key: value})
    message = str(err.value)
    assert key in message and value in message and allowed in message


def test_wrong_python_types_are_refused():
    with pytest.raises(ConfigError, match="train.epochs"):
        RunConfig.from_dict({"train": {"epochs": 2.5}})
    with pytest.raises(ConfigError, match="model.batch_norm"):
        RunConfig.from_dict({"model": {"batch_norm": 1}})
    with pytest.raises(ConfigError, match="method.alpha"):
        RunConfig.from_dict({"method": {"alpha": True}})


def test_unknown_keys_are_refused():
    with pytest.raises(ConfigError, match="unknown config key 'method.beta'"):
        RunConfig().override({"method.beta": "1"})
    with pytest.raises(ConfigError, match="train.epoch"):
        RunConfig.from_dict({"train": {"epoch": 3}})
    with pytest.raises(ConfigError, match="section"):
        RunConfig.from_dict({"optim": {}})


def test_cross_field_rules():
    with pytest.raises(ConfigError, match="cnn"):
        RunConfig().override({"model.name": "cnn", "data.name": "moons"})
    with pytest.raises(ConfigError, match="data.path"):
        RunConfig().override({"data.name": "file"})


def test_json_round_trip_keeps_every_value():
    config = RunConfig().override({"seed": "3", "method.alpha": "0.25", "model.batch_norm": "true",
                                   "data.label_noise": "0.4", "train.lr": "3e-4"})
    back = RunConfig.from_json(config.to_json())
    assert back == config
    assert json.loads(config.to_json())["method"]["alpha"] == 0.25
    assert back.flat()["train.lr"] == pytest.approx(3e-4)


def test_strings_are_parsed_to_the_key_type():
    config = RunConfig().override({"train.epochs": "7", "method.temperature": "2", "eval.linear_probe": "off"})
    assert config.train.epochs == 7 and isinstance(config.method.temperature, float)
    assert config.eval.linear_probe is False


def test_every_key_has_help_text():
    for key, f in all_keys().items():
        assert len(f.metadata["help"]) > 10, key


def test_parse_assignments():
    assert parse_assignments(["a.b=1", "c.d= x=y"]) == {"a.b": "1", "c.d": " x=y"}
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_assignments(["method.alpha"])


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_build_valid_configs(name):
    assert isinstance(get_preset(name).config(), RunConfig)


def test_unknown_preset_lists_known_ones():
    with pytest.raises(ConfigError, match="dry-run"):
        get_preset("nope")
