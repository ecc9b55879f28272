"""Forms of SLA policy versions (typed or uploaded as TOML) and of starting an SLA run.

TOML mistakes are shown on the field with the key path the policy reader names
(``targets[2].calendar: unknown calendar 'busines'``): the model's validator raises them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms

from tandem.core.forms import DateInput, UserBoundForm
from tandem.service.models import SlaPolicy
from tandem.service.models.sla import validate_policy_source
from tandem.service.sla_policies import MAX_POLICY_BYTES


def _kb(size: int) -> str:
    return f"{size // 1024:,} KB"


class SlaPolicyForm(UserBoundForm):
    """Name, start month, the TOML and a note; the version number is assigned on save."""

    class Meta:
        model = SlaPolicy
        fields = ["name", "effective_from", "source", "note"]
        widgets = {
            "effective_from": DateInput(),
            "source": forms.Textarea(
                attrs={"rows": 28, "spellcheck": "false", "class": "code", "wrap": "off"}
            ),
            "note": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"source": "Policy (TOML)"}

    def clean_effective_from(self) -> date:
        value: date = self.cleaned_data["effective_from"]
        clash = SlaPolicy.objects.filter(
            engagement_id=self.instance.engagement_id, effective_from=value
        ).exclude(pk=self.instance.pk)
        taken = clash.first()
        if taken is not None:
            raise forms.ValidationError(
                f"Version {taken.version} already takes effect on {value:%Y-%m-%d}: "
                "pick another month, or edit that version."
            )
        return value


class SlaPolicyUploadForm(forms.Form):
    """A policy file (UTF-8 TOML) that becomes a new version."""

    file = forms.FileField(
        label="Policy file (.toml)",
        help_text=f"UTF-8 TOML, at most {_kb(MAX_POLICY_BYTES)}; the same format as the editor.",
        widget=forms.ClearableFileInput(attrs={"accept": ".toml,text/plain,application/toml"}),
    )
    name = forms.CharField(max_length=200, help_text='E.g. "MSA schedule B, amendment 2".')
    effective_from = forms.DateField(
        widget=DateInput(),
        help_text="First day of the month (engagement time zone) this version applies from.",
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, engagement_id: int, **kwargs: Any) -> None:
        self.engagement_id = engagement_id
        super().__init__(*args, **kwargs)

    def clean_file(self) -> str:
        """The file's text, checked: size, encoding, then the policy itself."""
        upload = self.cleaned_data["file"]
        if upload.size > MAX_POLICY_BYTES:
            raise forms.ValidationError(
                f"{upload.name} is {_kb(upload.size)}; a policy file may be at most "
                f"{_kb(MAX_POLICY_BYTES)}."
            )
        raw = upload.read(MAX_POLICY_BYTES + 1)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(
                f"{upload.name} is not UTF-8 text (byte {exc.start + 1} cannot be read): "
                "save it as UTF-8 and upload it again."
            ) from None
        if "\x00" in text:
            raise forms.ValidationError(f"{upload.name} is not a text file.")
        try:
            validate_policy_source(text)
        except forms.ValidationError as exc:
            raise forms.ValidationError(
                [f"{upload.name}: {message}" for message in exc.messages]
            ) from None
        return text

    def clean_effective_from(self) -> date:
        value: date = self.cleaned_data["effective_from"]
        if value.day != 1:
            raise forms.ValidationError(
                "A policy takes effect on the first day of a month, so each month is measured "
                "against one set of goals."
            )
        taken = SlaPolicy.objects.filter(
            engagement_id=self.engagement_id, effective_from=value
        ).first()
        if taken is not None:
            raise forms.ValidationError(
                f"Version {taken.version} already takes effect on {value:%Y-%m-%d}."
            )
        return value


class StartRunForm(forms.Form):
    """ "Run now": optionally as of an earlier instant, typed in the engagement's time zone."""

    as_of = forms.DateTimeField(
        required=False,
        label="As of",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Open tickets are measured up to this time. Empty: now.",
    )

    def __init__(self, *args: Any, time_zone: str, **kwargs: Any) -> None:
        self.zone = ZoneInfo(time_zone)
        super().__init__(*args, **kwargs)
        self.fields[
            "as_of"
        ].help_text = f"Open tickets are measured up to this time ({time_zone}). Empty: now."

    def clean_as_of(self) -> datetime | None:
        value: datetime | None = self.cleaned_data.get("as_of")
        if value is None:
            return None
        # The field read it in the current time zone; the wall time typed is the
        # engagement's, so attach that zone to the same wall-clock reading.
        return value.replace(tzinfo=None).replace(tzinfo=self.zone)
