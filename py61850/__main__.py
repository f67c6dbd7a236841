"""``python -m py61850``: the ``py61850`` command (see :mod:`py61850.cli`)."""
import sys

from .cli import main

sys.exit(main())
