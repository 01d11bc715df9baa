"""The standard setup cell, executed as Colab would: no checkout, a `google.colab` module present.

A throwaway virtual environment sees the course's pinned packages (torch included) through a .pth file,
like Colab's preinstalled ones. The setup cell must pip-install the course package from the repository
address (here a local clone, through ``COURSE_REPO``), leave torch alone, enable Colab's widget manager,
and end with ``lib`` imported from the installed package and ``device`` defined.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from tools.notebooks import setup_source

ROOT = Path(__file__).resolve().parents[1]


def test_setup_cell_in_a_checkout(tmp_path):
    """From any folder inside the checkout the cell finds lib/ and sets up without installing anything."""
    script = tmp_path / "cell.py"
    script.write_text(setup_source() + "\nprint(lib.__file__, device)\n")
    out = subprocess.run([sys.executable, str(script)], cwd=ROOT / "chapters", capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert str(ROOT / "lib" / "__init__.py") in out.stdout


@pytest.mark.slow
def test_setup_cell_on_simulated_colab(tmp_path):
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True).returncode != 0:
        pytest.skip("the checkout has no commit to install from")
    env_dir = tmp_path / "colab-env"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True, timeout=120)
    py = env_dir / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # Colab's preinstalled packages: ours, seen through a .pth file (torch among them)
    (Path(site) / "preinstalled.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # a fake google.colab with the one function the cell calls
    fake = tmp_path / "fake"
    (fake / "google" / "colab").mkdir(parents=True)
    (fake / "google" / "__init__.py").write_text("")
    (fake / "google" / "colab" / "__init__.py").write_text("")
    (fake / "google" / "colab" / "output.py").write_text(
        "enabled = []\ndef enable_custom_widget_manager():\n    enabled.append(True)\n")
    import torch
    cell = textwrap.indent(setup_source(), "")
    script = tmp_path / "colab_cell.py"
    script.write_text(
        "import sys, json\nimport google.colab\n" + cell + "\n"
        "from google.colab import output as _out\nimport torch\n"
        "print(json.dumps({'lib': lib.__file__, 'torch': torch.__file__, 'version': torch.__version__,\n"
        "                  'widgets': _out.enabled, 'device': str(device),\n"
        "                  'checks': __import__('importlib.resources').resources.files('lib.checks').is_dir()}))\n")
    env = {**os.environ, "PYTHONPATH": str(fake), "COURSE_REPO": f"file://{ROOT}"}
    env.pop("VIRTUAL_ENV", None)
    out = subprocess.run([str(py), str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["lib"].startswith(site), f"lib was not imported from the installed package: {result['lib']}"
    assert result["torch"] == torch.__file__ and result["version"] == torch.__version__, "torch was touched"
    assert not list(Path(site).glob("torch*")), "pip installed a second torch into the environment"
    assert result["widgets"] == [True], "Colab's custom widget manager was not enabled"
    assert result["device"] in {"cpu", "cuda", "mps"}
    assert result["checks"], "the public exercise checks did not ship with the package"
