"""The version of OpenSage: one place, read by the package, its metadata and the CLI."""

__version__ = "0.1.0"
