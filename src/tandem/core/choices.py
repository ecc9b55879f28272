"""Choice sets of the core domain."""

from django.db import models


class OrganizationKind(models.TextChoices):
    HEALTH_SYSTEM = "health_system", "Health system"
    HOSPITAL = "hospital", "Hospital"
    PRACTICE = "practice", "Medical practice"
    VENDOR = "vendor", "Vendor"
    ADVISOR = "advisor", "Advisor"


CLIENT_KINDS = frozenset(
    {OrganizationKind.HEALTH_SYSTEM, OrganizationKind.HOSPITAL, OrganizationKind.PRACTICE}
)


class SizeUnit(models.TextChoices):
    BEDS = "beds", "Beds"
    PROVIDERS = "providers", "Providers"
    EMPLOYEES = "employees", "Employees"


class EngagementKind(models.TextChoices):
    FULL_OUTSOURCING = "full_outsourcing", "Full outsourcing"
    BLENDED = "blended", "Blended / managed services"
    PRACTICE_IT = "practice_it", "Practice IT"
    AFFILIATION = "affiliation", "Affiliation (merger, acquisition, partnership)"


class Phase(models.TextChoices):
    # Outsourcing life cycle (DESIGN.md "The life of an engagement").
    EXPLORE = "explore", "Explore"
    SELECT = "select", "Select"
    CONTRACT = "contract", "Contract"
    TRANSITION = "transition", "Transition-in"
    OPERATE = "operate", "Operate"
    EXIT = "exit", "Exit or renew"
    # Affiliation life cycle.
    STRATEGY = "strategy", "Strategy"
    DUE_DILIGENCE = "due_diligence", "Due diligence"
    DEFINITIVE_AGREEMENT = "definitive_agreement", "Definitive agreement"
    INTEGRATION_PLANNING = "integration_planning", "Integration planning"
    DAY_ONE = "day_one", "Day One"
    POST_CLOSE = "post_close", "Post-close execution"


OUTSOURCING_PHASES = (
    Phase.EXPLORE,
    Phase.SELECT,
    Phase.CONTRACT,
    Phase.TRANSITION,
    Phase.OPERATE,
    Phase.EXIT,
)
AFFILIATION_PHASES = (
    Phase.STRATEGY,
    Phase.DUE_DILIGENCE,
    Phase.DEFINITIVE_AGREEMENT,
    Phase.INTEGRATION_PLANNING,
    Phase.DAY_ONE,
    Phase.POST_CLOSE,
)


def phases_for(kind: str) -> tuple[Phase, ...]:
    """The life-cycle phases an engagement of ``kind`` moves through, in order."""
    return AFFILIATION_PHASES if kind == EngagementKind.AFFILIATION else OUTSOURCING_PHASES


class Side(models.TextChoices):
    CLIENT = "client", "Client"
    VENDOR = "vendor", "Vendor"
    ADVISOR = "advisor", "Advisor"


class Role(models.TextChoices):
    SPONSOR = "sponsor", "Executive sponsor"
    IT_LEAD = "it_lead", "IT lead"
    IT_STAFF = "it_staff", "IT staff"
    VENDOR_LEAD = "vendor_lead", "Vendor lead"
    VENDOR_STAFF = "vendor_staff", "Vendor staff"
    OBSERVER = "observer", "Observer / auditor"


# Which side of an engagement a role is held from: a vendor role needs a vendor party.
ROLE_SIDES: dict[str, frozenset[str]] = {
    Role.SPONSOR: frozenset({Side.CLIENT}),
    Role.IT_LEAD: frozenset({Side.CLIENT}),
    Role.IT_STAFF: frozenset({Side.CLIENT}),
    Role.VENDOR_LEAD: frozenset({Side.VENDOR}),
    Role.VENDOR_STAFF: frozenset({Side.VENDOR}),
    Role.OBSERVER: frozenset({Side.CLIENT, Side.VENDOR, Side.ADVISOR}),
}


class Action(models.TextChoices):
    VIEW = "view", "View"
    ADD = "add", "Add"
    CHANGE = "change", "Change"
    DELETE = "delete", "Delete"
    APPROVE = "approve", "Approve"


class AuditAction(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"
    REVEAL = "reveal", "Revealed"
    LOGIN = "login", "Signed in"
    LOGOUT = "logout", "Signed out"
    LOGIN_FAILED = "login_failed", "Failed sign-in"


class AuditSource(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    ADMIN = "admin", "Admin"
    COMMAND = "command", "Command"
    TASK = "task", "Task"
    IMPORT = "import", "Import"
    SYSTEM = "system", "System"


class ProgressState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
