"""Exercise checks: one function per exercise, named like the exercise.

``checks.sigmoid(my_sigmoid)`` runs ``my_sigmoid`` on several inputs and either
prints one line of success or raises ``AssertionError`` saying which input,
what was expected, what came back and, where it fits, a hint.
"""
