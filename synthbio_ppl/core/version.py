"""The package version (one home: the package and the stream fingerprint read it)."""

__version__ = "0.1.0"
