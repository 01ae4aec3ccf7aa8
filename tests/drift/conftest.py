"""The drift tests' collection: the one-module method recipe (``anderson_darling.py``) is a plugin
the recipe test loads on purpose (``pytest -p``); collected for its doctests, importing it would
register its method for every later test of the session."""

collect_ignore = ["anderson_darling.py"]
