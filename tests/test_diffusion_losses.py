"""lib.diffusion.losses: hand computations replaying the generator's draws, closed-form optima on
Gaussian data, ELBO weights against gaussian_kl, parametrisations that agree, DSM - ESM constant."""
import math
from types import SimpleNamespace

import pytest
import torch

from lib.diffusion import losses as L


def linear_schedule(T=1000):
    return SimpleNamespace(T=T, betas=torch.linspace(1e-4, 0.02, T, dtype=torch.float64))


def gaussian_data(n, s0=0.7, d=2, seed=0):
    return s0 * torch.randn(n, d, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


# --------------------------------------------------------------------------- hand computations
def test_ddpm_loss_replays_draws_by_hand():
    sch = linear_schedule(50)
    x0 = gaussian_data(6)
    net = lambda x, t: 0.3 * x + t[:, None].double() / 50  # any deterministic function of (x, t)
    got = L.ddpm_loss(net, x0, sch, generator=torch.Generator().manual_seed(4))
    g = torch.Generator().manual_seed(4)
    t = torch.randint(1, 51, (6,), generator=g)
    eps = torch.randn(6, 2, dtype=torch.float64, generator=g)
    ab = torch.cumprod(1 - sch.betas, 0)[t - 1][:, None]
    x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
    want = ((eps - net(x_t, t)) ** 2).sum(1).mean()
    torch.testing.assert_close(got, want)


def test_book_ve_loss_replays_draws_by_hand():
    chain = SimpleNamespace(T=20, sigma2=0.05)
    x0 = gaussian_data(5)
    net = lambda x, t: -x / (0.49 + t[:, None] * 0.05)
    for target in ("x_prev", "x0", "eps"):
        got = L.book_ve_loss(net, x0, chain, target, generator=torch.Generator().manual_seed(9))
        g = torch.Generator().manual_seed(9)
        t = torch.randint(1, 21, (5,), generator=g)
        e1, e2 = (torch.randn(5, 2, dtype=torch.float64, generator=g) for _ in range(2))
        tt = t[:, None].double()
        x_prev = x0 + (0.05 * (tt - 1)).sqrt() * e1
        x_t = x_prev + math.sqrt(0.05) * e2
        s = net(x_t, t)
        pred, tgt = {"x_prev": (x_t + 0.05 * s, x_prev), "x0": (x_t + tt * 0.05 * s, x0),
                     "eps": (s, (x_t - x0) / (0.05 * tt).sqrt())}[target]
        torch.testing.assert_close(got, ((tgt - pred) ** 2).sum(1).mean(), msg=target)


# --------------------------------------------------------------------------- closed forms
@pytest.mark.parametrize("target", ["x_prev", "x0", "eps"])
def test_book_ve_loss_at_the_exact_score_is_the_posterior_variance(target):
    """Data N(0, s0^2 I): p_t = N(0, v_t I), v_t = s0^2 + t sigma^2. At the exact score each target's
    residual is its posterior variance: x_{t-1}: d v_{t-1} sigma^2 / v_t; x_0: d s0^2 t sigma^2 / v_t;
    z: d s0^2 / v_t (averaged over t uniform on 1..T)."""
    s0, T, sig2, d = 0.7, 30, 0.04, 2
    v = lambda t: s0 ** 2 + t * sig2
    score = lambda x, t: -x / v(t[:, None].double())
    out = {"x_prev": score, "x0": score,
           "eps": lambda x, t: -(sig2 * t[:, None].double()).sqrt() * score(x, t)}[target]
    got = L.book_ve_loss(out, gaussian_data(400_000, s0, d), SimpleNamespace(T=T, sigma2=sig2), target,
                         generator=torch.Generator().manual_seed(1))
    t = torch.arange(1, T + 1, dtype=torch.float64)
    want = {"x_prev": v(t - 1) * sig2 / v(t), "x0": s0 ** 2 * t * sig2 / v(t), "eps": s0 ** 2 / v(t)}[target]
    assert got.item() == pytest.approx(d * want.mean().item(), rel=0.01)


def test_ddpm_loss_at_the_exact_eps_is_the_posterior_variance():
    """Data N(0, s0^2 I): E[eps | x_t] = sqrt(1-abar) x_t / (abar s0^2 + 1 - abar), residual d abar s0^2 / (...)."""
    s0, sch = 0.5, linear_schedule(200)
    ab = torch.cumprod(1 - sch.betas, 0)
    vt = lambda a: a * s0 ** 2 + 1 - a
    net = lambda x, t: (1 - ab[t - 1])[:, None].sqrt() * x / vt(ab[t - 1])[:, None]
    got = L.ddpm_loss(net, gaussian_data(400_000, s0), sch, generator=torch.Generator().manual_seed(2))
    assert got.item() == pytest.approx(2 * (ab * s0 ** 2 / vt(ab)).mean().item(), rel=0.01)


# --------------------------------------------------------------------------- parametrisations
def test_parametrisations_agree_through_to_eps():
    """Wrap one eps-predictor in the four output forms: to_eps recovers it, ELBO-weighted losses agree,
    simple losses differ by the factor c_t (x0: SNR, v: abar, score: 1 - abar)."""
    sch = linear_schedule(100)
    ab_tab = torch.cumprod(1 - sch.betas, 0)
    g_eps = lambda x, t: torch.tanh(x) * (t[:, None].double() / 100)

    def wrapped(param):
        def net(x, t):
            ab = ab_tab[t - 1][:, None]
            e = g_eps(x, t)
            x0 = (x - (1 - ab).sqrt() * e) / ab.sqrt()
            return {"eps": e, "x0": x0, "v": ab.sqrt() * e - (1 - ab).sqrt() * x0, "score": -e / (1 - ab).sqrt()}[param]
        return net

    x = torch.randn(9, 2, dtype=torch.float64)
    t = torch.randint(1, 101, (9,))
    for p in L.PARAMS:
        torch.testing.assert_close(L.to_eps(wrapped(p)(x, t), x, ab_tab[t - 1], p), g_eps(x, t))
        torch.testing.assert_close(L.eps_model(wrapped(p), sch, p)(x, t), g_eps(x, t))
    x0 = gaussian_data(64)
    elbo = [L.ddpm_loss(wrapped(p), x0, sch, p, "elbo", generator=torch.Generator().manual_seed(3)) for p in L.PARAMS]
    torch.testing.assert_close(torch.stack(elbo), elbo[0].expand(4))
    simple_eps = L.ddpm_loss(wrapped("eps"), x0, sch, "eps", generator=torch.Generator().manual_seed(3))
    simple_x0 = L.ddpm_loss(wrapped("x0"), x0, sch, "x0", generator=torch.Generator().manual_seed(3))
    assert not torch.isclose(simple_eps, simple_x0)


# --------------------------------------------------------------------------- ELBO weights
def test_gaussian_kl_matches_torch_distributions():
    m1, m2 = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64)
    v1, v2 = torch.rand(5, 3, dtype=torch.float64) + 0.1, torch.rand(5, 3, dtype=torch.float64) + 0.1
    D = torch.distributions
    ref = D.kl_divergence(D.Independent(D.Normal(m1, v1.sqrt()), 1), D.Independent(D.Normal(m2, v2.sqrt()), 1))
    torch.testing.assert_close(L.gaussian_kl(m1, v1, m2, v2), ref)
    assert L.gaussian_kl(m1, 0.3, m1, 0.3).abs().max() < 1e-15


