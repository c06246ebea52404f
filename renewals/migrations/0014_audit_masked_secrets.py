"""Secrets out of the audit trail (core/audit.py): a chat robot's URL and a vendor's website are
masked on their way into the event tables, the signing secret is recorded only as set or not
set; and the events already written are masked the same way (DingTalk robots' access_token=
had been copied in full)."""

import pgtrigger
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models

# Existing events: the URL masked as new ones are; the signing secret (not copied until now)
# recorded as the channel's current one, set or not set.
SCRUB = [
    (
        "renewals.ChatChannelEvent",
        'UPDATE "renewals_chatchannelevent" AS e SET "url" = left(audit_mask_url(e."url"), 500), '
        '"secret" = coalesce((SELECT audit_mask_secret(c."secret") FROM "renewals_chatchannel" c '
        'WHERE c."id" = e."pgh_obj_id"), \'\')',
    ),
    (
        "renewals.VendorEvent",
        'UPDATE "renewals_vendorevent" SET "website" = left(audit_mask_url("website"), 200)',
    ),
]


def scrub(apps, schema_editor):
    """Mask the secrets events already hold (event tables are append-only: the protection is
    lifted for this one statement each)."""
    for model, sql in SCRUB:
        with pgtrigger.ignore(f"{model}:append_only"), schema_editor.connection.cursor() as cursor:
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0004_audit_mask_functions"),
        ("renewals", "0013_subscription_search_text"),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name="chatchannel",
            name="insert_insert",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="chatchannel",
            name="update_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="chatchannel",
            name="delete_delete",
        ),
        migrations.AddField(
            model_name="chatchannelevent",
            name="secret",
            field=models.CharField(blank=True, max_length=200, verbose_name="signing secret"),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="chatchannel",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "renewals_chatchannelevent" ("created_at", "department_id", "id", "is_active", "kind", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "secret", "url") VALUES (NEW."created_at", NEW."department_id", NEW."id", NEW."is_active", NEW."kind", NEW."name", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."secret", NEW."url"); RETURN NULL;',
                    hash="84031060b96f7f7894fcf32e9cee88601b07620c",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_954de",
                    table="renewals_chatchannel",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="chatchannel",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "renewals_chatchannelevent" ("created_at", "department_id", "id", "is_active", "kind", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "secret", "url") VALUES (NEW."created_at", NEW."department_id", NEW."id", NEW."is_active", NEW."kind", NEW."name", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."secret", NEW."url"); RETURN NULL;',
                    hash="53f93ecaa2e7bf7314315ab8efb409c4912e5e64",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_46226",
                    table="renewals_chatchannel",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="chatchannel",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "renewals_chatchannelevent" ("created_at", "department_id", "id", "is_active", "kind", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "secret", "url") VALUES (OLD."created_at", OLD."department_id", OLD."id", OLD."is_active", OLD."kind", OLD."name", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."secret", OLD."url"); RETURN NULL;',
                    hash="688347f304b3b4c459b70fad448d4a0571d5cc0c",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_21865",
                    table="renewals_chatchannel",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="chatchannelevent",
            trigger=pgtrigger.compiler.Trigger(
                name="mask_secrets",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='NEW."secret" := left(audit_mask_secret(NEW."secret"), 200); NEW."url" := left(audit_mask_url(NEW."url"), 500); RETURN NEW;',
                    hash="363f1e37f1da5d2a770b37faf340ee8213c2a53d",
                    operation="INSERT",
                    pgid="pgtrigger_mask_secrets_9a7b8",
                    table="renewals_chatchannelevent",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="vendorevent",
            trigger=pgtrigger.compiler.Trigger(
                name="mask_secrets",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='NEW."website" := left(audit_mask_url(NEW."website"), 200); RETURN NEW;',
                    hash="17b43321eda1ae3685ab5ce6cf49027e258f5fe9",
                    operation="INSERT",
                    pgid="pgtrigger_mask_secrets_f33a7",
                    table="renewals_vendorevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.RunPython(scrub, migrations.RunPython.noop),
    ]
