"""Chapter 12's CNN over several seeds: test accuracy and training time per seed.

Not part of the test suite (``make bench`` runs it; about two minutes per seed on an
idle 2-core machine). The chapter stores one run (seed 0); this script repeats the
chapter's recipe exactly, one seed after the other, and prints the validation and test
accuracy and the training time of each, then the mean and the spread:

* the same split (5 000 of the 60 000 training images held out, chosen by
  ``numpy.random.default_rng(0)``, whatever the seed);
* ``tf.keras.utils.set_random_seed(seed)``, then ``nnlib.cnn.DeepCNN(seed=seed)``
  (chapter 12's class; tests/test_cnn_helpers.py pins the two together) and
  ``nnlib.cnn.train_step``, with TensorFlow's op determinism on;
* 1500 steps of 128 images, Adam with a linear warm-up to 3e-3 over 100 steps and a
  cosine decay to 0 at the last step;
* pass p over the data in the order of the (p + 1)-th permutation drawn by
  ``numpy.random.default_rng(seed)`` (the chapter's ``batch_indices``), the incomplete
  last batch dropped.

The chapter's summaries, evaluations and checkpoints do not change the training (they
draw no random numbers), so they are left out here; the time reported is that of the
training steps alone. Seed 0 reproduces the chapter's stored run on the machine that
made it.

    python bench/cnn_seeds.py              # seeds 0, 1, 2
    python bench/cnn_seeds.py --seeds 0 1  # any others
"""

from __future__ import annotations

import argparse
import os
import time
from functools import lru_cache

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

STEPS, BATCH_SIZE = 1500, 128
PEAK_RATE, WARMUP_STEPS = 3e-3, 100


def load_data(cnn, nnlib):
    """The chapter's split: (x_train, y_train), (x_val, y_val), (x_test, y_test)."""
    (x_all, y_all), (x_test_raw, y_test) = nnlib.load_mnist()
    perm = np.random.default_rng(0).permutation(len(x_all))
    val_idx, train_idx = perm[:5000], perm[5000:]
    return (
        (cnn.prepare_images(x_all[train_idx]), y_all[train_idx].astype(np.int64)),
        (cnn.prepare_images(x_all[val_idx]), y_all[val_idx].astype(np.int64)),
        (cnn.prepare_images(x_test_raw), y_test.astype(np.int64)),
    )


def train_one_seed(cnn, tf, seed, train):
    """Train the chapter's network with this seed; return (model, wall s, CPU s)."""
    x_train, y_train = train
    batches_per_pass = len(x_train) // BATCH_SIZE

    @lru_cache(maxsize=2)
    def pass_order(p):
        rng = np.random.default_rng(seed)  # the (p + 1)-th permutation it draws
        for _ in range(p):
            rng.permutation(len(x_train))
        return rng.permutation(len(x_train))

    def batch_indices(step):
        p, b = divmod(step - 1, batches_per_pass)
        return pass_order(p)[b * BATCH_SIZE : (b + 1) * BATCH_SIZE]

    tf.keras.utils.set_random_seed(seed)
    model = cnn.DeepCNN(seed=seed)
    schedule = tf.keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        warmup_target=PEAK_RATE,
        warmup_steps=WARMUP_STEPS,
        decay_steps=STEPS - WARMUP_STEPS,
    )
    optimizer = tf.keras.optimizers.Adam(learning_rate=schedule)
    x_tf, y_tf = tf.constant(x_train), tf.constant(y_train)

    @tf.function
    def train_batch(idx):
        xb, yb = tf.gather(x_tf, idx), tf.gather(y_tf, idx)
        return cnn.train_step(model, optimizer, xb, yb)

    start, cpu_start = time.perf_counter(), time.process_time()
    for step in range(1, STEPS + 1):
        loss = train_batch(tf.constant(batch_indices(step)))
        if step % 100 == 0 and not np.isfinite(float(loss)):
            raise FloatingPointError(f"seed {seed}: the loss is {float(loss)}")
    return model, time.perf_counter() - start, time.process_time() - cpu_start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)

    import nnlib
    from nnlib import cnn

    tf = cnn.tf
    tf.config.experimental.enable_op_determinism()
    train, (x_val, y_val), (x_test, y_test) = load_data(cnn, nnlib)
    print(
        f"chapter 12's recipe: {STEPS} steps of {BATCH_SIZE}, Adam, warm-up to "
        f"{PEAK_RATE:g} and cosine decay; TensorFlow {tf.__version__}, "
        f"{os.cpu_count()} CPUs"
    )
    rows = []
    for seed in args.seeds:
        model, seconds, cpu = train_one_seed(cnn, tf, seed, train)
        val = cnn.accuracy(model, x_val, y_val)
        test = cnn.accuracy(model, x_test, y_test)
        rows.append((seed, val, test, seconds, cpu))
        print(
            f"seed {seed}: validation {val:.4f}  test {test:.4f}  training "
            f"{seconds:.0f} s (processor time {cpu:.0f} s)",
            flush=True,
        )
    tests = np.array([r[2] for r in rows])
    vals = np.array([r[1] for r in rows])
    secs = np.array([r[3] for r in rows])
    print(
        f"test accuracy over {len(rows)} seeds: mean {tests.mean():.4f}, "
        f"min {tests.min():.4f}, max {tests.max():.4f}, "
        f"std {tests.std(ddof=1) if len(rows) > 1 else 0.0:.4f}"
    )
    print(
        f"validation accuracy: mean {vals.mean():.4f}, min {vals.min():.4f}, "
        f"max {vals.max():.4f}; training time {secs.min():.0f}-{secs.max():.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
