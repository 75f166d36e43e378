"""``python -m game``: the command line (see ``game.analysis.cli``)."""

import sys

from game.analysis.cli import main

sys.exit(main())
