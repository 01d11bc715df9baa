"""CLIP-style contrastive learning: a symmetric InfoNCE loss over a batch of matched pairs.

For N image embeddings and N text embeddings (row i of each is a matched pair), both L2-normalised::

    S_ij = z_img_i . z_txt_j / tau                                             (5.221)
    L = -1/(2N) sum_i [ log softmax_j(S_ij)_{j=i} + log softmax_j(S_ji)_{j=i} ]  (5.224)

Row i is a classification of image i against all N captions of the batch, and column i of caption i
against all N images: the other N - 1 items of the batch are the negatives ("in-batch negatives"; no
mining). The temperature is learned as ``log(1/tau)`` and the scale ``1/tau`` is clamped at 100, as in
CLIP (Radford et al. 2021).

:class:`DualEncoder` holds two small MLP encoders and that learned scale; :func:`make_paired_data`
makes synthetic pairs from a shared latent; :func:`zero_shot_classify` labels images by their most
similar class caption.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def _tensor(name: str, value, ndim: int | None = None) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point tensor, got dtype {value.dtype}")
    if ndim is not None and value.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} dimensions, got shape {tuple(value.shape)}")
    return value


def _tau(tau) -> torch.Tensor | float:
    if isinstance(tau, torch.Tensor):
        if tau.numel() != 1 or not bool(tau.detach() > 0):
            raise ValueError(f"tau: expected a positive scalar, got {tau!r}")
        return tau
    if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not tau > 0 or not math.isfinite(tau):
        raise ValueError(f"tau: expected a positive number, got {tau!r}")
    return float(tau)


def clip_logits(z_img: torch.Tensor, z_txt: torch.Tensor, tau=0.07) -> torch.Tensor:
    """Normalise both sets of embeddings (N, D) and (M, D); return ``S = Z_img Z_txt^T / tau`` (N, M)."""
    z_img, z_txt = _tensor("z_img", z_img, 2), _tensor("z_txt", z_txt, 2)
    if z_img.shape[1] != z_txt.shape[1]:
        raise ValueError(f"z_img, z_txt: expected the same embedding size, got {z_img.shape[1]} and {z_txt.shape[1]}")
    return F.normalize(z_img, dim=1) @ F.normalize(z_txt, dim=1).T / _tau(tau)


def info_nce_loss(z_img: torch.Tensor, z_txt: torch.Tensor, tau=0.07) -> torch.Tensor:
    """Symmetric InfoNCE (5.224) for N matched pairs (N, D): the mean of the image->text and the
    text->image cross-entropies with targets ``arange(N)``."""
    S = clip_logits(z_img, z_txt, tau)
    if S.shape[0] != S.shape[1]:
        raise ValueError(f"z_img, z_txt: expected the same number of rows (pairs), got {S.shape[0]} and {S.shape[1]}")
    target = torch.arange(S.shape[0], device=S.device)
    return 0.5 * (F.cross_entropy(S, target) + F.cross_entropy(S.T, target))


def retrieval_accuracy(z_img: torch.Tensor, z_txt: torch.Tensor) -> float:
    """Top-1 image->text retrieval: the fraction of images whose most similar caption is their own."""
    S = clip_logits(z_img, z_txt, 1.0)
    return float((S.argmax(1) == torch.arange(S.shape[0], device=S.device)).double().mean())


def _mlp(d_in: int, hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, hidden), nn.GELU(), nn.Linear(hidden, d_out))


class DualEncoder(nn.Module):
    """Two MLP encoders into one ``d_embed``-dimensional space and a learned temperature.

    ``forward(x_img, x_txt)`` returns the normalised embeddings ``(z_img, z_txt)``; :meth:`logit_scale`
    is ``exp(log_scale)`` clamped at ``max_logit_scale`` (so ``tau >= 1/100``); :meth:`loss` is the
    InfoNCE loss at that temperature.
    """

    def __init__(self, d_img: int, d_txt: int, d_embed: int = 16, hidden: int = 64, init_tau: float = 0.07,
                 max_logit_scale: float = 100.0):
        super().__init__()
        for name, v in dict(d_img=d_img, d_txt=d_txt, d_embed=d_embed, hidden=hidden).items():
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: expected a positive integer, got {v!r}")
        init_tau = _tau(init_tau)
        if isinstance(max_logit_scale, bool) or not isinstance(max_logit_scale, (int, float)) or max_logit_scale < 1.0 / init_tau:
            raise ValueError(f"max_logit_scale: expected a number >= 1/init_tau, got {max_logit_scale!r}")
        self.img = _mlp(d_img, hidden, d_embed)
        self.txt = _mlp(d_txt, hidden, d_embed)
        self.log_scale = nn.Parameter(torch.tensor(math.log(1.0 / init_tau)))
        self.max_log_scale = math.log(max_logit_scale)

    def encode_image(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.img(x), dim=-1)

    def encode_text(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.txt(x), dim=-1)

    def forward(self, x_img: torch.Tensor, x_txt: torch.Tensor):
        return self.encode_image(x_img), self.encode_text(x_txt)

    def logit_scale(self) -> torch.Tensor:
        """``1/tau``, clamped at ``max_logit_scale``."""
        return self.log_scale.clamp(max=self.max_log_scale).exp()

    @property
    def tau(self) -> float:
        return float(1.0 / self.logit_scale().detach())

    def loss(self, x_img: torch.Tensor, x_txt: torch.Tensor) -> torch.Tensor:
        z_i, z_t = self(x_img, x_txt)
        return info_nce_loss(z_i, z_t, 1.0 / self.logit_scale())


def make_paired_data(n: int = 2000, d_latent: int = 4, d_img: int = 20, d_txt: int = 12, noise: float = 0.3,
                     n_classes: int | None = None, seed: int = 0) -> dict:
    """Synthetic "images" and "captions" that describe the same latent ``c`` (float32).

    ``c ~ N(0, I)`` (or, with ``n_classes``, a class centre plus ``0.5 N(0, I)``); ``x_img = A c + noise``
    and ``x_txt = B c + noise`` with fixed random ``A`` (d_img, d_latent) and ``B`` (d_txt, d_latent).
    Returns ``dict(x_img, x_txt, latent, A, B)`` and, with classes, ``labels`` and ``class_txt``: the
    noise-free captions ``B mu_k`` of the class centres, which serve as zero-shot class prompts.
    """
    for name, v in dict(n=n, d_latent=d_latent, d_img=d_img, d_txt=d_txt).items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name}: expected a positive integer, got {v!r}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or noise < 0:
        raise ValueError(f"noise: expected a number >= 0, got {noise!r}")
    if n_classes is not None and (isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2):
        raise ValueError(f"n_classes: expected None or an integer >= 2, got {n_classes!r}")
    g = torch.Generator().manual_seed(int(seed))
    A = torch.randn(d_img, d_latent, generator=g)
    B = torch.randn(d_txt, d_latent, generator=g)
    out = dict(A=A, B=B)
    if n_classes is None:
        c = torch.randn(n, d_latent, generator=g)
    else:
        centres = 2.0 * torch.randn(n_classes, d_latent, generator=g)
        labels = torch.randint(0, n_classes, (n,), generator=g)
        c = centres[labels] + 0.5 * torch.randn(n, d_latent, generator=g)
        out.update(labels=labels, centres=centres, class_txt=centres @ B.T)
    out.update(latent=c, x_img=c @ A.T + noise * torch.randn(n, d_img, generator=g),
               x_txt=c @ B.T + noise * torch.randn(n, d_txt, generator=g))
    return out


def train_dual_encoder(model: DualEncoder, x_img: torch.Tensor, x_txt: torch.Tensor, *, steps: int = 400,
                       batch: int = 128, lr: float = 3e-3, seed: int = 0) -> dict:
    """Adam on random mini-batches of matched pairs; returns ``dict(loss=[...], tau=[...])`` per step."""
    if not isinstance(model, DualEncoder):
        raise TypeError(f"model: expected a DualEncoder, got {type(model).__name__}")
    x_img, x_txt = _tensor("x_img", x_img, 2), _tensor("x_txt", x_txt, 2)
    if x_img.shape[0] != x_txt.shape[0]:
        raise ValueError("x_img, x_txt: expected the same number of pairs")
    for name, v in dict(steps=steps, batch=batch).items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name}: expected a positive integer, got {v!r}")
    g = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    hist = dict(loss=[], tau=[])
    n = x_img.shape[0]
    for _ in range(steps):
        idx = torch.randperm(n, generator=g)[:batch].to(x_img.device)
        loss = model.loss(x_img[idx], x_txt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        hist["loss"].append(float(loss.detach()))
        hist["tau"].append(model.tau)
    return hist


@torch.no_grad()
def zero_shot_classify(model: DualEncoder, x_img: torch.Tensor, class_text_feats: torch.Tensor) -> torch.Tensor:
    """Label each image by the class whose caption embedding is most similar: ``argmax_k z_img . z_txt_k``."""
    if not isinstance(model, DualEncoder):
        raise TypeError(f"model: expected a DualEncoder, got {type(model).__name__}")
    z_i = model.encode_image(_tensor("x_img", x_img, 2))
    z_t = model.encode_text(_tensor("class_text_feats", class_text_feats, 2))
    return (z_i @ z_t.T).argmax(1)
