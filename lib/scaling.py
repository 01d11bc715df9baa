"""Scaling laws: Kaplan's power laws, the Chinchilla loss surface and the compute-optimal allocation.

Kaplan et al. (2020) fit the test loss (nats per token) of language models as separate power laws,
with no additive constant, in the number of non-embedding parameters N, the number of training tokens
D and the compute-efficient training compute C (in PF-days)::

    L(N) = (N_c / N)^alpha_N      L(D) = (D_c / D)^alpha_D      L(C) = (C_c / C)^alpha_C

and found the compute-efficient model size growing like N_opt ~ C^0.73 (so D_opt ~ C^0.27).

Hoffmann et al. (2022, "Chinchilla") fit one parametric surface ::

    L(N, D) = E + A / N^alpha + B / D^beta                                  (chinchilla_loss)

and minimised it under the training-compute constraint C = 6 N D. Substituting D = C / (6N) (or,
equivalently, a Lagrange multiplier) gives the stationarity condition alpha A N^-alpha = beta B D^-beta
and the closed form (:func:`compute_optimal`)::

    N_opt = G (C/6)^a,   D_opt = G^-1 (C/6)^b,   G = (alpha A / (beta B))^(1/(alpha+beta)),
    a = beta / (alpha + beta),   b = alpha / (alpha + beta).

The rounded constants printed by Hoffmann et al. (``HOFFMANN_2022``) put the optimum at the Gopher
budget (5.76e23 FLOPs) near N = 32B and D/N = 93, far from the paper's own 70B / 1.4T; Besiroglu et al.
(2024) refit the same data (``BESIROGLU_2024``) and get 72B and D/N = 18.4, in line with the
"20 tokens per parameter" rule. Parameter counting lives in ``lib.param_count``.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import curve_fit

# --------------------------------------------------------------------------- published constants
KAPLAN_2020 = dict(N_c=8.8e13, alpha_N=0.076, D_c=5.4e13, alpha_D=0.095, C_c=3.1e8, alpha_C=0.050)
"""Kaplan et al. (2020): N_c in non-embedding parameters, D_c in tokens, C_c in PF-days."""

KAPLAN_ALLOCATION = dict(N=0.73, D=0.27)
"""Kaplan's compute-efficient exponents: N_opt ~ C^0.73 and D_opt ~ C^0.27 (elasticities, not shares)."""

HOFFMANN_2022 = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
"""The rounded parametric fit printed by Hoffmann et al. (2022), approach 3."""

BESIROGLU_2024 = dict(E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658)
"""The refit of the same data by Besiroglu et al. (2024)."""

PARAMETER_SETS = {"hoffmann": HOFFMANN_2022, "besiroglu": BESIROGLU_2024}

GOPHER_BUDGET = 5.76e23
"""Training FLOPs of Gopher (280B parameters, 300B tokens) and of Chinchilla (70B, 1.4T)."""

PF_DAY = 1e15 * 86400
"""FLOPs in one petaflop/s-day."""

MODELS = {"GPT-3": (175e9, 300e9), "Gopher": (280e9, 300e9), "Chinchilla": (70e9, 1.4e12)}
"""(parameters, training tokens) of three well-known models."""

CHINCHILLA_TABLE3 = [  # (parameters, FLOPs, tokens): Hoffmann et al. (2022), Table 3, approach 1
    (400e6, 1.92e19, 8.0e9),
    (1e9, 1.21e20, 20.2e9),
    (10e9, 1.23e22, 205.1e9),
    (67e9, 5.76e23, 1.5e12),
    (175e9, 3.85e24, 3.7e12),
    (280e9, 9.90e24, 5.9e12),
    (520e9, 3.43e25, 11.0e12),
    (1e12, 1.27e26, 21.2e12),
    (10e12, 1.30e28, 216.2e12),
]


# --------------------------------------------------------------------------- input checks
def _positive_array(name: str, x) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a positive number or array of numbers, got {type(x).__name__}") from None
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"{name}: expected positive finite values, got {x!r}")
    return arr


def _out(arr: np.ndarray):
    return float(arr) if arr.ndim == 0 else arr


