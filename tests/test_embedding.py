"""lib.embedding: bigram gradients against autograd and nn.Embedding, PPMI by hand, SVD against sklearn."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.utils.extmath import randomized_svd

from lib import embedding as emb



@pytest.fixture(scope="module")
def corpus():
    tokens, vocab = emb.toy_bigram_corpus(n_sentences=80, seed=3)
    return tokens, vocab, *emb.bigram_pairs(tokens, vocab)


def test_corpus_names_are_deterministic_bigrams(corpus):
    tokens, vocab, x, y = corpus
    assert vocab == sorted(set(tokens)) and len(vocab) == 31
    for first, second in emb.NAMES:
        k = vocab.index(first)
        assert np.all(y[x == k] == vocab.index(second))
    assert emb.toy_bigram_corpus(80, seed=3)[0] == tokens


def test_numpy_gradients_match_autograd_float64(corpus):
    _, vocab, x, y = corpus
    model = emb.BigramEmbeddingModel(len(vocab), d=6, scale=0.7, seed=5)
    grads = model.backward(x, y)
    We = torch.tensor(model.W_embed, requires_grad=True)
    Wu = torch.tensor(model.W_unembed, requires_grad=True)
    xi, yi = torch.as_tensor(x), torch.as_tensor(y)
    J = -F.cross_entropy(We[:, xi].T @ Wu.T, yi)          # mean log-likelihood, built independently
    J.backward()
    np.testing.assert_allclose(grads["W_embed"], We.grad.numpy(), atol=1e-12, rtol=1e-10)
    np.testing.assert_allclose(grads["W_unembed"], Wu.grad.numpy(), atol=1e-12, rtol=1e-10)
    np.testing.assert_allclose(model.loglik(x, y), J.item(), rtol=1e-12)


def test_single_example_gradient_is_one_column_and_matches_formula():
    model = emb.BigramEmbeddingModel(12, d=4, scale=0.5, seed=1)
    g = model.backward([7], [2])
    nonzero = np.flatnonzero(np.abs(g["W_embed"]).sum(axis=0))
    assert nonzero.tolist() == [7]
    x, yv = np.eye(12)[7], np.eye(12)[2]
    p = model.forward([7])[2][0]
    np.testing.assert_allclose(g["W_embed"], np.outer(model.W_unembed.T @ (yv - p), x), atol=1e-14)
    np.testing.assert_allclose(g["W_unembed"], np.outer(yv - p, model.W_embed @ x), atol=1e-14)


def test_torch_embedding_model_agrees_and_its_gradient_is_sparse_in_rows(corpus):
    _, vocab, x, y = corpus
    npm = emb.BigramEmbeddingModel(len(vocab), d=5, scale=0.4, seed=2)
    tm = emb.TorchBigramModel(len(vocab), d=5).double().load_numpy(npm)
    sub = slice(0, 15)
    loss = F.cross_entropy(tm(torch.as_tensor(x[sub])), torch.as_tensor(y[sub]))
    loss.backward()
    g = npm.backward(x[sub], y[sub])
    np.testing.assert_allclose(-tm.embed.weight.grad.numpy().T, g["W_embed"], atol=1e-12)
    np.testing.assert_allclose(-tm.unembed.weight.grad.numpy(), g["W_unembed"], atol=1e-12)
    touched = np.flatnonzero(tm.embed.weight.grad.abs().sum(dim=1).numpy())
    assert set(touched) == set(x[sub].tolist())


def test_numpy_ascent_increases_likelihood_and_learns_obama(corpus):
    _, vocab, x, y = corpus
    model = emb.BigramEmbeddingModel(len(vocab), d=8, seed=0)
    before = model.loglik(x, y)
    for _ in range(300):
        model.backward(x, y)
        model.step(3.0)
    assert model.loglik(x, y) > before + 0.8
    p = model.forward([vocab.index("barack")])[2][0]
    assert vocab[int(np.argmax(p))] == "obama" and p[vocab.index("obama")] > 0.9


def test_train_bigram_torch_adam(corpus):
    _, vocab, x, y = corpus
    model, losses = emb.train_bigram(x, y, len(vocab), d=8, steps=200, lr=0.05, seed=1)
    assert losses[-1] < losses[0] - 0.8
    with torch.no_grad():
        p = torch.softmax(model(torch.tensor([vocab.index("hong")])), dim=-1)[0]
    assert p[vocab.index("kong")] > 0.9


def test_ppmi_against_hand_computation():
    C = np.array([[4.0, 0.0, 1.0], [2.0, 3.0, 0.0]])
    M = emb.ppmi(C)
    N = C.sum()
    for i in range(2):
        for j in range(3):
            if C[i, j] == 0:
                assert M[i, j] == 0
            else:
                pmi = np.log((C[i, j] / N) / ((C[i].sum() / N) * (C[:, j].sum() / N)))
                assert M[i, j] == pytest.approx(max(pmi, 0.0), abs=1e-14)


def test_svd_embed_matches_randomized_svd_up_to_sign():
    M = emb.ppmi(emb.attribute_cooccurrence(seed=4)[0])
    E = emb.svd_embed(M, 4, weight=1.0)
    U, s, _ = randomized_svd(M, 4, random_state=0, n_iter=20)
    ref = U * s
    for j in range(4):
        sign = np.sign(ref[:, j] @ E[:, j])
        np.testing.assert_allclose(E[:, j], sign * ref[:, j], atol=1e-8)


@pytest.mark.parametrize("seed", [0, 7])
def test_analogies_on_attribute_corpus(seed):
    C, ents, _ = emb.attribute_cooccurrence(seed=seed)
    E = emb.svd_embed(emb.ppmi(C), 3)
    assert emb.analogy(E, ents, "king", "man", "woman") == "queen"
    assert emb.analogy(E, ents, "prince", "boy", "girl") == "princess"
    assert emb.analogy(E, ents, "boy", "man", "woman") == "girl"
    top = emb.nearest(E, ents, "king", k=3)
    assert len(top) == 3 and "king" not in [w for w, _ in top]
    assert all(top[i][1] >= top[i + 1][1] for i in range(2))


def test_bad_inputs():
    model = emb.BigramEmbeddingModel(5, d=2)
    with pytest.raises(ValueError, match="idx"):
        model.forward([5])
    with pytest.raises(TypeError, match="idx"):
        model.forward([0.5])
    with pytest.raises(ValueError, match="y_idx"):
        model.backward([0, 1], [1])
    with pytest.raises(ValueError, match="backward"):
        emb.BigramEmbeddingModel(5).step(0.1)
    with pytest.raises(ValueError, match="counts"):
        emb.ppmi([[1.0, -1.0]])
    with pytest.raises(ValueError, match="k"):
        emb.svd_embed(np.eye(3), 4)
    with pytest.raises(ValueError, match="not in vocab"):
        emb.analogy(np.eye(3), ["a", "b", "c"], "a", "b", "zzz")
    with pytest.raises(ValueError, match="vocab"):
        emb.nearest(np.eye(3), ["a", "b"], "a")
    with pytest.raises(ValueError, match="tokens"):
        emb.bigram_pairs(["a", "q"], ["a"])
