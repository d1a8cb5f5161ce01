"""One self-contained HTML file for one run or a comparison of several: what a class takes home.

plotly.js is inlined once (plotly's own ``include_plotlyjs=True`` on the first chart, ``False`` on the rest), so
the file opens from disk with no network: no script, stylesheet or font is fetched from anywhere. Every number
comes from the store; the per-generation table carries each cell's exact stored value in ``data-value``.
"""
from __future__ import annotations

import html
import json
import math
from typing import Mapping, Sequence

import plotly.graph_objects as go
from plotly.colors import qualitative

from core import catalog, metric_names
from core.config import flatten
from core.presets import PRESETS
from core.reports import charts
from core.reports.summary import result_sentence
from core.storage.run_store import RunStore

TABLE_COLUMNS = ("generation", *metric_names.GENERATION_TABLE)
MAX_VIEW_POINTS = 1500
STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1200px;color:#222;
padding:0 1em}
h1{font-size:1.7em} h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em} td,th{border:1px solid #ddd;padding:.3em .6em;
text-align:right} th{background:#f4f5f7} td:first-child,th:first-child{text-align:left}
.result{font-size:1.25em;font-weight:600;color:#1b5e20;margin:.4em 0}
.explain{background:#eef4fb;border-left:4px solid #4a7cc2;padding:.6em 1em;margin:.8em 0}
pre{background:#f6f8fa;padding:.8em;overflow:auto;font-size:.85em} .muted{color:#666}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:1em}
"""


class _Charts:
    """Turns figures into HTML fragments, inlining plotly.js with the first one only."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, fig: go.Figure) -> str:
        self.count += 1
        return fig.to_html(full_html=False, include_plotlyjs=self.count == 1, include_mathjax=False,
                           div_id=f"chart-{self.count}", config={"displaylogo": False, "responsive": True})


def _cell(key: str, value) -> str:
    """One table cell: the value shown (a percentage for shares) and the exact stored value in data-value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "<td>—</td>"
    unit = metric_names.METRICS[key].unit if key in metric_names.METRICS else ""
    shown = f"{100 * value:.2f}%" if unit == "share" else f"{value:.4g}" if isinstance(value, float) else str(value)
    return f'<td data-key="{key}" data-value="{html.escape(repr(value))}">{html.escape(shown)}</td>'


def generation_table(generations: Sequence[Mapping]) -> str:
    """The per-generation table: the Runs page's columns that this run has."""
    columns = [c for c in TABLE_COLUMNS if any(c in row for row in generations)]
    heads = "".join(f"<th>{html.escape(metric_names.METRICS[c].short if c in metric_names.METRICS else c)}</th>"
                    for c in columns)
    body = "".join("<tr>" + "".join(_cell(c, row.get(c)) for c in columns) + "</tr>"
                   for row in sorted(generations, key=lambda r: r["generation"]))
    return f'<table class="generations"><thead><tr>{heads}</tr></thead><tbody>{body}</tbody></table>'


def _view_figure(store: RunStore, run_id: str, generation: int) -> go.Figure | None:
    """The 2-D view of one generation's test features, coloured by true label; None when none was stored."""
    from core.storage.export import embedding_frame

    frame = embedding_frame(store, run_id, generation)
    if frame is None:
        return None
    frame = frame.sample(n=min(len(frame), MAX_VIEW_POINTS), random_state=0).sort_values("label")
    fig = go.Figure().update_layout(**charts.LAYOUT, height=520, title=f"2-D view of the test features, "
                                    f"generation {generation} (colour: true label)",
                                    xaxis=dict(visible=False), yaxis=dict(visible=False))
    for k, rows in frame.groupby("label"):
        fig.add_scatter(x=rows["x"], y=rows["y"], mode="markers", name=str(k),
                        marker=dict(size=6, color=qualitative.D3[int(k) % 10], opacity=0.8))
    return fig


def _explanation(run: Mapping) -> str:
    preset = PRESETS.get(run.get("label") or "")
    if preset is None:
        return ""
    text = f"<p><b>Preset</b> <code>{html.escape(preset.name)}</code>: {html.escape(preset.description)}</p>"
    if preset.explanation:
        text += f'<div class="explain"><b>What to look for.</b> {html.escape(preset.explanation)}</div>'
    return text


def run_section(store: RunStore, run_id: str, chart: _Charts) -> str:
    """Everything about one run: status, result line, preset explanation, every chart, the table, the config."""
    run = store.get_run(run_id)
    summary = store.summary(run_id)
    config, generations, epochs = run["config"], summary["generations"], store.epochs(run_id)
    supervised = catalog.method(config["method"]["name"]).supervised
    name = f"{run['label']} · {run_id}" if run.get("label") else run_id
    best = summary.get("best_generation")
    parts = ["loss", *((run["info"] or {}).get("loss_parts") or [])]
    n_gen = config["method"]["generations"]
    out = [f'<section class="run" id="run-{html.escape(run_id)}"><h2>{html.escape(name)}</h2>',
           f'<p class="muted">status: {html.escape(run["status"])}'
           + (f" · wall time {summary['wall_seconds']:.1f} s" if summary.get("wall_seconds") else "")
           + (f" · best generation on validation: {best}" if best is not None else "") + "</p>",
           f'<p class="result">{html.escape(result_sentence(generations, supervised, summary["baselines"], best))}'
           "</p>", _explanation(run), '<div class="charts">',
           chart(charts.loss_figure(epochs, parts, n_gen)),
           chart(charts.epoch_accuracy_figure(epochs, n_gen, height=360, title="Accuracy per epoch")),
           chart(charts.generation_accuracy_figure(generations))]
    if summary["baselines"] and generations:
        out.append(chart(charts.baselines_figure(generations, summary["baselines"])))
    if summary.get("label_efficiency"):
        out.append(chart(charts.label_efficiency_figure(summary["label_efficiency"])))
    if any(r.get("teacher_entropy") is not None for r in epochs):
        out.append(chart(charts.monitor_figure(epochs)))
    out.append("</div>")
    if generations and config["eval"]["embedding"] != "none":
        view = _view_figure(store, run_id, best if best is not None else generations[-1]["generation"])
        if view is not None:
            out.append(chart(view))
    out.append("<h3>Per generation</h3>" + (generation_table(generations) if generations
                                              else "<p>No generation finished.</p>"))
    for warning in run["warnings"]:
        out.append(f'<p class="muted">warning: {html.escape(str(warning))}</p>')
    out.append(f"<h3>Config</h3><pre>{html.escape(json.dumps(config, indent=2, sort_keys=True))}</pre></section>")
    return "\n".join(out)


def _comparison(store: RunStore, run_ids: Sequence[str], chart: _Charts) -> str:
    """Test (or k-NN) accuracy per generation of every run on one chart, and the config keys that differ."""
    fig = go.Figure().update_layout(**charts.LAYOUT, height=420, title="Accuracy per generation, every run",
                                    xaxis=dict(title="generation", dtick=1),
                                    yaxis=dict(title="accuracy", tickformat=".1%"))
    flats, lines = {}, []
    for i, run_id in enumerate(run_ids):
        run = store.get_run(run_id)
        name = f"{run['label']} · {run_id}" if run.get("label") else run_id
        key = "test_accuracy" if catalog.method(run["config"]["method"]["name"]).supervised else "knn_accuracy"
        rows = store.generations(run_id)
        fig.add_scatter(x=[r["generation"] for r in rows], y=[r.get(key) for r in rows], mode="lines+markers",
                        name=f"{name} ({metric_names.METRICS[key].label})", line=dict(color=qualitative.D3[i % 10]))
        flats[name] = flatten(run["config"])
        sentence = result_sentence(rows, key == "test_accuracy", run["baselines"],
                                   (run["summary"] or {}).get("best_generation"))
        lines.append(f"<li><b>{html.escape(name)}</b>: {html.escape(sentence)}</li>")
    keys = sorted({k for flat in flats.values() for k in flat})
    differ = [k for k in keys if len({json.dumps(flat.get(k)) for flat in flats.values()}) > 1]
    diff = ("<table class='diff'><thead><tr><th>key</th>" + "".join(f"<th>{html.escape(n)}</th>" for n in flats)
            + "</tr></thead><tbody>" + "".join(
                f"<tr><td>{html.escape(k)}</td>" + "".join(f"<td>{html.escape(str(f.get(k)))}</td>"
                                                           for f in flats.values()) + "</tr>" for k in differ)
            + "</tbody></table>") if differ else "<p>These runs have identical configs.</p>"
    return (f"<h2>Comparison</h2><ul>{''.join(lines)}</ul>{chart(fig)}<h3>What differs</h3>{diff}")




def build_report(store: RunStore, run_ids: Sequence[str]) -> str:
    """The whole HTML document for one run (or, for several, a comparison followed by each run in full).

    RunNotFound for an id the store does not have, raised before anything is built."""
    ids = list(dict.fromkeys(run_ids))
    for run_id in ids:
        store.get_run(run_id)
    chart = _Charts()
    title = f"Self-Distillation Lab report: {', '.join(ids)}"
    body = [f"<h1>{html.escape(title)}</h1>",
            '<p class="muted">A self-contained report written from the run store; it opens offline.</p>']
    if len(ids) > 1:
        body.append(_comparison(store, ids, chart))
    body.extend(run_section(store, run_id, chart) for run_id in ids)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
