"""SLA runs numbered per engagement ("Run #3") and the reason for their as-of instant.

Existing runs are numbered 1, 2, 3… per engagement in the order they were created (their
ids). Not atomic as a whole: on PostgreSQL, updating rows and then altering their table in
one transaction fails ("pending trigger events"), so the numbering runs in a transaction of
its own between the schema steps.
"""

from django.db import migrations, models


def number_runs(apps, schema_editor):
    SlaRun = apps.get_model("service", "SlaRun")
    counters: dict[int, int] = {}
    runs = SlaRun.objects.order_by("engagement_id", "pk").values_list("pk", "engagement_id")
    for pk, engagement_id in runs.iterator(chunk_size=2000):
        counters[engagement_id] = counters.get(engagement_id, 0) + 1
        SlaRun.objects.filter(pk=pk).update(number=counters[engagement_id])


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("service", "0005_run_side_totals"),
    ]

    operations = [
        migrations.AddField(
            model_name="slarun",
            name="as_of_basis",
            field=models.CharField(
                choices=[
                    ("given", "as of the time given"),
                    ("now", "as of the moment it started"),
                    ("last_event", "as of the last imported event"),
                ],
                default="given",
                help_text="Why this as-of instant: typed by whoever started the run, the moment "
                "it started, or the last event of the imported tickets (an historical export).",
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="slarun",
            name="number",
            field=models.PositiveIntegerField(null=True),
        ),
        migrations.RunPython(number_runs, migrations.RunPython.noop, atomic=True),
        migrations.AlterField(
            model_name="slarun",
            name="number",
            field=models.PositiveIntegerField(
                help_text="1, 2, 3… per engagement, in the order the runs were started."
            ),
        ),
        migrations.AddConstraint(
            model_name="slarun",
            constraint=models.UniqueConstraint(
                fields=("engagement", "number"), name="service_slarun_unique_number"
            ),
        ),
    ]
