"""The demo app: `python app.py`, and a Hugging Face Space's `app_file` (same as `har-demo app`)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # a Space runs this file without installing

if __name__ == "__main__":  # a Space: the fastest installed Keras backend unless one is set, before keras loads
    from har_demo.backend import choose_backend

    choose_backend("serving")

from har_demo.app.serve import create_demo, launch_options, main  # noqa: E402, F401

if __name__ == "__main__":
    sys.exit(main())
