# The course's commands. On a fresh machine with python3 and make:
#   make book    set up .venv and build the website strictly into _build/html
#   make test    set up .venv and run every test (lib, notebooks, exercises, book build, browser)
#   make bench   execute every notebook and write the execution-statistics table
#   make lab     open JupyterLab on the course
# Everything is idempotent: the venv is reused until requirements change, and notebooks re-execute
# only when their code or the lib/ modules they import change (tools/book.py keeps the cache honest).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: book test bench lab venv strip clean help

help:
	@sed -n '1,9p' Makefile

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@# lib is imported from the checkout (notebooks: setup cell; tests: pytest.ini pythonpath); Binder and Colab pip-install it
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" >/dev/null
	touch $(STAMP)

venv: $(STAMP)

book: $(STAMP)
	$(PY) tools/book.py prepare
	$(PY) tools/book.py execute
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo "Website built: open _build/html/index.html (or: $(PY) -m http.server -d _build/html 8000)"

test: book
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) tools/book.py prepare
	$(PY) tools/bench.py

lab: $(STAMP)
	$(VENV)/bin/jupyter lab

strip: $(STAMP)
	$(PY) -m lib.grade strip

clean:
	rm -rf _build _static/plotly.min.js
