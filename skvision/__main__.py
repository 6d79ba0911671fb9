"""``python -m skvision``: the ``skvision`` command."""

import sys

from .cli import main

sys.exit(main())
