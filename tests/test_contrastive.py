"""lib.contrastive: InfoNCE against explicit loops, symmetry and invariances, the learned clamped
temperature, a short dual-encoder run, zero-shot classification, bad input."""
import math

import pytest
import torch

from lib import contrastive as C


def _loops(zi, zt, tau):
    zi = zi / zi.norm(dim=1, keepdim=True)
    zt = zt / zt.norm(dim=1, keepdim=True)
    N = zi.shape[0]
    total = 0.0
    for i in range(N):
        s_row = [float(zi[i] @ zt[j]) / tau for j in range(N)]
        s_col = [float(zi[j] @ zt[i]) / tau for j in range(N)]
        p_i = math.exp(s_row[i]) / sum(math.exp(s) for s in s_row)
        q_i = math.exp(s_col[i]) / sum(math.exp(s) for s in s_col)
        total += math.log(p_i) + math.log(q_i)
    return -total / (2 * N)


@pytest.mark.parametrize("N, D, tau", [(5, 3, 0.5), (8, 6, 0.1), (3, 2, 1.0)])
def test_info_nce_matches_loops(N, D, tau):
    g = torch.Generator().manual_seed(N)
    zi = torch.randn(N, D, generator=g, dtype=torch.float64)
    zt = torch.randn(N, D, generator=g, dtype=torch.float64)
    loss = C.info_nce_loss(zi, zt, tau).item()
    assert math.isclose(loss, _loops(zi, zt, tau), rel_tol=1e-10)
    assert math.isclose(C.info_nce_loss(zt, zi, tau).item(), loss, rel_tol=1e-12)      # symmetric
    assert math.isclose(C.info_nce_loss(3 * zi, 0.5 * zt, tau).item(), loss, rel_tol=1e-12)  # scale-free
    S = C.clip_logits(zi, zt, tau)
    assert S.abs().max() <= 1 / tau + 1e-12


def test_uniform_embeddings_give_log_n():
    z = torch.ones(7, 4, dtype=torch.float64)
    assert math.isclose(C.info_nce_loss(z, z, 0.07).item(), math.log(7), rel_tol=1e-12)


def test_dual_encoder_temperature_is_learned_and_clamped():
    torch.manual_seed(0)
    m = C.DualEncoder(5, 4, d_embed=3, hidden=8, init_tau=0.07)
    assert math.isclose(m.tau, 0.07, rel_tol=1e-6)
    assert m.log_scale.requires_grad
    with torch.no_grad():
        m.log_scale.fill_(10.0)
    assert math.isclose(m.logit_scale().item(), 100.0, rel_tol=1e-6)
    z_i, z_t = m(torch.randn(6, 5), torch.randn(6, 4))
    assert torch.allclose(z_i.norm(dim=1), torch.ones(6)) and z_t.shape == (6, 3)


def test_training_retrieval_and_zero_shot():
    torch.manual_seed(0)
    d = C.make_paired_data(n=700, n_classes=4, seed=3)
    m = C.DualEncoder(20, 12, d_embed=8, hidden=32)
    h = C.train_dual_encoder(m, d["x_img"][:600], d["x_txt"][:600], steps=120, batch=64, lr=5e-3)
    assert h["loss"][-1] < h["loss"][0]
    assert h["tau"][-1] != pytest.approx(0.07)  # tau moved: it is a parameter
    with torch.no_grad():
        zi, zt = m(d["x_img"][600:], d["x_txt"][600:])
    chance = 1 / 100
    assert C.retrieval_accuracy(zi, zt) > 10 * chance
    pred = C.zero_shot_classify(m, d["x_img"][600:], d["class_txt"])
    assert (pred == d["labels"][600:]).float().mean() > 0.7
    assert d["class_txt"].shape == (4, 12)


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: C.clip_logits(torch.zeros(2, 3), torch.zeros(2, 4)), ValueError, "z_img"),
    (lambda: C.info_nce_loss(torch.ones(2, 3), torch.ones(3, 3)), ValueError, "rows"),
    (lambda: C.info_nce_loss(torch.ones(2, 3), torch.ones(2, 3), tau=0.0), ValueError, "tau"),
    (lambda: C.clip_logits([[1.0]], torch.ones(1, 1)), TypeError, "z_img"),
    (lambda: C.DualEncoder(0, 3), ValueError, "d_img"),
    (lambda: C.make_paired_data(n_classes=1), ValueError, "n_classes"),
    (lambda: C.zero_shot_classify("model", torch.ones(1, 2), torch.ones(1, 2)), TypeError, "model"),
])
def test_bad_input(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()
