"""har-demo: video human-activity recognition with the ConvLSTM and LRCN models of the report.

Importing the package is cheap (no TensorFlow): heavy modules load when first used.

    from har_demo.inference import Predictor
    predictor = Predictor.from_ref("weights")          # or "owner/name@revision" on the Hub
    prediction = predictor.predict_path("clip.avi")
    print(prediction.verdict, prediction.to_dict())
"""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # less TensorFlow start-up chatter
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")  # bad uploads are reported by us, once

__version__ = "0.1.0"

# The training stages live in the checkout's top-level training/ folder (the design card's layout;
# docs/architecture.md says why). A wheel installs them as har_demo/training/, so only a checkout or a
# Space, which runs from the repository, needs the package's search path to reach that folder.
_CHECKOUT = Path(__file__).resolve().parent.parent
if not (Path(__file__).parent / "training").is_dir() and (_CHECKOUT / "training" / "__init__.py").is_file():
    __path__.append(str(_CHECKOUT))  # noqa: F821 (a package's own __path__)
