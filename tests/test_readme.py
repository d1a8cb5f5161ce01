"""The README stays true: two commands first, every preset and every config key (with its default) documented."""
import re
from pathlib import Path

import pytest

from core.config import all_keys
from core.presets import PRESETS

README = Path(__file__).resolve().parents[1] / "README.md"


def first_screen() -> str:
    return README.read_text().split("---", 1)[0]


def test_first_screen_has_exactly_two_commands_that_exist():
    commands = [line for line in re.findall(r"```bash\n(.*?)```", first_screen(), re.S)[0].splitlines() if line]
    assert len(commands) == 2
    assert "streamlit run dashboard/serve.py" in commands[0] and "pytest" in commands[1]
    for command in commands:
        script = command.split()[0]
        assert (README.parent / script).exists(), script
    assert (README.parent / ".ci" / "run").read_text().count("bin/setup --test && .venv/bin/python -m pytest") == 1


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_is_documented(name):
    assert f"`{name}`" in README.read_text()


@pytest.mark.parametrize("key", list(all_keys()))
def test_every_config_key_is_documented_with_its_default(key):
    field = all_keys()[key]
    default = {True: "true", False: "false"}.get(field.default, field.default) if isinstance(field.default, bool) \
        else ('""' if field.default == "" else field.default)
    assert f"| `{key}` | `{default}` |" in README.read_text()
