"""Analyses built on the rules: they play the engine, they are not part of a game.

The expert's plan family and its search (``plans``), the best plan on a team's demand
(``bestplan``), the reference plan per decoupling point (``reference``) and the sales rule it
plays (``promises``), comparisons of positions and bot policies over many seeds (``compare``),
a preset's unit economics (``economics``), and the command line (``cli``, ``python -m game``).
"""
