"""Word-level text for Chapter 5: the capitals corpus, a word tokenizer, masked-LM and response masks.

The capitals corpus states 12 (country, capital) facts in three sentence templates, so a small GPT can
learn them; ``"the capital of X is"`` then tests whether it recalls ``Y``. :func:`train_capitals_gpt`
trains that model in one call (a few seconds on one CPU thread) so that every notebook can make its own.

:func:`mlm_mask` is BERT's corruption (choose 15 % of the tokens; of those 80 % become [MASK], 10 % a
random token, 10 % stay). :func:`response_loss_mask` and :func:`masked_lm_loss` give the
instruction-tuning objective: cross-entropy on the response tokens only (5.173). Character-level text
uses :func:`lib.sequences.zen_text` and :func:`lib.sequences.char_codec`.
"""
from __future__ import annotations

import random

import torch
import torch.nn.functional as F

from .transformer import GPTConfig, TinyGPT, train_lm

CAPITALS: list[tuple[str, str]] = [
    ("france", "paris"), ("japan", "tokyo"), ("italy", "rome"), ("spain", "madrid"),
    ("egypt", "cairo"), ("peru", "lima"), ("kenya", "nairobi"), ("chile", "santiago"),
    ("norway", "oslo"), ("cuba", "havana"), ("greece", "athens"), ("ghana", "accra"),
]
ADJECTIVES = ("big", "old", "busy", "lovely", "sunny", "famous")
TEMPLATES = (  # (template, probability)
    ("the capital of {x} is {y} .", 0.5),
    ("{y} is a {adj} city in {x} .", 0.25),
    ("we visited {x} and saw {y} .", 0.25),
)


def _check_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return value


def make_capitals_corpus(n_sentences: int = 3000, seed: int = 0, pairs=CAPITALS) -> str:
    """``n_sentences`` sentences, space-separated, each stating one random pair in a random template."""
    _check_int("n_sentences", n_sentences), _check_int("seed", seed, 0)
    pairs = list(pairs)
    if not pairs or not all(isinstance(p, tuple) and len(p) == 2 and all(isinstance(w, str) and w and " " not in w
                                                                         for w in p) for p in pairs):
        raise ValueError("pairs: expected a non-empty list of (country, capital) single-word string pairs")
    rng = random.Random(seed)
    forms, probs = zip(*TEMPLATES)
    out = []
    for _ in range(n_sentences):
        x, y = rng.choice(pairs)
        form = rng.choices(forms, weights=probs)[0]
        out.append(form.format(x=x, y=y, adj=rng.choice(ADJECTIVES)))
    return " ".join(out)


class WordTokenizer:
    """Whitespace words -> ids, with the vocabulary sorted alphabetically. ``fit(text)`` returns self."""

    def __init__(self):
        self.stoi: dict[str, int] = {}
        self.itos: list[str] = []

    def fit(self, text: str) -> "WordTokenizer":
        if not isinstance(text, str) or not text.split():
            raise ValueError("text: expected a non-empty string of words")
        self.itos = sorted(set(text.split()))
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        return self

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> list[int]:
        if not isinstance(text, str):
            raise TypeError(f"text: expected a str, got {type(text).__name__}")
        words = text.split()
        unknown = sorted(set(words) - self.stoi.keys())
        if unknown:
            raise ValueError(f"text: words not in the vocabulary: {unknown[:5]!r}")
        return [self.stoi[w] for w in words]

    def decode(self, ids) -> str:
        ids = [int(i) for i in (ids.tolist() if hasattr(ids, "tolist") else ids)]
        bad = [i for i in ids if not 0 <= i < self.vocab_size]
        if bad:
            raise ValueError(f"ids: expected indices in [0, {self.vocab_size}), got {bad[:5]}")
        return " ".join(self.itos[i] for i in ids)


# --------------------------------------------------------------------------- the capitals GPT
CAPITALS_CONFIG = dict(d_model=64, n_layers=2, n_heads=2, max_len=16)


def train_capitals_gpt(seed: int = 0, steps: int = 300, device=None) -> tuple[TinyGPT, WordTokenizer, torch.Tensor]:
    """Train TinyGPT (d=64, 2 layers, 2 heads, context 16) on the capitals corpus: 300 AdamW steps, batch 32.

    Returns ``(model, tokenizer, data)`` with the model in eval mode and ``data`` the encoded corpus.
    ``device`` defaults to the CPU (the model is tiny).
    """
    _check_int("seed", seed, 0), _check_int("steps", steps, 0)
    device = torch.device("cpu") if device is None else torch.device(device)
    tok = WordTokenizer().fit(make_capitals_corpus())
    data = torch.tensor(tok.encode(make_capitals_corpus()), dtype=torch.long)
    torch.manual_seed(seed)
    model = TinyGPT(GPTConfig(vocab_size=tok.vocab_size, **CAPITALS_CONFIG)).to(device)
    train_lm(model, data, steps=steps, batch_size=32, block_size=CAPITALS_CONFIG["max_len"], lr=3e-3,
             device=device, seed=seed)
    return model, tok, data


