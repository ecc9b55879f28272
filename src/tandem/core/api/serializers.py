"""Serializers of the core API, on one scoped base every app's API builds on."""

from __future__ import annotations

import copy
from typing import Any, TypedDict

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone
from rest_framework import serializers

from tandem.core import services
from tandem.core.access import is_platform_admin, open_engagements_refusal
from tandem.core.api.errors import field_errors
from tandem.core.api.fields import (
    STRICT_TEXT_FIELDS,
    ScopedPrimaryKeyRelatedField,
    StrictCharField,
)
from tandem.core.models import (
    ApiToken,
    ChangeLog,
    Engagement,
    EngagementParty,
    EngagementScopedModel,
    Organization,
    RoleAssignment,
    User,
)


def api_view_name(model: type[models.Model], suffix: str) -> str:
    """``<app>-api:<model>-<suffix>``: the URL name every app's router gives a model."""
    return f"{model._meta.app_label}-api:{model._meta.model_name}-{suffix}"


class ScopedModelSerializer(serializers.ModelSerializer):
    """Foreign keys limited to what the caller may see, ``url``/``display``, model ``clean()``.

    ``validate()`` builds the would-be row and runs the model's ``full_clean()``, so the
    rules a form enforces (``clean()``, validators, constraints) hold for API writes too.
    """

    serializer_related_field = ScopedPrimaryKeyRelatedField
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        **STRICT_TEXT_FIELDS,
    }
    display = serializers.SerializerMethodField()

    def build_url_field(self, field_name: str, model_class: type[models.Model]) -> Any:
        return serializers.HyperlinkedIdentityField, {
            "view_name": api_view_name(model_class, "detail")
        }

    def get_display(self, obj: Any) -> str:
        return str(obj)

    @property
    def user(self) -> Any:
        return self.context["request"].user

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        model = self.Meta.model
        if self.instance is not None and issubclass(model, EngagementScopedModel):
            engagement = attrs.get("engagement")
            if engagement is not None and engagement.pk != self.instance.engagement_id:
                raise serializers.ValidationError(
                    {"engagement": ["A record cannot move to another engagement."]}
                )
        candidate = self.candidate(attrs)
        writable = {f.source for f in self._writable_fields}
        exclude = [f.name for f in model._meta.fields if f.name not in writable]
        try:
            candidate.full_clean(exclude=exclude)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(field_errors(exc)) from exc
        return attrs

    def candidate(self, attrs: dict[str, Any]) -> Any:
        """The row as it would be saved, for ``full_clean()`` (nothing is written)."""
        if self.instance is None:
            return self.Meta.model(**attrs)
        candidate = copy.copy(self.instance)
        for name, value in attrs.items():
            setattr(candidate, name, value)
        return candidate


TIMESTAMPS = ["created", "last_updated"]


class OrganizationSerializer(ScopedModelSerializer):
    class Meta:
        model = Organization
        fields = [
            "id",
            "url",
            "display",
            "name",
            "kind",
            "time_zone",
            "size",
            "size_unit",
            "website",
            "notes",
            *TIMESTAMPS,
        ]


class EngagementSerializer(ScopedModelSerializer):
    class Meta:
        model = Engagement
        fields = [
            "id",
            "url",
            "display",
            "name",
            "client",
            "kind",
            "phase",
            "time_zone",
            "currency",
            "start_date",
            "end_date",
            "description",
            *TIMESTAMPS,
        ]

    def validate_client(self, client: Organization) -> Organization:
        moved = self.instance is not None and client.pk != self.instance.client_id
        if moved and not is_platform_admin(self.user):
            raise serializers.ValidationError(
                "Only a platform administrator can move an engagement to another client."
            )
        return client

    def create(self, validated_data: dict[str, Any]) -> Engagement:
        # Adds the client party and makes a non-administrator creator the IT lead;
        # ``NotAllowed`` becomes a 403 in ``tandem.core.api.errors``.
        engagement = Engagement(**validated_data)
        return services.create_engagement(actor=self.user, engagement=engagement)


class EngagementPartySerializer(ScopedModelSerializer):
    class Meta:
        model = EngagementParty
        fields = [
            "id",
            "url",
            "display",
            "engagement",
            "organization",
            "side",
            "scope_summary",
            *TIMESTAMPS,
        ]


class RoleAssignmentSerializer(ScopedModelSerializer):
    class Meta:
        model = RoleAssignment
        fields = ["id", "url", "display", "engagement", "user", "role", "note", *TIMESTAMPS]


