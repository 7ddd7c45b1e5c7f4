"""``python -m skmm``: the same as the ``skmm`` command."""

import sys

from .cli import main

sys.exit(main())
