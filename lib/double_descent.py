"""Double descent: test error against the number of features, across the interpolation threshold.

Two feature maps, both fitted by least squares (the minimum-norm solution ``Phi^+ y`` once there
are more columns than data points) or by ridge:

* ``"random_relu"``: ``phi_j(x) = max(0, w_j . x + b_j)`` with frozen random ``w_j ~ N(0, I_d / d)``,
  ``b_j ~ N(0, b_scale^2)``, on a one-neuron teacher ``y = max(0, w* . x) + sigma * noise`` in ``d``
  dimensions. Columns are *nested*: the model with ``p`` features uses the first ``p`` of one draw,
  so the training error can only go down as ``p`` grows. The test error peaks at ``p = n``.
* ``"hinge_1d"``: the book's model ``beta_0 + sum_j beta_j max(0, x - c_j)`` with ``p`` equally spaced
  knots over the data range (``p + 1`` columns) on ``y = sin(pi x) + sigma * noise``. All knots move
  when ``p`` changes, so these models are not nested; the peak sits at ``p + 1 = n``, give or take one.

Every fit goes through the thin SVD ``Phi = U diag(s) V^T`` of its own ``(n, k)`` design, batched over
trials: ``beta = V diag(f(s)) U^T y`` with ``f(s) = 1/s`` (ridgeless; singular values below numpy's
cutoff count as zero) or ``f(s) = s / (s^2 + 2 lam)`` (ridge, the book's ``1/2 RSS + lam |beta|^2``).
An SVD per ``p`` costs ``O(trials n^2 k)``, so a whole curve takes well under a second.

For Gaussian inputs and a linear teacher the expected risk is known in closed form
(Belkin, Hsu & Xu 2020): ``bhx_risk``, checked against simulation by ``gaussian_design_mc``.
"""
from __future__ import annotations

import numpy as np

from .data import make_1d_regression, make_relu_teacher
from .piecewise import hinge_features, hinge_knots

FEATURES = ("random_relu", "hinge_1d")
X_DESIGNS = ("jitter", "uniform", "grid")


