"""har-demo: video human-activity recognition with the ConvLSTM and LRCN models of the report.

Importing the package is cheap (no TensorFlow): heavy modules load when first used.

    from har_demo.inference import Predictor
    predictor = Predictor.from_ref("weights")          # or "owner/name@revision" on the Hub
    prediction = predictor.predict_path("clip.avi")
    print(prediction.verdict, prediction.to_dict())
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # less TensorFlow start-up chatter
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")  # bad uploads are reported by us, once

__version__ = "0.1.0"
