"""Forms of the contracts app: choices restricted to the user, the status offered only where
it may move, documents checked before anything is stored."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from tandem.contracts import uploads
from tandem.contracts.choices import ContractStatus
from tandem.contracts.models import Contract, ContractDocument, ScopeItem
from tandem.contracts.models.contracts import INITIAL
from tandem.core.choices import Action, OrganizationKind
from tandem.core.forms import DateInput, UserBoundForm
from tandem.core.models import EngagementParty, Organization

TEXT = {"rows": 3}


class ContractForm(UserBoundForm):
    """The status offers where the contract may move by editing; "active" is never offered:
    activation is its own action (it checks service levels and a signed BAA)."""

    class Meta:
        model = Contract
        fields = [
            "kind",
            "parent",
            "title",
            "vendor",
            "status",
            "term_start",
            "term_end",
            "renewal_type",
            "notice_period_days",
            "termination_rights",
            "total_value",
            "monthly_fee",
            "currency",
            "handles_phi",
            "client_signatory_name",
            "client_signatory_title",
            "vendor_signatory_name",
            "vendor_signatory_title",
            "signed_date",
        ]
        widgets = {
            "term_start": DateInput(),
            "term_end": DateInput(),
            "signed_date": DateInput(),
            "termination_rights": forms.Textarea(attrs=TEXT),
            "currency": forms.TextInput(attrs={"size": 4, "placeholder": "USD"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        engagement_id = self.instance.engagement_id
        parties = EngagementParty.objects.filter(engagement_id=engagement_id)
        self.fields["vendor"].queryset = (
            Organization.objects.restrict(self.user)
            .filter(kind=OrganizationKind.VENDOR, pk__in=parties.values("organization_id"))
            .order_by("name")
        )
        self.fields["parent"].queryset = (
            Contract.objects.restrict(self.user, Action.VIEW)
            .filter(engagement_id=engagement_id)
            .exclude(pk=self.instance.pk)
            .order_by("title")
        )
        current = self.instance.stored_status
        offered = [current, *self.instance.next_statuses()] if current else list(INITIAL)
        self.fields["status"].choices = [
            (value, label)
            for value, label in ContractStatus.choices
            if value in offered and value != ContractStatus.ACTIVE or value == current
        ]
        self.fields[
            "status"
        ].help_text = (
            "A contract becomes active through its activation (a separate action), not here."
        )
        if not self.instance.currency and engagement_id is not None:
            self.initial.setdefault("currency", self.instance.engagement.currency)

    def clean_currency(self) -> str:
        return (self.cleaned_data.get("currency") or "").strip().upper()


class ScopeItemForm(UserBoundForm):
    class Meta:
        model = ScopeItem
        fields = [
            "contract",
            "category",
            "name",
            "application",
            "inclusions",
            "exclusions",
            "coverage_calendar",
            "pricing_model",
            "unit_price",
            "quantity",
            "users",
            "devices",
            "tickets_per_month",
        ]
        widgets = {
            "inclusions": forms.Textarea(attrs=TEXT),
            "exclusions": forms.Textarea(attrs=TEXT),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contract"].queryset = (
            Contract.objects.restrict(self.user, Action.VIEW)
            .filter(engagement_id=self.instance.engagement_id)
            .order_by("title")
        )


class ContractDocumentForm(UserBoundForm):
    """Upload a version (the file is checked before anything is stored); editing changes
    only the note: a new file is a new version."""

    upload = forms.FileField(
        label="File",
        required=True,
        help_text="A PDF or Word (DOCX) file.",
        widget=forms.ClearableFileInput(
            attrs={"accept": ".pdf,.docx,application/pdf," + uploads.DOCX}
        ),
    )

    class Meta:
        model = ContractDocument
        fields = ["contract", "title", "note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            for name in ("contract", "title", "upload"):
                del self.fields[name]
            return
        self.fields["contract"].queryset = (
            Contract.objects.restrict(self.user, Action.VIEW)
            .filter(engagement_id=self.instance.engagement_id)
            .order_by("title")
        )
        self.fields[
            "title"
        ].help_text = "The same title as an earlier document of the contract adds its next version."
        self.checked: uploads.CheckedDocument | None = None

    def clean_upload(self) -> Any:
        upload = self.cleaned_data.get("upload")
        if upload is None:
            return upload
        try:
            self.checked = uploads.check_document(upload)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        return upload

    def save(self, commit: bool = True) -> ContractDocument:
        document: ContractDocument = super().save(commit=False)
        if document.pk is None and self.checked is not None:
            upload = self.cleaned_data["upload"]
            fill_document(document, upload, self.checked, self.user)
        if commit:
            try:
                document.save()
            except BaseException:
                if document.file.name:  # the row failed: no file left behind
                    document.file.storage.delete(document.file.name)
                raise
        return document


def fill_document(
    document: ContractDocument, upload: Any, checked: uploads.CheckedDocument, user: Any
) -> None:
    """Give a new document its checked file and what was learned about it."""
    document.content_type = checked.content_type
    document.size = checked.size
    document.sha256 = checked.sha256
    document.original_name = (getattr(upload, "name", "") or "document")[-255:]
    document.uploaded_by = user if getattr(user, "is_authenticated", False) else None
    if document.contract_id is not None:
        document.engagement_id = document.contract.engagement_id
    document.file.save(f"upload{checked.extension}", upload, save=False)
