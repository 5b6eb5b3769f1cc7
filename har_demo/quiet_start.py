"""Keras imported, and TensorFlow's devices found, without TensorFlow's start-up chatter.

On a CPU machine TensorFlow writes lines from C++ straight to file descriptor 2 that no user can
act on: oneDNN and "Could not find cuda drivers" notices, twice (two of its libraries log before
absl is set up), and at the first device query an E-level "failed call to cuInit" that reads like
a fault. `import_keras()` imports keras, and lists TensorFlow's GPUs (when cuInit runs), with that
descriptor sent to a file, then writes back every line that is not one of those. Set
HAR_DEMO_TF_LOGS=1 to see everything.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile

CHATTER = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\)"
    r"|[IWE]\d{4} [\d:. ]+\d+ (port|cudart_stub|cpu_feature_guard|cuda_platform|cuda_executor|cuda_dnn|cuda_fft|cuda_blas)\.cc:"
    r"|To enable the following instructions: )"
)


def import_keras():
    """`import keras`, quietly on TensorFlow (see the module docstring); returns the module."""
    if "keras" in sys.modules or os.environ.get("HAR_DEMO_TF_LOGS"):
        import keras

        return keras
    with tempfile.TemporaryFile() as sink:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            import keras

            if keras.backend.backend() == "tensorflow":
                import tensorflow as tf

                tf.config.list_physical_devices("GPU")
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines = sink.read().decode(errors="replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines if not CHATTER.search(line)))
            sys.stderr.flush()
    return keras
