"""Public checks of the exercises, one module per exercise id (``ch01_regression.py``), shipped with the
course package. Each is a function decorated with ``lib.grading.check``; see ``lib/grading/__init__.py``."""
