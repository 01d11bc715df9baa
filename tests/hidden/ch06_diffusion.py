"""Hidden checks for the Chapter 6 exercises (grading only; a failure shows as "hidden check failed").

They use cases the notebook never shows (larger state spaces, three-dimensional anisotropic mixtures with a and b
not on the VP circle, an imbalanced ring with weights 0.51 / 0.07, the probability-flow ODE run forwards and back,
another Langevin step size) and verify that the student's functions leave their inputs unchanged. References come
from the oracle of the public checks (closed forms and torch.autograd).
"""
from __future__ import annotations

import numpy as np
import torch

from lib.checks.ch06_diffusion import (F64, _backward_ref, _call_langevin, _close, _ddim_ref, _fm_velocity,
                                       _integrate, _judge_samples, _linear_betas, _log_prob, _marginal_ref, _noised,
                                       _random_mixture, _random_stochastic, _ring, _run_ancestral, _run_ddim, _sample,
                                       _score_t, _t, _unchanged, _vp_score_fn)
from lib.grading import check

IMBALANCED = [0.51] + [0.07] * 7


# --------------------------------------------------------------------------- q1
@check("q1", points=1)
def hidden_large_state_spaces_and_no_mutation(marginal, backward_conditional):
    rng = np.random.default_rng(701)
    for k in range(10):
        p, P = _random_stochastic(rng, int(rng.integers(6, 13)), int(rng.integers(6, 13)))
        copies = dict(p=p.copy(), P=P.copy())
        _close(marginal(copies["p"], copies["P"]), _marginal_ref(p, P), 1e-12, f"marginal (hidden case {k + 1})")
        _close(backward_conditional(copies["p"], copies["P"]), _backward_ref(p, P), 1e-12,
               f"backward_conditional (hidden case {k + 1}, {P.shape[0]} states to {P.shape[1]})")
        _unchanged(copies, dict(p=p, P=P), "marginal / backward_conditional")


# --------------------------------------------------------------------------- q2
@check("q2", points=1)
def hidden_cosine_like_schedule_and_no_mutation(alpha_bar, q_sample):
    betas = torch.linspace(1e-3, 0.05, 200, dtype=F64) ** 1.5
    copy = betas.clone()
    ab = _t(alpha_bar(copy), "alpha_bar on a 200-step schedule", shape=(200,))
    _unchanged(dict(betas=copy), dict(betas=betas.numpy()), "alpha_bar")
    _close(ab, torch.cumprod(1 - betas, 0), 1e-12, "alpha_bar on a 200-step schedule")
    gen = torch.Generator().manual_seed(702)
    x0 = torch.randn(30, 3, generator=gen, dtype=F64)
    t = torch.randint(0, 200, (30,), generator=gen)
    noise = torch.randn(30, 3, generator=gen, dtype=F64)
    abr = torch.cumprod(1 - betas, 0)
    copies = dict(x0=x0.clone(), t=t.clone(), ab=abr.clone(), noise=noise.clone())
    _close(q_sample(copies["x0"], copies["t"], copies["ab"], copies["noise"]),
           abr[t][:, None].sqrt() * x0 + (1 - abr[t])[:, None].sqrt() * noise, 1e-12, "q_sample in three dimensions")
    _unchanged(copies, dict(x0=x0.numpy(), t=t.numpy(), ab=abr.numpy(), noise=noise.numpy()), "q_sample")


# --------------------------------------------------------------------------- q3
@check("q3", points=1)
def hidden_three_dimensional_mixture(gmm_score):
    gen = torch.Generator().manual_seed(703)
    for a, b in ((0.6, 0.5), (1.3, 0.2)):
        mix = _random_mixture(gen, K=5, d=3)
        x = (2 * torch.randn(40, 3, generator=gen, dtype=F64)).requires_grad_(True)
        want = torch.autograd.grad(_log_prob(x, _noised(mix, a, b)).sum(), x)[0]
        x = x.detach()
        originals = dict(x=x.numpy().copy(), w=mix[0].numpy().copy(), m=mix[1].numpy().copy(), C=mix[2].numpy().copy())
        copies = dict(x=x.clone(), w=mix[0].clone(), m=mix[1].clone(), C=mix[2].clone())
        got = gmm_score(copies["x"], copies["w"], copies["m"], copies["C"], a, b)
        _close(got, want, 1e-8, f"gmm_score in 3-D with 5 anisotropic components (a = {a}, b = {b})")
        _unchanged(copies, originals, "gmm_score")


