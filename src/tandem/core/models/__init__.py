"""Core models, re-exported: ``from tandem.core.models import Engagement``."""

from tandem.core.models.audit import AppendOnlyError, ChangeLog
from tandem.core.models.base import (
    ChangeLoggedModel,
    EngagementBulkModel,
    EngagementScopedModel,
)
from tandem.core.models.engagements import Engagement, EngagementParty, RoleAssignment
from tandem.core.models.notifications import CalendarFeed, Notification
from tandem.core.models.organizations import Organization
from tandem.core.models.progress import Progress
from tandem.core.models.tokens import ApiToken
from tandem.core.models.users import User

__all__ = [
    "ApiToken",
    "CalendarFeed",
    "AppendOnlyError",
    "ChangeLog",
    "ChangeLoggedModel",
    "EngagementBulkModel",
    "Engagement",
    "EngagementParty",
    "EngagementScopedModel",
    "Notification",
    "Organization",
    "Progress",
    "RoleAssignment",
    "User",
]
