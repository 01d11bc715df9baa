"""The course library: small, readable reference implementations the notebooks import.

Organised by topic, not by chapter, so later chapters reuse earlier pieces:

    device      seeds, threads and the torch device (``setup``, ``get_device``)
    plotting    the course's plotly template and ``show`` (notebook and static website alike)
    data        offline datasets (Galton's heights, synthetic generators)
    regression  least squares, ridge, lasso, hinge features, minimum-norm interpolation
    logistic    logistic regression by gradient ascent and Newton's method
    optim       gradient descent and momentum on explicit objectives
    convex      convex combinations and the chord test
    double_descent  random-feature regression across the interpolation threshold
    widgets/    dual-mode interactive figures (static on the website, live in a kernel)
    grading/    the exercise checker (``Grader``) and the batch grader (``python -m lib.grade``)
"""
from .device import get_device, setup

__all__ = ["get_device", "setup"]
