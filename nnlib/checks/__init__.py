"""Exercise checks: one function per exercise, named like the exercise.

``checks.sigmoid(my_sigmoid)`` runs ``my_sigmoid`` on several inputs and either
prints one line of success or raises ``AssertionError`` saying which input,
what was expected, what came back and, where it fits, a hint. In Jupyter the
failure shows as that message alone, without a traceback.

Every check calls the student's function through one runner,
:func:`nnlib.checks._common.run`: on copies of its arguments (an input changed in
place fails the check, by name), with numpy warnings as errors. The numpy
exercises must return float64 arrays (numpy's default float): a list, a boolean
or integer array and float32 are rejected alike, since the gradient checks of the
course need float64's digits. Chapter 12's checks of sizes, shapes and counts ask for
whole numbers (int).
"""

from .ch01_activations import relu, relu_grad, sigmoid, sigmoid_grad, tanh_grad
from .ch02_softmax import cross_entropy, softmax
from .ch03_gradcheck import gradcheck_naive
from .ch04_input_gradient import input_gradient
from .ch04_network import forward_backward_prop
from .ch05_moons import backprop, calculate_loss, feedforward
from .ch06_layers import layer_backward, layer_forward
from .ch07_training import adam_step, momentum_step
from .ch08_generalisation import dropout_backward, dropout_forward
from .ch09_regression import regression_backward
from .ch11_convolution import conv2d_backward, conv2d_forward, max_pool_backward
from .ch12_cnn import (
    glorot_stddev,
    histogram_stats,
    layer_shapes,
    out_size,
    parameter_counts,
    receptive_field,
    train_step,
)

__all__ = [
    "sigmoid",
    "sigmoid_grad",
    "tanh_grad",
    "relu",
    "relu_grad",
    "softmax",
    "cross_entropy",
    "gradcheck_naive",
    "forward_backward_prop",
    "input_gradient",
    "feedforward",
    "calculate_loss",
    "backprop",
    "layer_forward",
    "layer_backward",
    "regression_backward",
    "momentum_step",
    "adam_step",
    "dropout_forward",
    "dropout_backward",
    "conv2d_forward",
    "conv2d_backward",
    "max_pool_backward",
    "out_size",
    "layer_shapes",
    "parameter_counts",
    "receptive_field",
    "train_step",
    "histogram_stats",
    "glorot_stddev",
]
