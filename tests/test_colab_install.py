"""The Colab path, without Colab: nnlib installed as a package into a fresh environment.

In Colab there is no checkout on the path: the setup cell (the first cell of every
chapter, written by ``tools/sync_setup_cells.py``) clones the repository, ``pip
install``s nnlib from it (a regular, non-editable install) and sets ``NNLIB_DATA``.
These tests rebuild that situation:

* a wheel of nnlib (``pip wheel --no-deps``) is installed, with the dependencies it
  declares and ``ipykernel``, into a fresh virtual environment (no
  ``--system-site-packages``: nothing of the project's ``.venv`` or of the checkout is
  visible), and the first chapter runs there completely, in a kernel of that
  environment, from a temporary folder outside the repository;
  ``import nnlib`` must resolve to the installed wheel, not the checkout. This also
  proves that the wheel contains every subpackage and that ``pyproject.toml`` declares
  every dependency
  ``import nnlib`` needs;
* the chapter's real setup cell runs in that environment with ``google.colab`` faked,
  its repository URL pointed at a local stand-in for the GitHub repository (the
  committed ``HEAD`` of this checkout, as the configured branch) and its target folder
  at a temporary one: it must clone, install nnlib, and make ``nnlib.load_mnist()`` find
  the MNIST copy of the clone.

Slow (a virtual environment and package installs: about 1-2 minutes, most of it pip), so
marked ``slow``: ``make test`` runs it; deselect with ``pytest -m "not slow"`` while
iterating.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow

TIMINGS: dict[str, float] = {}


def _timed(label, command, **kwargs):
    start = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True, **kwargs)
    TIMINGS[label] = time.perf_counter() - start
    assert run.returncode == 0, (
        f"{label} failed: {' '.join(map(str, command))}\n"
        f"{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    )
    return run


def _first_chapter():
    chapters = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
    if not chapters:
        pytest.skip("no chapter in book/ yet")
    return chapters[0]


def _clean_env(workdir):
    """The kernel's environment: no PYTHONPATH or NNLIB_DATA, outside the repository."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "NNLIB_DATA", "VIRTUAL_ENV")
    }
    env["PWD"] = str(workdir)
    return env


@pytest.fixture(scope="module")
def fresh_env(tmp_path_factory):
    """A fresh venv with the nnlib wheel, ipykernel and pip, and a kernelspec for it.

    The wheel's declared dependencies are installed with it.
    """
    base = tmp_path_factory.mktemp("colab")
    wheels, venv = base / "wheels", base / "venv"
    _timed(
        "pip wheel --no-deps",
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(wheels),
            str(ROOT),
        ],
    )
    (wheel,) = wheels.glob("nnlib-*.whl")
    _timed("python -m venv", [sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    # pip of the project's environment installs into the fresh one (faster than
    # ensurepip); pip itself is installed too, since the setup cell runs `python -m pip`
    # in the kernel.
    _timed(
        "pip install wheel + deps",
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-compile",
            str(wheel),
            "ipykernel",
            "pip",
        ],
    )
    _timed(
        "kernelspec",
        [
            str(python),
            "-m",
            "ipykernel",
            "install",
            "--prefix",
            str(venv),
            "--name",
            "nnlib-fresh",
        ],
    )
    yield {"base": base, "venv": venv, "python": python, "wheel": wheel}
    print(
        "\nColab-path timings (s): "
        + ", ".join(f"{k} {v:.1f}" for k, v in TIMINGS.items())
    )


def _client(nb, env_info, workdir):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    ksm = KernelSpecManager(
        kernel_dirs=[str(env_info["venv"] / "share" / "jupyter" / "kernels")]
    )
    km = KernelManager(kernel_name="nnlib-fresh", kernel_spec_manager=ksm)
    assert Path(km.kernel_spec.argv[0]).parent == env_info["venv"] / "bin", (
        km.kernel_spec.argv
    )
    return NotebookClient(
        nb, km=km, timeout=600, resources={"metadata": {"path": str(workdir)}}
    )


WHERE = (
    "import sys, nnlib\n"
    "print(nnlib.__file__)\n"
    "print(sys.executable)\n"
    "print('\\n'.join(sys.path))"
)


def test_first_chapter_runs_from_the_installed_wheel_outside_the_repository(fresh_env):
    path = _first_chapter()
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(WHERE))
    workdir = fresh_env["base"] / "student"
    workdir.mkdir()
    client = _client(nb, fresh_env, workdir)
    start = time.perf_counter()
    with client.setup_kernel(env=_clean_env(workdir), cwd=str(workdir)):
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                # raises CellExecutionError naming the cell on any error
                client.execute_cell(cell, index)
    TIMINGS[f"run {path.name}"] = time.perf_counter() - start
    printed = nb.cells[-1].outputs[0]["text"].splitlines()
    nnlib_file, executable, sys_path = Path(printed[0]), Path(printed[1]), printed[2:]
    site_packages = fresh_env["venv"] / "lib"
    assert executable.parent == fresh_env["venv"] / "bin"
    assert (
        nnlib_file.is_relative_to(site_packages) and "site-packages" in nnlib_file.parts
    ), nnlib_file
    assert not any(p and Path(p).resolve().is_relative_to(ROOT) for p in sys_path), (
        sys_path
    )


