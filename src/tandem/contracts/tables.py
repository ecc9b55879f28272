"""django-tables2 tables of the contracts app: sortable, linked; amounts shown as money and
exported as typed money in the row's currency (``ContractListView.export``)."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables

from tandem.contracts.models import Contract, ContractDocument, ScopeItem
from tandem.core.exports import Kind
from tandem.core.tables import BaseTable, badge
from tandem.core.templatetags.tandem_ui import money, num


class MoneyColumn(tables.Column):
    """An amount as an invoice prints it (1,500.00); the Decimal exported as money."""

    def render(self, value: Any) -> str:
        return money(value)


class CountColumn(tables.Column):
    def render(self, value: Any) -> str:
        return num(value)


class ContractTable(BaseTable):
    title = tables.Column(linkify=True)
    kind = tables.Column()
    vendor = tables.Column(linkify=True, order_by="vendor__name")
    status = tables.Column()
    term_start = tables.DateColumn(verbose_name="Starts", format="M j, Y")
    term_end = tables.DateColumn(verbose_name="Ends", format="M j, Y")
    total_value = MoneyColumn(verbose_name="Total value")
    monthly_fee = MoneyColumn(verbose_name="Monthly fee")
    currency = tables.Column()
    handles_phi = tables.BooleanColumn(verbose_name="PHI")

    export_kinds = {"total_value": Kind.MONEY, "monthly_fee": Kind.MONEY}

    class Meta(BaseTable.Meta):
        model = Contract
        fields = (
            "title",
            "kind",
            "vendor",
            "status",
            "term_start",
            "term_end",
            "total_value",
            "monthly_fee",
            "currency",
            "handles_phi",
        )
        empty_text = "No contracts yet."

    def render_status(self, record: Contract, value: str) -> str:
        return badge("status", record.status, value)

    def value_status(self, record: Contract) -> str:
        return record.get_status_display()

    def value_kind(self, record: Contract) -> str:
        return record.get_kind_display()


class ScopeItemTable(BaseTable):
    name = tables.Column(linkify=True)
    contract = tables.Column(linkify=True, order_by="contract__title")
    category = tables.Column()
    application = tables.Column()
    pricing_model = tables.Column(verbose_name="Pricing")
    unit_price = MoneyColumn(verbose_name="Unit price")
    quantity = CountColumn()
    users = CountColumn()
    devices = CountColumn()
    tickets_per_month = CountColumn(verbose_name="Tickets a month")
    currency = tables.Column(accessor="contract__currency", verbose_name="Currency")

    export_kinds = {"unit_price": Kind.MONEY}

    class Meta(BaseTable.Meta):
        model = ScopeItem
        fields = (
            "name",
            "contract",
            "category",
            "application",
            "pricing_model",
            "unit_price",
            "quantity",
            "users",
            "devices",
            "tickets_per_month",
            "currency",
        )
        empty_text = "No scope items yet."

    def value_category(self, record: ScopeItem) -> str:
        return record.get_category_display()

    def value_pricing_model(self, record: ScopeItem) -> str:
        return record.get_pricing_model_display()


class ContractDocumentTable(BaseTable):
    title = tables.Column(linkify=True)
    version = tables.Column()
    contract = tables.Column(linkify=True, order_by="contract__title")
    content_type = tables.Column(verbose_name="Type")
    size = CountColumn(verbose_name="Bytes")
    sha256 = tables.Column(verbose_name="SHA-256")
    uploaded_by = tables.Column(order_by="uploaded_by__full_name")
    uploaded_at = tables.DateTimeColumn(verbose_name="Uploaded", format="M j, Y H:i")

    class Meta(BaseTable.Meta):
        model = ContractDocument
        fields = (
            "title",
            "version",
            "contract",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "uploaded_at",
        )
        empty_text = "No documents yet."

    def render_content_type(self, record: ContractDocument, value: str) -> str:
        return "PDF" if value == "application/pdf" else "DOCX"

    def value_content_type(self, record: ContractDocument) -> str:
        return record.content_type
