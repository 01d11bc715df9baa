"""Word embeddings: a bigram model whose first layer is a column lookup, and PPMI-SVD word vectors.

The bigram model predicts the next word from the current one (book section 2.9). With one-hot
``x, y in {0,1}^V``, ``W_embed`` (d, V) and ``W_unembed`` (V, d)::

    h = W_embed x  (= column k of W_embed),   s = W_unembed h,   p = softmax(s),   J = log p_y

and, with the error ``e = y - p``, the gradients of the log-likelihood ``J`` are

    dJ/dW_unembed = e h^T  (V, d),   dJ/dh = W_unembed^T e  (d,),   dJ/dW_embed = (W_unembed^T e) x^T  (d, V),

the last being zero outside column k. Code never forms ``x``: it indexes column k and adds the
gradient back into that column only (``np.add.at``), which is what ``torch.nn.Embedding`` does.

The second half builds word vectors without any network (section 2.10): a synthetic co-occurrence
table of 8 "royal family" words with 20 context words, its positive PMI matrix, and a truncated SVD.
Vector arithmetic on those rows solves king - man + woman = queen (Levy & Goldberg 2014 explain why
skip-gram embeddings behave like a factorised shifted PMI matrix).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

NAMES = [("barack", "obama"), ("new", "york"), ("hong", "kong"), ("los", "angeles"), ("buenos", "aires")]
FILLERS = ["the", "a", "people", "in", "from", "visited", "met", "said", "likes", "city", "president",
           "news", "today", "and", "big", "old", "trip", "to", "we", "saw"]
END = "."


# --------------------------------------------------------------------------- input checks
def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not np.isscalar(value) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    return float(value)


def _check_indices(name: str, idx, V: int) -> np.ndarray:
    idx = np.asarray(idx)
    if idx.ndim == 0:
        idx = idx[None]
    if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"{name}: expected a non-empty 1-D array of integer word indices, got {idx.dtype} "
                        f"with shape {idx.shape}")
    if idx.min() < 0 or idx.max() >= V:
        raise ValueError(f"{name}: expected indices in [0, {V}), got range [{idx.min()}, {idx.max()}]")
    return idx


def _check_matrix(name: str, M, ndim: int = 2) -> np.ndarray:
    M = np.asarray(M)
    if not np.issubdtype(M.dtype, np.number):
        raise TypeError(f"{name}: expected a numeric array, got dtype {M.dtype}")
    if M.ndim != ndim or min(M.shape) == 0:
        raise ValueError(f"{name}: expected a non-empty {ndim}-D array, got shape {M.shape}")
    M = M.astype(np.float64)
    if not np.all(np.isfinite(M)):
        raise ValueError(f"{name}: expected finite values, found NaN or inf")
    return M


# --------------------------------------------------------------------------- the toy corpus
def toy_bigram_corpus(n_sentences: int = 300, seed: int = 0) -> tuple[list[str], list[str]]:
    """A token stream of short sentences made of filler words and two-word names ("barack obama").

    Each sentence has 2-5 fillers with one name inserted at a random place and ends with ".". The first
    word of a name is always followed by the second, so ``p(obama | barack)`` should approach 1.
    Returns ``(tokens, vocab)`` with ``vocab`` the sorted distinct tokens (V = 31).
    """
    n_sentences = _check_int("n_sentences", n_sentences, 1)
    rng = np.random.default_rng(seed)
    tokens: list[str] = []
    for _ in range(n_sentences):
        words = list(rng.choice(FILLERS, size=rng.integers(2, 6)))
        pos = int(rng.integers(0, len(words) + 1))
        words[pos:pos] = NAMES[int(rng.integers(len(NAMES)))]
        tokens += [str(w) for w in words] + [END]
    return tokens, sorted(set(tokens))


def bigram_pairs(tokens: list[str], vocab: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive pairs (current word, next word) as index arrays ``(x_idx, y_idx)``, each (N - 1,)."""
    if len(tokens) < 2:
        raise ValueError(f"tokens: expected at least 2 tokens, got {len(tokens)}")
    index = {w: i for i, w in enumerate(vocab)}
    missing = sorted({t for t in tokens if t not in index})
    if missing:
        raise ValueError(f"tokens: words not in vocab: {missing[:5]}")
    ids = np.array([index[t] for t in tokens])
    return ids[:-1], ids[1:]


