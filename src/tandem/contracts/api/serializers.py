"""Serializers of the contracts API, on the scoped base (model ``clean()`` runs on writes)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tandem.contracts import charges, uploads
from tandem.contracts.forms import fill_document
from tandem.contracts.models import Contract, ContractDocument, ScopeItem
from tandem.core.api.serializers import TIMESTAMPS, ScopedModelSerializer

# Money as the API writes every amount: exact decimal text ("23150.00"), never a float.
DECIMAL_TEXT = {"type": "string", "format": "decimal", "pattern": r"^-?\d+(?:\.\d+)?$"}


class ContractSerializer(ScopedModelSerializer):
    monthly_charge = serializers.SerializerMethodField(
        help_text="Derived from the scope items: the sum of their monthly charges (read-only)."
    )
    milestone_total = serializers.SerializerMethodField(
        help_text="The scope items priced per milestone, not monthly (read-only)."
    )

    class Meta:
        model = Contract
        fields = [
            "id",
            "url",
            "display",
            "engagement",
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
            "monthly_charge",
            "milestone_total",
            "handles_phi",
            "client_signatory_name",
            "client_signatory_title",
            "vendor_signatory_name",
            "vendor_signatory_title",
            "signed_date",
            *TIMESTAMPS,
        ]
        extra_kwargs = {
            "status": {
                "help_text": "Moves only along the allowed transitions; 'active' is reached "
                "through the activation action, never by writing it here."
            }
        }

    def _charge(self, obj: Contract) -> Any:
        cache = self.context.setdefault("_charges", {})
        if obj.pk not in cache:
            cache[obj.pk] = charges.charge_of(obj.scope_items.all())
        return cache[obj.pk]

    @extend_schema_field(DECIMAL_TEXT)
    def get_monthly_charge(self, obj: Contract) -> Decimal:
        return self._charge(obj).total  # type: ignore[no-any-return]

    @extend_schema_field(DECIMAL_TEXT)
    def get_milestone_total(self, obj: Contract) -> Decimal:
        return self._charge(obj).milestone_total  # type: ignore[no-any-return]

    def to_representation(self, instance: Contract) -> dict[str, Any]:
        data = super().to_representation(instance)
        for name in ("monthly_charge", "milestone_total"):
            data[name] = str(data[name])
        return data

    def validate_currency(self, value: str) -> str:
        return (value or "").strip().upper()


class ScopeItemSerializer(ScopedModelSerializer):
    currency = serializers.CharField(
        source="contract.currency", read_only=True, help_text="The contract's currency."
    )

    class Meta:
        model = ScopeItem
        fields = [
            "id",
            "url",
            "display",
            "engagement",
            "contract",
            "category",
            "name",
            "application",
            "inclusions",
            "exclusions",
            "coverage_calendar",
            "users",
            "devices",
            "tickets_per_month",
            "pricing_model",
            "unit_price",
            "quantity",
            "currency",
            *TIMESTAMPS,
        ]


class ContractDocumentSerializer(ScopedModelSerializer):
    """Upload with ``multipart/form-data`` (``upload``: a PDF or DOCX file); afterwards only
    the note changes (a new file is a new version: upload it with the same title)."""

    upload = serializers.FileField(
        write_only=True, help_text="The PDF or DOCX file (multipart/form-data)."
    )
    download = serializers.SerializerMethodField()

    class Meta:
        model = ContractDocument
        fields = [
            "id",
            "url",
            "display",
            "engagement",
            "contract",
            "title",
            "version",
            "upload",
            "download",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "note",
            "uploaded_by",
            "uploaded_at",
            *TIMESTAMPS,
        ]
        read_only_fields = [
            "version",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "uploaded_at",
        ]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            for name in ("contract", "title", "upload"):
                fields[name].read_only = True
        return fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_download(self, obj: ContractDocument) -> str:
        path = reverse("contracts:contractdocument_download", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def validate_upload(self, upload: Any) -> Any:
        try:
            self._checked = uploads.check_document(upload)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return upload

    def candidate(self, attrs: dict[str, Any]) -> Any:
        return super().candidate({k: v for k, v in attrs.items() if k != "upload"})

    def create(self, validated_data: dict[str, Any]) -> ContractDocument:
        upload = validated_data.pop("upload")
        document = ContractDocument(**validated_data)
        fill_document(document, upload, self._checked, self.user)
        try:
            document.save()
        except BaseException:
            document.file.storage.delete(document.file.name)
            raise
        return document
