"""The ``tandem`` command: Django's management utility with Tandem's settings."""

from __future__ import annotations

import os
import sys

from tandem.allocator import tune as tune_allocator


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
        execute_from_command_line(sys.argv)
    except (ImproperlyConfigured, EnvironmentError_) as exc:
        print(f"tandem: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
