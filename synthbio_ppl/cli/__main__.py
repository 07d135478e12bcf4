"""``python -m synthbio_ppl.cli ARGS`` runs the ``synthbio`` command."""

import sys

from synthbio_ppl.cli.app import main

sys.exit(main())
