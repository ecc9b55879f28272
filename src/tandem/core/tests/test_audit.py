"""The audit trail: every write recorded with field-level diffs; nothing can edit it."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from tandem.core.audit import audit_context, history_of
from tandem.core.choices import AuditAction, AuditSource, Phase
from tandem.core.models import AppendOnlyError, ChangeLog, Engagement, User
from tandem.core.testing.factories import EngagementFactory, UserFactory

pytestmark = pytest.mark.django_db


def records_for(obj) -> list[ChangeLog]:
    return list(history_of(obj).order_by("pk"))


def test_create_update_delete_are_recorded_with_diffs() -> None:
    actor = UserFactory(email="actor@example.org")
    with audit_context(source=AuditSource.COMMAND, user=actor):
        engagement = EngagementFactory(name="Diffed", phase=Phase.EXPLORE)
        engagement.phase = Phase.SELECT
        engagement.save()
        pk = engagement.pk
        engagement.delete()
    created, updated, deleted = ChangeLog.objects.filter(
        content_type=ContentType.objects.get_for_model(Engagement), object_id=str(pk)
    ).order_by("pk")
    assert created.action == AuditAction.CREATE
    assert created.prechange_data is None
    assert created.postchange_data["name"] == "Diffed"
    assert updated.action == AuditAction.UPDATE
    assert updated.diff == [("phase", "explore", "select")]
    assert deleted.action == AuditAction.DELETE
    assert deleted.postchange_data is None
    assert deleted.prechange_data["phase"] == "select"
    for record in (created, updated, deleted):
        assert record.user == actor
        assert record.user_name.startswith(str(actor))
        assert record.source == AuditSource.COMMAND
        assert record.engagement_id == pk
    assert len({created.request_id, updated.request_id, deleted.request_id}) == 1


def test_a_save_without_changes_writes_nothing() -> None:
    engagement = EngagementFactory()
    before = ChangeLog.objects.changes().count()
    Engagement.objects.get(pk=engagement.pk).save()
    assert ChangeLog.objects.changes().count() == before


def test_writes_outside_any_context_are_attributed_to_the_system() -> None:
    engagement = EngagementFactory()
    record = records_for(engagement)[0]
    assert record.user is None
    assert record.user_name == "system"
    assert record.source == AuditSource.SYSTEM


def test_passwords_never_reach_the_trail() -> None:
    user = UserFactory()
    user.set_password("a-new-secret-value")
    user.save()
    for record in records_for(user):
        for data in (record.prechange_data or {}, record.postchange_data or {}):
            assert "password" not in data


def test_the_trail_is_append_only() -> None:
    EngagementFactory()
    record = ChangeLog.objects.first()
    record.message = "tampered"
    with pytest.raises(AppendOnlyError):
        record.save()
    with pytest.raises(AppendOnlyError):
        record.delete()
    with pytest.raises(AppendOnlyError):
        ChangeLog.objects.all().update(message="tampered")
    with pytest.raises(AppendOnlyError):
        ChangeLog.objects.all().delete()
    assert ChangeLog.objects.filter(message="tampered").count() == 0


def test_deleting_an_engagement_keeps_its_history() -> None:
    engagement = EngagementFactory()
    pk = engagement.pk
    engagement.delete()
    assert ChangeLog.objects.filter(engagement_id=pk).count() >= 2


def test_web_requests_record_source_address_and_request_id(world, client_for) -> None:
    client = client_for(world.it_lead)
    response = client.post(
        f"/engagements/{world.e1.pk}/edit/",
        {
            "name": "Renamed engagement",
            "client": world.alpha.pk,
            "kind": world.e1.kind,
            "phase": world.e1.phase,
            "time_zone": world.e1.time_zone,
            "currency": "USD",
        },
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 302, response.content[:2000]
    record = records_for(world.e1)[-1]
    assert record.source == AuditSource.WEB
    assert record.client_address == "10.1.2.3"
    assert record.user == world.it_lead
    assert ("name", "Alpha managed services", "Renamed engagement") in record.diff
    assert str(record.request_id) == response["X-Request-ID"]


def test_admin_writes_are_recorded_as_admin(world, client_for) -> None:
    admin = User.objects.get(pk=world.admin.pk)
    admin.is_superuser = True
    admin.save()
    client = client_for(admin)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.conf.settings.TANDEM_REQUIRE_ADMIN_MFA", False)
        response = client.post(
            f"/admin/core/organization/{world.beta.pk}/change/",
            {"name": "Beta Clinic Renamed", "kind": "practice", "time_zone": "America/Chicago"},
        )
    assert response.status_code == 302
    record = records_for(world.beta)[-1]
    assert record.source == AuditSource.ADMIN
    assert record.user == admin


def test_commands_record_their_writes(db) -> None:
    before = ChangeLog.objects.changes().count()
    call_command("createsuperuser", "--noinput", email="root@example.org", full_name="Root")
    record = ChangeLog.objects.order_by("pk")[before]
    assert record.object_repr == "Root"