# --------------------------------------------------------------------------- q4
@check("q4", points=1)
def hidden_gradient_matches_autograd_of_the_reference(ddpm_loss):
    gen = torch.Generator().manual_seed(704)
    torch.manual_seed(704)
    net = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2)).to(F64)

    def model(x, t):
        return net(torch.cat([x, torch.as_tensor(t, dtype=F64).reshape(-1, 1) / 1000], 1))

    ab = torch.cumprod(1 - _linear_betas(), 0)
    x0 = torch.randn(64, 2, generator=gen, dtype=F64)
    t = torch.randint(0, 1000, (64,), generator=gen)
    noise = torch.randn(64, 2, generator=gen, dtype=F64)
    xt = ab[t][:, None].sqrt() * x0 + (1 - ab[t])[:, None].sqrt() * noise
    want = torch.autograd.grad(((noise - model(xt, t)) ** 2).mean(), list(net.parameters()))
    loss = ddpm_loss(model, x0.clone(), ab.clone(), t.clone(), noise.clone())
    assert isinstance(loss, torch.Tensor) and loss.requires_grad, "ddpm_loss must return a tensor with a gradient"
    got = torch.autograd.grad(loss, list(net.parameters()))
    for g, w in zip(got, want):
        _close(g, w, 1e-10, "the gradient of ddpm_loss for a small MLP")


# --------------------------------------------------------------------------- q5
@check("q5", points=1)
def hidden_imbalanced_ring(ancestral_step):
    mix = _ring(weights=IMBALANCED)
    x = _run_ancestral(ancestral_step, mix, 2000, 705)
    _judge_samples(x, "1000 ancestral steps on the imbalanced ring (weights 0.51 and 0.07)", 706, mix=mix)


# --------------------------------------------------------------------------- q6
@check("q6", points=1)
def hidden_encode_decode_round_trip(pf_ode_step_heun):
    mix = _ring()
    gen = torch.Generator().manual_seed(707)
    x0 = _sample(mix, 400, gen)
    times = np.linspace(1e-3, 1.0, 201)
    score_fn = _vp_score_fn(mix)
    z = _integrate(pf_ode_step_heun, x0, times, score_fn, "pf_ode_step_heun (encoding)")
    back = _integrate(pf_ode_step_heun, z, times[::-1], score_fn, "pf_ode_step_heun (decoding)")
    err = float((back - x0).abs().max())
    assert err < 1e-2, (f"encoding 400 data points with 200 Heun steps (t = 0.001 to 1) and decoding them should "
                        f"return them to within 1e-2; the largest error is {err:.3g}")


# --------------------------------------------------------------------------- q7
@check("q7", points=1)
def hidden_imbalanced_ring_and_extreme_times(velocity_to_score, fm_euler_sample):
    mix = _ring(weights=IMBALANCED)
    gen = torch.Generator().manual_seed(708)
    for t in (0.05, 0.95):
        x = 2 * torch.randn(50, 2, generator=gen, dtype=F64)
        _close(velocity_to_score(_fm_velocity(x, mix, t), x.clone(), t), _score_t(x, mix, 1 - t, t), 1e-7,
               f"velocity_to_score at t = {t} (imbalanced ring)")
    x1 = torch.randn(2000, 2, generator=gen, dtype=F64)
    x = _t(fm_euler_sample(lambda y, t: _fm_velocity(y, mix, float(t)), x1, 100), "fm_euler_sample", shape=(2000, 2))
    _judge_samples(x, "100 Euler steps of flow matching on the imbalanced ring", 709, mix=mix)


# --------------------------------------------------------------------------- q8
@check("q8", points=1)
def hidden_small_step_bias(langevin):
    x = torch.randn(100_000, 1, generator=torch.Generator().manual_seed(710), dtype=F64)
    out = _call_langevin(langevin, lambda y: -y, x, 0.1, 400, 711, "langevin on N(0, 1) with step 0.1")
    var, want = float(out.var()), 1 / (1 - 0.1 / 4)
    assert abs(var / want - 1) < 0.015, (f"Langevin with step 0.1 on N(0, 1): variance {var:.4f}, expected "
                                         f"1 / (1 - 0.1/4) = {want:.4f} within 1.5 %")


# --------------------------------------------------------------------------- q9
@check("q9", points=1)
def hidden_ddim_on_the_imbalanced_ring(ddim_step):
    gen = torch.Generator().manual_seed(712)
    x, eps = torch.randn(10, 3, generator=gen, dtype=F64), torch.randn(10, 3, generator=gen, dtype=F64)
    _close(ddim_step(x.clone(), eps.clone(), 0.3, 0.9), _ddim_ref(x, eps, 0.3, 0.9), 1e-12,
           "ddim_step in 3-D from alpha_bar 0.3 to 0.9")
    mix = _ring(weights=IMBALANCED)
    _judge_samples(_run_ddim(ddim_step, mix, 2000, 713), "50 DDIM steps on the imbalanced ring", 714, mix=mix,
                   check_std=False)