def test_setup_cell_clones_installs_and_finds_mnist_when_in_colab(fresh_env):
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout")
    # Start from an environment without nnlib: the setup cell must install it.
    _timed(
        "pip uninstall nnlib",
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(fresh_env["python"]),
            "uninstall",
            "--yes",
            "--quiet",
            "nnlib",
        ],
    )
    spec = importlib.util.spec_from_file_location(
        "sync_setup_cells_for_colab_test", ROOT / "tools" / "sync_setup_cells.py"
    )
    sync = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sync)
    repo = sync.read_repository(ROOT / "_config.yml")
    # A stand-in for the GitHub repository: the committed HEAD of this checkout, as the
    # configured branch (works on a detached HEAD too, as in CI).
    origin = fresh_env["base"] / "origin"
    _timed("git init", [git, "init", "--quiet", "--bare", str(origin)])
    _timed(
        "git fetch",
        [
            git,
            "-C",
            str(origin),
            "fetch",
            "--quiet",
            "--depth",
            "1",
            ROOT.as_uri(),
            f"HEAD:refs/heads/{repo['branch']}",
        ],
    )
    setup = nbformat.read(_first_chapter(), as_version=4).cells[0].source
    content = fresh_env["base"] / "content"
    target = content / "nn-from-scratch"
    replaced = setup
    # Only where the repository lives and where Colab keeps files change; the branch
    # stays the configured one.
    for old, new in [(repo["url"], origin.as_uri()), (sync.COLAB_DIR, str(target))]:
        assert json.dumps(old) in replaced, f"the setup cell does not hold {old!r}"
        replaced = replaced.replace(json.dumps(old), json.dumps(new), 1)
    cells = [
        "import sys, types\n"
        "sys.modules['google.colab'] = types.ModuleType('google.colab')  # pretend",
        replaced,
        "import os, nnlib\n"
        "(x_train, y_train), (x_test, y_test) = nnlib.load_mnist()\n"
        "print(nnlib.__file__)\n"
        "print(os.environ['NNLIB_DATA'])\n"
        "print(x_train.shape, y_train.shape, x_test.shape, y_test.shape, "
        "x_train.dtype)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    content.mkdir()
    client = _client(nb, fresh_env, content)
    start = time.perf_counter()
    with client.setup_kernel(env=_clean_env(content), cwd=str(content)):
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
    TIMINGS["setup cell (clone + pip install) + load_mnist"] = (
        time.perf_counter() - start
    )
    printed = nb.cells[-1].outputs[0]["text"].splitlines()
    assert (target / ".git").is_dir() and (
        target / "data" / "mnist" / "SHA256SUMS"
    ).is_file()
    assert (
        Path(printed[0]).is_relative_to(fresh_env["venv"])
        and "site-packages" in printed[0]
    ), printed[0]
    assert printed[1] == str(target / "data")
    assert printed[2] == "(60000, 28, 28) (60000,) (10000, 28, 28) (10000,) uint8"
