"""Data sets the chapters train on: offline copies of MNIST and of the concrete data.

The machines that build and test the course reach no dataset host, so the
repository carries its data itself:

* MNIST, in the original IDX format (gzip-compressed), under ``data/mnist/``
  together with ``SHA256SUMS`` (the SHA-256 of each file's *uncompressed*
  bytes) and the attribution ``README.md``; loaded by :func:`load_mnist`;
* the concrete compressive strength data (Yeh 1998; 1030 mixtures, 8 inputs,
  the strength in MPa) as ``data/concrete/concrete.csv`` with its
  ``SHA256SUMS`` and ``README.md``; loaded by :func:`load_concrete`, which never
  downloads anything.

:func:`load_mnist` looks for the files, in this order,

1. in the directory given as ``path``;
2. in ``$NNLIB_DATA/mnist`` (or ``$NNLIB_DATA`` itself) when the environment
   variable ``NNLIB_DATA`` is set;
3. in ``data/mnist/`` of the repository this package was installed from
   (an editable install, ``pip install -e .``, from a checkout).

It verifies every file against ``SHA256SUMS`` and parses the IDX format
itself. Only when none of the places holds the files does it fall back to
``keras.datasets.mnist.load_data()`` (which downloads them).

The IDX format (http://yann.lecun.com/exdb/mnist/): a big-endian header, then
the raw ``uint8`` values in C order::

    offset  type     value
    0       int32    magic number: 2049 (0x00000801) for labels, 2051 (0x00000803) for
    images 4       int32    number of items N 8       int32    number of rows (28)
    -- images only 12      int32    number of columns (28)   -- images only ...
    uint8    N labels, or N * rows * columns pixels
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np

__all__ = [
    "load_mnist",
    "load_concrete",
    "load_experiment_results",
    "MNIST_FILES",
    "CONCRETE_FEATURES",
    "DATA_ENV_VAR",
]

#: The environment variable naming a data directory (holding ``mnist/``, or the MNIST
#: files themselves).
DATA_ENV_VAR = "NNLIB_DATA"

#: The four MNIST files (uncompressed names, as in ``SHA256SUMS``) with their IDX magic
#: numbers.
MNIST_FILES = {
    "train-images-idx3-ubyte": 2051,
    "train-labels-idx1-ubyte": 2049,
    "t10k-images-idx3-ubyte": 2051,
    "t10k-labels-idx1-ubyte": 2049,
}

_REPO_DATA = Path(__file__).resolve().parent.parent / "data" / "mnist"


def _data_dirs(path, func: str, name: str, repo_dir: Path) -> list[tuple[str, Path]]:
    """Where ``func`` looks for data set ``name``, in order, each with its origin.

    The ``path`` argument alone when given; otherwise ``$NNLIB_DATA/<name>``,
    ``$NNLIB_DATA`` and the repository's ``data/<name>``.
    """
    if path is not None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(
                f"{func} expects path to be a str or os.PathLike, got "
                f"{type(path).__name__} {path!r}"
            )
        return [("the path argument", Path(path))]
    dirs = []
    env = os.environ.get(DATA_ENV_VAR)
    if env:
        dirs.append((f"${DATA_ENV_VAR}/{name}", Path(env) / name))
        dirs.append((f"${DATA_ENV_VAR}", Path(env)))
    dirs.append((f"the repository's data/{name}", repo_dir))
    return dirs


def _find_file(directory: Path, name: str) -> Path | None:
    """``name.gz`` or ``name`` in ``directory``, whichever exists (gzip first)."""
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.is_file():
            return candidate
    return None


def _read_checksums(
    directory: Path,
    func: str = "load_mnist",
    what: str = "MNIST",
    subdir: str = "mnist",
) -> dict[str, str]:
    """Parse ``SHA256SUMS`` (``<hex>  <name>`` per line) into ``{name: hex}``."""
    sums_file = directory / "SHA256SUMS"
    if not sums_file.is_file():
        raise FileNotFoundError(
            f"{func} found {what} files in {directory} but no SHA256SUMS next to them; "
            "copy SHA256SUMS "
            f"from the course repository's data/{subdir}/ so the files can be verified"
        )
    sums = {}
    for lineno, line in enumerate(sums_file.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or len(parts[0]) != 64:
            raise ValueError(
                f"{sums_file}, line {lineno}: expected '<sha256 hex>  <file name>', "
                f"got {line!r}"
            )
        sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def _read_verified(file: Path, name: str, expected_sha: str) -> bytes:
    """The uncompressed bytes of ``file``, after checking their SHA-256."""
    try:
        raw = file.read_bytes()
        data = gzip.decompress(raw) if file.suffix == ".gz" else raw
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ValueError(
            f"load_mnist could not decompress {file}: {exc}. The file is corrupted or "
            "truncated; copy it again "
            f"from the course repository (data/mnist/)"
        ) from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha:
        raise ValueError(
            f"load_mnist: checksum mismatch for {file}: the SHA-256 of its "
            f"uncompressed content is {actual}, "
            f"but SHA256SUMS expects {expected_sha}. The file is corrupted or not the "
            f"original {name}; "
            f"copy it again from the course repository (data/mnist/)"
        )
    return data


def _parse_idx(data: bytes, file: Path, magic: int) -> np.ndarray:
    """Parse IDX bytes: ``uint8`` labels ``(N,)`` or images ``(N, rows, cols)``."""
    ndim = magic - 2048  # 2049 -> 1 dimension, 2051 -> 3 dimensions
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise ValueError(
            f"load_mnist: {file} is too short ({len(data)} bytes) to hold an IDX header"
        )
    found = int.from_bytes(data[0:4], "big")
    if found != magic:
        raise ValueError(
            f"load_mnist: {file} has IDX magic number {found}, expected {magic} "
            f"({'labels' if ndim == 1 else 'images'}, unsigned bytes, {ndim} "
            "dimension(s))"
        )
    shape = tuple(
        int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)
    )
    count = int(np.prod(shape))
    if len(data) - header_len != count:
        raise ValueError(
            f"load_mnist: {file} declares shape {shape} ({count} values) but holds "
            f"{len(data) - header_len} bytes "
            f"after its header"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_len).reshape(shape).copy()


def _load_dir(
    directory: Path,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    sums = _read_checksums(directory)
    arrays = {}
    for name, magic in MNIST_FILES.items():
        file = _find_file(directory, name)
        if file is None:
            raise FileNotFoundError(
                f"load_mnist: {directory} holds some MNIST files but not {name}.gz "
                f"(nor {name}); copy the four "
                f"files from the course repository's data/mnist/ into it"
            )
        if name not in sums:
            raise ValueError(
                f"load_mnist: {directory / 'SHA256SUMS'} has no checksum for {name}"
            )
        arrays[name] = _parse_idx(_read_verified(file, name, sums[name]), file, magic)
    for split in ("train", "t10k"):
        n_img, n_lab = (
            len(arrays[f"{split}-images-idx3-ubyte"]),
            len(arrays[f"{split}-labels-idx1-ubyte"]),
        )
        if n_img != n_lab:
            raise ValueError(
                f"load_mnist: {directory} holds {n_img} {split} images but {n_lab} "
                f"{split} labels"
            )
    return (
        (arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]),
        (arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"]),
    )


def _load_from_keras():
    """The fallback: ``keras.datasets.mnist.load_data()`` (downloads unless cached)."""
    from ._tf import import_tensorflow

    import_tensorflow()  # quietly, before Keras imports it
    import keras

    return keras.datasets.mnist.load_data()


def load_mnist(path=None):
    """Load MNIST as ``uint8`` arrays, laid out as ``keras.datasets.mnist.load_data()``.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A directory holding the four IDX files (``train-images-idx3-ubyte.gz`` ...;
        gzip-compressed or not) and ``SHA256SUMS``. By default ``$NNLIB_DATA/mnist``,
        ``$NNLIB_DATA`` and the repository's
        ``data/mnist/`` are tried in turn.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        ``x_train`` : uint8 array, shape (60000, 28, 28), pixel values 0-255;
        ``y_train`` : uint8 array, shape (60000,), labels 0-9;
        ``x_test`` : uint8 array, shape (10000, 28, 28);
        ``y_test`` : uint8 array, shape (10000,).

    Raises
    ------
    ValueError
        A file whose checksum does not match ``SHA256SUMS`` (the message names the file
        and both checksums), a file that is not valid gzip, or an IDX header with the
        wrong magic number.
    FileNotFoundError
        A directory with some but not all of the files, or - when no directory holds the
        files and the Keras download fails as well - a message listing where it looked
        and how to fix it.
    """
    searched = []
    for origin, directory in _data_dirs(path, "load_mnist", "mnist", _REPO_DATA):
        present = [
            name for name in MNIST_FILES if _find_file(directory, name) is not None
        ]
        if present:
            return _load_dir(directory)
        searched.append(f"{directory} ({origin})")
    try:
        (x_train, y_train), (x_test, y_test) = _load_from_keras()
    except Exception as exc:  # noqa: BLE001 - no network, no keras, a broken cache: all reported below
        raise FileNotFoundError(
            "load_mnist found no MNIST files. It looked in:\n  "
            + "\n  ".join(searched)
            + "\nand the fallback keras.datasets.mnist.load_data() failed too "
            + f"({type(exc).__name__}: {exc}).\n"
            "To fix it: run from a checkout of the course repository (pip install -e . "
            "there), or pass "
            f"load_mnist(path=...) / set {DATA_ENV_VAR} to a directory holding the "
            "four "
            "*-ubyte.gz files and SHA256SUMS of the repository's data/mnist/."
        ) from None
    return (
        (np.asarray(x_train, dtype=np.uint8), np.asarray(y_train, dtype=np.uint8)),
        (np.asarray(x_test, dtype=np.uint8), np.asarray(y_test, dtype=np.uint8)),
    )


# ------------------------------------------------------------------------------------
# The concrete compressive strength data (I-Cheng Yeh, 1998)

#: The eight inputs of the concrete data, in the columns' order: seven ingredients
#: in kg per cubic metre of mixture, then the age in days.
CONCRETE_FEATURES = (
    "cement",
    "blast_furnace_slag",
    "fly_ash",
    "water",
    "superplasticizer",
    "coarse_aggregate",
    "fine_aggregate",
    "age",
)
#: The target column: compressive strength in MPa.
CONCRETE_TARGET = "compressive_strength"
CONCRETE_FILE = "concrete.csv"
CONCRETE_ROWS = 1030

_REPO_CONCRETE = Path(__file__).resolve().parent.parent / "data" / "concrete"


def _parse_concrete(text: str, file: Path) -> tuple[np.ndarray, np.ndarray]:
    """The rows as float64 X (N, 8) and y (N,), after checking header and values."""
    lines = [line for line in text.splitlines() if line.strip()]
    expected = ",".join(CONCRETE_FEATURES + (CONCRETE_TARGET,))
    if not lines or lines[0].strip() != expected:
        got = lines[0] if lines else "an empty file"
        raise ValueError(
            f"load_concrete: {file} should start with the header {expected!r}, "
            f"got {got!r}"
        )
    rows = []
    for lineno, line in enumerate(lines[1:], start=2):
        fields = line.split(",")
        if len(fields) != 9:
            raise ValueError(
                f"load_concrete: {file}, line {lineno}: expected 9 comma-separated "
                "numbers, "
                f"got {len(fields)}: {line!r}"
            )
        try:
            rows.append([float(v) for v in fields])
        except ValueError:
            raise ValueError(
                f"load_concrete: {file}, line {lineno}: not a number in {line!r}"
            ) from None
    data = np.array(rows, dtype=np.float64).reshape(-1, 9)
    if len(data) != CONCRETE_ROWS:
        raise ValueError(
            f"load_concrete: {file} holds {len(data)} mixtures, "
            f"expected {CONCRETE_ROWS}"
        )
    if not np.all(np.isfinite(data)) or np.any(data < 0):
        raise ValueError(
            f"load_concrete: {file} holds negative or non-finite values; every "
            "quantity, age and strength is a finite number >= 0"
        )
    return data[:, :8].copy(), data[:, 8].copy()


def load_concrete(path=None):
    """Load the concrete compressive strength data (Yeh 1998), offline.

    1030 concrete mixtures. The inputs are the amounts of seven ingredients in kg
    per cubic metre of mixture and the age of the sample in days (column names in
    ``CONCRETE_FEATURES``); the target is the compressive strength in MPa. No
    network is used: the file is read from the first of ``path``,
    ``$NNLIB_DATA/concrete``, ``$NNLIB_DATA`` and the repository's
    ``data/concrete/`` that holds ``concrete.csv``, and verified against
    ``SHA256SUMS`` there.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A directory holding ``concrete.csv`` and ``SHA256SUMS``.

    Returns
    -------
    X : numpy.ndarray of float64, shape (1030, 8)
        The inputs, columns in the order of ``CONCRETE_FEATURES``.
    y : numpy.ndarray of float64, shape (1030,)
        Compressive strength in MPa.

    Raises
    ------
    TypeError
        ``path`` is not a str or os.PathLike.
    FileNotFoundError
        No directory holds ``concrete.csv`` (the message lists where it
        looked), or ``SHA256SUMS`` is missing next to it.
    ValueError
        A checksum mismatch (the message names both checksums), a wrong header,
        a row that is not nine numbers, a row count other than 1030, or a
        negative or non-finite value.
    """
    searched = []
    for origin, directory in _data_dirs(
        path, "load_concrete", "concrete", _REPO_CONCRETE
    ):
        file = directory / CONCRETE_FILE
        if not file.is_file():
            searched.append(f"{directory} ({origin})")
            continue
        sums = _read_checksums(
            directory, func="load_concrete", what="the concrete", subdir="concrete"
        )
        if CONCRETE_FILE not in sums:
            raise ValueError(
                f"load_concrete: {directory / 'SHA256SUMS'} has no checksum "
                f"for {CONCRETE_FILE}"
            )
        raw = file.read_bytes()
        actual = hashlib.sha256(raw).hexdigest()
        if actual != sums[CONCRETE_FILE]:
            raise ValueError(
                f"load_concrete: checksum mismatch for {file}: its SHA-256 is "
                f"{actual}, but SHA256SUMS expects {sums[CONCRETE_FILE]}. The file is "
                "corrupted or not the original; copy it again from the course "
                "repository (data/concrete/)"
            )
        return _parse_concrete(raw.decode("utf-8"), file)
    raise FileNotFoundError(
        f"load_concrete found no {CONCRETE_FILE}. It looked in:\n  "
        + "\n  ".join(searched)
        + "\nTo fix it: run from a checkout of the course repository (pip install "
        "-e . there), or pass load_concrete(path=...) / set "
        f"{DATA_ENV_VAR} to a directory holding the {CONCRETE_FILE} and "
        "SHA256SUMS of the repository's data/concrete/."
    )


# ------------------------------------------------------------------------------------
# Stored results of experiments too long for the test suite (bench/experiments_*.py)

_REPO_EXPERIMENTS = Path(__file__).resolve().parent.parent / "data" / "experiments"


def load_experiment_results(name, path=None):
    """The stored results of a committed experiment script, as a dict.

    Some chapters compare more settings than the test suite can re-run (chapter 13
    trains 45 networks). A script under ``bench/`` runs them and writes a JSON file
    ``data/experiments/<name>.json``; the chapter draws from it and re-runs a few of
    the runs to check them.

    Parameters
    ----------
    name : str
        The file's name without ``.json``, e.g. ``"ch13"``.
    path : str or os.PathLike, optional
        A directory holding ``<name>.json``. By default ``$NNLIB_DATA/experiments``,
        ``$NNLIB_DATA`` and the repository's ``data/experiments/`` are tried in turn.

    Returns
    -------
    dict
        The parsed JSON object.

    Raises
    ------
    TypeError
        ``name`` not a string, or ``path`` not a str or os.PathLike.
    ValueError
        A name that is not a plain file name, or a file that is not a JSON object.
    FileNotFoundError
        No directory holds the file (the message lists where it looked).
    """
    import json

    if not isinstance(name, str):
        raise TypeError(
            "load_experiment_results expects name to be a str such as 'ch13', "
            f"got {type(name).__name__} {name!r}"
        )
    if not name or Path(name).name != name or name.endswith(".json"):
        raise ValueError(
            "load_experiment_results expects a plain file name without '.json' "
            f"such as 'ch13', got {name!r}"
        )
    searched = []
    for origin, directory in _data_dirs(
        path, "load_experiment_results", "experiments", _REPO_EXPERIMENTS
    ):
        file = directory / f"{name}.json"
        if file.is_file():
            try:
                results = json.loads(file.read_text())
            except json.JSONDecodeError as exc:
                raise ValueError(
                    f"load_experiment_results: {file} is not valid JSON ({exc})"
                ) from None
            if not isinstance(results, dict):
                raise ValueError(
                    f"load_experiment_results expects {file} to hold a JSON object, "
                    f"got {type(results).__name__}"
                )
            return results
        searched.append(f"{directory} ({origin})")
    raise FileNotFoundError(
        f"load_experiment_results found no {name}.json. It looked in:\n  "
        + "\n  ".join(searched)
        + "\nRun from a checkout of the course repository, pass path=..., or set "
        f"{DATA_ENV_VAR} to a directory holding experiments/{name}.json; "
        f"python bench/experiments_{name}.py writes it anew."
    )
