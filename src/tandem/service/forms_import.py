"""The upload step of the import wizard."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from django import forms

from tandem.service.choices import ImportFormat
from tandem.service.imports import human_size, max_import_bytes


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Export file",
        help_text="A ServiceNow incident list (CSV or XLSX) or event log, a Jira Service "
        "Management CSV, a GLPI CSV, or a generic CSV "
        "(<code>ticket_id,priority,opened_at,responded_at,resolved_at,assignment_group</code>).",
    )
    holds = forms.FileField(
        label="Holds file",
        required=False,
        help_text="Optional CSV <code>ticket_id,start,end</code>: times the tickets were on hold.",
    )
    format = forms.ChoiceField(
        label="Format",
        required=False,
        choices=[("", "Detect from the file")] + list(ImportFormat.choices),
        help_text="Tandem recognises the format from the column names; choose one only if it "
        "guesses wrong.",
    )
    time_zone = forms.ChoiceField(
        label="Time zone",
        help_text="How to read timestamps that carry no offset (defaults to the engagement's).",
    )
    keep_text = forms.BooleanField(
        label="Keep free text (short descriptions)",
        required=False,
        initial=False,
        help_text="<strong>Off unless you are sure.</strong> Ticket descriptions often name "
        "patients. Leave this off and Tandem stores only timestamps, priorities, groups and "
        "categories.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zones = sorted(available_timezones() - {"localtime"})
        self.fields["time_zone"].choices = [(zone, zone) for zone in zones]
        limit = human_size(max_import_bytes())
        self.fields["file"].help_text += f" Up to {limit}."

    def _clean_size(self, name: str) -> Any:
        upload = self.cleaned_data.get(name)
        limit = max_import_bytes()
        if upload is not None and upload.size > limit:
            raise forms.ValidationError(
                f"{upload.name} is {human_size(upload.size)} ({upload.size:,} bytes), over "
                f"the limit of {human_size(limit)} ({limit:,} bytes). Split the export "
                "(for example by month) and import the parts one after the other."
            )
        return upload

    def clean_file(self) -> Any:
        return self._clean_size("file")

    def clean_holds(self) -> Any:
        return self._clean_size("holds")
