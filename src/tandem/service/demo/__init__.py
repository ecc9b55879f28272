"""Riverside's service levels in the demo: 18 months of generated service-desk tickets, the
assignment groups' sides, two policy versions with credits, and an SLA run.

``scenario`` is the story (window, groups, policy TOML, the months where something
happens), ``tickets`` the deterministic generator of the canonical frames (pure numpy and
Polars), ``load`` writes them through the import service; ``tandem demo`` calls
``load.load_service_demo`` after the organizations, engagements and people are in.
"""

# The modules are imported by name: ``tickets`` and ``scenario`` need no Django set-up.
