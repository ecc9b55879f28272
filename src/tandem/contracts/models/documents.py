"""A contract's documents: PDF or DOCX files, versioned per title, hashed, never rendered."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from tandem.core.models import EngagementScopedModel


def document_path(instance: ContractDocument, filename: str) -> str:
    """``contracts/<engagement>/<random>.<pdf|docx>``: the uploader's name is never a path."""
    extension = ".docx" if instance.content_type.endswith("document") else ".pdf"
    return f"contracts/{instance.engagement_id}/{secrets.token_hex(16)}{extension}"


class ContractDocument(EngagementScopedModel):
    """One version of one document of a contract (the signed PDF, a DOCX draft...).

    The file goes through Django's storage API (``default_storage``); its type is checked by
    content type and magic bytes (``tandem.contracts.uploads``) before anything is stored.
    Uploading a document with a title the contract already has adds the next version.
    """

    scope_area = "terms"
    owner_lookup = "contract__vendor"
    # The stored name is random and says nothing; its hash and size are audited.
    audit_exclude = ("file",)

    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.CASCADE, related_name="documents"
    )
    title = models.CharField(max_length=200)
    version = models.PositiveIntegerField(editable=False)
    file = models.FileField(upload_to=document_path, max_length=200, editable=False)
    original_name = models.CharField(max_length=255, editable=False)
    content_type = models.CharField(max_length=100, editable=False)
    size = models.PositiveBigIntegerField(editable=False)
    sha256 = models.CharField("SHA-256", max_length=64, editable=False)
    note = models.CharField(max_length=500, blank=True, help_text="What this version changes.")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["contract", "title", "-version"]
        verbose_name = "contract document"
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "title", "version"],
                name="%(app_label)s_%(class)s_one_version_number",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"

    def get_absolute_url(self) -> str:
        return reverse("contracts:contractdocument_detail", args=[self.pk])

    def clean(self) -> None:
        if (
            self.contract_id is not None
            and self.engagement_id is not None
            and self.contract.engagement_id != self.engagement_id
        ):
            raise ValidationError({"contract": "Choose a contract of this engagement."})

    def next_version(self) -> int:
        latest = ContractDocument.objects.filter(
            contract_id=self.contract_id, title=self.title
        ).aggregate(top=Max("version"))["top"]
        return (latest or 0) + 1

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.contract_id is not None:
            self.engagement_id = self.contract.engagement_id
        if self.version is None:
            self.version = self.next_version()
        super().save(*args, **kwargs)


@receiver(post_delete, sender=ContractDocument)
def _delete_file(sender: type, instance: ContractDocument, **kwargs: Any) -> None:
    """The stored file goes once the row is gone for good (its contract's deletion too)."""
    name, storage = instance.file.name, instance.file.storage
    if name:
        transaction.on_commit(lambda: storage.delete(name))
