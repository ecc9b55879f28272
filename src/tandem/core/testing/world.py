"""A small two-engagement world for access tests: who may see and change what.

``world.e1`` (client Alpha Health, vendor Acme IT) and ``world.e2`` (client Beta Clinic,
vendor Bolt IT). People in e1, one per role: ``sponsor``, ``it_lead``, ``it_staff``,
``vendor_lead``, ``vendor_staff``, ``observer``. ``outsider`` is Bolt IT's vendor lead in e2
only; ``rival`` is a second vendor (Crest IT) taking part in e1 too, to test vendor privacy.
Alpha's ``sponsor`` and ``it_lead`` are its organization administrators (they may open
engagements); nobody else holds that right.
"""

from __future__ import annotations

from dataclasses import dataclass

from tandem.core.choices import OrganizationKind, Role, Side
from tandem.core.models import Engagement, Organization, User
from tandem.core.testing.factories import (
    EngagementFactory,
    EngagementPartyFactory,
    OrganizationFactory,
    RoleAssignmentFactory,
    UserFactory,
)


@dataclass
class World:
    e1: Engagement
    e2: Engagement
    alpha: Organization
    acme: Organization
    crest: Organization
    beta: Organization
    bolt: Organization
    sponsor: User
    it_lead: User
    it_staff: User
    vendor_lead: User
    vendor_staff: User
    observer: User
    rival: User
    outsider: User
    admin: User


def build_world() -> World:
    alpha = OrganizationFactory(name="Alpha Health", kind=OrganizationKind.HEALTH_SYSTEM)
    beta = OrganizationFactory(name="Beta Clinic", kind=OrganizationKind.PRACTICE)
    acme = OrganizationFactory(name="Acme IT", kind=OrganizationKind.VENDOR)
    crest = OrganizationFactory(name="Crest IT", kind=OrganizationKind.VENDOR)
    bolt = OrganizationFactory(name="Bolt IT", kind=OrganizationKind.VENDOR)
    e1 = EngagementFactory(name="Alpha managed services", client=alpha)
    e2 = EngagementFactory(name="Beta practice IT", client=beta, kind="practice_it")
    for engagement, organization, side in [
        (e1, alpha, Side.CLIENT),
        (e1, acme, Side.VENDOR),
        (e1, crest, Side.VENDOR),
        (e2, beta, Side.CLIENT),
        (e2, bolt, Side.VENDOR),
    ]:
        EngagementPartyFactory(engagement=engagement, organization=organization, side=side)

    def person(
        email: str,
        organization: Organization,
        engagement: Engagement,
        role: str,
        *,
        opens_engagements: bool = False,
    ) -> User:
        user = UserFactory(
            email=email,
            full_name=email.split("@")[0],
            organization=organization,
            may_open_engagements=opens_engagements,
        )
        RoleAssignmentFactory(engagement=engagement, user=user, role=role)
        return user

    return World(
        e1=e1,
        e2=e2,
        alpha=alpha,
        acme=acme,
        crest=crest,
        beta=beta,
        bolt=bolt,
        sponsor=person("sponsor@alpha.test", alpha, e1, Role.SPONSOR, opens_engagements=True),
        it_lead=person("itlead@alpha.test", alpha, e1, Role.IT_LEAD, opens_engagements=True),
        it_staff=person("itstaff@alpha.test", alpha, e1, Role.IT_STAFF),
        vendor_lead=person("lead@acme.test", acme, e1, Role.VENDOR_LEAD),
        vendor_staff=person("staff@acme.test", acme, e1, Role.VENDOR_STAFF),
        observer=person("auditor@alpha.test", alpha, e1, Role.OBSERVER),
        rival=person("lead@crest.test", crest, e1, Role.VENDOR_LEAD),
        outsider=person("lead@bolt.test", bolt, e2, Role.VENDOR_LEAD),
        admin=UserFactory(
            email="admin@tandem.test", full_name="Admin", organization=None, is_staff=True
        ),
    )
