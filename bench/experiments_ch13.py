"""Chapter 13's experiments: every setting, three seeds, judged on validation images.

Not part of the test suite (``make bench`` runs it; 10 to 30 minutes on a 2-core
machine, depending on what else it runs). It trains chapter 12's network
(``nnlib.cnn.DeepCNN``) once for every setting and seed of :data:`SETTINGS` at one
budget (:data:`STEPS` steps of :data:`BATCH_SIZE` images), then runs the three
settings of :data:`LONG_SETTINGS` for :data:`LONG_STEPS` steps with seed 0, and
writes everything to
``data/experiments/ch13.json``: per run the training-loss curve, the validation
loss and accuracy every :data:`EVAL_EVERY` steps, the wall and CPU time, together
with the command, the versions and the machine. Chapter 13 draws its tables and
figures from that file (``nnlib.datasets.load_experiment_results("ch13")``) and
re-runs a few of the runs live to check that they land where the file says.

The validation images are chapter 12's: the first 5000 of
``numpy.random.default_rng(0).permutation(60000)``; the network trains on the other
55 000. The test set is not touched here.

Usage::

    python bench/experiments_ch13.py                       # everything
    python bench/experiments_ch13.py --only "Adam 1e-3" --seeds 0 --out /tmp/x.json

The chapter loads this file with ``runpy.run_path`` and calls :func:`run` itself, so
the code that made the stored numbers and the code the chapter re-runs are the same.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

#: The budget of every run of the grid: steps of BATCH_SIZE images, the training loss
#: averaged over LOG_EVERY steps, validation loss and accuracy every EVAL_EVERY steps.
STEPS, BATCH_SIZE, LOG_EVERY, EVAL_EVERY = 200, 64, 10, 100
SEEDS = (0, 1, 2)
N_VALIDATION = 5000

#: name -> (activation, init, optimiser, learning rate); optimiser "SGD", "momentum"
#: (SGD with momentum 0.9) or "Adam". The baseline is chapter 12's setting.
SETTINGS = {
    "Adam 3e-4": ("relu", "truncated_normal", "Adam", 3e-4),
    "Adam 1e-3": ("relu", "truncated_normal", "Adam", 1e-3),
    "Adam 3e-3": ("relu", "truncated_normal", "Adam", 3e-3),
    "SGD 0.01": ("relu", "truncated_normal", "SGD", 0.01),
    "SGD 0.03": ("relu", "truncated_normal", "SGD", 0.03),
    "SGD 0.1": ("relu", "truncated_normal", "SGD", 0.1),
    "SGD 0.3": ("relu", "truncated_normal", "SGD", 0.3),
    "momentum 0.003": ("relu", "truncated_normal", "momentum", 0.003),
    "momentum 0.01": ("relu", "truncated_normal", "momentum", 0.01),
    "momentum 0.03": ("relu", "truncated_normal", "momentum", 0.03),
    "Adam 1e-4": ("relu", "truncated_normal", "Adam", 1e-4),
    "SGD 1e-4": ("relu", "truncated_normal", "SGD", 1e-4),
    "tanh, truncated normal": ("tanh", "truncated_normal", "Adam", 1e-3),
    "tanh, Glorot": ("tanh", "glorot", "Adam", 1e-3),
    "ReLU, Glorot": ("relu", "glorot", "Adam", 1e-3),
}
BASELINE = "Adam 1e-3"

#: The longer runs of the switching mistake (seed 0 only): plain SGD at Adam's small
#: learning rate, Adam at that rate, and plain SGD at the rate the grid chose for it.
LONG_STEPS, LONG_EVAL_EVERY = 1000, 200
LONG_SETTINGS = ("SGD 1e-4", "Adam 1e-4", "SGD (tuned)")


def load_data():
    """Chapter 12's split: (x_train, y_train), (x_val, y_val), images prepared."""
    import nnlib
    from nnlib.cnn import prepare_images

    (x_all, y_all), _ = nnlib.load_mnist()
    perm = np.random.default_rng(0).permutation(len(x_all))
    val_idx, train_idx = perm[:N_VALIDATION], perm[N_VALIDATION:]
    return (
        (prepare_images(x_all[train_idx]), y_all[train_idx].astype(np.int64)),
        (prepare_images(x_all[val_idx]), y_all[val_idx].astype(np.int64)),
    )


