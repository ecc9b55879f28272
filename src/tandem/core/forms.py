"""The core app's forms: every one takes the acting ``user`` and restricts its choices by it.

Choices come through ``restrict()`` like everything else, so a form never offers an object
its user may not see, and a forged id outside that scope is an ordinary "Select a valid
choice" error (422), not a leak or a 500.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from tandem.core.access import approval_refused, is_platform_admin, open_engagements_refusal
from tandem.core.choices import CLIENT_KINDS
from tandem.core.models import Engagement, EngagementParty, Organization, RoleAssignment, User
from tandem.core.models.organizations import TIME_ZONE_CHOICES

# Active ISO 4217 currency codes (2024 list). A typo such as "USS" passes the model's
# three-letter rule but is no currency; money is never stored against one.
_ISO_4217_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR
    ZMW ZWG
"""
ISO_4217 = frozenset(_ISO_4217_CODES.split())


APPROVAL_HELP = "Only a role that approves (the engagement's sponsor) changes this."


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class UserBoundForm(forms.ModelForm):
    """A ModelForm that knows who is filling it in (``user=``)."""

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)
        # Fields whose change is an approval the user may not give are shown, not editable
        # (a disabled field keeps its value whatever is posted).
        for name in approval_refused(user, self.instance):
            if name in self.fields:
                self.fields[name].disabled = True
                self.fields[name].help_text = APPROVAL_HELP


def time_zone_field(**kwargs: Any) -> forms.ChoiceField:
    return forms.ChoiceField(choices=TIME_ZONE_CHOICES, **kwargs)


class OrganizationForm(UserBoundForm):
    time_zone = time_zone_field(initial="America/Chicago")

    class Meta:
        model = Organization
        fields = ["name", "kind", "time_zone", "size", "size_unit", "website", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}


class EngagementForm(UserBoundForm):
    """Start or edit an engagement; the client is fixed once the engagement exists."""

    time_zone = time_zone_field(
        initial="America/Chicago", help_text="Times are stored in UTC and shown in this zone."
    )

    class Meta:
        model = Engagement
        fields = [
            "name",
            "client",
            "kind",
            "phase",
            "time_zone",
            "currency",
            "start_date",
            "end_date",
            "description",
        ]
        widgets = {
            "start_date": DateInput(),
            "end_date": DateInput(),
            "description": forms.Textarea(attrs={"rows": 4}),
            "currency": forms.TextInput(attrs={"size": 4, "placeholder": "USD"}),
        }
        help_texts = {"currency": "Three-letter ISO 4217 code, such as USD or EUR."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            del self.fields["client"]
            return
        clients = Organization.objects.restrict(self.user).filter(kind__in=CLIENT_KINDS)
        if not is_platform_admin(self.user):
            # services.create_engagement: people start engagements for their own organization.
            clients = clients.filter(pk=self.user.organization_id)
        self.fields["client"].queryset = clients
        if clients.count() == 1:
            self.fields["client"].initial = clients.first()

    def clean_currency(self) -> str:
        code = (self.cleaned_data.get("currency") or "").strip().upper()
        if code not in ISO_4217:
            raise ValidationError(
                "%(code)s is not an ISO 4217 currency code (for example USD or EUR).",
                params={"code": code},
                code="invalid_currency",
            )
        return code

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        name = cleaned.get("name")
        client = cleaned.get("client") or (
            self.instance.client if self.instance.client_id else None
        )
        if name and client is not None:
            clash = Engagement.objects.filter(client=client, name=name).exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("name", f"{client} already has an engagement of this name.")
        return cleaned


class EngagementPartyForm(UserBoundForm):
    """Add an organization to an engagement (not one that is already a party)."""

    class Meta:
        model = EngagementParty
        fields = ["organization", "side", "scope_summary"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        engagement_id = self.instance.engagement_id
        taken = EngagementParty.objects.filter(engagement_id=engagement_id).exclude(
            pk=self.instance.pk
        )
        self.fields["organization"].queryset = (
            Organization.objects.restrict(self.user)
            .exclude(pk__in=taken.values("organization_id"))
            .order_by("name")
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        organization = cleaned.get("organization")
        if organization is not None:
            clash = EngagementParty.objects.filter(
                engagement_id=self.instance.engagement_id, organization=organization
            ).exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("organization", f"{organization} is already a party.")
        return cleaned


class RoleAssignmentForm(UserBoundForm):
    """Give a person a role: only people of organizations that are parties may hold one."""

    class Meta:
        model = RoleAssignment
        fields = ["user", "role", "note"]
        labels = {"user": "Person"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parties = EngagementParty.objects.filter(engagement_id=self.instance.engagement_id)
        self.fields["user"].queryset = (
            User.objects.restrict(self.user)
            .filter(is_active=True, organization_id__in=parties.values("organization_id"))
            .select_related("organization")
            .order_by("full_name", "email")
        )
        self.fields["user"].label_from_instance = lambda u: f"{u} · {u.organization}"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        person, role = cleaned.get("user"), cleaned.get("role")
        if person is not None and role:
            clash = RoleAssignment.objects.filter(
                engagement_id=self.instance.engagement_id, user=person, role=role
            ).exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("role", f"{person} already holds this role here.")
        return cleaned


class PersonForm(UserBoundForm):
    """A person's profile. Platform administrators also set organization, status and rights."""

    ADMIN_FIELDS = ("email", "organization", "may_open_engagements", "is_staff", "is_active")

    password1 = forms.CharField(
        label="Initial password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="They can change it after signing in.",
    )
    password2 = forms.CharField(
        label="Initial password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = User
        fields = [
            "email",
            "full_name",
            "job_title",
            "organization",
            "may_open_engagements",
            "is_staff",
            "is_active",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            del self.fields["password1"], self.fields["password2"]
        if is_platform_admin(self.user):
            self.fields["organization"].queryset = Organization.objects.restrict(self.user)
        else:
            for name in self.ADMIN_FIELDS:
                del self.fields[name]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise ValidationError("Someone already signs in with this address.")
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        moved = {"may_open_engagements", "organization"} & set(self.changed_data)
        if cleaned.get("may_open_engagements") and moved:
            problem = open_engagements_refusal(self.instance, cleaned.get("organization"))
            if problem:
                self.add_error("may_open_engagements", problem)
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if "password1" in self.fields and first:
            if first != second:
                self.add_error("password2", "The two passwords differ.")
            else:
                try:
                    validate_password(first, self.instance)
                except ValidationError as error:
                    self.add_error("password1", error)
        return cleaned

    def save(self, commit: bool = True) -> User:
        person = super().save(commit=False)
        if "password1" in self.fields:
            person.set_password(self.cleaned_data["password1"])
        if commit:
            person.save()
        return person
