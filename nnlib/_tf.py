"""Import TensorFlow without its start-up messages.

TensorFlow's C++ runtime writes a few lines straight to the process's standard
error while it loads (``Could not find cuda drivers ...``, ``All log messages
before absl::InitializeLog() ...``), before ``TF_CPP_MIN_LOG_LEVEL`` takes
effect. A notebook shows them as red output cells. :func:`import_tensorflow`
sets the log level and points file descriptor 2 at ``/dev/null`` while the
module loads, then restores it; Python exceptions still propagate as usual.
"""

from __future__ import annotations

import os
import sys


def import_tensorflow():
    """Return the ``tensorflow`` module, importing it quietly the first time."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError, AttributeError):
        # no real file descriptor 2: import normally
        import tensorflow

        return tensorflow
    try:
        os.dup2(devnull, 2)
        import tensorflow
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tensorflow
