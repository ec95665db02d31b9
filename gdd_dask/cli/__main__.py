"""``python -m gdd_dask.cli``: the ``gdd-dask`` command."""

import sys

from . import main

sys.exit(main())
