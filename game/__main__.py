"""``python -m game``: the command line (see ``game.cli``)."""

import sys

from game.cli import main

sys.exit(main())
