"""`python -m pipeline ...` is the same as the `photo2scene` command (the add-on runs it this way)."""

import sys

from .app.cli import main

sys.exit(main())
