"""A live run's status badge, kept current by the page itself (issue 15, item 8).

A small script in the page asks dashboard/status_route.py, which answers when the run's status, its finished
generations or its warnings change. The script redraws the badge at once, with no script run and no re-render of
the rest of the page, and then asks Streamlit to rerun the page so that the rest follows (among several watching
pages each at its own random moment within audience.REDRAW_SPREAD_S). Where the route is missing (the app started
as ``streamlit run dashboard/app.py``, or under AppTest) the script stops asking, and the live charts' own poll
notices the end instead (run_panel._live).
"""
from __future__ import annotations

from typing import Mapping

import streamlit as st

from dashboard import audience
from dashboard.status_route import PATH, status_token

RETRY_MS = 2000  # after a failed request (the server restarting, a dropped connection)
# CSS for the colour names of run_panel.STATUS_BADGES (Streamlit's own badge colours are not public).
COLOURS = {"gray": "#5f6368", "blue": "#1c6fd1", "green": "#177233", "red": "#c0392b", "orange": "#b35c00"}

_HTML = ('<span class="sdlab-status-badge"><span class="sdlab-status-icon" aria-hidden="true"></span>'
         '<span class="sdlab-status-text"></span></span>')
_CSS = """
.sdlab-status-badge { display: inline-flex; align-items: center; gap: 0.2rem; padding: 0.05rem 0.375rem;
  border-radius: 0.375rem; font-size: 0.875rem; font-weight: 500; line-height: 1.5; }
.sdlab-status-icon { font-family: "Material Symbols Rounded"; font-size: 0.875rem; font-weight: 400; }
"""
_JS = """
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export default function ({ parentElement, data, setTriggerValue }) {
  const badge = parentElement.querySelector('.sdlab-status-badge');
  const draw = (status) => {
    const [colour, icon] = data.badges[status] || ['#5f6368', ''];
    badge.querySelector('.sdlab-status-icon').textContent = icon;
    badge.querySelector('.sdlab-status-text').textContent = status;
    badge.style.color = colour;
    badge.style.background = `${colour}1f`;
  };
  draw(data.status);
  let stopped = false, redraw = null;
  const controller = new AbortController();
  const ask = async (known) => {
    const query = new URLSearchParams({run: data.run, session: data.session, known});
    const response = await fetch(`${data.path}?${query}`, {signal: controller.signal, cache: 'no-store'});
    const type = response.headers.get('content-type') || '';
    if (response.status === 404 || !type.includes('json')) return null;  // no such run, or no route: stop asking
    if (!response.ok) throw new Error(`status route: ${response.status}`);
    return response.json();
  };
  (async () => {
    let known = data.token;
    while (!stopped) {
      let answer;
      try {
        answer = await ask(known);
      } catch (error) {
        if (stopped) return;
        await sleep(data.retry_ms);
        continue;
      }
      if (answer === null || stopped) return;
      if (answer.token === known) continue;
      known = answer.token;
      draw(answer.status);
      const wait = answer.watchers > 1 ? Math.random() * data.spread_ms : 0;
      clearTimeout(redraw);
      redraw = setTimeout(() => setTriggerValue('changed', answer.token), wait);
      if (answer.ended) return;
    }
  })();
  return () => { stopped = true; controller.abort(); clearTimeout(redraw); };
}
"""

_component = st.components.v2.component("sdlab_status_beacon", html=_HTML, css=_CSS, js=_JS, isolate_styles=False)


def show(run: Mapping, generations: int, badges: Mapping[str, tuple[str, str]]) -> None:
    """The badge of ``run`` (queued or running), with ``generations`` finished as the page drew them; ``badges``
    gives each status its colour name and ``:material/<icon>:``, as for ``st.badge``."""
    _component(key="status_beacon", on_changed_change=lambda: None, data={
        "run": run["id"], "status": run["status"], "token": status_token(run, generations), "path": PATH,
        "session": audience.this_session(), "retry_ms": RETRY_MS,
        "spread_ms": int(audience.REDRAW_SPREAD_S * 1000),
        "badges": {status: [COLOURS.get(colour, COLOURS["gray"]), icon.removeprefix(":material/").rstrip(":")]
                   for status, (colour, icon) in badges.items()}})
