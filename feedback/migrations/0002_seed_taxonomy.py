from django.db import migrations

from feedback.taxonomy import CATEGORIES, DEPARTMENTS


def seed(apps, schema_editor):
    Department = apps.get_model("issues", "Department")
    Category = apps.get_model("feedback", "Category")
    departments = {}
    for code, name_zh, name_en in DEPARTMENTS:
        departments[code], _ = Department.objects.get_or_create(
            code=code, defaults={"name_zh": name_zh, "name_en": name_en}
        )
    for order, (code, name_zh, name_en, department, description) in enumerate(CATEGORIES):
        Category.objects.update_or_create(
            code=code,
            defaults={
                "name_zh": name_zh,
                "name_en": name_en,
                "description": description,
                "default_department": departments[department],
                "sort_order": order,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial"), ("issues", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
