"""Helpers for tests of the readers and of everything that calls them (not imported by the
engine itself)."""
