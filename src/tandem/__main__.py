"""The ``tandem`` command: Django's management utility with Tandem's settings."""

from __future__ import annotations

import importlib
import os
import sys

from tandem.allocator import tune as tune_allocator

#: Commands that read files and need no database and no app: run without loading every app
#: (``django.setup()`` is about half of a ``tandem sla --help``; 0.35 s instead of 0.65).
PURE_COMMANDS = {"sla": "tandem.service.management.commands.sla"}


def main() -> None:
    tune_allocator()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    try:
        from django.core.exceptions import ImproperlyConfigured
        from django.core.management import execute_from_command_line
    except ImportError as exc:  # pragma: no cover
        raise SystemExit(f"Django is not installed in this environment: {exc}") from exc
    from tandem.env import EnvironmentError_

    try:
        if len(sys.argv) > 1 and sys.argv[1] in PURE_COMMANDS:
            # What Django's utility does for a command, but for loading the apps first.
            command = importlib.import_module(PURE_COMMANDS[sys.argv[1]]).Command()
            command.run_from_argv(["tandem", *sys.argv[1:]])
            return
        execute_from_command_line(sys.argv)
    except (ImproperlyConfigured, EnvironmentError_) as exc:
        print(f"tandem: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
