"""Theory page: self-distillation of kernel ridge regression in closed form (Mobahi, Farajtabar & Bartlett, 2020)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.theory import DEFAULT_GAMMA, DEFAULT_LAM, default_data, eigen_view, krr_self_distillation, round_errors
from dashboard.theory_figures import rounds_figure

MAX_ROUNDS = 50
GAMMAS = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0]
LAMS = [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0]



def start_round(text: str | None, default: int = 4) -> int:
    """The round the chart opens on: ``?theory_round=`` when it is a whole number in 1..MAX_ROUNDS, else 4."""
    if text is None or not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_ROUNDS:
        return default
    return int(text)


st.title("Theory: self-distillation amplifies regularization")
st.markdown(
    "Each round refits a kernel ridge regression to the previous round's predictions at the training points "
    "(blended with a share β of the original labels; on the born-again pages α is the other way round, the "
    "weight of the teacher). In the eigenbasis of the Gram matrix $K = V\\,\\mathrm{diag}(d)\\,V^\\top$ one fit "
    "multiplies coordinate $j$ by $d_j/(d_j+\\lambda)$: smooth directions with large eigenvalues pass almost "
    "untouched, while wiggly ones with small eigenvalues are cut hard. The label noise is white, spread evenly "
    "over all directions, but the smooth signal puts almost nothing into the wiggly ones, so there the labels are "
    "mostly noise. With β = 0, $t$ rounds multiply by $(d_j/(d_j+\\lambda))^t$, so repeating the fit regularizes "
    "more strongly than one fit with the same λ and concentrates the solution on fewer directions "
    "(Mobahi, Farajtabar & Bartlett, 2020). With the default settings the first rounds strip noise and the error "
    "against the truth falls (the best round is the 2nd to 6th on every data seed); later rounds also shrink the "
    "signal, and the fit flattens toward the zero function. A share β > 0 of the labels stops that collapse: the "
    "rounds settle at a fixed point instead."
)

c_gamma, c_lam, c_alpha, c_seed = st.columns([3, 3, 3, 2])
gamma = c_gamma.select_slider(
    "RBF γ in exp(-γ‖x-x'‖²)", GAMMAS, value=DEFAULT_GAMMA, format_func=lambda v: f"{v:g}",
    key="theory_gamma", bind="query-params",
)
lam = c_lam.select_slider(
    "ridge λ in (K + λI)⁻¹", LAMS, value=DEFAULT_LAM, format_func=lambda v: f"{v:g}",
    key="theory_lam", bind="query-params",
)
alpha = c_alpha.slider("label share β", 0.0, 1.0, 0.0, 0.05, key="theory_alpha", bind="query-params",
                       help="each round's targets: β × the labels + (1 − β) × the previous round's predictions")
shown = start_round(st.query_params.get("theory_round"))
seed = c_seed.number_input("data seed", 0, 9999, 0, key="theory_seed", bind="query-params")

x_train, y_train, x_eval, y_true = default_data(seed=int(seed))
predictions = krr_self_distillation(x_train, y_train, x_eval, gamma, lam, alpha, MAX_ROUNDS)
errors = round_errors(predictions, y_true)
zero_error = float(np.mean(y_true**2))
best = int(np.argmin(errors)) + 1

m1, m2, m3 = st.columns(3)
m1.metric("MSE at round 1", f"{errors[0]:.4f}", help="A single kernel ridge fit to the noisy labels.")
m2.metric(f"best round of {MAX_ROUNDS}", f"{best}", delta=f"MSE {errors[best - 1]:.4f}", delta_color="off",
          delta_arrow="off")
m3.metric("MSE of f = 0", f"{zero_error:.4f}", help="Where β = 0 ends up after many rounds.")

# Every round is precomputed (well under a millisecond each) and sent as a frame: the round slider inside the
# chart moves in the browser, with no round trip to this server.
view = eigen_view(x_train, gamma, lam)
st.plotly_chart(rounds_figure(x_train, y_train, x_eval, y_true, predictions, errors, view.shrink,
                              view.filters(alpha, MAX_ROUNDS), shown, zero_error), key="theory_rounds_chart")
st.caption(
    "Drag the **round t** slider inside the chart: the fit, its point on the error curve and the filter on each "
    "eigen-direction follow at once. "
    f"{len(x_train)} noisy samples of sin(2πx) (noise sd 0.5), predictions on {len(x_eval)} grid points; "
    "MSE is measured against the noise-free sine on that grid. λ is added to K unscaled: f = k(x, X)(K + λI)⁻¹y."
)
