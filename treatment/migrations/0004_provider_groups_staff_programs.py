"""Provider organisations become staff of the programs they serve (a grant to their group), so
their clinicians can be chosen for those programs and consents can name them."""

from django.db import migrations


def grant(apps, schema_editor):
    Provider = apps.get_model("treatment", "Provider")
    Permission = apps.get_model("auth", "Permission")
    Grant = apps.get_model("tjp", "ProgramGroupObjectPermission")
    permission = Permission.objects.filter(
        content_type__app_label="tjp", codename="view_program"
    ).first()
    if permission is None:  # a fresh database: no providers yet, permissions come later
        return
    for provider in Provider.objects.prefetch_related("programs"):
        for program in provider.programs.all():
            Grant.objects.get_or_create(
                group_id=provider.group_id, permission=permission, content_object=program
            )


class Migration(migrations.Migration):
    dependencies = [
        ("treatment", "0003_testselection_notice_sent_at"),
        ("tjp", "0005_program_equity_settings"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