@torch.no_grad()
def recall_capitals(model: TinyGPT, tokenizer: WordTokenizer, pairs=CAPITALS) -> list[dict]:
    """For each pair, the greedy next word after ``"the capital of X is"`` and p(correct capital).

    Returns one dict per pair: country, capital, predicted, p_correct, correct (bool).
    """
    if not isinstance(model, TinyGPT):
        raise TypeError(f"model: expected a TinyGPT, got {type(model).__name__}")
    dev = model.tok_emb.weight.device
    out = []
    for x, y in pairs:
        idx = torch.tensor([tokenizer.encode(f"the capital of {x} is")], device=dev)
        probs = torch.softmax(model(idx)[0, -1].double(), -1)
        pred = tokenizer.itos[int(probs.argmax())]
        p = float(probs[tokenizer.stoi[y]])
        out.append(dict(country=x, capital=y, predicted=pred, p_correct=p, correct=pred == y))
    return out


# --------------------------------------------------------------------------- BERT and instruction tuning
def mlm_mask(tokens: torch.Tensor, mask_id: int, vocab_size: int, p: float = 0.15, *, special_ids=(),
             generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masked-LM corruption: ``(inputs, labels)``, both shaped like ``tokens``.

    Each non-special token is chosen with probability ``p``; a chosen token becomes ``mask_id`` with
    probability 0.8, a uniformly random id in [0, vocab_size) with 0.1, and stays with 0.1. ``labels``
    holds the original id at chosen positions and -100 (ignored by ``F.cross_entropy``) elsewhere.
    """
    if not isinstance(tokens, torch.Tensor) or tokens.dtype != torch.long:
        raise TypeError("tokens: expected a LongTensor of token ids")
    _check_int("vocab_size", vocab_size, 2)
    if isinstance(mask_id, bool) or not isinstance(mask_id, int) or not 0 <= mask_id < vocab_size:
        raise ValueError(f"mask_id: expected an integer in [0, {vocab_size}), got {mask_id!r}")
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 < p <= 1:
        raise ValueError(f"p: expected a probability in (0, 1], got {p!r}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator: expected a torch.Generator or None, got {type(generator).__name__}")
    u = torch.rand(tokens.shape, generator=generator).to(tokens.device)
    action = torch.rand(tokens.shape, generator=generator).to(tokens.device)
    random_ids = torch.randint(0, vocab_size, tokens.shape, generator=generator).to(tokens.device)
    special = torch.zeros_like(tokens, dtype=torch.bool)
    for s in special_ids:
        special |= tokens == int(s)
    chosen = (u < p) & ~special
    inputs = tokens.clone()
    inputs[chosen & (action < 0.8)] = mask_id
    swap = chosen & (action >= 0.8) & (action < 0.9)
    inputs[swap] = random_ids[swap]
    labels = torch.where(chosen, tokens, torch.full_like(tokens, -100))
    return inputs, labels


def response_loss_mask(prompt_lens: torch.Tensor, total_len: int) -> torch.Tensor:
    """(B, total_len) boolean mask, True at the tokens of the response (positions >= prompt_lens[b]).

    For next-token training shift it like the targets: the loss of ``logits[:, :-1]`` against
    ``tokens[:, 1:]`` uses ``mask[:, 1:]``, so the prompt is read but never scored.
    """
    if not isinstance(prompt_lens, torch.Tensor) or prompt_lens.dtype != torch.long or prompt_lens.ndim != 1:
        raise TypeError("prompt_lens: expected a 1-D LongTensor of prompt lengths")
    _check_int("total_len", total_len)
    if (prompt_lens < 0).any() or (prompt_lens > total_len).any():
        raise ValueError(f"prompt_lens: expected lengths in [0, {total_len}]")
    return torch.arange(total_len, device=prompt_lens.device)[None, :] >= prompt_lens[:, None]


def masked_lm_loss(logits: torch.Tensor, targets: torch.Tensor, loss_mask: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of ``logits`` (B, T, V) against ``targets`` (B, T) over positions where ``loss_mask``."""
    if not isinstance(logits, torch.Tensor) or logits.ndim != 3:
        raise ValueError("logits: expected a tensor of shape (B, T, V)")
    if not isinstance(targets, torch.Tensor) or targets.shape != logits.shape[:2]:
        raise ValueError(f"targets: expected shape {tuple(logits.shape[:2])}")
    if not isinstance(loss_mask, torch.Tensor) or loss_mask.dtype != torch.bool or loss_mask.shape != targets.shape:
        raise ValueError(f"loss_mask: expected a boolean tensor of shape {tuple(targets.shape)}")
    if not loss_mask.any():
        raise ValueError("loss_mask: expected at least one position to score")
    per_token = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
    return per_token[loss_mask].mean()