def _check_params(params) -> dict:
    if isinstance(params, str):
        if params not in PARAMETER_SETS:
            raise ValueError(f"params: expected one of {tuple(PARAMETER_SETS)} or a dict, got {params!r}")
        return PARAMETER_SETS[params]
    if not isinstance(params, dict) or not {"E", "A", "B", "alpha", "beta"} <= set(params):
        raise ValueError(f"params: expected a dict with keys E, A, B, alpha, beta, got {params!r}")
    for key in ("A", "B", "alpha", "beta"):
        if not np.isfinite(params[key]) or params[key] <= 0:
            raise ValueError(f"params[{key!r}]: expected a positive number, got {params[key]!r}")
    return params


# --------------------------------------------------------------------------- Kaplan
def kaplan_L_N(N, N_c: float = KAPLAN_2020["N_c"], alpha_N: float = KAPLAN_2020["alpha_N"]):
    """``(N_c / N)^alpha_N``: loss of a model with N non-embedding parameters trained to convergence."""
    return _out((_positive_array("N_c", N_c) / _positive_array("N", N)) ** alpha_N)


def kaplan_L_D(D, D_c: float = KAPLAN_2020["D_c"], alpha_D: float = KAPLAN_2020["alpha_D"]):
    """``(D_c / D)^alpha_D``: loss of a large model trained (with early stopping) on D tokens."""
    return _out((_positive_array("D_c", D_c) / _positive_array("D", D)) ** alpha_D)


def kaplan_L_C(C_pfdays, C_c: float = KAPLAN_2020["C_c"], alpha_C: float = KAPLAN_2020["alpha_C"]):
    """``(C_c / C)^alpha_C``: loss on the compute-efficient frontier, C in PF-days."""
    return _out((_positive_array("C_c", C_c) / _positive_array("C_pfdays", C_pfdays)) ** alpha_C)


# --------------------------------------------------------------------------- Chinchilla
def chinchilla_loss(N, D, params=HOFFMANN_2022):
    """``E + A / N^alpha + B / D^beta`` (broadcasts over arrays N and D)."""
    p = _check_params(params)
    N, D = _positive_array("N", N), _positive_array("D", D)
    return _out(p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"])


def compute_optimal(C, params=HOFFMANN_2022) -> tuple:
    """``(N_opt, D_opt)`` minimising :func:`chinchilla_loss` under ``6 N D = C`` (closed form above).

    ``C`` in FLOPs, a number or an array; ``params`` a dict or "hoffmann" / "besiroglu".
    """
    p = _check_params(params)
    C = _positive_array("C", C)
    s = p["alpha"] + p["beta"]
    G = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1 / s)
    N = G * (C / 6) ** (p["beta"] / s)
    D = (C / 6) ** (p["alpha"] / s) / G
    return _out(N), _out(D)


def allocation_exponents(params=HOFFMANN_2022) -> tuple[float, float]:
    """``(a, b) = (beta, alpha) / (alpha + beta)``: N_opt ~ C^a and D_opt ~ C^b."""
    p = _check_params(params)
    s = p["alpha"] + p["beta"]
    return p["beta"] / s, p["alpha"] / s


# --------------------------------------------------------------------------- fitting
def _power_law(x, x_c, alpha, c):
    return (x_c / x) ** alpha + c


def fit_power_law(x, y, *, offset: bool = False) -> dict:
    """Fit ``y = (x_c / x)^alpha`` (+ ``c`` when ``offset``) to positive data.

    Without an offset the model is a straight line in log-log, ``log y = alpha log x_c - alpha log x``,
    fitted by least squares. With an offset, ``scipy.optimize.curve_fit`` refines a start taken from the
    log-log fit of ``y - 0.9 min(y)``. Returns ``dict(alpha, x_c, c)``.
    """
    x, y = _positive_array("x", x), _positive_array("y", y)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"y: expected a 1-D array shaped like x {x.shape}, got {y.shape}")
    need = 4 if offset else 2
    if len(x) < need or np.ptp(x) == 0:
        raise ValueError(f"x: expected at least {need} distinct values, got {len(np.unique(x))}")
    if not offset:
        slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
        alpha = -slope
        return dict(alpha=float(alpha), x_c=float(np.exp(intercept / alpha)), c=0.0)
    c0 = 0.9 * y.min()
    start = fit_power_law(x, y - c0)
    popt, _ = curve_fit(lambda lx, lxc, a, c: _power_law(np.exp(lx), np.exp(lxc), a, c), np.log(x), y,
                        p0=[np.log(start["x_c"]), start["alpha"], c0], maxfev=20000)
    return dict(alpha=float(popt[1]), x_c=float(np.exp(popt[0])), c=float(popt[2]))
