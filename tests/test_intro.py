"""The Introduction page through Streamlit's AppTest (the real app and store) and its texts against the presets."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.presets import PRESETS
from dashboard import intro

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "dashboard" / "app.py")


def _intro() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page("views/intro.py").run()
    assert not at.exception, at.exception
    return at


def test_the_demo_preset_is_the_launch_page_default():
    tree = ast.parse((ROOT / "dashboard" / "views" / "launch.py").read_text())
    default = next(node.value.value for node in tree.body if isinstance(node, ast.Assign)
                   and getattr(node.targets[0], "id", "") == "DEFAULT_PRESET")
    assert intro.DEMO_PRESET == default


def test_the_diagram_chains_labels_teacher_student_and_the_next_generation():
    dot = intro.diagram(3)
    edges = re.findall(r"^\s*(\w+) -> (\w+)", dot, flags=re.M)
    assert edges == [("labels", "g0"), ("g0", "g1"), ("g1", "g2"), ("g2", "more")]
    assert "generation 0\\n(teacher)" in dot and "generation 2\\n(student)" in dot


def test_every_preset_is_listed_with_its_own_texts(app_store):
    at = _intro()
    assert [t.value for t in at.title] == ["What is self-distillation?"]
    assert len(at.get("graphviz_chart")) == 1
    assert "labels -> g0" in at.get("graphviz_chart")[0].proto.spec
    shown = " ".join(e.value for e in at.markdown) + " ".join(e.label for e in at.expander)
    for preset in PRESETS.values():  # read from core/presets.py: a changed preset text changes the page
        assert f"**{preset.name}**: {preset.description}" in shown
    explanations = [e.value for e in at.markdown if e.value in {p.explanation for p in PRESETS.values()}]
    assert sorted(explanations) == sorted(p.explanation for p in PRESETS.values() if p.explanation)
    kinds = " ".join(c.value for c in at.caption)
    assert "label-free (DINO), 1 generation on digits" in kinds  # digits-dino: a fact of its config


def test_start_the_demo_opens_launch_with_the_demo_preset(app_store):
    at = _intro()
    at.button(key="start_demo").click().run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Launch a run"]
    assert at.selectbox(key="preset").value == intro.DEMO_PRESET


def test_presenting_a_page_other_than_runs_keeps_a_way_out(app_store):
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["present"] = "1"
    at.run()  # Launch sends a presenter on to Runs (an empty store here)
    at.switch_page("views/intro.py").run()
    assert not at.exception, at.exception
    assert not [t for t in at.sidebar.toggle if t.key == "present_toggle"]  # the sidebar's toggle is not drawn
    at.button(key="present_exit_page").click().run()
    assert "present" not in at.query_params
    assert [t.key for t in at.sidebar.toggle] == ["present_toggle"]
