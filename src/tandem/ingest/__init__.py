"""Service-desk exports (ServiceNow, Jira Service Management, GLPI, generic CSV) turned into
the canonical ticket and hold frames of ``tandem.analytics.frames``. Pure: no Django."""