@pytest.mark.parametrize("var", ["beta", "beta_tilde"])
def test_elbo_weights_are_the_kl_between_reverse_steps(var):
    """KL(q(x_{t-1}|x_t,x_0) || N(mu_theta, sigma_t^2)) - KL(... || N(mu_true, sigma_t^2)) = lambda_t ||eps - eps_hat||^2."""
    sch = linear_schedule(1000)
    b = sch.betas
    a, ab = 1 - b, torch.cumprod(1 - b, 0)
    lam = L.elbo_weights(sch, var)
    gen = torch.Generator().manual_seed(0)
    for t in (2, 10, 500, 1000):
        i = t - 1
        x0, eps, eps_hat = (torch.randn(4, 2, dtype=torch.float64, generator=gen) for _ in range(3))
        x_t = ab[i].sqrt() * x0 + (1 - ab[i]).sqrt() * eps
        q_mean = ab[i - 1].sqrt() * b[i] / (1 - ab[i]) * x0 + a[i].sqrt() * (1 - ab[i - 1]) / (1 - ab[i]) * x_t
        q_var = (1 - ab[i - 1]) / (1 - ab[i]) * b[i]
        s2 = b[i] if var == "beta" else q_var
        mu = lambda e: (x_t - b[i] / (1 - ab[i]).sqrt() * e) / a[i].sqrt()
        torch.testing.assert_close(mu(eps), q_mean)  # the eps form of the posterior mean
        diff = L.gaussian_kl(q_mean, q_var, mu(eps_hat), s2) - L.gaussian_kl(q_mean, q_var, mu(eps), s2)
        torch.testing.assert_close(diff, lam[i] * ((eps - eps_hat) ** 2).sum(1))
    assert lam[0] == pytest.approx(1 / (2 * a[0].item()))  # t = 1 uses sigma_1^2 = beta_1


