"""nnlib: the helper package of the course *Neural networks from scratch*.

Every chapter imports the reference versions of what earlier chapters built
from here, so a reader stuck on one exercise is never blocked in the next.
"""

from . import checks
from .activations import (
    ACTIVATIONS,
    identity,
    identity_grad,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    tanh,
    tanh_grad,
)
from .conv import conv2d_backward, conv2d_forward, max_pool_backward, max_pool_forward
from .convnet import ConvNet
from .datasets import load_concrete, load_experiment_results, load_mnist
from .dropout import dropout_backward, dropout_forward
from .gradcheck import gradcheck_naive, numerical_gradient, relative_error
from .layers import Layer, init_weights, layer_backward, layer_forward
from .losses import (
    cross_entropy,
    log_softmax,
    mean_squared_error,
    one_hot,
    softmax,
    softmax_cross_entropy,
)
from .mlp import MLP
from .network import forward_backward_prop, pack_params, param_count, unpack_params
from .optim import SGD, Adam
from .plotting import plot_decision_boundaries, plot_decision_boundary, plot_loss_curves

__version__ = "0.1.0"

__all__ = [
    # the tests of the exercises
    "checks",
    # activations
    "ACTIVATIONS",
    "identity",
    "identity_grad",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "tanh",
    "tanh_grad",
    # losses
    "cross_entropy",
    "log_softmax",
    "mean_squared_error",
    "one_hot",
    "softmax",
    "softmax_cross_entropy",
    # gradient checking
    "gradcheck_naive",
    "numerical_gradient",
    "relative_error",
    # networks and layers
    "forward_backward_prop",
    "pack_params",
    "param_count",
    "unpack_params",
    "Layer",
    "init_weights",
    "layer_backward",
    "layer_forward",
    "MLP",
    # training and regularisation
    "SGD",
    "Adam",
    "dropout_backward",
    "dropout_forward",
    # convolution and pooling
    "conv2d_backward",
    "conv2d_forward",
    "max_pool_backward",
    "max_pool_forward",
    "ConvNet",
    # data and plots
    "load_concrete",
    "load_experiment_results",
    "load_mnist",
    "plot_decision_boundaries",
    "plot_decision_boundary",
    "plot_loss_curves",
]
