"""The ``synthbio`` command line: ``app`` parses and dispatches, one module per subcommand."""

from synthbio_ppl.cli.app import main

__all__ = ["main"]
