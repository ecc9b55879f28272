"""The import wizard's forms: the upload, the column mapping of a generic CSV, and the date
format of a file whose timestamps did not read (or read two ways)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import available_timezones

from django import forms

from tandem.ingest.dates import CANDIDATES, MAX_PATTERN, NAMED, DateFormatError, parse_date_format
from tandem.service.choices import ImportFormat
from tandem.service.import_mapping import NO_PRIORITY, MappedField, mapping_problems
from tandem.service.imports import human_size, max_import_bytes

PRIORITY_VALUE_CHOICES = [
    ("", "— not recognised —"),
    ("P1", "P1"),
    ("P2", "P2"),
    ("P3", "P3"),
    ("P4", "P4"),
    (NO_PRIORITY, "No priority"),
]


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


class ColumnMappingForm(forms.Form):
    """The mapping step of a generic CSV: the file's column for each field Tandem reads, and
    P1..P4 for priority values the reader does not know.

    Built from the preview's ``mapping`` JSON (``import_mapping.mapping_source``): the
    header and the priority values were read with the preview, so the form never reads the
    file. ``revision`` refuses a form made for an earlier preview (another tab, a reload).
    """

    revision = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        source: dict[str, Any],
        mapped_fields: Sequence[MappedField],
        file_name: str,
        revision: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.source = source
        self.mapped_fields = tuple(mapped_fields)
        self.file_name = file_name
        self.expected_revision = revision
        self.fields["revision"].initial = revision
        columns = [("", "— not in this file —"), *((c, c) for c in source["header"])]
        for f in self.mapped_fields:
            self.fields[f.name] = forms.ChoiceField(
                label=f.label,
                required=f.required,
                choices=columns,
                initial=source["initial"].get(f.name, ""),
                help_text=f.help,
                error_messages={
                    "required": f"{f.label} ({f.name}) is required: choose the column of "
                    f"{file_name} that holds it.",
                    "invalid_choice": f"{f.label} ({f.name}): '%(value)s' is not a column "
                    f"of {file_name}.",
                },
            )
        for index, value in enumerate(source.get("priority_values", ())):
            self.fields[f"value_{index}"] = forms.ChoiceField(
                label=value["raw"],
                required=False,
                choices=PRIORITY_VALUE_CHOICES,
                initial=value["initial"],
            )

    def column_fields(self) -> list[Any]:
        return [self[f.name] for f in self.mapped_fields]

    def value_fields(self) -> list[tuple[Any, dict[str, Any]]]:
        values = self.source.get("priority_values", ())
        return [(self[f"value_{i}"], value) for i, value in enumerate(values)]

    def clean_revision(self) -> int:
        revision = self.cleaned_data["revision"]
        if revision != self.expected_revision:
            raise forms.ValidationError(
                "The preview changed since this page was shown (another tab?): check the "
                "columns below and apply them again."
            )
        return int(revision)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        wrong = mapping_problems(self.mapping(), self.source["header"], self.mapped_fields)
        for name, message in wrong.items():
            if name not in self.errors:
                self.add_error(name, message)
        return cleaned

    def mapping(self) -> dict[str, str]:
        """Field -> file column; "" for a field left out ("not in this file"), so that the
        reader does not pick up a column of the same name on its own."""
        data = getattr(self, "cleaned_data", {})
        return {f.name: data.get(f.name) or "" for f in self.mapped_fields}

    def priority_map(self) -> dict[str, str | None]:
        """Raw value -> P1..P4 or None, for the values mapped unlike the reader would alone.

        Empty when the priority column changed: the values shown were the old column's.
        """
        if self.mapping().get("priority") != self.source.get("priority_column"):
            return {}
        chosen: dict[str, str | None] = {}
        for field, value in self.value_fields():
            choice = self.cleaned_data.get(field.name) or ""
            if choice and choice != value.get("builtin"):
                chosen[value["raw"]] = None if choice == NO_PRIORITY else choice
        return chosen


CUSTOM = "custom"


class DateFormatForm(forms.Form):
    """How the file's timestamps are written: the reader's own reading ("detect"), one of
    the common formats (those that read every timestamp of the file marked), or a custom
    ``strftime`` pattern, checked here so that a bad one is an error on its field.

    ``readable``: the names of the formats that read every timestamp (from the preview);
    ``current``: the format the preview was read with (None: detected)."""

    revision = forms.IntegerField(widget=forms.HiddenInput)
    date_format = forms.ChoiceField(
        label="Date format",
        required=False,
        error_messages={"invalid_choice": "Date format: '%(value)s' is not one of the choices."},
    )
    pattern = forms.CharField(
        label="Custom pattern",
        required=False,
        strip=False,
        max_length=MAX_PATTERN,
        help_text="A strftime pattern: %d day, %m month (%b: Mar), %Y year (%y: 24), %H hour "
        "(%I with %p for AM/PM), %M minute, %S second, %z offset; e.g. "
        "<code>%d/%m/%Y %H:%M</code>.",
        error_messages={
            "max_length": "Custom pattern: at most %(limit_value)d characters "
            "(this one has %(show_value)d)."
        },
    )

    def __init__(
        self,
        *args: Any,
        readable: Sequence[str] = (),
        current: str | None = None,
        revision: int,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("auto_id", "dates_%s")  # beside the mapping form on one page
        super().__init__(*args, **kwargs)
        self.expected_revision = revision
        self.readable = tuple(name for name in readable if name in NAMED)
        reads = set(self.readable)
        self.fields["date_format"].choices = [
            ("", "Detect (the reader's own formats)"),
            *(
                (c.name, f"{c.label}{' — reads every date in the file' if c.name in reads else ''}")
                for c in CANDIDATES
            ),
            (CUSTOM, "Custom pattern (below)"),
        ]
        self.fields["revision"].initial = revision
        if current and current.lower() in NAMED:
            self.fields["date_format"].initial = current.lower()
        elif current:
            self.fields["date_format"].initial = CUSTOM
            self.fields["pattern"].initial = current
        elif len(self.readable) == 1:
            self.fields["date_format"].initial = self.readable[0]

    def clean_revision(self) -> int:
        revision = self.cleaned_data["revision"]
        if revision != self.expected_revision:
            raise forms.ValidationError(
                "The preview changed since this page was shown (another tab?): choose the "
                "date format again."
            )
        return int(revision)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        choice = cleaned.get("date_format") or ""
        pattern = cleaned.get("pattern") or ""
        if choice == CUSTOM:
            if not pattern.strip():
                self.add_error("pattern", "Custom pattern: write the pattern, e.g. %d/%m/%Y %H:%M.")
            elif "pattern" not in self.errors:
                try:
                    parse_date_format(pattern)
                except DateFormatError as e:
                    self.add_error("pattern", f"Custom pattern: {e}.")
        return cleaned

    def chosen(self) -> str | None:
        """The date format to read with: a name, a pattern, or None (detect)."""
        choice = self.cleaned_data.get("date_format") or ""
        if choice == CUSTOM:
            return str(self.cleaned_data["pattern"])
        return choice or None
