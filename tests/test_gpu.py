"""On a machine with a CUDA GPU: the library picks it, and training agrees with the CPU.

Skipped where there is no GPU (the ordinary CI machine). Run on the lent GPU machine with
``.venv/bin/python -m pytest tests/test_gpu.py``.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import lib
from lib import data

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")


def test_library_picks_the_gpu(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    assert lib.setup(seed=0).type == "cuda"
    assert torch.backends.cuda.matmul.allow_tf32 is False


def train_steps(device: torch.device, steps: int = 50) -> torch.Tensor:
    """Full-batch SGD with momentum on a small MLP fitting Galton's children's heights."""
    df = data.galton_families()
    X = torch.tensor(df[["father", "mother", "male"]].to_numpy(np.float32))
    X = (X - X.mean(0)) / X.std(0)
    y = torch.tensor(df["childHeight"].to_numpy(np.float32))[:, None]
    y = (y - y.mean()) / y.std()
    gen = torch.Generator().manual_seed(0)  # weights drawn on the CPU, then moved: same start on both devices
    model = torch.nn.Sequential(torch.nn.Linear(3, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
    model.to(device)
    X, y = X.to(device), y.to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.mean((model(X) - y) ** 2)
        loss.backward()
        opt.step()
    return torch.cat([p.detach().flatten().cpu() for p in model.parameters()])


def test_training_matches_cpu():
    lib.setup(seed=0)
    cpu, gpu = train_steps(torch.device("cpu")), train_steps(torch.device("cuda"))
    assert torch.allclose(cpu, gpu, rtol=1e-4, atol=1e-5), (cpu - gpu).abs().max()