# --------------------------------------------------------------------------- the bigram model (numpy)
def _softmax(s: np.ndarray) -> np.ndarray:
    z = np.exp(s - s.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


class BigramEmbeddingModel:
    """``p(next | current) = softmax(W_unembed W_embed[:, current])`` with gradients done by hand.

    ``W_embed`` (d, V) holds one embedding per column, ``W_unembed`` (V, d) one output vector per row.
    ``backward`` returns the gradients of the *mean* log-likelihood ``J = mean_b log p(y_b | x_b)``
    (the book's sign: the error is ``y - p``), and ``step(lr)`` climbs them: ``W += lr * dJ/dW``.
    """

    def __init__(self, V: int, d: int = 8, scale: float = 0.1, seed: int = 0):
        V, d = _check_int("V", V, 2), _check_int("d", d, 1)
        rng = np.random.default_rng(seed)
        self.W_embed = rng.normal(scale=_check_positive("scale", scale), size=(d, V))
        self.W_unembed = rng.normal(scale=scale, size=(V, d))
        self.grads: dict[str, np.ndarray] | None = None

    @property
    def V(self) -> int:
        return self.W_embed.shape[1]

    def forward(self, idx) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Word indices (B,) -> ``(h (B, d), s (B, V), p (B, V))``; h is a lookup, not a one-hot product."""
        idx = _check_indices("idx", idx, self.V)
        h = self.W_embed[:, idx].T
        s = h @ self.W_unembed.T
        return h, s, _softmax(s)

    def loglik(self, idx, y_idx) -> float:
        """Mean log-likelihood ``J`` of the next words ``y_idx`` (B,)."""
        _, _, p = self.forward(idx)
        y_idx = _check_indices("y_idx", y_idx, self.V)
        return float(np.mean(np.log(p[np.arange(len(y_idx)), y_idx])))

    def backward(self, idx, y_idx) -> dict[str, np.ndarray]:
        """Gradients of the mean log-likelihood: ``W_embed`` (d, V) non-zero only in the columns of ``idx``."""
        idx = _check_indices("idx", idx, self.V)
        y_idx = _check_indices("y_idx", y_idx, self.V)
        if len(y_idx) != len(idx):
            raise ValueError(f"y_idx: expected {len(idx)} indices like idx, got {len(y_idx)}")
        h, _, p = self.forward(idx)
        B = len(idx)
        e = -p
        e[np.arange(B), y_idx] += 1.0                  # e = y - p, one row per example
        d_unembed = e.T @ h / B                        # sum_b e_b h_b^T / B
        dh = e @ self.W_unembed                        # row b is (W_unembed^T e_b)^T
        d_embed = np.zeros_like(self.W_embed)
        np.add.at(d_embed.T, idx, dh / B)              # scatter into the looked-up columns only
        self.grads = {"W_embed": d_embed, "W_unembed": d_unembed, "h": dh}
        return self.grads

    def step(self, lr: float) -> None:
        """Gradient *ascent* on J with the gradients of the last ``backward``."""
        if self.grads is None:
            raise ValueError("step: call backward(idx, y_idx) first")
        lr = _check_positive("lr", lr)
        self.W_embed += lr * self.grads["W_embed"]
        self.W_unembed += lr * self.grads["W_unembed"]


# --------------------------------------------------------------------------- the bigram model (torch)
class TorchBigramModel(nn.Module):
    """The same model with ``nn.Embedding`` (a lookup table, weight (V, d) = ``W_embed^T``) and a
    bias-free ``nn.Linear(d, V)`` (weight (V, d) = ``W_unembed``). ``forward`` returns logits (B, V)."""

    def __init__(self, V: int, d: int = 8):
        super().__init__()
        V, d = _check_int("V", V, 2), _check_int("d", d, 1)
        self.embed = nn.Embedding(V, d)
        self.unembed = nn.Linear(d, V, bias=False)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.unembed(self.embed(idx))

    @torch.no_grad()
    def load_numpy(self, model: BigramEmbeddingModel) -> "TorchBigramModel":
        """Copy the weights of a numpy model (to compare the two implementations)."""
        if not isinstance(model, BigramEmbeddingModel):
            raise TypeError(f"model: expected a BigramEmbeddingModel, got {type(model).__name__}")
        dev, dt = self.embed.weight.device, self.embed.weight.dtype
        self.embed.weight.copy_(torch.as_tensor(model.W_embed.T, device=dev, dtype=dt))
        self.unembed.weight.copy_(torch.as_tensor(model.W_unembed, device=dev, dtype=dt))
        return self


def train_bigram(x_idx, y_idx, V: int, d: int = 8, steps: int = 300, lr: float = 0.05, seed: int = 0,
                 device=None) -> tuple[TorchBigramModel, np.ndarray]:
    """Full-batch Adam on the mean cross-entropy ``-J``. Returns ``(model, loss per step (steps,))``."""
    steps = _check_int("steps", steps, 1)
    lr = _check_positive("lr", lr)
    device = torch.device(device or "cpu")
    torch.manual_seed(seed)
    model = TorchBigramModel(V, d).to(device)
    x = torch.as_tensor(_check_indices("x_idx", x_idx, V), device=device)
    y = torch.as_tensor(_check_indices("y_idx", y_idx, V), device=device)
    if len(x) != len(y):
        raise ValueError(f"y_idx: expected {len(x)} indices like x_idx, got {len(y)}")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = np.empty(steps)
    for t in range(steps):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses[t] = loss.item()
    return model, losses


# --------------------------------------------------------------------------- co-occurrence and PPMI
ENTITIES = {  # gender (+1 male), status (+1 royal), age (+1 adult)
    "king": (1, 1, 1), "queen": (-1, 1, 1), "man": (1, -1, 1), "woman": (-1, -1, 1),
    "prince": (1, 1, -1), "princess": (-1, 1, -1), "boy": (1, -1, -1), "girl": (-1, -1, -1),
}
CONTEXTS = {  # how each context word loads on (gender, status, age); zeros are indifferent words
    "he": (1, 0, 0), "his": (1, 0, 0), "beard": (1, 0, 1), "she": (-1, 0, 0), "her": (-1, 0, 0),
    "dress": (-1, 0, 0), "crown": (0, 1, 0), "throne": (0, 1, 0), "palace": (0, 1, 0), "royal": (0, 1, 0),
    "job": (0, -1, 1), "street": (0, -1, 0), "school": (0, 0, -1), "toy": (0, 0, -1), "young": (0, 0, -1),
    "old": (0, 0, 1), "tax": (0, -1, 1), "the": (0, 0, 0), "said": (0, 0, 0), "walked": (0, 0, 0),
}


def attribute_cooccurrence(total: float = 50_000, strength: float = 1.0, seed: int = 0
                           ) -> tuple[np.ndarray, list[str], list[str]]:
    """Poisson co-occurrence counts (8, 20) of entity words with context words.

    The rate of (entity e, context c) is proportional to ``exp(strength * u_c . a_e)`` with ``a_e`` the
    entity's attributes (gender, status, age) in {-1, 1}^3 and ``u_c`` the context word's loadings;
    ``total`` is the expected number of all co-occurrences. Returns ``(counts, entity_words, context_words)``.
    """
    total, strength = _check_positive("total", total), _check_positive("strength", strength)
    a = np.array(list(ENTITIES.values()), dtype=float)
    u = np.array(list(CONTEXTS.values()), dtype=float)
    rate = np.exp(strength * a @ u.T)
    counts = np.random.default_rng(seed).poisson(total * rate / rate.sum()).astype(float)
    return counts, list(ENTITIES), list(CONTEXTS)


def ppmi(counts) -> np.ndarray:
    """Positive pointwise mutual information ``max(0, log(P_ij / (P_i P_j)))``, 0 where a count is 0."""
    C = _check_matrix("counts", counts)
    if np.any(C < 0) or C.sum() == 0:
        raise ValueError("counts: expected non-negative counts with a positive total")
    P = C / C.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(P / (P.sum(axis=1, keepdims=True) * P.sum(axis=0, keepdims=True)))
    return np.where(C > 0, np.maximum(pmi, 0.0), 0.0)


def svd_embed(M, k: int, weight: float = 0.5) -> np.ndarray:
    """Rows of ``U_k diag(sigma_k)^weight`` from the SVD ``M = U diag(sigma) V^T``: one k-vector per row of M."""
    M = _check_matrix("M", M)
    k = _check_int("k", k, 1)
    if k > min(M.shape):
        raise ValueError(f"k: expected k <= min(M.shape) = {min(M.shape)}, got {k}")
    U, sig, _ = np.linalg.svd(M, full_matrices=False)
    return U[:, :k] * sig[:k] ** weight


def _unit_rows(E: np.ndarray) -> np.ndarray:
    return E / np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-300)


def _lookup(E, vocab, words) -> tuple[np.ndarray, list[int]]:
    E = _check_matrix("E", E)
    if len(vocab) != E.shape[0]:
        raise ValueError(f"vocab: expected {E.shape[0]} words, one per row of E, got {len(vocab)}")
    index = {w: i for i, w in enumerate(vocab)}
    for w in words:
        if w not in index:
            raise ValueError(f"word {w!r} is not in vocab")
    return E, [index[w] for w in words]


def analogy(E, vocab: list[str], a: str, b: str, c: str, exclude: bool = True) -> str:
    """The word whose unit vector is closest in cosine to ``a - b + c`` (unit vectors), e.g.
    ``analogy(E, vocab, "king", "man", "woman") -> "queen"``. ``exclude`` skips a, b and c themselves."""
    E, (ia, ib, ic) = _lookup(E, vocab, [a, b, c])
    U = _unit_rows(E)
    target = U[ia] - U[ib] + U[ic]
    scores = U @ (target / np.linalg.norm(target))
    if exclude:
        scores[[ia, ib, ic]] = -np.inf
    return vocab[int(np.argmax(scores))]


def nearest(E, vocab: list[str], w: str, k: int = 3) -> list[tuple[str, float]]:
    """The ``k`` words with the largest cosine similarity to ``w`` (``w`` itself excluded)."""
    E, (iw,) = _lookup(E, vocab, [w])
    k = _check_int("k", k, 1)
    U = _unit_rows(E)
    cos = U @ U[iw]
    order = [i for i in np.argsort(-cos, kind="stable") if i != iw][:k]
    return [(vocab[i], float(cos[i])) for i in order]
