"""People: every user signs in with an e-mail address and belongs to one organization."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from tandem.core.access import RestrictedQuerySet, engagement_ids_for, vendor_privacy_filter
from tandem.core.choices import Action


class UserQuerySet(RestrictedQuerySet):
    pass


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("A user needs an e-mail address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: a unique, named user (HIPAA 164.312(a)(2)(i)) with a home organization."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150)
    job_title = models.CharField(max_length=150, blank=True)
    organization = models.ForeignKey(
        "core.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="people",
        help_text="Home organization. Platform administrators may have none.",
    )
    is_staff = models.BooleanField(
        "platform administrator",
        default=False,
        help_text="Manages organizations and users and sees every engagement.",
    )
    # An organization-level right, not a role: a role exists only inside an engagement, and
    # opening one comes before any. Granted explicitly (by a platform administrator) to the
    # people who may commit their organization to a partnership; never implied by a role.
    may_open_engagements = models.BooleanField(
        "organization administrator",
        default=False,
        help_text="May open engagements for their organization.",
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    created = models.DateTimeField(auto_now_add=True, editable=False)
    last_updated = models.DateTimeField(auto_now=True, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    engagement_lookup = None
    audit_exclude = ("password", "last_login")

    class Meta:
        ordering = ["full_name", "email"]
        verbose_name = "person"
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_absolute_url(self) -> str:
        return reverse("core:user_detail", args=[self.pk])

    def audit_engagement_id(self) -> int | None:
        return None

    def audit_owner_id(self) -> int | None:
        return self.organization_id

    @staticmethod
    def restrict_unscoped(queryset: Any, user: Any, action: str) -> Any:
        """People see colleagues, the people they share an engagement with and, where they
        may assign roles, the people of that engagement's parties (to give them a role)."""
        if action != Action.VIEW:
            return queryset.filter(pk=user.pk) if action == Action.CHANGE else queryset.none()
        shared = (
            Q(pk=user.pk)
            | Q(role_assignments__engagement__in=engagement_ids_for(user, "people", Action.VIEW))
            | Q(
                organization__engagement_parties__engagement__in=engagement_ids_for(
                    user, "people", Action.ADD
                )
            )
        )
        if user.organization_id:
            shared |= Q(organization_id=user.organization_id)
        return (
            queryset.filter(shared).filter(vendor_privacy_filter(user, "organization")).distinct()
        )
