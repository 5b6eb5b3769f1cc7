"""`python -m har_demo VERB ...`: the same entrypoint as the `har-demo` console script."""

import sys

from har_demo.cli import main

if __name__ == "__main__":
    sys.exit(main())
