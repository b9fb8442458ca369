"""`python -m hall.cli` is `hall-admin`."""

import sys

from hall.cli import main

if __name__ == "__main__":
    sys.exit(main())