def make_optimizer(kind, learning_rate):
    """A fresh Keras optimiser: "SGD", "momentum" (SGD, momentum 0.9) or "Adam"."""
    import tensorflow as tf

    if kind == "SGD":
        return tf.keras.optimizers.SGD(learning_rate=learning_rate)
    if kind == "momentum":
        return tf.keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9)
    if kind == "Adam":
        return tf.keras.optimizers.Adam(learning_rate=learning_rate)
    raise ValueError(f"make_optimizer expects SGD, momentum or Adam, got {kind!r}")


def validation_scores(logits_fn, x_val, y_val, batch_size=1000):
    """Mean cross-entropy and accuracy on the validation images.

    ``logits_fn`` maps a batch of images to the model's logits (no dropout).
    """
    logits = np.concatenate(
        [
            logits_fn(x_val[i : i + batch_size]).numpy()
            for i in range(0, len(x_val), batch_size)
        ]
    ).astype(np.float64)
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(len(y_val)), y_val].mean()
    return float(loss), float(np.mean(logits.argmax(axis=1) == y_val))


def run(setting, seed, data, steps=STEPS, eval_every=EVAL_EVERY, return_model=False):
    """One training run from a fresh model; its curves and times as a dict.

    With ``return_model=True``, the pair (that dict, the trained model).

    ``setting`` is (activation, init, optimiser, learning rate). Everything random
    is seeded by ``seed``: the initial weights (TensorFlow's global seed), the order
    of the mini-batches (``train_cnn``) and the dropout masks (the model's
    generator). So two settings run with one seed see the same data in the same
    order, and start from the same weights when their initialisation is the same.
    """
    import tensorflow as tf

    from nnlib.cnn import DeepCNN, train_cnn

    activation, init, kind, lr = setting
    (x_train, y_train), (x_val, y_val) = data
    tf.keras.utils.set_random_seed(seed)
    model = DeepCNN(activation=activation, init=init, seed=seed)
    # traced once; autograph=False: nothing to convert, and no AutoGraph warning when
    # this file is loaded with runpy (as chapter 13 does)
    logits_fn = tf.function(lambda xb: model(xb, training=False), autograph=False)
    curve = {"step": [], "loss": [], "accuracy": []}
    eval_seconds = 0.0

    def evaluate(step, mean_loss):
        nonlocal eval_seconds
        if step % eval_every == 0:
            start = time.perf_counter()
            loss, acc = validation_scores(logits_fn, x_val, y_val)
            curve["step"].append(step)
            curve["loss"].append(loss)
            curve["accuracy"].append(acc)
            eval_seconds += time.perf_counter() - start

    try:
        history = train_cnn(
            model,
            make_optimizer(kind, lr),
            x_train,
            y_train,
            steps=steps,
            batch_size=BATCH_SIZE,
            seed=seed,
            log_every=LOG_EVERY,
            progress=evaluate,
        )
    except FloatingPointError as err:  # a diverged run is a result too
        result = {"seed": seed, "diverged": str(err)}
        return (result, model) if return_model else result
    result = {
        "seed": seed,
        "train_step": history["step"],
        "train_loss": history["loss"],
        "val_step": curve["step"],
        "val_loss": curve["loss"],
        "val_accuracy": curve["accuracy"],
        "seconds": history["seconds"] - eval_seconds,
        "eval_seconds": eval_seconds,
        "cpu_seconds": history["cpu_seconds"],
    }
    return (result, model) if return_model else result


def final_accuracy(result):
    """The validation accuracy at the end of a run (0.0 for a diverged run)."""
    return result["val_accuracy"][-1] if "val_accuracy" in result else 0.0


