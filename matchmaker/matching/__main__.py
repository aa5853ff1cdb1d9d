"""Entry point for ``python -m matchmaker.matching``."""

import os
import sys

from .cli import main

code = main()
# The output is written and closed; tearing down the interpreter (the dictionary, the model,
# every module's objects) would only add ~0.2 s to each run.
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
