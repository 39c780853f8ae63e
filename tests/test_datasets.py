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
    """The label counts and mean pixel values as written in the data README (not in the loader)."""
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
    data[100] = (data[100] + 1) % 10  # one label changed: still valid IDX, wrong content
    target.write_bytes(gzip.compress(bytes(data)))
    expected = dict(line.split()[::-1] for line in (copy / "SHA256SUMS").read_text().splitlines())
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
    # a labels file whose header says "images": the checksum is updated so that only the magic check catches it
    import hashlib
    copy = copy_data(tmp_path / "mnist")
    target = copy / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(gzip.decompress(target.read_bytes()))
    data[3] = 0x03
    target.write_bytes(gzip.compress(bytes(data)))
    sums = (copy / "SHA256SUMS").read_text().splitlines()
    sums = [f"{hashlib.sha256(bytes(data)).hexdigest()}  t10k-labels-idx1-ubyte" if l.endswith("t10k-labels-idx1-ubyte")
            else l for l in sums]
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
    monkeypatch.setattr(datasets, "_load_from_keras", lambda: pytest.fail("Keras fallback used although files exist"))
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