def test_book_ve_elbo_weights_from_the_bridge():
    """Book chain: q(x_{t-1}|x_t,x_0) = N(x_0/t + (1-1/t) x_t, sigma^2 (t-1)/t); model N(x_t - eps_theta/t, sigma^2)
    with eps_theta = sigma sqrt(t) z_theta: the KL's theta-part is ||z - z_theta||^2 / (2t)."""
    sig2, T = 0.3, 8
    w = L.book_ve_elbo_weights(T)
    gen = torch.Generator().manual_seed(5)
    for t in range(1, T + 1):
        x0, z, z_hat = (torch.randn(3, 2, dtype=torch.float64, generator=gen) for _ in range(3))
        x_t = x0 + math.sqrt(sig2 * t) * z
        q_mean, q_var = x0 / t + (1 - 1 / t) * x_t, max(sig2 * (t - 1) / t, 1e-300)
        mu = lambda zz: x_t - math.sqrt(sig2 * t) * zz / t
        torch.testing.assert_close(mu(z), q_mean)
        diff = L.gaussian_kl(q_mean, q_var, mu(z_hat), sig2) - L.gaussian_kl(q_mean, q_var, mu(z), sig2)
        torch.testing.assert_close(diff, w[t - 1] * ((z - z_hat) ** 2).sum(1))


# --------------------------------------------------------------------------- Vincent
def test_dsm_minus_esm_is_the_same_for_every_score_function():
    """Data N(m, s0^2 I), x_t = a x_0 + b eps: p_t = N(a m, (a^2 s0^2 + b^2) I) has an exact score."""
    a, b, s0 = 0.8, 0.6, 0.5
    m = torch.tensor([1.0, -2.0], dtype=torch.float64)
    x0 = m + gaussian_data(400_000, s0, seed=3)
    eps = torch.randn(x0.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    x_t = a * x0 + b * eps
    exact = -(x_t - a * m) / (a ** 2 * s0 ** 2 + b ** 2)
    candidates = [lambda x: torch.zeros_like(x), lambda x: -x, lambda x: -(x - a * m) / (a ** 2 * s0 ** 2 + b ** 2),
                  lambda x: torch.sin(x)]
    gaps = [(L.dsm_loss(s, x0, a, b, eps=eps) - L.esm_loss(s, x_t, exact)).item() for s in candidates]
    # the constant: E||eps/b||^2 - E||grad log p_t||^2 = d (1/b^2 - 1/(a^2 s0^2 + b^2))
    assert gaps == pytest.approx([2 * (1 / b ** 2 - 1 / (a ** 2 * s0 ** 2 + b ** 2))] * 4, rel=0.02)
    esm = [L.esm_loss(s, x_t, exact).item() for s in candidates]
    assert max(esm) > 1.0 and esm[2] == 0.0  # the candidates really differ


@pytest.mark.parametrize("call, exc, name", [
    (lambda: L.ddpm_loss(lambda x, t: x, torch.zeros(4, 2), linear_schedule(), param="noise"), ValueError, "param"),
    (lambda: L.ddpm_loss(lambda x, t: x, torch.zeros(4, 2), linear_schedule(), weighting="snr"), ValueError, "weighting"),
    (lambda: L.ddpm_loss(lambda x, t: x, torch.zeros(4, 2), object()), TypeError, "schedule"),
    (lambda: L.ddpm_loss(lambda x, t: x, [[0.0, 1.0]], linear_schedule()), TypeError, "x0"),
    (lambda: L.ddpm_loss(lambda x, t: x, torch.zeros(4), linear_schedule()), ValueError, "x0"),
    (lambda: L.book_ve_loss(lambda x, t: x, torch.zeros(4, 2), SimpleNamespace(T=5, sigma2=0.1), "z"), ValueError, "target"),
    (lambda: L.book_ve_loss(lambda x, t: x, torch.zeros(4, 2), SimpleNamespace(T=5, sigma2=-1.0)), TypeError, "chain"),
    (lambda: L.elbo_weights(linear_schedule(), var="sigma"), ValueError, "var"),
    (lambda: L.book_ve_elbo_weights(0), ValueError, "T"),
    (lambda: L.dsm_loss(lambda x: x, torch.zeros(4, 2), 1.0, 0.0), ValueError, "b"),
    (lambda: L.esm_loss(lambda x: x, torch.zeros(4, 2), torch.zeros(3, 2)), ValueError, "exact_score"),
    (lambda: L.gaussian_kl(torch.zeros(2), 1.0, torch.zeros(2), 0.0), ValueError, "v1, v2"),
    (lambda: L.gaussian_kl(torch.zeros(2), 1.0, torch.zeros(3), 1.0), ValueError, "m2"),
])
def test_bad_input(call, exc, name):
    with pytest.raises(exc, match=name):
        call()


def test_reads_the_course_vp_schedule():
    """VPSchedule stores T + 1 entries (index 0 = clean data): the tables and weights line up with it."""
    from lib.diffusion.schedules import VPSchedule
    sch = VPSchedule.cosine(200)
    torch.testing.assert_close(L._vp_tables(sch)["alpha_bars"], sch.alpha_bars[1:])
    lam = L.elbo_weights(sch)
    torch.testing.assert_close(lam[1:], (sch.betas ** 2 / (2 * sch.posterior_var * sch.alphas * (1 - sch.alpha_bars)))[2:])
