"""Benchmark: the nnlib MLP against scikit-learn and Keras on MNIST (``make bench``).

The same network, 784-128-10 with ReLU, float32, is trained with the same
optimizer (SGD, heavy-ball momentum 0.9, learning rate 0.1 on the batch-mean
cross-entropy, mini-batches of 128 drawn in a new random order every epoch, no
L2) for 5 epochs on the full MNIST training set by

* ``nnlib.MLP``,
* ``sklearn.neural_network.MLPClassifier`` (solver "sgd", nesterovs_momentum=False,
  alpha=0, constant learning rate, no early stopping, tolerance disabled),
* a Keras ``Sequential`` model (``SGD(learning_rate=0.1, momentum=0.9)``),

and, as controls, nnlib and scikit-learn again with their BLAS limited to one
thread ("nnlib-1t", "sklearn-1t"). Two more lines, "floor" and "floor-1t" (one
BLAS thread), time only what no numpy implementation of this training can skip:
gathering each mini-batch's rows and the five matrix products of a step (the
forward products of both layers, both weight gradients and the gradient of
the hidden layer), so that nnlib's time can be read as a ratio to what is
possible on the machine at hand. The target is set at one thread, where the
ratio measures the training loop and not how the machine shares its cores.

They run in turn, ``--rounds`` times, in a rotated order each round, so
that all of them see the same load on a shared machine; each one's median wall
time is reported (only ``fit`` is timed: building the model and converting the
data are not). The one-thread lines also show the CPU time of the thread that
ran them, which then did all the work: unlike the wall time, it leaves out the
moments when another program had the core, so the floor target compares CPU
times. Keras' time includes
tracing its training function, as a user would see it; its line also shows an
estimate without that start-up cost (the pace of epochs 2 to 5).

Then the throughput of a large MLP (784-1024-1024-10, batch 256) is printed in
GFLOP/s, as a fraction of the float32 matrix-multiply rate this machine reaches
on exactly the products one training step performs (forward, weight gradients,
and the input gradients of every layer but the first), measured the same way
in the same run.

Usage::

    .venv/bin/python bench/bench_mnist.py [--rounds 3] [--epochs 5] [--skip-keras]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

import nnlib

HIDDEN = 128
LR = 0.1
MOMENTUM = 0.9
BATCH = 128


def clock():
    """Wall time and the CPU time of this thread, together."""
    return time.perf_counter(), time.thread_time()


def since(start):
    """``(wall seconds, CPU seconds)`` since ``start = clock()``."""
    wall, cpu = clock()
    return wall - start[0], cpu - start[1]


def load_data():
    (x_train, y_train), (x_test, y_test) = nnlib.load_mnist()
    X = (x_train.reshape(len(x_train), -1) / np.float32(255)).astype(np.float32)
    Xt = (x_test.reshape(len(x_test), -1) / np.float32(255)).astype(np.float32)
    return X, y_train.astype(np.int64), Xt, y_test.astype(np.int64)


def run_nnlib(X, y, Xt, yt, epochs, seed):
    net = nnlib.MLP(
        [X.shape[1], HIDDEN, 10],
        activation="relu",
        output="softmax",
        dtype=np.float32,
        seed=seed,
    )
    t0 = clock()
    net.fit(
        X,
        y,
        epochs=epochs,
        learning_rate=LR,
        batch_size=BATCH,
        momentum=MOMENTUM,
        shuffle=True,
    )
    elapsed = since(t0)
    return elapsed, net.score(Xt, yt), ""


def run_floor(X, y, Xt, yt, epochs, seed):
    """The part of nnlib's work that no numpy implementation of this training can skip.

    Per mini-batch, with the same shapes, batch order and BLAS as ``MLP.fit``:
    gather the 128 rows into a buffer, then the five matrix products of a step,
    ``Z_1 = X_b W_1`` and ``Z_2 = A_1 W_2`` (forward), ``A_1^T D_2`` and
    ``X_b^T D_1`` (weight gradients) and ``D_2 W_2^T`` (the gradient of the
    hidden layer). Everything else (biases, ReLU, softmax, the momentum update)
    is left out, so the time is a lower bound for ``MLP.fit`` on this machine.
    """
    rng = np.random.default_rng(seed)
    n, d = X.shape
    W1 = rng.standard_normal((d, HIDDEN), dtype=np.float32)
    W2 = rng.standard_normal((HIDDEN, 10), dtype=np.float32)
    D2 = rng.standard_normal((BATCH, 10), dtype=np.float32)
    G1, G2 = np.empty_like(W1), np.empty_like(W2)
    xb = np.empty((BATCH, d), dtype=np.float32)
    Z1 = np.empty((BATCH, HIDDEN), dtype=np.float32)
    D1 = np.empty((BATCH, HIDDEN), dtype=np.float32)
    Z2 = np.empty((BATCH, 10), dtype=np.float32)
    t0 = clock()
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, BATCH):
            idx = order[start : start + BATCH]
            nb = idx.shape[0]
            x, z1, d1, d2 = xb[:nb], Z1[:nb], D1[:nb], D2[:nb]
            np.take(X, idx, axis=0, out=x, mode="clip")
            np.matmul(x, W1, out=z1)
            np.matmul(z1, W2, out=Z2[:nb])
            np.matmul(z1.T, d2, out=G2)
            np.matmul(d2, W2.T, out=d1)
            np.matmul(x.T, d1, out=G1)
    elapsed = since(t0)
    return (
        elapsed,
        float("nan"),
        "row gather + the five matrix products of every step, nothing else",
    )


def one_thread(runner):
    """``runner`` with its BLAS limited to one thread."""

    def run(*args, **kwargs):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return runner(*args, **kwargs)

    return run


def run_sklearn(X, y, Xt, yt, epochs, seed):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=(HIDDEN,),
        activation="relu",
        solver="sgd",
        alpha=0.0,
        batch_size=BATCH,
        learning_rate="constant",
        learning_rate_init=LR,
        momentum=MOMENTUM,
        nesterovs_momentum=False,
        max_iter=epochs,
        shuffle=True,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        early_stopping=False,
        random_state=seed,
    )
    with warnings.catch_warnings():
        # max_iter reached on purpose
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = clock()
        clf.fit(X, y)
        elapsed = since(t0)
    return elapsed, float(clf.score(Xt, yt)), f"{clf.n_iter_} epochs"


def run_keras(X, y, Xt, yt, epochs, seed):
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input(shape=(X.shape[1],)),
            keras.layers.Dense(HIDDEN, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=LR, momentum=MOMENTUM),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    ends = []

    class EpochEnds(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            ends.append(time.perf_counter())

    start = clock()
    t0 = start[0]
    model.fit(
        X,
        y,
        batch_size=BATCH,
        epochs=epochs,
        shuffle=True,
        verbose=0,
        callbacks=[EpochEnds()],
    )
    elapsed = since(start)
    # one eager call: no retracing of a predict function
    logits = np.asarray(model(Xt, training=False))
    note = ""
    # the first epoch includes tracing the training function: the time without it
    if epochs > 1:
        steady = (ends[-1] - ends[0]) / (epochs - 1) * epochs
        note = (
            f"first epoch {ends[0] - t0:.2f} s; {epochs} epochs at the pace of the "
            f"later ones: {steady:.2f} s"
        )
    return elapsed, float(np.mean(logits.argmax(axis=1) == yt)), note


# ----------------------------------------------------------------- large MLP throughput


def step_flops(sizes, batch):
    """Floating-point operations of one training step (2 per multiply-add).

    Forward ``A W`` and weight gradient ``A^T D`` for every layer, input
    gradient ``D W^T`` for every layer but the first.
    """
    pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
    fwd = sum(2 * batch * i * o for i, o in pairs)
    dx = sum(2 * batch * i * o for i, o in pairs[1:])
    return 2 * fwd + dx


def gemm_peak(sizes, batch, steps, rng):
    """GFLOP/s of numpy float32 matmuls with the shapes of ``steps`` training steps.

    Measured with one BLAS thread and with the configured number; the better counts.
    """
    from threadpoolctl import threadpool_limits

    rates = []
    for threads in (1, None):
        with threadpool_limits(limits=threads, user_api="blas"):
            rates.append(_gemm_rate(sizes, batch, steps, rng))
    return max(rates), rates


def _gemm_rate(sizes, batch, steps, rng):
    Ws = [
        rng.standard_normal((i, o), dtype=np.float32)
        for i, o in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    As = [rng.standard_normal((batch, s), dtype=np.float32) for s in sizes]
    Gs = [np.empty_like(W) for W in Ws]
    Ds = [np.empty((batch, s), dtype=np.float32) for s in sizes]

    def one_step():
        for i, W in enumerate(Ws):
            np.matmul(As[i], W, out=As[i + 1])
        for i in range(len(Ws) - 1, -1, -1):
            np.matmul(As[i].T, Ds[i + 1], out=Gs[i])
            if i > 0:
                np.matmul(Ds[i + 1], Ws[i].T, out=Ds[i])

    for D in Ds:
        D[...] = 0.01
    one_step()
    t0 = time.perf_counter()
    for _ in range(steps):
        one_step()
    elapsed = time.perf_counter() - t0
    return step_flops(sizes, batch) * steps / elapsed / 1e9


def large_mlp_rate(X, y, sizes, batch, steps, seed):
    """GFLOP/s of nnlib.MLP.fit on ``steps`` mini-batches of the large network."""
    n = batch * steps
    net = nnlib.MLP(sizes, dtype=np.float32, seed=seed)
    # warm-up
    net.fit(
        X[:batch],
        y[:batch],
        epochs=1,
        learning_rate=0.01,
        batch_size=batch,
        momentum=MOMENTUM,
    )
    t0 = time.perf_counter()
    net.fit(
        X[:n], y[:n], epochs=1, learning_rate=0.01, batch_size=batch, momentum=MOMENTUM
    )
    elapsed = time.perf_counter() - t0
    return step_flops(sizes, batch) * steps / elapsed / 1e9


# --------------------------------------------------------------------------- report


def conditions():
    lines = [
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"{os.cpu_count()} CPU(s), "
        f"{platform.machine()} {platform.processor() or ''}".rstrip()
    ]
    for var in (
        "OPENBLAS_CORETYPE",
        "OPENBLAS_L2_SIZE",
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
    ):
        lines.append(f"{var}={os.environ.get(var, '(unset)')}")
    try:
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            if info.get("user_api") == "blas":
                lines.append(
                    f"BLAS: {info.get('internal_api')} {info.get('version')} "
                    f"({info.get('architecture')}), "
                    f"{info.get('num_threads')} thread(s), "
                    f"{os.path.basename(info.get('filepath', ''))}"
                )
    except ImportError:
        pass
    if os.environ.get("OPENBLAS_CORETYPE") or os.environ.get("OPENBLAS_L2_SIZE"):
        lines.append(
            "note: OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set; they can slow "
            "numpy's OpenBLAS kernels "
            "(this script leaves them as they are)"
        )
    return lines


def load_average():
    try:
        return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        return "load average unknown"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating rounds (default 3)"
    )
    parser.add_argument(
        "--epochs", type=int, default=5, help="epochs per training run (default 5)"
    )
    parser.add_argument(
        "--skip-keras",
        action="store_true",
        help="leave Keras out (no TensorFlow import)",
    )
    parser.add_argument(
        "--large-steps",
        type=int,
        default=60000 // 256,
        help="mini-batches timed for the large MLP (default: one epoch of MNIST, 234)",
    )
    parser.add_argument(
        "--peak-steps",
        type=int,
        default=20,
        help="training steps' worth of matrix products timed for the peak (default 20)",
    )
    args = parser.parse_args(argv)

    print("== conditions ==")
    for line in conditions():
        print("  " + line)
    print("  at start: " + load_average())
    X, y, Xt, yt = load_data()
    print(f"  data: MNIST train {X.shape} float32, test {Xt.shape}")

    runners = {
        "nnlib": run_nnlib,
        "nnlib-1t": one_thread(run_nnlib),
        "floor": run_floor,
        "floor-1t": one_thread(run_floor),
        "sklearn": run_sklearn,
        "sklearn-1t": one_thread(run_sklearn),
    }
    if not args.skip_keras:
        from nnlib._tf import import_tensorflow

        # without TensorFlow's C++ start-up lines; its start-up is not timed
        tf = import_tensorflow()
        import keras

        print(f"  TensorFlow {tf.__version__}, Keras {keras.__version__}")
        runners["keras"] = run_keras
    names = list(runners)
    times = {k: [] for k in names}
    cpu_times = {k: [] for k in names}
    accs = {k: [] for k in names}

    print(
        f"\n== 784-{HIDDEN}-10 ReLU float32, SGD lr {LR} momentum {MOMENTUM}, batch "
        f"{BATCH}, "
        f"{args.epochs} epochs, {args.rounds} alternating rounds =="
    )
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            (elapsed, cpu), acc, note = runners[name](X, y, Xt, yt, args.epochs, seed=r)
            times[name].append(elapsed)
            cpu_times[name].append(cpu)
            one_thread_run = name.endswith("-1t")
            cpu_note = f"(CPU {cpu:5.2f} s)" if one_thread_run else " " * 14
            accs[name].append(acc)
            score = (
                "   (no model)        "
                if name.startswith("floor")
                else f"test accuracy {100 * acc:.2f} %"
            )
            print(
                f"  round {r + 1}  {name:10s} {elapsed:7.2f} s {cpu_note}  "
                f"{score}   {note}  "
                f"[{load_average()}]",
                flush=True,
            )
    print("  after: " + load_average())

    med = {k: statistics.median(v) for k, v in times.items()}
    acc_med = {k: statistics.median(v) for k, v in accs.items()}
    print("\n  implementation   median time   test accuracy (median)")
    for k in names:
        score = "       -" if k.startswith("floor") else f"{100 * acc_med[k]:8.2f} %"
        print(f"  {k:15s} {med[k]:9.2f} s   {score}")
    print(
        f"  nnlib above the floor: {med['nnlib'] - med['floor']:.2f} s; half of "
        "sklearn's time is "
        f"{med['sklearn'] / 2:.2f} s"
        + (f", a quarter of Keras's {med['keras'] / 4:.2f} s" if "keras" in med else "")
    )
    results = []
    # With one BLAS thread, the CPU time of the main thread is all the work done,
    # whatever else the machine runs; the wall time also counts the moments another
    # program had the core.
    for label, table in (("wall", times), ("CPU", cpu_times)):
        mine, floor = table["nnlib-1t"], table["floor-1t"]
        per_round = [a / b for a, b in zip(mine, floor, strict=True)]
        ratio = statistics.median(mine) / statistics.median(floor)
        print(
            f"  one BLAS thread, {label} time: nnlib {statistics.median(mine):.3f} s, "
            f"floor {statistics.median(floor):.3f} s, ratio {ratio:.3f}; per round: "
            + ", ".join(f"{q:.3f}" for q in per_round)
        )
    cpu = {k: statistics.median(v) for k, v in cpu_times.items()}
    cpu_ratio = cpu["nnlib-1t"] / cpu["floor-1t"]
    results.append(
        ("nnlib-1t / floor-1t CPU time", cpu_ratio, "<= 1.10", cpu_ratio <= 1.10)
    )
    ratio_sk = med["nnlib"] / med["sklearn"]
    results.append(("nnlib / sklearn time", ratio_sk, "<= 0.50", ratio_sk <= 0.5))
    ratio_sk1 = med["nnlib-1t"] / med["sklearn-1t"]
    results.append(
        ("nnlib-1t / sklearn-1t time (control)", ratio_sk1, "<= 0.50", ratio_sk1 <= 0.5)
    )
    if "keras" in med:
        ratio_k = med["nnlib"] / med["keras"]
        results.append(("nnlib / keras time", ratio_k, "<= 0.25", ratio_k <= 0.25))
    gap = 100 * (acc_med["nnlib"] - acc_med["sklearn"])
    results.append(("nnlib - sklearn accuracy (points)", gap, ">= -0.5", gap >= -0.5))

    sizes, batch = [784, 1024, 1024, 10], 256
    print(
        f"\n== large MLP {'-'.join(map(str, sizes))}, batch {batch}, float32: "
        f"{step_flops(sizes, batch) / 1e9:.2f} GFLOP per step =="
    )
    rng = np.random.default_rng(0)
    fractions, rates = [], []
    for r in range(args.rounds):
        # the peak is measured just before and just after the training: the same load
        before, (one_b, conf_b) = gemm_peak(sizes, batch, args.peak_steps, rng)
        rate = large_mlp_rate(X, y, sizes, batch, args.large_steps, seed=r)
        after, (one_a, conf_a) = gemm_peak(sizes, batch, args.peak_steps, rng)
        peak = (before + after) / 2
        rates.append(rate)
        fractions.append(rate / peak)
        print(
            f"  round {r + 1}  matmul peak {peak:6.1f} GFLOP/s (before: 1 thread "
            f"{one_b:.1f}, configured {conf_b:.1f};"
            f" after: {one_a:.1f}, {conf_a:.1f})   nnlib training {rate:6.1f} GFLOP/s "
            f"= {100 * rate / peak:.0f} %",
            flush=True,
        )
    frac = statistics.median(fractions)
    print(
        f"  median over rounds: nnlib {statistics.median(rates):.1f} GFLOP/s, "
        f"{100 * frac:.0f} % of the peak measured "
        "around it"
    )
    results.append(("large MLP fraction of matmul peak", frac, ">= 0.60", frac >= 0.6))

    print("\n== targets ==")
    for label, value, target, ok in results:
        print(
            f"  {label:36s} {value:8.3f}   target {target:8s}  "
            f"{'met' if ok else 'NOT met'}"
        )
    print(
        "  (timings on a shared machine vary with its load; see the load averages "
        "above)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
