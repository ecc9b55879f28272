"""``tandem import-tickets``: the spelling issue 3 fixes, for ``import_tickets``.

Django names a command after its module; this module's name has the hyphen and hands over to
the real command in ``import_tickets.py``.
"""

from tandem.service.management.commands.import_tickets import Command

__all__ = ["Command"]
