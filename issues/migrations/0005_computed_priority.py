from django.db import migrations, models
from django.db.models import F, Q


def sla_started_for_existing(apps, schema_editor):
    # Issues created before the 高频 threshold had their SLA running from creation.
    Issue = apps.get_model("issues", "Issue")
    Issue.objects.filter(Q(acknowledge_due_at__isnull=False) | Q(resolve_due_at__isnull=False)).update(
        sla_started_at=F("created_at")
    )


class Migration(migrations.Migration):
    dependencies = [("issues", "0004_reroute_state")]

    operations = [
        migrations.AddField(
            model_name="issue", name="priority_manual",
            field=models.BooleanField(default=False, verbose_name="手动优先级"),
        ),
        migrations.AddField(
            model_name="issue", name="priority_signals",
            field=models.JSONField(blank=True, default=list, verbose_name="优先级依据"),
        ),
        migrations.AddField(
            model_name="issue", name="spike_ratio",
            field=models.FloatField(blank=True, null=True, verbose_name="激增倍数"),
        ),
        migrations.AddField(
            model_name="issue", name="sla_started_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="SLA 开始"),
        ),
        migrations.AddField(
            model_name="routingrule", name="new_issues_only",
            field=models.BooleanField(
                default=False, verbose_name="只用于新问题",
                help_text="勾选后，规则只决定之后新出现的问题的部门，不移动已有问题",
            ),
        ),
        migrations.RunPython(sla_started_for_existing, migrations.RunPython.noop),
    ]
