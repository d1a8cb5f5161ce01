"""Launch page: a preset, every hyperparameter (bound to the URL, so a link reproduces the form), data, Launch."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from core.config import ConfigError, RunConfig
from core.presets import PRESETS, get_preset
from dashboard import access, figures, forms, group_panel, state

if TYPE_CHECKING:
    from dashboard.uploads import StoredUpload

DEFAULT_PRESET = "digits-ban-noisy"
WARM_POLL_S = 0.5
COLUMNS = 3


def _redraw_when_warm() -> None:
    """On a cold server: redraw the page (with the data check and the estimate) once the warm-up has loaded them."""
    if state.warm():
        st.rerun()


def _apply_preset() -> None:
    """Preset changed: every field takes the new preset's value (which also clears them from the URL)."""
    flat = get_preset(st.session_state["preset"]).config().flat()
    for field in forms.fields():
        st.session_state[field.key] = flat[field.key]


def _dataset_changed() -> None:
    """A file is not the preset's dataset: its labels are the user's, so the preset's label noise is not applied
    to them (the field goes to 0; the user may set it again)."""
    if st.session_state.get("data.name") == "file":
        st.session_state["data.label_noise"] = 0.0


def _widget(field: forms.Field, default: Any) -> Any:
    common = dict(key=field.key, help=field.help, bind="query-params")
    if field.key == "data.name":
        common["on_change"] = _dataset_changed
    if field.kind == "select":
        return st.selectbox(field.label, field.choices, index=field.choices.index(default), **common)
    if field.kind == "bool":
        return st.toggle(field.label, value=default, **common)
    if field.kind == "int":
        return st.number_input(field.label, value=int(default), step=1, **common)
    if field.kind == "float":
        return st.number_input(field.label, value=float(default), step=field.step, format="%g", **common)
    return st.text_input(field.label, value=default, **common)


def _form(base: RunConfig) -> tuple[dict[str, Any], str | None]:
    """Draw every group; return the values of the fields shown (the others keep the preset's values) and why
    the uploaded file cannot be used (None when it can, or when no file is wanted). The upload box sits in the
    Data group, right under the fields of the "dataset: file" choice."""
    defaults, values, problem = base.flat(), {}, None
    for title, group in forms.grouped().items():
        with st.container(border=True):
            st.markdown(f"**{title}**")
            columns = st.columns(COLUMNS)
            shown = 0
            for field in group:
                if not forms.visible(field, {**defaults, **values}):
                    continue
                default = defaults[field.key]
                if field.key == "data.label_noise" and values.get("data.name") == "file":
                    default = 0.0  # a file opened from a link: no preset noise on the user's labels
                with columns[shown % COLUMNS]:
                    values[field.key] = _widget(field, default)
                shown += 1
            if title == "Data" and values.get("data.name") == "file":
                problem = _file_data(values, base)
    return values, problem


def _file_data(values: dict[str, Any], base: RunConfig) -> str | None:
    """The upload box; puts the stored file's path in ``values``; returns why there is none, or None."""
    upload = _upload(values.get("data.label_column", base.data.label_column))
    if isinstance(upload, str):
        return upload
    values["data.path"] = str(upload.path)
    st.success(f"{upload.rows:,} rows × {upload.features} features, {upload.classes} classes: ready.")
    return None


