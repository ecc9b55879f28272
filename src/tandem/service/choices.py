"""Choice sets of the service app."""

from django.db import models


class ImportFormat(models.TextChoices):
    """The export shapes ``tandem.ingest`` reads (the same names as the CLI's ``--format``)."""

    GENERIC = "generic", "Generic CSV"
    SERVICENOW = "servicenow", "ServiceNow incident list"
    SERVICENOW_EVENTS = "servicenow-events", "ServiceNow event log"
    JIRA = "jira", "Jira Service Management"
    GLPI = "glpi", "GLPI"


class ImportStatus(models.TextChoices):
    PREVIEWED = "previewed", "Previewed"
    IMPORTED = "imported", "Imported"
    FAILED = "failed", "Failed"


class TicketKind(models.TextChoices):
    INCIDENT = "incident", "Incident"
    REQUEST = "request", "Request"
    OTHER = "other", "Other"


class Priority(models.TextChoices):
    P1 = "P1", "P1"
    P2 = "P2", "P2"
    P3 = "P3", "P3"
    P4 = "P4", "P4"


class GroupSide(models.TextChoices):
    """Who works an assignment group's tickets: the basis of internal-vs-vendor parity."""

    CLIENT = "client", "Client team"
    VENDOR = "vendor", "Vendor"


class MeasuredSide(models.TextChoices):
    """The side a measurement counts for: a group's side, or "unmapped" when the group has
    none yet (or the ticket has no group). Unmapped clocks count in the totals, not in parity."""

    CLIENT = "client", "Client team"
    VENDOR = "vendor", "Vendor"
    UNMAPPED = "unmapped", "Unmapped"


class Metric(models.TextChoices):
    RESPONSE = "response", "Response"
    RESOLUTION = "resolution", "Resolution"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class AsOfBasis(models.TextChoices):
    """Why an SLA run measured open clocks up to its as-of instant."""

    GIVEN = "given", "as of the time given"
    NOW = "now", "as of the moment it started"
    LAST_EVENT = "last_event", "as of the last imported event"


class AggregateLevel(models.TextChoices):
    """How fine an aggregate row is: the same clocks summed three ways (``analytics.aggregate``)."""

    GROUP = "group", "Month × metric × priority × assignment group × side"
    SIDE = "side", "Month × metric × priority × side"
    PRIORITY = "priority", "Month × metric × priority"
