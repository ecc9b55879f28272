"""The rule that keeps a spreadsheet from running an exported cell as a formula (CSV injection,
OWASP): text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
leading single quote.

Django-free and dependency-free, so that what runs without ``django.setup()`` - ``tandem sla
measure`` writing its CSV with Polars - applies the very rule of ``tandem.core.exports``, the
writer of every other export.
"""

from __future__ import annotations

import re

#: The first characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: A regular expression (Python's and Polars') matching text that starts with one of them.
FORMULA_PATTERN = "^[" + "".join(re.escape(c) for c in FORMULA_STARTS) + "]"
#: What is put in front of such text.
QUOTE = "'"


def neutralize(text: str) -> str:
    """Quote text a spreadsheet would run as a formula: a leading ``= + - @``, tab or CR."""
    if text.startswith(FORMULA_STARTS):
        return QUOTE + text
    return text