def _upload(label_column: str) -> StoredUpload | str:
    """The validated, stored upload, or the message saying why there is none."""
    from core.data.files import MAX_FILE_BYTES, DataError  # numpy: imported only when a file is wanted
    from dashboard.uploads import store_upload

    file = st.file_uploader("Data file: a CSV with a label column, or an NPZ with arrays X and y",
                            type=["csv", "npz"], key="upload", max_upload_size=MAX_FILE_BYTES // 2**20)
    if file is None:
        return "Upload a CSV or NPZ file to train on it (nothing is stored until it passes validation)."
    cache = st.session_state.setdefault("_uploads", {})
    marker = (file.file_id, label_column)
    if marker not in cache:
        try:
            cache[marker] = store_upload(state.store().root, file.getvalue(), file.name, label_column)
        except DataError as exc:
            cache[marker] = str(exc)
    return cache[marker]


def _targets(config: RunConfig) -> None:
    """What the chosen temperatures do to a confident output: the soft targets a student learns from."""
    m = config.method
    if m.name == "ban":
        temperatures = {"T = 1 (plain softmax)": 1.0, f"T = {m.temperature:g} (the teacher's targets)": m.temperature}
        text = ("The teacher's outputs on an example input, softened by the temperature T: the student learns "
                "how much the teacher hesitates between classes, not only its top class.")
    else:
        temperatures = {f"student τ = {m.student_temp:g}": m.student_temp,
                        f"teacher τ = {m.teacher_temp:g} (sharpened)": m.teacher_temp}
        text = ("The same outputs at the student's and the teacher's temperatures: the teacher's target is "
                "sharper, which (with centering) keeps the features from collapsing.")
    st.plotly_chart(figures.softening_figure(temperatures), key="softening_chart")
    st.caption(text)


def _command(preset: str, changes: dict[str, Any]) -> str:
    sets = " ".join(f"--set {k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in changes.items())
    return f".venv/bin/python -m core run --preset {preset} {sets}".rstrip()


st.title("Launch a run")
st.caption("Pick a preset, change any hyperparameter, launch. The form lives in the page's URL: copy the link "
           "to share this exact setup.")
form_col, side_col = st.columns([5, 2], gap="large")
with form_col:
    refused = forms.invalid_query_params(st.query_params.to_dict(), PRESETS, DEFAULT_PRESET)
    state.drop_query_params(refused)  # before any widget reads the URL: the form falls back to the preset
    if refused:
        st.warning("Ignored from the link: " + "; ".join(refused.values()), icon=":material/link_off:")
    preset_name = st.selectbox("Preset", list(PRESETS), index=list(PRESETS).index(DEFAULT_PRESET), key="preset",
                               bind="query-params", on_change=_apply_preset,
                               help="a named starting point; every value below can still be changed")
    preset = get_preset(preset_name)
    st.caption(preset.description)
    base = preset.config()
    values, problem = _form(base)

configs: list[RunConfig] = []
deferred = False
if problem is None:
    try:  # a comparison preset launches one run per variant, whose keys win over the form's values
        config = forms.build_config(base, values)
        configs = [config.override(variant) for variant in preset.variants] or [config]
    except ConfigError as exc:
        problem = str(exc)
    else:
        # The split check imports scikit-learn (seconds on a cold server): on a fresh server's first draw it runs
        # after the Launch button is drawn, and a click checks it before submitting anything.
        deferred = not state.data_checks_warm()
        problem = None if deferred else state.data_problem(config)
        configs = configs if problem is None else []

with side_col:
    st.subheader(preset_name)
    changes = forms.differences(values, base)
    if changes:
        st.markdown("**Changed from the preset**\n" + "\n".join(f"- `{k}` = `{v}`" for k, v in changes.items()))
    if problem:
        st.error(problem, icon=":material/error:")
    else:
        st.markdown(f"**{config.method.generations} generations × {config.train.epochs} epochs** of "
                    f"`{config.method.name}` on `{config.data.name}`" + (
                        f" with {config.data.label_noise:.0%} label noise" if config.data.label_noise else ""))
        if preset.variants:
            st.markdown(f"**{len(configs)} runs**, one per " + ", ".join(
                " ".join(f"`{k}={v:g}`" if isinstance(v, float) else f"`{k}={v}`" for k, v in variant.items())
                for variant in preset.variants) + " (these values win over the form's); compare them on Compare.")
    expected = st.empty()  # filled after the button: the estimate imports torch and times a few steps
    n_seeds = group_panel.seeds_field(preset_name)  # a seed group (issue 14): one run per seed
    allowed = access.gate("launch")
    clicked = st.button("Launch", type="primary", key="launch", disabled=not configs or not allowed,
                        width="stretch")
    # on a cold server the split check (scikit-learn) and the estimate (torch) wait for the warm-up thread: run in
    # this first draw they held the interpreter while the page's messages waited to be sent (first visit 4.4 s)
    late_problem = state.data_problem(config) if configs and deferred and clicked else None
    if late_problem:
        st.error(late_problem, icon=":material/error:")
    elif clicked:
        try:
            # a run on the user's own file is not the preset's experiment: no preset label (its text and
            # claims are about the preset's data); it is named after the file instead
            on_file = values.get("data.name") == "file"
            run_ids = group_panel.submit_group(configs, n_seeds, state.queue(), None if on_file else preset_name)
            if on_file and st.session_state.get("upload") is not None:
                from core.storage.manage import rename

                for run_id in run_ids:
                    try:
                        rename(state.store(), run_id, f"upload {st.session_state['upload'].name}"[:80])
                    except ValueError:  # a file name with control characters: the run keeps no name
                        pass
        except RuntimeError as exc:  # QueueFull or OverBudget: said in one line
            st.error(str(exc), icon=":material/hourglass_top:")
        else:
            st.switch_page("views/runs.py", query_params={"run": run_ids[0]})
    if configs and deferred and not clicked:
        expected.caption("Expected time: estimating…")
        st.fragment(_redraw_when_warm, run_every=WARM_POLL_S)()
    elif configs and not late_problem:
        expected.caption("Expected: " + "; ".join(state.estimate(c).describe() for c in configs[:1]) +
                         (f" per run, {len(configs)} runs" if len(configs) > 1 else "") + ".")
    if preset.explanation:
        st.caption(preset.explanation)
    if configs:
        _targets(config)  # the form's own values: a comparison preset's variants each change them
    st.caption("The same run from a terminal:")
    st.code(_command(preset_name, changes), language="bash", wrap_lines=True)
