"""The numbers: calendars, SLA clocks, attainment, credits. Pure Python, numpy and Polars.

Nothing here imports Django or a Tandem app (an import-linter contract enforces it): Django
code calls in with plain values or frames and stores what comes back.
"""
