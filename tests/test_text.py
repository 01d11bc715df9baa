"""lib.text: the capitals corpus, the word tokenizer, BERT's 80/10/10 masking, the response-only loss."""
import math
from collections import Counter

import pytest
import torch
import torch.nn.functional as F

from lib.text import (CAPITALS, WordTokenizer, make_capitals_corpus, masked_lm_loss, mlm_mask, recall_capitals,
                      response_loss_mask, train_capitals_gpt)


def test_corpus_statistics():
    text = make_capitals_corpus()
    words = text.split()
    assert len(set(words)) == 42
    assert 21_000 < len(words) < 22_500
    sentences = [s.strip() for s in text.split(" .") if s.strip()]
    assert len(sentences) == 3000
    starts = Counter("capital" if s.startswith("the capital") else "visited" if s.startswith("we") else "city"
                     for s in sentences)
    assert abs(starts["capital"] / 3000 - 0.5) < 0.03 and abs(starts["visited"] / 3000 - 0.25) < 0.03
    for country, capital in CAPITALS:  # every fact is stated, and only with its own capital
        assert f"the capital of {country} is {capital} ." in text
    assert "the capital of france is rome" not in text
    assert make_capitals_corpus(seed=0) == text and make_capitals_corpus(seed=1) != text


def test_word_tokenizer_round_trip():
    tok = WordTokenizer().fit("b a c a")
    assert tok.itos == ["a", "b", "c"] and tok.vocab_size == 3 and tok.stoi["c"] == 2
    assert tok.encode("c a b") == [2, 0, 1]
    assert tok.decode(torch.tensor([2, 0, 1])) == "c a b"
    text = make_capitals_corpus(200, seed=3)
    full = WordTokenizer().fit(text)
    assert full.decode(full.encode(text)) == text
    with pytest.raises(ValueError, match="vocabulary"):
        tok.encode("a d")
    with pytest.raises(ValueError, match="ids"):
        tok.decode([3])


def test_mlm_mask_fractions():
    g = torch.Generator().manual_seed(0)
    V, mask_id, special = 1000, 999, 0
    tokens = torch.randint(1, V - 1, (100, 1000), generator=g)
    tokens[:, 0] = special  # a [CLS]-like token is never chosen
    inputs, labels = mlm_mask(tokens, mask_id, V, special_ids=(special,), generator=g)
    chosen = labels != -100
    n = chosen.sum().item()
    assert abs(n / (100 * 999) - 0.15) < 0.005
    assert not chosen[:, 0].any() and torch.equal(labels[chosen], tokens[chosen])
    assert torch.equal(inputs[~chosen], tokens[~chosen])
    masked = (inputs == mask_id) & chosen
    kept = (inputs == tokens) & chosen
    swapped = chosen & ~masked & ~kept
    assert abs(masked.sum().item() / n - 0.8) < 0.02
    assert abs(kept.sum().item() / n - 0.1) < 0.02  # (a random draw equal to the token counts here, 0.1 %)
    assert abs(swapped.sum().item() / n - 0.1) < 0.02


def test_response_mask_and_loss_by_hand():
    mask = response_loss_mask(torch.tensor([2, 4]), 5)
    assert mask.tolist() == [[False, False, True, True, True], [False, False, False, False, True]]
    logits = torch.randn(2, 5, 7, dtype=torch.float64)
    targets = torch.randint(0, 7, (2, 5))
    manual = torch.stack([F.cross_entropy(logits[b, t], targets[b, t]) for b, t in
                          [(0, 2), (0, 3), (0, 4), (1, 4)]]).mean()
    assert torch.allclose(masked_lm_loss(logits, targets, mask), manual)
    with pytest.raises(ValueError, match="loss_mask"):
        masked_lm_loss(logits, targets, torch.zeros(2, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="prompt_lens"):
        response_loss_mask(torch.tensor([6]), 5)


def test_mlm_bad_inputs():
    t = torch.randint(0, 5, (10,))
    with pytest.raises(ValueError, match="mask_id"):
        mlm_mask(t, 5, 5)
    with pytest.raises(ValueError, match="p"):
        mlm_mask(t, 4, 5, p=0)
    with pytest.raises(TypeError, match="tokens"):
        mlm_mask(t.float(), 4, 5)


@pytest.mark.slow
def test_capitals_gpt_recalls_the_facts():
    model, tok, data = train_capitals_gpt(seed=0)
    assert tok.vocab_size == 42 and data.numel() == len(make_capitals_corpus().split())
    results = recall_capitals(model, tok)
    assert sum(r["correct"] for r in results) >= 11
    assert math.exp(-model(data[None, :16], data[None, 1:17])[1].item()) > 0.2  # fits the corpus
