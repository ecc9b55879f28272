"""Django's tasks API: built in from Django 6.0, the django-tasks backport before it.

Tandem supports Python 3.11, where the newest Django is 5.2; everything else imports
``task`` and friends from here so the rest of the code reads the same on both.
"""

from importlib.util import find_spec

if find_spec("django.tasks"):
    from django.tasks import default_task_backend, task
    from django.tasks.base import TaskContext

    IMMEDIATE_BACKEND = "django.tasks.backends.immediate.ImmediateBackend"
else:  # pragma: no cover - exercised on Python 3.11 only
    from django_tasks import default_task_backend, task  # type: ignore[no-redef]
    from django_tasks.base import TaskContext  # type: ignore[no-redef,assignment]

    IMMEDIATE_BACKEND = "django_tasks.backends.immediate.ImmediateBackend"

__all__ = ["IMMEDIATE_BACKEND", "TaskContext", "default_task_backend", "task"]
