"""Small sequence data sets for the recurrent-network chapters: all synthetic or shipped with Python.

* :func:`toy_sentence`: the running example "I love machine learning" as one-hot vectors;
* :func:`zen_text` and :func:`char_codec`: the Zen of Python (``import this``) as a character corpus;
* :func:`delayed_recall_batch`: remember the first of T random tokens (a long-range dependency);
* :func:`adding_problem_batch`: add the two marked numbers in a sequence of T (Hochreiter & Schmidhuber, 1997).

Sequences are time-first, ``(T, batch, features)``, as in ``torch.nn.RNN`` with ``batch_first=False``.
"""
from __future__ import annotations

import codecs
import contextlib
import io

import numpy as np
import torch

TOY_VOCAB = ("I", "love", "machine", "learning")


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_generator(generator) -> None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator: expected a torch.Generator or None, got {type(generator).__name__}")


def toy_sentence(dtype=torch.float64, device=None) -> tuple[list[str], torch.Tensor, torch.Tensor]:
    """The four-word example: inputs "I", "love", "machine" and the target "learning".

    Returns ``vocab`` (4 words), ``x`` (3, 4) one-hot rows x_1, x_2, x_3, and ``y`` (4,) the one-hot x_4.
    """
    eye = torch.eye(len(TOY_VOCAB), dtype=dtype, device=device)
    return list(TOY_VOCAB), eye[:3].clone(), eye[3].clone()


def zen_text() -> str:
    """The Zen of Python: ``this.s`` decoded with rot13 (importing ``this`` prints it, so stdout is muted)."""
    with contextlib.redirect_stdout(io.StringIO()):
        import this
    return codecs.decode(this.s, "rot13")


def char_codec(text: str):
    """A character-level codec for ``text``: ``(encode, decode, V)``.

    The alphabet is the sorted set of characters in ``text`` (V of them). ``encode(s)`` gives a 1-D
    ``torch.long`` tensor of indices; ``decode(ids)`` accepts any iterable of ints (list, array, tensor).
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected a str, got {type(text).__name__}")
    if not text:
        raise ValueError("text: expected a non-empty string")
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}

    def encode(s: str) -> torch.Tensor:
        if not isinstance(s, str):
            raise TypeError(f"s: expected a str, got {type(s).__name__}")
        unknown = sorted(set(s) - index.keys())
        if unknown:
            raise ValueError(f"s: characters not in the alphabet: {unknown!r}")
        return torch.tensor([index[c] for c in s], dtype=torch.long)

    def decode(ids) -> str:
        ids = [int(i) for i in (ids.tolist() if hasattr(ids, "tolist") else ids)]
        bad = [i for i in ids if not 0 <= i < len(chars)]
        if bad:
            raise ValueError(f"ids: expected indices in [0, {len(chars)}), got {bad[:5]}")
        return "".join(chars[i] for i in ids)

    return encode, decode, len(chars)


def delayed_recall_batch(bs: int, T: int, V: int = 4, generator=None, dtype=torch.float32,
                         device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of the delayed-recall task: read T uniformly random tokens, then name the first one.

    Returns ``x`` (T, bs, V) one-hot and ``y`` (bs,) long with ``y = argmax x[0]``. Chance accuracy is 1/V:
    a model succeeds only if information from step 1 survives T - 1 recurrent steps.
    """
    bs, T, V = _check_int("bs", bs, 1), _check_int("T", T, 1), _check_int("V", V, 2)
    _check_generator(generator)
    tokens = torch.randint(V, (T, bs), generator=generator)
    x = torch.nn.functional.one_hot(tokens, V).to(dtype=dtype, device=device)
    return x, tokens[0].to(device)


def adding_problem_batch(bs: int, T: int, generator=None, dtype=torch.float32,
                         device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of the adding problem: values u_t ~ U(0, 1) and a mark m_t in {0, 1} at exactly two steps.

    One mark falls in the first half, one in the second. Returns ``x`` (T, bs, 2) with channels (u, m)
    and ``y`` (bs,) = the sum of the two marked values (predicting 1 always gives MSE 1/6).
    """
    bs, T = _check_int("bs", bs, 1), _check_int("T", T, 2)
    _check_generator(generator)
    u = torch.rand(T, bs, generator=generator, dtype=torch.float64)
    half = T // 2
    first = torch.randint(half, (bs,), generator=generator)
    second = half + torch.randint(T - half, (bs,), generator=generator)
    m = torch.zeros(T, bs, dtype=torch.float64)
    cols = torch.arange(bs)
    m[first, cols] = 1.0
    m[second, cols] = 1.0
    y = (u * m).sum(0)
    return torch.stack([u, m], -1).to(dtype=dtype, device=device), y.to(dtype=dtype, device=device)
