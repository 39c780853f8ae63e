"""Run chapters under several numerics and show the cells whose output differs.

A cell whose printed digits change with the BLAS kernel, the number of BLAS threads or
numpy's SIMD code paths cannot be compared by nbval on a reader's machine: it is tagged
``nbval-ignore-output`` and asserts what the prose claims instead, with bands wide
enough for every configuration (CONTRIBUTING.md). This tool finds such cells and shows
the spread that sets the bands: it executes the chapters once per configuration (each in
a fresh kernel that inherits the configuration's environment variables) and prints, for
every code cell whose text output differs between configurations, the lines that differ.

Usage::

    python tools/numerics_sweep.py book/05_moons.ipynb book/06_deeper_networks.ipynb
    python tools/numerics_sweep.py --configs default,one-thread book/07_*.ipynb

The configurations (``--configs``, comma-separated; default: all of them) change
``OPENBLAS_CORETYPE`` (OpenBLAS's kernel), ``OPENBLAS_NUM_THREADS`` and
``NPY_DISABLE_CPU_FEATURES`` (numpy's widest SIMD paths: the names must be dispatch
targets of this numpy that the CPU has; see
``numpy._core._multiarray_umath.__cpu_dispatch__``). Run it locally only: tests and CI
never set
``OPENBLAS_CORETYPE``.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AVX512 = "X86_V4 AVX512_ICL"

CONFIGS = {
    "default": {},
    "one-thread": {"OPENBLAS_NUM_THREADS": "1"},
    "no-avx512": {"OPENBLAS_NUM_THREADS": "1", "NPY_DISABLE_CPU_FEATURES": AVX512},
    "haswell": {"OPENBLAS_CORETYPE": "Haswell"},
    "sandybridge": {"OPENBLAS_CORETYPE": "Sandybridge"},
    "nehalem": {"OPENBLAS_CORETYPE": "Nehalem"},
    "nehalem-no-simd": {
        "OPENBLAS_CORETYPE": "Nehalem",
        "OPENBLAS_NUM_THREADS": "1",
        "NPY_DISABLE_CPU_FEATURES": f"X86_V3 {AVX512}",
    },
}


def outputs(paths: list[str]) -> dict[str, dict[int, str]]:
    """Execute ``paths`` in this process's environment; the text output of each code
    cell."""
    import nbformat
    from nbclient import NotebookClient

    result = {}
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        NotebookClient(
            nb, timeout=3600, resources={"metadata": {"path": str(Path(path).parent)}}
        ).execute()
        cells = {}
        code = [c for c in nb.cells if c.cell_type == "code"]
        for number, cell in enumerate(code):
            text = []
            for out in cell.get("outputs", []):
                if out.output_type == "stream":
                    text.append(out.text)
                elif "data" in out and "image/png" not in out.data:
                    text.append(out.data.get("text/plain", ""))
            cells[number] = "".join(text)
        result[path] = cells
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument(
        "--configs", default=",".join(CONFIGS), help="comma-separated names"
    )
    parser.add_argument(
        "--worker", help=argparse.SUPPRESS
    )  # internal: write outputs here
    args = parser.parse_args(argv)
    if args.worker:
        Path(args.worker).write_text(json.dumps(outputs(args.notebooks)))
        return 0
    names = args.configs.split(",")
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        parser.error(f"unknown configuration(s) {unknown}; known: {list(CONFIGS)}")
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            out = Path(tmp) / f"{name}.json"
            env = {**os.environ, **CONFIGS[name]}
            cmd = [sys.executable, __file__, "--worker", str(out), *args.notebooks]
            print(f"running {name} {CONFIGS[name]} ...", flush=True)
            subprocess.run(cmd, env=env, cwd=ROOT, check=True)
            runs[name] = json.loads(out.read_text())
    base_name = names[0]
    base = runs[base_name]
    varying = 0
    for path, cells in base.items():
        for number, text in cells.items():
            others = {n: r[path][number] for n, r in runs.items() if n != base_name}
            if all(t == text for t in others.values()):
                continue
            varying += 1
            print(f"\n{path}, Cell {number} (nbval's numbering) varies; {base_name}:")
            print("    " + text.strip().replace("\n", "\n    "))
            for name, other in others.items():
                diff = difflib.unified_diff(
                    text.splitlines(), other.splitlines(), lineterm="", n=0
                )
                lines = [
                    d for d in diff if d[:1] in "+-" and d[:3] not in ("---", "+++")
                ]
                if lines:
                    print(f"  {name}:\n    " + "\n    ".join(lines))
    print(f"\n{varying} cell(s) vary across {len(names)} configurations.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
