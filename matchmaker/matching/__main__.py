"""Entry point for ``python -m matchmaker.matching``."""

import sys

from .cli import main

sys.exit(main())
