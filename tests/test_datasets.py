"""Tests of nnlib.load_mnist against the facts stated in data/mnist/README.md."""

import gzip
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import nnlib
from nnlib import datasets

DATA = Path(__file__).resolve().parent.parent / "data" / "mnist"


def readme_facts():
    """The label counts and mean pixel values written in the data README."""
    text = (DATA / "README.md").read_text()
    counts = {}
    for split in ("train", "test"):
        m = re.search(rf"{split} label counts 0\.\.9:\s*([\d ]+)", text)
        assert m, f"the README states no {split} label counts"
        counts[split] = [int(v) for v in m.group(1).split()]
        assert len(counts[split]) == 10
    m = re.search(r"mean pixel value: train ([\d.]+) .*?, test ([\d.]+)", text)
    assert m, "the README states no mean pixel values"
    return counts, float(m.group(1)), float(m.group(2))


@pytest.fixture(scope="module")
def mnist():
    return nnlib.load_mnist()


@pytest.fixture
def no_keras(monkeypatch):
    """Make the Keras fallback fail as it does on a machine without network."""

    def offline():
        raise OSError("no network (simulated)")

    monkeypatch.setattr(datasets, "_load_from_keras", offline)
    monkeypatch.delenv(datasets.DATA_ENV_VAR, raising=False)


