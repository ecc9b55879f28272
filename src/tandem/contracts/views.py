"""Pages of the contracts app, on the generic scoped views."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.text import capfirst

from tandem.contracts import charges
from tandem.contracts.filtersets import (
    ContractDocumentFilterSet,
    ContractFilterSet,
    ScopeItemFilterSet,
)
from tandem.contracts.forms import ContractDocumentForm, ContractForm, ScopeItemForm
from tandem.contracts.models import Contract, ContractDocument, ScopeItem
from tandem.contracts.tables import ContractDocumentTable, ContractTable, ScopeItemTable
from tandem.core import exports
from tandem.core.access import can_add
from tandem.core.choices import Action
from tandem.core.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
)


class MoneyExportMixin:
    """Money columns of the export carry the currency of their row (its "Currency" column):
    the generic list export, with that one addition."""

    def export(self, table: Any, fmt: str) -> StreamingHttpResponse:
        columns, rows = exports.table_export(table)
        columns = [
            dataclasses.replace(column, currency_column="Currency")
            if column.kind == exports.Kind.MONEY
            else column
            for column in columns
        ]
        plural = str(self.queryset.model._meta.verbose_name_plural)  # type: ignore[attr-defined]
        engagement = self.get_engagement()  # type: ignore[attr-defined]
        name = exports.file_slug(plural)
        if engagement is not None:
            name = f"{exports.file_slug(engagement.name, 'engagement')}-{name}"
        return exports.export_response(
            fmt,
            columns,
            rows,
            name=name,
            sheet=capfirst(plural),
            time_zone=engagement.time_zone if engagement is not None else "UTC",
        )


# --- contracts ------------------------------------------------------------------------------


class ContractListView(MoneyExportMixin, ObjectListView):
    queryset = Contract.objects.select_related("vendor")
    table_class = ContractTable
    filterset_class = ContractFilterSet
    title = "Contracts"
    add_url_name = "contracts:contract_add"


class ContractDetailView(ObjectDetailView):
    queryset = Contract.objects.select_related("engagement", "vendor", "parent")
    template_name = "contracts/contract_detail.html"

    def get_extra_context(self, obj: Contract) -> dict[str, Any]:
        user = self.request.user
        items = list(
            ScopeItem.objects.restrict(user, Action.VIEW).filter(contract=obj).order_by("pk")
        )
        charge = charges.contract_charge(obj)
        by_key = {line.key: line for line in charge.lines}
        return {
            "charge": charge,
            "scope_rows": [(item, by_key.get(item.pk)) for item in items],
            "documents": ContractDocument.objects.restrict(user, Action.VIEW)
            .filter(contract=obj)
            .select_related("uploaded_by"),
            "amendments": Contract.objects.restrict(user, Action.VIEW).filter(parent=obj),
            "can_add_items": self.can_add_here(obj, ScopeItem),
            "can_add_documents": self.can_add_here(obj, ContractDocument),
        }

    def can_add_here(self, obj: Contract, model: type) -> bool:
        return can_add(self.request.user, model, obj.engagement)


class ContractEditView(ObjectEditView):
    queryset = Contract.objects.select_related("engagement")
    form_class = ContractForm


class ContractDeleteView(ObjectDeleteView):
    queryset = Contract.objects.select_related("engagement")

    def success_url(self, obj: Any) -> str:
        return reverse("contracts:contract_list", args=[obj.engagement_id])


# --- scope items ----------------------------------------------------------------------------


class ScopeItemListView(MoneyExportMixin, ObjectListView):
    queryset = ScopeItem.objects.select_related("contract")
    table_class = ScopeItemTable
    filterset_class = ScopeItemFilterSet
    title = "Scope items"
    add_url_name = "contracts:scopeitem_add"


class ScopeItemDetailView(ObjectDetailView):
    queryset = ScopeItem.objects.select_related("engagement", "contract")
    template_name = "contracts/scopeitem_detail.html"

    def get_extra_context(self, obj: ScopeItem) -> dict[str, Any]:
        return {"line": charges.charge_of([obj]).lines[0]}


class ScopeItemEditView(ObjectEditView):
    queryset = ScopeItem.objects.select_related("engagement", "contract")
    form_class = ScopeItemForm

    def get_form(self, obj: Any, data: Any = None) -> Any:
        form = super().get_form(obj, data)
        contract = self.request.GET.get("contract", "")
        if data is None and obj.pk is None and contract.isdigit():
            form.initial["contract"] = int(contract)
        return form

    def success_url(self, obj: Any) -> str:
        return obj.contract.get_absolute_url()  # type: ignore[no-any-return]


class ScopeItemDeleteView(ObjectDeleteView):
    queryset = ScopeItem.objects.select_related("engagement", "contract")

    def success_url(self, obj: Any) -> str:
        return obj.contract.get_absolute_url()  # type: ignore[no-any-return]


# --- documents ------------------------------------------------------------------------------


class ContractDocumentListView(ObjectListView):
    queryset = ContractDocument.objects.select_related("contract", "uploaded_by")
    table_class = ContractDocumentTable
    filterset_class = ContractDocumentFilterSet
    title = "Contract documents"
    add_url_name = "contracts:contractdocument_add"


class ContractDocumentDetailView(ObjectDetailView):
    queryset = ContractDocument.objects.select_related("engagement", "contract", "uploaded_by")
    template_name = "contracts/contractdocument_detail.html"

    def get_extra_context(self, obj: ContractDocument) -> dict[str, Any]:
        versions = (
            ContractDocument.objects.restrict(self.request.user, Action.VIEW)
            .filter(contract_id=obj.contract_id, title=obj.title)
            .select_related("uploaded_by")
            .order_by("-version")
        )
        return {"versions": versions}


class ContractDocumentEditView(ObjectEditView):
    """Upload a version (multipart); editing changes only its note."""

    queryset = ContractDocument.objects.select_related("engagement", "contract")
    form_class = ContractDocumentForm
    template_name = "contracts/contractdocument_edit.html"

    def get_form(self, obj: Any, data: Any = None) -> Any:
        files = self.request.FILES if data is not None else None
        form = self.form_class(data, files, instance=obj, user=self.request.user)
        contract = self.request.GET.get("contract", "")
        if data is None and obj.pk is None and contract.isdigit():
            form.initial["contract"] = int(contract)
        return form


class ContractDocumentDeleteView(ObjectDeleteView):
    queryset = ContractDocument.objects.select_related("engagement", "contract")

    def success_url(self, obj: Any) -> str:
        return obj.contract.get_absolute_url()  # type: ignore[no-any-return]


def document_response(document: ContractDocument) -> FileResponse:
    """The stored file as a download, never shown inline: attachment, its checked type,
    nosniff, and a sandbox should anything still try to render it."""
    try:
        handle = document.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404("The document's file is missing from storage.") from None
    extension = ".docx" if document.content_type != "application/pdf" else ".pdf"
    stem = document.title.strip() or "document"
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{stem} v{document.version}{extension}",
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def contractdocument_download(request: HttpRequest, pk: int) -> HttpResponse:
    document = get_object_or_404(
        ContractDocument.objects.restrict(request.user, Action.VIEW), pk=pk
    )
    return document_response(document)
