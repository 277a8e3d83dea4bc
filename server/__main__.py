"""``python -m server``: the same as the ``mykey-platform`` command."""

import sys

from server.cli import main

sys.exit(main())
