"""Reclaim: reporting, removal and re-upload blocking of sexual images of children."""

__version__ = "0.1.0"
