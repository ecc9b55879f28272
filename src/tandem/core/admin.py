"""The Django admin, for platform administrators. Writes here are audited like any other."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from tandem.core.models import (
    ApiToken,
    ChangeLog,
    Engagement,
    EngagementParty,
    Organization,
    RoleAssignment,
    User,
)

admin.site.site_header = "Tandem administration"
admin.site.site_title = "Tandem admin"


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "time_zone", "size", "size_unit"]
    list_filter = ["kind"]
    search_fields = ["name"]


class PartyInline(admin.TabularInline):
    model = EngagementParty
    extra = 0


class RoleInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Engagement)
class EngagementAdmin(admin.ModelAdmin):
    list_display = ["name", "client", "kind", "phase", "start_date", "end_date"]
    list_filter = ["kind", "phase"]
    search_fields = ["name", "client__name"]
    inlines = [PartyInline, RoleInline]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = [
        "email",
        "full_name",
        "organization",
        "may_open_engagements",
        "is_staff",
        "is_active",
    ]
    list_filter = ["may_open_engagements", "is_staff", "is_active", "organization"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name", "job_title", "organization")}),
        (
            "Access",
            {"fields": ("is_active", "may_open_engagements", "is_staff", "is_superuser")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "organization", "password1", "password2"),
            },
        ),
    )
    filter_horizontal = ()


@admin.register(ChangeLog)
class ChangeLogAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only."""

    list_display = ["time", "user_name", "source", "action", "content_type", "object_repr"]
    list_filter = ["action", "source", "content_type"]
    search_fields = ["object_repr", "user_name"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read-only, and never a key (only its digest is stored; the digest is not shown either).
    Administrators may revoke tokens, e.g. a person's leaked one; audited like any revocation."""

    list_display = ["name", "user", "prefix", "mfa_verified", "created", "expires", "last_used"]
    list_display += ["revoked"]
    list_filter = ["mfa_verified", ("revoked", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__email"]
    fields = ["user", "name", "prefix", "mfa_verified", "created", "expires", "last_used"]
    fields += ["revoked"]
    readonly_fields = fields
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        from tandem.core.tokens import revoke_token

        count = sum(revoke_token(token) for token in queryset)
        self.message_user(request, f"{count} token(s) revoked.")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
