"""lib.sequences: the toy sentence, the Zen corpus and codec, and the synthetic sequence tasks."""
import codecs
import io
import contextlib

import numpy as np
import pytest
import torch

from lib import sequences as S


def test_toy_sentence_is_one_hot_and_predicts_learning():
    vocab, x, y = S.toy_sentence()
    assert vocab == ["I", "love", "machine", "learning"]
    assert x.shape == (3, 4) and y.shape == (4,) and x.dtype == torch.float64
    assert [vocab[i] for i in x.argmax(1).tolist()] == ["I", "love", "machine"]
    assert vocab[int(y.argmax())] == "learning"
    torch.testing.assert_close(x.sum(1), torch.ones(3, dtype=torch.float64))
    assert S.toy_sentence(dtype=torch.float32)[1].dtype == torch.float32


def test_zen_text_is_silent_and_matches_rot13_of_this():
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        text = S.zen_text()
    assert buf.getvalue() == ""
    import this  # noqa: F401  (already imported above, so silent)
    assert text == codecs.decode(this.s, "rot13")
    assert text.startswith("The Zen of Python, by Tim Peters\n\nBeautiful is better than ugly.") and len(text) == 856 and len(set(text)) == 45


def test_char_codec_round_trip_and_errors():
    text = S.zen_text()
    encode, decode, V = S.char_codec(text)
    assert V == 45
    ids = encode(text)
    assert ids.dtype == torch.long and ids.shape == (856,) and int(ids.max()) == V - 1 and int(ids.min()) == 0
    assert decode(ids) == text and decode(ids.tolist()) == text and decode(np.asarray(ids)) == text
    # indices follow the sorted alphabet
    assert decode([0]) == min(text) and decode([V - 1]) == max(text)
    with pytest.raises(ValueError, match="not in the alphabet"):
        encode("Zen ~")
    with pytest.raises(ValueError, match=r"ids: expected indices in \[0, 45\)"):
        decode([0, 45])
    with pytest.raises(TypeError, match="text: expected a str"):
        S.char_codec(["a"])
    with pytest.raises(ValueError, match="non-empty"):
        S.char_codec("")
    with pytest.raises(TypeError, match="s: expected a str"):
        encode(3)


def test_delayed_recall_batch_target_is_first_token_and_seeded():
    g = torch.Generator().manual_seed(0)
    x, y = S.delayed_recall_batch(500, 7, V=5, generator=g)
    assert x.shape == (7, 500, 5) and y.shape == (500,) and y.dtype == torch.long
    torch.testing.assert_close(x.sum(-1), torch.ones(7, 500))
    assert torch.equal(x[0].argmax(-1), y)
    counts = torch.bincount(y, minlength=5).double() / 500  # uniform tokens
    assert counts.min() > 0.12 and counts.max() < 0.28
    x2, y2 = S.delayed_recall_batch(500, 7, V=5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(x, x2) and torch.equal(y, y2)
    assert not torch.equal(S.delayed_recall_batch(500, 7, V=5, generator=torch.Generator().manual_seed(1))[1], y)
    assert S.delayed_recall_batch(2, 3, dtype=torch.float64)[0].dtype == torch.float64
    for kwargs, msg in [(dict(bs=0, T=3), "bs: expected an integer >= 1"), (dict(bs=2, T=0), "T: expected"),
                        (dict(bs=2, T=3, V=1), "V: expected an integer >= 2"), (dict(bs=2.0, T=3), "bs:")]:
        with pytest.raises(ValueError, match=msg):
            S.delayed_recall_batch(**kwargs)
    with pytest.raises(TypeError, match="generator: expected a torch.Generator"):
        S.delayed_recall_batch(2, 3, generator=0)


def test_adding_problem_two_marks_one_per_half_and_baseline_mse():
    g = torch.Generator().manual_seed(3)
    x, y = S.adding_problem_batch(4000, 20, generator=g, dtype=torch.float64)
    assert x.shape == (20, 4000, 2) and y.shape == (4000,)
    u, m = x[..., 0], x[..., 1]
    assert torch.all(m.sum(0) == 2) and torch.all(m[:10].sum(0) == 1) and torch.all(m[10:].sum(0) == 1)
    torch.testing.assert_close(y, (u * m).sum(0))
    assert 0 <= float(u.min()) and float(u.max()) < 1
    # the constant prediction 1 has MSE Var(u1 + u2) = 2/12
    assert abs(float(((y - 1) ** 2).mean()) - 1 / 6) < 0.01
    with pytest.raises(ValueError, match="T: expected an integer >= 2"):
        S.adding_problem_batch(3, 1)
