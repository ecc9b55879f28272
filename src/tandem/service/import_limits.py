"""The reading limits every import path uses, from settings.

The import wizard, ``tandem import-tickets`` and ``tandem sla measure`` all read exports
with ``import_limits()``, so they refuse the same files with the same messages. This module
imports no model: ``tandem sla`` runs without loading the apps.
"""

from __future__ import annotations

import os

from django.conf import settings

from tandem.ingest.limits import DEFAULT_LIMITS, Limits


def import_limits() -> Limits:
    """``tandem.ingest.limits.Limits`` from ``TANDEM_MAX_IMPORT_BYTES`` and the
    ``TANDEM_IMPORT_MAX_*`` settings (see docs/configuration.md); the engine's defaults
    where no settings are configured (the benchmark calls ``tandem sla``'s reading alone)."""
    if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
        return DEFAULT_LIMITS
    return Limits(
        max_bytes=int(getattr(settings, "TANDEM_MAX_IMPORT_BYTES", DEFAULT_LIMITS.max_bytes)),
        max_rows=int(getattr(settings, "TANDEM_IMPORT_MAX_ROWS", DEFAULT_LIMITS.max_rows)),
        max_columns=int(getattr(settings, "TANDEM_IMPORT_MAX_COLUMNS", DEFAULT_LIMITS.max_columns)),
        max_cell_chars=int(
            getattr(settings, "TANDEM_IMPORT_MAX_CELL_CHARS", DEFAULT_LIMITS.max_cell_chars)
        ),
    )
