"""factory_boy factories for the core models (used by every app's tests)."""

from __future__ import annotations

import factory

from tandem.core.choices import EngagementKind, OrganizationKind, Phase, Role, Side
from tandem.core.models import Engagement, EngagementParty, Organization, RoleAssignment, User

PASSWORD = "correct-horse-battery"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Hospital {n}")
    kind = OrganizationKind.HOSPITAL
    time_zone = "America/Chicago"


class VendorFactory(OrganizationFactory):
    name = factory.Sequence(lambda n: f"Vendor {n}")
    kind = OrganizationKind.VENDOR


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Sequence(lambda n: f"Person {n}")
    organization = factory.SubFactory(OrganizationFactory)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance: User, create: bool, results: object = None) -> None:
        if create:
            instance.save(update_fields=["password"])


class EngagementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Engagement

    name = factory.Sequence(lambda n: f"Engagement {n}")
    client = factory.SubFactory(OrganizationFactory)
    kind = EngagementKind.BLENDED
    phase = Phase.OPERATE
    time_zone = "America/Chicago"
    currency = "USD"


class EngagementPartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EngagementParty
        django_get_or_create = ("engagement", "organization")

    engagement = factory.SubFactory(EngagementFactory)
    organization = factory.SubFactory(VendorFactory)
    side = Side.VENDOR


class RoleAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleAssignment

    engagement = factory.SubFactory(EngagementFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.IT_STAFF
