"""lib.grading.answers: what a check says about a missing, malformed, wrong or mutated answer."""
import numpy as np
import pytest
import torch

from lib.grading.answers import answered, as_array, as_number, close, items, looks_like, near, tensor64, unchanged


@pytest.mark.parametrize("stub, says", [(None, "returned None"), (..., "returned `...`")])
def test_a_stub_is_reported_as_unanswered(stub, says):
    with pytest.raises(AssertionError, match=says):
        answered(stub, "f(x)")
    with pytest.raises(AssertionError, match=says):
        as_array(stub, "f(x)")


def test_as_array_accepts_lists_and_tensors_and_checks_shape_and_finiteness():
    assert as_array([1, 2], "v").dtype == np.float64
    t = torch.tensor([[1.5, 2.5]], dtype=torch.float32)
    np.testing.assert_array_equal(as_array(t, "v", shape=(1, 2)), [[1.5, 2.5]])
    with pytest.raises(AssertionError, match=r"expected shape \(2,\), got shape \(1, 2\)"):
        as_array(t, "v", shape=(2,))
    with pytest.raises(AssertionError, match="1 entries are nan or inf .*index \\[1\\]"):
        as_array([0.0, np.inf], "v")
    with pytest.raises(AssertionError, match="expected an array of numbers, got str"):
        as_array("abc", "v")
    assert as_array(torch.tensor([1 + 2j]), "z", dtype=complex)[0] == 1 + 2j


def test_as_number_wants_one_value():
    assert as_number(np.float32(2.5), "x") == 2.5
    with pytest.raises(AssertionError, match="a single number"):
        as_number([1.0, 2.0], "x")


def test_close_passes_within_tolerance_and_names_a_known_mistake():
    want = np.array([1.0, -2.0, 3.0])
    got = close(want * (1 + 1e-12), want, 1e-10, "g")
    assert isinstance(got, np.ndarray)
    with pytest.raises(AssertionError, match="This looks like the wrong sign"):
        close(-want, want, 1e-10, "g", mistakes={"the transpose": want[::-1], "the wrong sign": -want})
    with pytest.raises(AssertionError) as err:
        close(want + 0.5, want, 1e-10, "g", mistakes={"the wrong sign": -want})
    assert "looks like" not in str(err.value)
    with pytest.raises(AssertionError, match="expected shape"):
        close(want[:2], want, 1e-10, "g")


def test_close_handles_complex_answers():
    want = np.array([1 + 1j, 2 - 1j])
    close(want.copy(), want, 1e-12, "psi")
    with pytest.raises(AssertionError, match="max error"):
        close(np.conj(want), want, 1e-12, "psi")


def test_looks_like_ignores_what_cannot_be_compared():
    assert looks_like("junk", {"x": np.zeros(2)}) == ""
    assert looks_like(np.zeros(3), {"x": np.zeros(2)}) == ""
    assert looks_like(torch.zeros(2, dtype=torch.float64), {"zeros": np.zeros(2)}) == " This looks like zeros."


def test_unchanged_detects_mutation_in_place():
    original = np.arange(3.0)
    unchanged({"x": original.copy()}, {"x": original}, "f")
    mutated = torch.tensor(original)
    mutated[0] = 7.0
    with pytest.raises(AssertionError, match="f changed its input `x` in place"):
        unchanged({"x": mutated}, {"x": original}, "f")


def test_tensor64_is_float64_on_cpu():
    t = tensor64([1, 2])
    assert t.dtype == torch.float64 and t.device.type == "cpu"


def test_near_is_absolute_and_names_a_known_mistake():
    near(1e-9, 0.0, 1e-6, "gap")                      # a right answer of 0: an absolute tolerance
    with pytest.raises(AssertionError, match=r"gap: got 0.5, expected 0 .*allowed 1\.0e-06.*This looks like halving"):
        near(0.5, 0.0, 1e-6, "gap", {"halving": 0.5})


def test_items_wants_a_tuple_of_the_right_length():
    assert items([1, 2], "pair") == (1, 2)
    with pytest.raises(AssertionError, match="pair: expected a tuple of 2 items, got int"):
        items(3, "pair")
    with pytest.raises(AssertionError, match="expected a tuple of 3 items"):
        items((1, 2), "triple", n=3)
    with pytest.raises(AssertionError):
        items(None, "pair")                           # a stub: reported as unanswered
