"""`python -m hall.cli` is `hall-admin`."""

import sys

from hall.cli import main

sys.exit(main())
