"""nnlib.conv against TensorFlow: conv layers, forward and backward, MNIST sizes.

Not part of the test suite (``make bench`` runs it). For the two convolution layers of
the course's CNN (batch 64; 28x28x1 -> 32 filters, 14x14x32 -> 64 filters, 5x5
kernels, SAME padding), in float32, it times the forward pass plus the gradients with
respect to the input and the filters: nnlib (numpy, im2col) against TensorFlow (a
tf.function with a GradientTape). Rounds alternate between the two, and the medians are
compared; BLAS and TensorFlow each use the threads they are configured with (numpy's
BLAS: threadpoolctl's report is printed).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

LAYERS = [((64, 28, 28, 1), (5, 5, 1, 32)), ((64, 14, 14, 32), (5, 5, 32, 64))]


def measure(tf, conv2d_forward, conv2d_backward, rng, xshape, wshape, rounds):
    """Median seconds of forward + backward, nnlib and TensorFlow in turn."""
    x = rng.normal(size=xshape).astype(np.float32)
    w = rng.normal(size=wshape).astype(np.float32)
    b = np.zeros(wshape[3], np.float32)
    out, _ = conv2d_forward(x, w, b, pad=2)
    up = rng.normal(size=out.shape).astype(np.float32)

    def numpy_step():
        _, cache = conv2d_forward(x, w, b, pad=2)
        return conv2d_backward(up, cache)

    xt, wt, upt = tf.constant(x), tf.constant(w), tf.constant(up)

    @tf.function
    def tf_grads():
        with tf.GradientTape() as tape:
            tape.watch([xt, wt])
            loss = tf.reduce_sum((tf.nn.conv2d(xt, wt, 1, "SAME") + b) * upt)
        return tape.gradient(loss, [xt, wt])

    def tf_step():
        return [g.numpy() for g in tf_grads()]

    tf_step(), numpy_step()  # trace and warm up
    times = {"nnlib": [], "TensorFlow": []}
    for _ in range(rounds):
        for name, step in (("nnlib", numpy_step), ("TensorFlow", tf_step)):
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    return {k: float(np.median(v)) for k, v in times.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    import tensorflow as tf
    from threadpoolctl import threadpool_info

    from nnlib.conv import conv2d_backward, conv2d_forward

    blas = [
        f"{i['internal_api']} {i['architecture']} x{i['num_threads']}"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    ]
    print(
        f"numpy BLAS: {', '.join(blas)}; TensorFlow {tf.__version__}, "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    rng = np.random.default_rng(0)
    for xshape, wshape in LAYERS:
        med = measure(
            tf, conv2d_forward, conv2d_backward, rng, xshape, wshape, args.rounds
        )
        print(
            f"conv {xshape} * {wshape}: nnlib {med['nnlib'] * 1e3:6.1f} ms, "
            f"TensorFlow {med['TensorFlow'] * 1e3:6.1f} ms, "
            f"ratio {med['nnlib'] / med['TensorFlow']:.1f}x (median of {args.rounds})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
