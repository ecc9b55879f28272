"""API viewsets of the contracts app, on the scoped base."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from tandem.contracts import filtersets
from tandem.contracts.api import serializers
from tandem.contracts.models import Contract, ContractDocument, ScopeItem
from tandem.core.api.viewsets import ScopedModelViewSet


class ContractViewSet(ScopedModelViewSet):
    """Contracts between the client and a vendor. Terms: the client's sponsor and IT lead
    write them; a vendor reads only its own. `monthly_charge` is derived from the scope items
    (read-only); `status` moves along the allowed transitions, never to `active` (activation
    is its own action)."""

    queryset = Contract.objects.select_related("vendor").prefetch_related("scope_items")
    serializer_class = serializers.ContractSerializer
    filterset_class = filtersets.ContractFilterSet


class ScopeItemViewSet(ScopedModelViewSet):
    """The service catalog: what each contract covers, its volumes and price."""

    queryset = ScopeItem.objects.select_related("contract")
    serializer_class = serializers.ScopeItemSerializer
    filterset_class = filtersets.ScopeItemFilterSet


@extend_schema_view(
    create=extend_schema(
        request={"multipart/form-data": serializers.ContractDocumentSerializer},
        description="Upload a PDF or DOCX file (`upload`) as multipart/form-data; a title the "
        "contract already has adds its next version. A file of another type, over "
        "TANDEM_CONTRACT_DOCUMENT_MAX_BYTES or a ZIP that is no Word document is a 400 on "
        "`upload`, and nothing is stored.",
    )
)
class ContractDocumentViewSet(ScopedModelViewSet):
    """A contract's documents (PDF or DOCX), versioned per title, with their SHA-256. Upload
    with multipart/form-data; `download` serves the file as an attachment."""

    queryset = ContractDocument.objects.select_related("contract")
    serializer_class = serializers.ContractDocumentSerializer
    filterset_class = filtersets.ContractDocumentFilterSet
    parser_classes = [MultiPartParser, FormParser, JSONParser]