def _int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _nonnegative(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")
    return float(value)


def random_relu_features(X, p: int, seed: int, w_scale: float | None = None,
                         b_scale: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random ReLU features ``Phi = max(0, X W^T + b)``; returns ``(Phi, W, b)``.

    ``X``: ``(n, d)``. ``W``: ``(p, d)`` with entries ``N(0, w_scale^2)`` (default ``w_scale = 1/sqrt(d)``),
    ``b``: ``(p,)`` with entries ``N(0, b_scale^2)``; ``Phi``: ``(n, p)``. ``W`` and ``b`` come from two
    independent streams of ``seed`` filled row by row, so the features are nested: the first ``p``
    columns for one ``p`` equal the columns for any smaller ``p`` with the same seed.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.size == 0:
        raise ValueError(f"X: expected a 2-D array of shape (n, d), got shape {X.shape}")
    p = _int("p", p, 1)
    d = X.shape[1]
    w_scale = 1 / np.sqrt(d) if w_scale is None else _nonnegative("w_scale", w_scale)
    b_scale = _nonnegative("b_scale", b_scale)
    rng_w, rng_b = (np.random.default_rng(s) for s in np.random.SeedSequence(_int("seed", seed, 0)).spawn(2))
    W = w_scale * rng_w.standard_normal((p, d))
    b = b_scale * rng_b.standard_normal(p)
    return np.maximum(0.0, X @ W.T + b), W, b


def default_p_grid(n: int, p_max: int | None = None, window: int = 5) -> np.ndarray:
    """Feature counts for a curve: 24 geometric steps from 1 to ``p_max`` (default ``20 n``) plus
    every integer in ``[n - window, n + window]``, so the threshold ``p = n`` is resolved. Sorted ints."""
    n = _int("n", n, 2)
    p_max = 20 * n if p_max is None else _int("p_max", p_max, 1)
    window = _int("window", window, 0)
    geometric = np.rint(np.geomspace(1, p_max, 24)).astype(int)
    dense = np.arange(max(1, n - window), min(p_max, n + window) + 1)
    return np.unique(np.concatenate([geometric, dense]))


def _spectral_fit(Phi: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """Batched least squares ``beta = V diag(f(s)) U^T y`` for ``Phi``: ``(T, n, k)``, ``y``: ``(T, n)``.

    ``f(s) = 1/s`` above numpy's cutoff ``max(n, k) eps s_max`` and 0 below it (the minimum-norm
    solution ``Phi^+ y``) when ``ridge == 0``; else ``f(s) = s / (s^2 + 2 ridge)``. Returns ``(T, k)``.
    """
    U, s, Vt = np.linalg.svd(Phi, full_matrices=False)
    if ridge > 0:
        f = s / (s**2 + 2 * ridge)
    else:
        keep = s > max(Phi.shape[1:]) * np.finfo(np.float64).eps * s[:, :1]
        f = np.divide(1.0, s, out=np.zeros_like(s), where=keep)
    return np.einsum("tkp,tk->tp", Vt, f * np.einsum("tnk,tn->tk", U, y))


def _trial_seeds(seed: int, trials: int) -> np.ndarray:
    """Two seeds per trial (data, features); row ``k`` does not depend on ``trials``."""
    return np.random.default_rng(seed).integers(2**31, size=(trials, 2))


def _draw_relu(n, d, sigma, trials, seed, n_test, p_max):
    """Per trial: a teacher data set and ``p_max`` nested random features (train and test)."""
    seeds = _trial_seeds(seed, trials)
    data = [make_relu_teacher(n, d, sigma, seed=int(a), n_test=n_test) for a in seeds[:, 0]]
    Phi = np.stack([random_relu_features(np.vstack([D["X"], D["Xt"]]), p_max, seed=int(b))[0]
                    for D, b in zip(data, seeds[:, 1])])  # (T, n + n_test, p_max)
    y = np.stack([D["y"] for D in data])
    yt = np.stack([D["yt"] for D in data])
    return Phi[:, :n], Phi[:, n:], y, yt


def _draw_hinge(n, sigma, trials, seed, n_test, x_design):
    """Per trial: a 1-D data set, rescaled to ``u = (x - x_min) / (x_max - x_min)`` in [0, 1]."""
    sets = [make_1d_regression(n, "sin", sigma, design=x_design, seed=int(a)) for a in _trial_seeds(seed, trials)[:, 0]]
    x = np.stack([xs for xs, _, _ in sets])
    y = np.stack([ys for _, ys, _ in sets])
    lo, width = x.min(axis=1, keepdims=True), np.ptp(x, axis=1, keepdims=True)
    u_test = np.linspace(0.0, 1.0, n_test)
    yt = np.sin(np.pi * (lo + width * u_test))  # the noiseless target on the test points
    return (x - lo) / width, width[:, 0], u_test, y, yt


def _hinge_fit(A: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """``_spectral_fit`` for hinge designs ``A = [1, H]``: ridge leaves ``beta_0`` unpenalised, as in
    the book (centre ``H`` and ``y``, fit the slopes, then ``beta_0 = mean(y) - mean(H) . slopes``)."""
    if ridge == 0:
        return _spectral_fit(A, y, 0.0)
    H_mean, y_mean = A[:, :, 1:].mean(axis=1), y.mean(axis=1)
    slopes = _spectral_fit(A[:, :, 1:] - H_mean[:, None], y - y_mean[:, None], ridge)
    return np.column_stack([y_mean - np.einsum("tk,tk->t", H_mean, slopes), slopes])


def double_descent_curve(n: int = 40, d: int = 5, sigma: float = 0.1, p_grid=None, trials: int = 10,
                         ridge: float = 0.0, features: str = "random_relu", x_design: str = "jitter",
                         seed: int = 0, n_test: int = 500) -> dict:
    """Test and training error of (ridge or minimum-norm) least squares for each ``p`` in ``p_grid``.

    Each of ``trials`` repetitions draws its own data set (and, for ``"random_relu"``, its own features).
    ``"random_relu"``: ``n`` points in ``d`` dimensions, test error on ``n_test`` fresh noiseless points.
    ``"hinge_1d"``: ``n`` points on [-1, 1] placed by ``x_design`` (``"jitter"``, ``"uniform"``, ``"grid"``),
    ``p`` knots over the data range, test error on ``n_test`` evenly spaced points of that range
    (``d`` is ignored). ``p_grid`` defaults to ``default_p_grid(n)`` (relu) or
    ``default_p_grid(n, 3000)`` (hinge).

    Returns a dict of numpy arrays: ``p`` ``(P,)``; ``columns`` ``(P,)`` (``p``, or ``p + 1`` for hinges);
    ``test_mse``, ``train_mse``, ``beta_norm`` ``(trials, P)``; ``geo_mean_test`` ``(P,)``, the geometric
    mean of the test error over trials (robust to the heavy tail near the threshold).
    """
    n = _int("n", n, 2)
    d = _int("d", d, 1)
    sigma = _nonnegative("sigma", sigma)
    trials = _int("trials", trials, 1)
    ridge = _nonnegative("ridge", ridge)
    seed = _int("seed", seed, 0)
    n_test = _int("n_test", n_test, 1)
    if features not in FEATURES:
        raise ValueError(f"features: expected one of {FEATURES}, got {features!r}")
    if x_design not in X_DESIGNS:
        raise ValueError(f"x_design: expected one of {X_DESIGNS}, got {x_design!r}")
    if p_grid is None:
        p_grid = default_p_grid(n) if features == "random_relu" else default_p_grid(n, 3000)
    p_grid = np.asarray(p_grid)
    if p_grid.ndim != 1 or p_grid.size == 0 or p_grid.dtype.kind not in "iu" or p_grid.min() < 1:
        raise ValueError(f"p_grid: expected a non-empty 1-D array of integers >= 1, got {p_grid!r}")

    if features == "random_relu":
        Phi_train, Phi_test, y, yt = _draw_relu(n, d, sigma, trials, seed, n_test, int(p_grid.max()))
    else:
        u, width, u_test, y, yt = _draw_hinge(n, sigma, trials, seed, n_test, x_design)

    test, train, norm = (np.empty((trials, p_grid.size)) for _ in range(3))
    for k, p in enumerate(p_grid):
        if features == "random_relu":
            A, At = Phi_train[:, :, :p], Phi_test[:, :, :p]
            beta = _spectral_fit(A, y, ridge)
            fit, pred = np.einsum("tnk,tk->tn", A, beta), np.einsum("tmk,tk->tm", At, beta)
        else:
            # max(0, x - c_j) = width * max(0, u - j/(p+1)): one knot grid on [0, 1] serves all trials
            knots = hinge_knots(int(p), 0.0, 1.0)
            A = hinge_features(u.ravel(), knots).reshape(trials, n, p + 1)
            A[:, :, 1:] *= width[:, None, None]
            beta = _hinge_fit(A, y, ridge)
            fit = np.einsum("tnk,tk->tn", A, beta)
            H_test = hinge_features(u_test, knots, intercept=False)  # (n_test, p), in units of u
            pred = beta[:, :1] + width[:, None] * (beta[:, 1:] @ H_test.T)
        test[:, k] = np.mean((pred - yt) ** 2, axis=1)
        train[:, k] = np.mean((fit - y) ** 2, axis=1)
        norm[:, k] = np.linalg.norm(beta, axis=1)
    return dict(p=p_grid, columns=p_grid + (features == "hinge_1d"), test_mse=test, train_mse=train,
                beta_norm=norm, geo_mean_test=np.exp(np.log(test).mean(axis=0)))


def example_fit(p: int, n: int = 40, d: int = 5, sigma: float = 0.1, ridge: float = 0.0,
                features: str = "random_relu", x_design: str = "jitter", seed: int = 0,
                n_test: int = 500, n_grid: int = 401) -> dict:
    """The first trial of ``double_descent_curve(...)`` with the same arguments, fitted with ``p`` features
    and evaluated on a grid of ``n_grid`` points, to look at one fitted function.

    ``"random_relu"``: the grid is the line ``x = t w*``, ``t`` in [-3, 3] (through the teacher's
    direction); returns ``grid`` (the ``t``), ``fit``, ``truth = max(0, t)``, and the training points as
    ``x = w* . x_i`` (their projection on that line), ``y``. ``"hinge_1d"``: the grid covers [-1.1, 1.1]
    (a little extrapolation on both sides) and the result also has ``knots`` ``(p,)``. Both have ``beta``.
    """
    p = _int("p", p, 1)
    if features not in FEATURES:
        raise ValueError(f"features: expected one of {FEATURES}, got {features!r}")
    a, b = (int(s) for s in _trial_seeds(_int("seed", seed, 0), 1)[0])
    if features == "random_relu":
        D = make_relu_teacher(n, d, sigma, seed=a, n_test=n_test)
        t = np.linspace(-3.0, 3.0, n_grid)
        Phi = random_relu_features(np.vstack([D["X"], t[:, None] * D["w_star"]]), p, seed=b)[0]
        beta = _spectral_fit(Phi[None, :n], D["y"][None], _nonnegative("ridge", ridge))[0]
        return dict(grid=t, fit=Phi[n:] @ beta, truth=np.maximum(0.0, t), x=D["X"] @ D["w_star"],
                    y=D["y"], beta=beta)
    if x_design not in X_DESIGNS:
        raise ValueError(f"x_design: expected one of {X_DESIGNS}, got {x_design!r}")
    x, y, f = make_1d_regression(n, "sin", sigma, design=x_design, seed=a)
    knots = hinge_knots(p, x.min(), x.max())
    beta = _hinge_fit(hinge_features(x, knots)[None], y[None], _nonnegative("ridge", ridge))[0]
    grid = np.linspace(-1.1, 1.1, n_grid)
    return dict(grid=grid, fit=hinge_features(grid, knots) @ beta, truth=f(grid), x=x, y=y,
                beta=beta, knots=knots)


def bhx_risk(n: int, p: int, beta, sigma: float) -> float:
    """Expected test risk ``E (y - x . beta_hat)^2`` of least squares on the first ``p`` of ``D`` Gaussian
    features (Belkin, Hsu & Xu 2020, Theorem 1), for ``x ~ N(0, I_D)``, ``y = x . beta + sigma * noise``.

    With ``T`` the first ``p`` coordinates and ``T^c`` the rest (``beta``: ``(D,)``, ``p <= D``)::

        p <= n - 2:  (|beta_Tc|^2 + sigma^2) (1 + p / (n - p - 1))
        p >= n + 2:  |beta_T|^2 (1 - n / p) + (|beta_Tc|^2 + sigma^2) (1 + n / (p - n - 1))

    (ordinary least squares below the threshold, minimum-norm above); ``inf`` for ``p`` in ``{n-1, n, n+1}``.
    The risk includes the noise ``sigma^2`` of the test label.
    """
    n, p = _int("n", n, 1), _int("p", p, 1)
    beta = np.asarray(beta, dtype=np.float64)
    if beta.ndim != 1 or beta.size < p:
        raise ValueError(f"beta: expected a 1-D array with at least p={p} entries, got shape {beta.shape}")
    sigma = _nonnegative("sigma", sigma)
    in_T, out_T = beta[:p] @ beta[:p], beta[p:] @ beta[p:]
    if p <= n - 2:
        return float((out_T + sigma**2) * (1 + p / (n - p - 1)))
    if p >= n + 2:
        return float(in_T * (1 - n / p) + (out_T + sigma**2) * (1 + n / (p - n - 1)))
    return float("inf")


def gaussian_design_mc(n: int, p: int, beta, sigma: float, trials: int = 2000, seed: int = 0) -> float:
    """Monte-Carlo estimate of the risk in ``bhx_risk``: the average over ``trials`` training sets of
    ``sigma^2 + |beta - beta_hat|^2`` (the exact expectation over a Gaussian test point), where
    ``beta_hat = X_T^+ y`` uses the first ``p`` columns and is zero on the others."""
    n, p, trials = _int("n", n, 1), _int("p", p, 1), _int("trials", trials, 1)
    beta = np.asarray(beta, dtype=np.float64)
    if beta.ndim != 1 or beta.size < p:
        raise ValueError(f"beta: expected a 1-D array with at least p={p} entries, got shape {beta.shape}")
    sigma = _nonnegative("sigma", sigma)
    rng = np.random.default_rng(_int("seed", seed, 0))
    X = rng.standard_normal((trials, n, beta.size))
    y = X @ beta + sigma * rng.standard_normal((trials, n))
    beta_T = _spectral_fit(X[:, :, :p], y, 0.0)
    error = ((beta_T - beta[:p]) ** 2).sum(axis=1) + beta[p:] @ beta[p:]
    return float(sigma**2 + error.mean())
