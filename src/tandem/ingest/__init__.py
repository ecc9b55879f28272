"""Service-desk exports (ServiceNow, Jira Service Management, GLPI, generic CSV) turned into
the canonical ticket and hold frames of ``tandem.analytics.frames``. Pure: no Django."""

from tandem.ingest._common import Imported, check_size
from tandem.ingest.detect import FORMATS, detect_format
from tandem.ingest.errors import IngestError, Problem, ReadingStopped
from tandem.ingest.generic import read_generic, read_holds_csv
from tandem.ingest.glpi import read_glpi
from tandem.ingest.jira import read_jira
from tandem.ingest.limits import DEFAULT_LIMITS, Limits
from tandem.ingest.read import READERS, read_export
from tandem.ingest.servicenow import read_servicenow, read_servicenow_events

__all__ = [
    "DEFAULT_LIMITS",
    "FORMATS",
    "Imported",
    "IngestError",
    "Limits",
    "Problem",
    "READERS",
    "ReadingStopped",
    "check_size",
    "detect_format",
    "read_export",
    "read_generic",
    "read_glpi",
    "read_holds_csv",
    "read_jira",
    "read_servicenow",
    "read_servicenow_events",
]
