"""Exercise checks: one function per exercise, named like the exercise.

``checks.sigmoid(my_sigmoid)`` runs ``my_sigmoid`` on several inputs and either
prints one line of success or raises ``AssertionError`` saying which input,
what was expected, what came back and, where it fits, a hint.
"""
from .ch03_gradcheck import gradcheck_naive  # noqa: E402,F401
from .ch04_network import forward_backward_prop  # noqa: E402,F401
from .ch05_moons import feedforward, calculate_loss, backprop  # noqa: E402,F401
from .ch06_layers import layer_forward, layer_backward  # noqa: E402,F401
from .ch07_regression import regression_backward  # noqa: E402,F401
from .ch01_activations import sigmoid, sigmoid_grad, tanh_grad, relu, relu_grad  # noqa: E402,F401
from .ch02_softmax import softmax, cross_entropy  # noqa: E402,F401
from .ch09_cnn import weight_variable, bias_variable, conv2d, max_pool_2x2, train_step, glorot_stddev  # noqa: E402,F401
from .ch08_generalisation import dropout_forward, dropout_backward  # noqa: E402,F401