def copy_data(dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for f in DATA.iterdir():
        shutil.copy(f, dst / f.name)
    return dst


def test_shapes_and_dtypes(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8
    assert y_train.max() == 9 and y_test.min() == 0


def test_label_counts_and_means_match_readme(mnist):
    counts, mean_train, mean_test = readme_facts()
    (x_train, y_train), (x_test, y_test) = mnist
    assert np.bincount(y_train, minlength=10).tolist() == counts["train"]
    assert np.bincount(y_test, minlength=10).tolist() == counts["test"]
    assert abs(x_train.mean() - mean_train) < 1e-3
    assert abs(x_test.mean() - mean_test) < 1e-3


def test_explicit_path_and_env_var(tmp_path, monkeypatch, mnist):
    copy = copy_data(tmp_path / "somewhere" / "mnist")
    (_, y1), _ = nnlib.load_mnist(path=copy)
    assert np.array_equal(y1, mnist[0][1])
    monkeypatch.setenv(datasets.DATA_ENV_VAR, str(tmp_path / "somewhere"))
    (_, y2), _ = nnlib.load_mnist()
    assert np.array_equal(y2, mnist[0][1])


def test_uncompressed_files_are_accepted(tmp_path, mnist):
    copy = copy_data(tmp_path / "mnist")
    src = copy / "t10k-labels-idx1-ubyte.gz"
    (copy / "t10k-labels-idx1-ubyte").write_bytes(gzip.decompress(src.read_bytes()))
    src.unlink()
    _, (_, y_test) = nnlib.load_mnist(path=copy)
    assert np.array_equal(y_test, mnist[1][1])


def test_corrupted_file_names_file_and_both_checksums(tmp_path):
    copy = copy_data(tmp_path / "mnist")
    target = copy / "train-labels-idx1-ubyte.gz"
    data = bytearray(gzip.decompress(target.read_bytes()))
    data[100] = (
        data[100] + 1
    ) % 10  # one label changed: still valid IDX, wrong content
    target.write_bytes(gzip.compress(bytes(data)))
    expected = dict(
        line.split()[::-1] for line in (copy / "SHA256SUMS").read_text().splitlines()
    )
    import hashlib

    actual = hashlib.sha256(bytes(data)).hexdigest()
    with pytest.raises(ValueError) as err:
        nnlib.load_mnist(path=copy)
    msg = str(err.value)
    assert "train-labels-idx1-ubyte.gz" in msg
    assert expected["train-labels-idx1-ubyte"] in msg and actual in msg


def test_truncated_gzip_is_a_clear_error(tmp_path):
    copy = copy_data(tmp_path / "mnist")
    target = copy / "t10k-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[:5000])
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte\.gz.*corrupted"):
        nnlib.load_mnist(path=copy)


def test_wrong_magic_number_is_detected(tmp_path):
    # a labels file whose header says "images": the checksum is updated so that only the
    # magic check catches it
    import hashlib

    copy = copy_data(tmp_path / "mnist")
    target = copy / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(gzip.decompress(target.read_bytes()))
    data[3] = 0x03
    target.write_bytes(gzip.compress(bytes(data)))
    sums = (copy / "SHA256SUMS").read_text().splitlines()
    sums = [
        f"{hashlib.sha256(bytes(data)).hexdigest()}  t10k-labels-idx1-ubyte"
        if line.endswith("t10k-labels-idx1-ubyte")
        else line
        for line in sums
    ]
    (copy / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    with pytest.raises(ValueError, match=r"magic number 2051, expected 2049"):
        nnlib.load_mnist(path=copy)


def test_one_missing_file_is_named(tmp_path, no_keras):
    copy = copy_data(tmp_path / "mnist")
    (copy / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match=r"not train-images-idx3-ubyte\.gz"):
        nnlib.load_mnist(path=copy)


def test_missing_checksums_is_an_error(tmp_path):
    copy = copy_data(tmp_path / "mnist")
    (copy / "SHA256SUMS").unlink()
    with pytest.raises(FileNotFoundError, match="SHA256SUMS"):
        nnlib.load_mnist(path=copy)


def test_missing_directory_falls_back_to_keras(tmp_path, monkeypatch, mnist):
    calls = []

    def fake_keras():
        calls.append(1)
        return mnist

    monkeypatch.setattr(datasets, "_load_from_keras", fake_keras)
    (x, _), _ = nnlib.load_mnist(path=tmp_path / "nowhere")
    assert calls == [1] and x.shape == (60000, 28, 28) and x.dtype == np.uint8


def test_files_present_means_no_keras_fallback(tmp_path, monkeypatch):
    monkeypatch.setattr(
        datasets,
        "_load_from_keras",
        lambda: pytest.fail("Keras fallback used although files exist"),
    )
    copy_data(tmp_path / "mnist")
    nnlib.load_mnist(path=tmp_path / "mnist")


def test_missing_everywhere_says_where_it_looked_and_how_to_fix(tmp_path, no_keras):
    where = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as err:
        nnlib.load_mnist(path=where)
    msg = str(err.value)
    assert str(where) in msg and "simulated" in msg
    assert "NNLIB_DATA" in msg and "path=" in msg


def test_bad_path_type():
    with pytest.raises(TypeError, match="path"):
        nnlib.load_mnist(path=42)


# ------------------------------------------------------------------------------------
# The concrete compressive strength data (data/concrete/, nnlib.load_concrete)

CONCRETE = Path(__file__).resolve().parent.parent / "data" / "concrete"


def concrete_readme_facts():
    """Row count, duplicates and mean strength as written in data/concrete/README.md."""
    text = (CONCRETE / "README.md").read_text()
    rows = re.search(
        r"rows: (\d+); rows that repeat an earlier row exactly: (\d+)", text
    )
    mean = re.search(r"mean compressive strength: ([\d.]+) MPa", text)
    assert rows and mean, "the README states no row count or mean strength"
    return int(rows.group(1)), int(rows.group(2)), float(mean.group(1))


def copy_concrete(dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for f in CONCRETE.iterdir():
        shutil.copy(f, dst / f.name)
    return dst


def test_concrete_shapes_and_readme_facts():
    n_rows, n_dup, mean = concrete_readme_facts()
    X, y = nnlib.load_concrete()
    assert X.shape == (n_rows, 8) and y.shape == (n_rows,)
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert abs(y.mean() - mean) < 1e-3
    rows = np.column_stack([X, y])
    assert len(rows) - len(np.unique(rows, axis=0)) == n_dup
    assert (
        datasets.CONCRETE_FEATURES[-1] == "age"
        and X[:, -1].min() == 1
        and X[:, -1].max() == 365
    )


def test_concrete_checksum_matches_readme():
    import hashlib

    digest = hashlib.sha256((CONCRETE / "concrete.csv").read_bytes()).hexdigest()
    assert digest in (CONCRETE / "SHA256SUMS").read_text()
    assert digest in (CONCRETE / "README.md").read_text()


def test_concrete_path_and_env_var(tmp_path, monkeypatch):
    X0, y0 = nnlib.load_concrete()
    copy = copy_concrete(tmp_path / "data" / "concrete")
    X1, y1 = nnlib.load_concrete(path=copy)
    assert np.array_equal(X1, X0) and np.array_equal(y1, y0)
    monkeypatch.setenv(datasets.DATA_ENV_VAR, str(tmp_path / "data"))
    monkeypatch.setattr(datasets, "_REPO_CONCRETE", tmp_path / "nowhere")
    X2, _ = nnlib.load_concrete()
    assert np.array_equal(X2, X0)


def test_concrete_changed_value_fails_the_checksum(tmp_path):
    copy = copy_concrete(tmp_path / "concrete")
    csv = copy / "concrete.csv"
    csv.write_text(csv.read_text().replace("79.99", "79.98", 1))
    with pytest.raises(ValueError, match=r"checksum mismatch.*concrete\.csv"):
        nnlib.load_concrete(path=copy)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda lines: lines[:-1], r"1029 mixtures, expected 1030"),
        (lambda lines: [lines[0].replace("age", "days")] + lines[1:], r"header"),
        (
            lambda lines: lines[:5] + [lines[5] + ",1.0"] + lines[6:],
            r"line 6: expected 9",
        ),
        (
            lambda lines: lines[:5] + [lines[5].replace(",", ",x", 1)] + lines[6:],
            r"line 6: not a number",
        ),
        (
            lambda lines: lines[:5] + ["-" + lines[5]] + lines[6:],
            r"negative or non-finite",
        ),
        (
            lambda lines: (
                lines[:5] + ["nan" + lines[5][lines[5].index(",") :]] + lines[6:]
            ),
            r"non-finite",
        ),
    ],
)
def test_concrete_malformed_file_is_a_clear_error(tmp_path, edit, message):
    # each edit updates SHA256SUMS too, so that only the parser can catch it
    import hashlib

    copy = copy_concrete(tmp_path / "concrete")
    csv = copy / "concrete.csv"
    text = "\n".join(edit(csv.read_text().splitlines())) + "\n"
    csv.write_text(text)
    (copy / "SHA256SUMS").write_text(
        f"{hashlib.sha256(text.encode()).hexdigest()}  concrete.csv\n"
    )
    with pytest.raises(ValueError, match=message):
        nnlib.load_concrete(path=copy)


def test_concrete_missing_checksums_is_an_error(tmp_path):
    copy = copy_concrete(tmp_path / "concrete")
    (copy / "SHA256SUMS").unlink()
    with pytest.raises(
        FileNotFoundError, match=r"load_concrete.*SHA256SUMS.*data/concrete"
    ):
        nnlib.load_concrete(path=copy)


def test_concrete_missing_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.delenv(datasets.DATA_ENV_VAR, raising=False)
    where = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as err:
        nnlib.load_concrete(path=where)
    msg = str(err.value)
    assert str(where) in msg and "NNLIB_DATA" in msg and "path=" in msg


def test_concrete_bad_path_type():
    with pytest.raises(TypeError, match="load_concrete expects path"):
        nnlib.load_concrete(path=3.5)


# ------------------------------------------------------------------------------------
# load_experiment_results


def test_experiment_results_path_env_var_and_repository(tmp_path, monkeypatch):
    import json

    stored = {"runs": {"a": [1, 2]}, "budget": {"steps": 3}}
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "demo.json").write_text(json.dumps(stored))
    assert datasets.load_experiment_results("demo", tmp_path / "experiments") == stored
    monkeypatch.setattr(datasets, "_REPO_EXPERIMENTS", tmp_path / "nowhere")
    monkeypatch.setenv(datasets.DATA_ENV_VAR, str(tmp_path))
    assert datasets.load_experiment_results("demo") == stored
    monkeypatch.delenv(datasets.DATA_ENV_VAR)
    monkeypatch.setattr(datasets, "_REPO_EXPERIMENTS", tmp_path / "experiments")
    assert datasets.load_experiment_results("demo") == stored


