"""Tandem: the partnership office for healthcare IT outsourcing."""

__version__ = "0.1.0"