class UserSerializer(ScopedModelSerializer):
    """People. The password is write-only, accepted when an account is created."""

    # Fields a person may not change on their own account.
    ADMIN_ONLY = ("email", "organization", "may_open_engagements", "is_staff", "is_active")

    password = StrictCharField(
        write_only=True,
        required=False,
        trim_whitespace=False,
        max_length=128,
        style={"input_type": "password"},
        help_text="Initial password (create only). Without one the person sets it by e-mail.",
    )

    class Meta:
        model = User
        fields = [
            "id",
            "url",
            "display",
            "email",
            "full_name",
            "job_title",
            "organization",
            "may_open_engagements",
            "is_staff",
            "is_active",
            "date_joined",
            "last_login",
            *TIMESTAMPS,
            "password",
        ]
        read_only_fields = ["date_joined", "last_login"]

    def validate_email(self, email: str) -> str:
        return email.lower()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and "password" in attrs:
            raise serializers.ValidationError(
                {"password": ["Passwords are changed on the account page, not through the API."]}
            )
        if not is_platform_admin(self.user):
            denied = {
                name: ["Only a platform administrator can change this."]
                for name in self.ADMIN_ONLY
                if name in attrs and attrs[name] != getattr(self.instance, name, None)
            }
            if denied:
                raise serializers.ValidationError(denied)
        self.check_open_engagements(attrs)
        attrs = super().validate(attrs)
        if attrs.get("password"):
            try:
                password_validation.validate_password(attrs["password"], self.candidate(attrs))
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"password": exc.messages}) from exc
        return attrs

    def check_open_engagements(self, attrs: dict[str, Any]) -> None:
        """The right to open engagements goes only to people who can use it (asked when it
        is granted or the person moves, so that other edits are never blocked by it)."""
        if not ({"may_open_engagements", "organization"} & attrs.keys()):
            return
        instance = self.instance
        granted = attrs.get(
            "may_open_engagements", getattr(instance, "may_open_engagements", False)
        )
        if not granted:
            return
        organization = attrs.get("organization", getattr(instance, "organization", None))
        person = instance if instance is not None else User()
        problem = open_engagements_refusal(person, organization)
        if problem:
            raise serializers.ValidationError({"may_open_engagements": [problem]})

    def candidate(self, attrs: dict[str, Any]) -> Any:
        fields = {name: value for name, value in attrs.items() if name != "password"}
        user = super().candidate(fields)
        if self.instance is None:
            user.set_password(attrs.get("password") or None)
        return user

    def create(self, validated_data: dict[str, Any]) -> User:
        user: User = self.candidate(validated_data)
        user.save()
        return user


class DiffEntry(TypedDict):
    field: str
    before: Any
    after: Any


class ChangeLogSerializer(ScopedModelSerializer):
    """One audit record, read-only: who, when, from where, and the field values changed."""

    object_type = serializers.CharField(source="content_type.model", read_only=True)
    engagement = serializers.IntegerField(source="engagement_id", read_only=True, allow_null=True)
    diff = serializers.SerializerMethodField()

    class Meta:
        model = ChangeLog
        fields = [
            "id",
            "url",
            "display",
            "time",
            "user",
            "user_name",
            "request_id",
            "client_address",
            "source",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "engagement",
            "owner_organization",
            "prechange_data",
            "postchange_data",
            "diff",
            "message",
        ]
        read_only_fields = fields

    def get_diff(self, obj: ChangeLog) -> list[DiffEntry]:
        return [
            {"field": name, "before": before, "after": after} for name, before, after in obj.diff
        ]


class ApiTokenSerializer(serializers.ModelSerializer):
    """One of your API tokens, as lists show it: never its key (only its prefix)."""

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "mfa_verified",
            "created",
            "expires",
            "last_used",
            "revoked",
        ]
        read_only_fields = fields


class ApiTokenCreateSerializer(serializers.Serializer):
    """What a new token is for, and when it stops working (empty: never)."""

    name = StrictCharField(
        max_length=ApiToken._meta.get_field("name").max_length,
        help_text="What the token is for, e.g. 'nightly export'.",
    )
    expires = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Empty: never expires."
    )

    def validate_name(self, name: str) -> str:
        if not name.strip():
            raise serializers.ValidationError("A token needs a name (what it is for).")
        return name.strip()

    def validate_expires(self, expires: Any) -> Any:
        if expires is not None and expires <= timezone.now():
            raise serializers.ValidationError("The expiry date must be in the future.")
        return expires


class ApiTokenIssuedSerializer(ApiTokenSerializer):
    """A token just issued: the one and only time its key is shown."""

    key = serializers.CharField(
        read_only=True,
        help_text="Send as `Authorization: Token <key>`. Shown this once: only a digest is stored.",
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]
        read_only_fields = fields


class TokenRequestSerializer(serializers.Serializer):
    name = StrictCharField(
        required=False,
        max_length=ApiToken._meta.get_field("name").max_length,
        help_text="What the token is for (default 'API token').",
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        read_only=True,
        help_text="Send as `Authorization: Token <key>`. A new token each time, shown once.",
    )
    id = serializers.IntegerField(read_only=True, help_text="The token's id (to revoke it).")
    name = serializers.CharField(read_only=True)
    prefix = serializers.CharField(read_only=True)