def test_experiment_results_of_chapter_13_are_in_the_repository(monkeypatch):
    monkeypatch.delenv(datasets.DATA_ENV_VAR, raising=False)
    results = datasets.load_experiment_results("ch13")
    budget, runs = results["budget"], results["runs"]
    assert results["baseline"] in runs and "SGD 1e-4" in runs
    for name, seeds in runs.items():
        assert [r["seed"] for r in seeds] == budget["seeds"], name
        for r in seeds:
            if "diverged" not in r:
                assert r["train_step"][-1] == budget["steps"], name
                assert 0 <= r["val_accuracy"][-1] <= 1, name
    assert "command" in results["provenance"]


def test_experiment_results_errors(tmp_path, monkeypatch):
    monkeypatch.delenv(datasets.DATA_ENV_VAR, raising=False)
    with pytest.raises(TypeError, match="expects name to be a str"):
        datasets.load_experiment_results(13)
    for bad in ("", "../ch13", "ch13.json"):
        with pytest.raises(ValueError, match="plain file name"):
            datasets.load_experiment_results(bad)
    with pytest.raises(TypeError, match="load_experiment_results expects path"):
        datasets.load_experiment_results("ch13", path=3.5)
    with pytest.raises(FileNotFoundError) as err:
        datasets.load_experiment_results("ch13", path=tmp_path)
    assert str(tmp_path) in str(err.value) and "bench/experiments_ch13.py" in str(
        err.value
    )
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        datasets.load_experiment_results("broken", path=tmp_path)
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="JSON object, got list"):
        datasets.load_experiment_results("list", path=tmp_path)