def tuned_sgd(runs):
    """The plain-SGD setting of the grid with the best mean validation accuracy."""
    sgd = [n for n in runs if n.startswith("SGD ") and n != "SGD 1e-4"]
    return max(sgd, key=lambda n: np.mean([final_accuracy(r) for r in runs[n]]))


def provenance(argv):
    """The command, the versions and the machine, for the results file."""
    import tensorflow as tf

    blas = []
    try:
        from threadpoolctl import threadpool_info

        blas = [
            {k: d.get(k) for k in ("internal_api", "version", "architecture")}
            | {"num_threads": d.get("num_threads")}
            for d in threadpool_info()
            if d.get("user_api") == "blas"
        ]
    except ImportError:
        pass
    return {
        "command": shlex.join(["python", "bench/experiments_ch13.py", *argv]),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "tensorflow": tf.__version__,
        "machine": platform.machine(),
        "processor": _cpu_name(),
        "cpus": os.cpu_count(),
        "blas": blas,
        "load_average_at_start": list(os.getloadavg()),
    }


def _cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def run_all(names=None, seeds=SEEDS, long=True, argv=(), data=None):
    """Every run of the grid (and the long runs): the results as written to the file.

    ``names`` selects settings of :data:`SETTINGS` (default: all); ``argv`` is only
    recorded as the command; ``data`` is :func:`load_data`'s, loaded when not given.
    """
    from nnlib.cnn import tf  # TensorFlow, imported without its start-up messages

    tf.config.experimental.enable_op_determinism()
    info = provenance(list(argv))
    data = load_data() if data is None else data
    names = list(SETTINGS) if names is None else list(names)
    unknown = sorted(set(names) - set(SETTINGS))
    if unknown:
        raise ValueError(f"unknown settings {unknown}; known: {list(SETTINGS)}")
    start = time.perf_counter()
    runs = {}
    for name in names:
        runs[name] = []
        for seed in seeds:
            result = run(SETTINGS[name], seed, data)
            runs[name].append(result)
            print(
                f"{name:24s} seed {seed}: validation accuracy "
                f"{final_accuracy(result):.4f} ({result.get('seconds', 0):.1f} s)",
                flush=True,
            )
    long_runs = {}
    if long and "SGD 1e-4" in runs:
        tuned = tuned_sgd(runs)
        for label in LONG_SETTINGS:
            name = tuned if label == "SGD (tuned)" else label
            result = run(SETTINGS[name], 0, data, LONG_STEPS, LONG_EVAL_EVERY)
            long_runs[label] = {"setting": name, **result}
            print(
                f"long run {label} ({name}): validation accuracy "
                f"{final_accuracy(result):.4f} after {LONG_STEPS} steps",
                flush=True,
            )
    info["seconds_total"] = time.perf_counter() - start
    keys = ("activation", "init", "optimizer", "learning_rate")
    return {
        "provenance": info,
        "budget": {
            "steps": STEPS,
            "batch_size": BATCH_SIZE,
            "log_every": LOG_EVERY,
            "eval_every": EVAL_EVERY,
            "n_validation": N_VALIDATION,
            "seeds": list(seeds),
            "long_steps": LONG_STEPS,
            "long_eval_every": LONG_EVAL_EVERY,
        },
        "baseline": BASELINE,
        "settings": {
            n: dict(zip(keys, s, strict=True)) for n, s in SETTINGS.items() if n in runs
        },
        "runs": runs,
        "long_runs": long_runs,
    }


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        default=str(
            Path(__file__).resolve().parent.parent / "data/experiments/ch13.json"
        ),
        help="where to write the results (default: data/experiments/ch13.json)",
    )
    parser.add_argument("--only", nargs="*", help="names of settings to run")
    parser.add_argument("--seeds", nargs="*", type=int, default=list(SEEDS))
    parser.add_argument("--no-long", action="store_true", help="skip the long runs")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.only or ()) - set(SETTINGS))
    if unknown:
        parser.error(f"unknown settings {unknown}; known: {list(SETTINGS)}")
    results = run_all(args.only, args.seeds, not args.no_long, argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {out} ({results['provenance']['seconds_total']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
