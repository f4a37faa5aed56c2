"""`python -m somstack.cli`: the same as the `somstack` command."""

import sys

from somstack.cli import main

sys.exit(main())
