"""Test-session settings shared by every test file."""
from lib.device import setup


def pytest_configure(config):
    # the notebooks' setting (lib.setup): one torch and one BLAS thread, fastest for the small problems here
    setup(seed=0)
