"""The "legal" role's group (#22: legal review of contracts in the approval)."""

from django.db import migrations


def add_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name="legal")


class Migration(migrations.Migration):
    dependencies = [("org", "0007_person_mobile_in_the_database")]
    operations = [migrations.RunPython(add_group, migrations.RunPython.noop)]
