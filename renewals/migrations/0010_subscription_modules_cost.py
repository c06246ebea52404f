"""Each subscription's modules cost per billing period, stored and kept by the database.

``Subscription.modules_cost`` = the sum over its priced modules of unit price × licensed seats
(the subscription's seats when a module's licensed seats are empty), in the subscription's
currency, per billing period: the definition ``selectors.money`` summed per row before. Sorting
the list by yearly cost now reads a column instead of summing every row's modules.

Who keeps it: PostgreSQL, so that services, imports (set-based SQL), the admin and raw SQL all
keep it right without remembering to.
- A BEFORE INSERT OR UPDATE row trigger on the subscription recomputes it from the modules on
  every write of the row (a changed seat count changes modules without licensed seats; a value
  written by hand is overwritten).
- AFTER statement triggers on the module table (INSERT, UPDATE, DELETE; transition tables, so a
  bulk import costs one statement) update the subscriptions concerned, which fires the row
  trigger above; TRUNCATE of the modules sets every cost to 0.

Concurrency: the module triggers lock the subscriptions in id order (FOR NO KEY UPDATE, which
does not wait for foreign-key checks or the usage import's FOR KEY SHARE) before updating them;
the row trigger is VOLATILE plpgsql, so under READ COMMITTED its query takes a fresh snapshot
after the row lock is held and sees every module change committed before. Two transactions
changing one subscription's modules thus queue on its row, and the later one's sum includes
the earlier one's modules.
"""

from decimal import Decimal

from django.db import migrations, models

SQL = """
LOCK TABLE renewals_module IN SHARE ROW EXCLUSIVE MODE;

CREATE OR REPLACE FUNCTION renewals_subscription_modules_cost() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.modules_cost := (
        SELECT COALESCE(SUM(m.unit_price * COALESCE(m.licensed_seats, NEW.seats_purchased)), 0)
        FROM renewals_module m
        WHERE m.subscription_id = NEW.id AND m.unit_price IS NOT NULL
    );
    RETURN NEW;
END $$;

CREATE TRIGGER renewals_subscription_modules_cost
BEFORE INSERT OR UPDATE ON renewals_subscription
FOR EACH ROW EXECUTE FUNCTION renewals_subscription_modules_cost();

-- After a statement on the modules: the subscriptions they belong (or belonged) to, locked in
-- id order, then updated so that the row trigger above recomputes their modules_cost.
CREATE OR REPLACE FUNCTION renewals_module_refresh_costs() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM renewals_subscription s
    WHERE s.id IN (SELECT c.subscription_id FROM renewals_module_changed c)
    ORDER BY s.id
    FOR NO KEY UPDATE;
    UPDATE renewals_subscription s SET modules_cost = s.modules_cost
    WHERE s.id IN (SELECT c.subscription_id FROM renewals_module_changed c);
    RETURN NULL;
END $$;

CREATE TRIGGER renewals_module_cost_insert
AFTER INSERT ON renewals_module
REFERENCING NEW TABLE AS renewals_module_changed
FOR EACH STATEMENT EXECUTE FUNCTION renewals_module_refresh_costs();

CREATE TRIGGER renewals_module_cost_delete
AFTER DELETE ON renewals_module
REFERENCING OLD TABLE AS renewals_module_changed
FOR EACH STATEMENT EXECUTE FUNCTION renewals_module_refresh_costs();

-- An update may move a module to another subscription: both the old and the new one.
CREATE OR REPLACE FUNCTION renewals_module_refresh_costs_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM renewals_subscription s
    WHERE s.id IN (SELECT o.subscription_id FROM renewals_module_before o
                   UNION SELECT n.subscription_id FROM renewals_module_after n)
    ORDER BY s.id
    FOR NO KEY UPDATE;
    UPDATE renewals_subscription s SET modules_cost = s.modules_cost
    WHERE s.id IN (SELECT o.subscription_id FROM renewals_module_before o
                   UNION SELECT n.subscription_id FROM renewals_module_after n);
    RETURN NULL;
END $$;

CREATE TRIGGER renewals_module_cost_update
AFTER UPDATE ON renewals_module
REFERENCING OLD TABLE AS renewals_module_before NEW TABLE AS renewals_module_after
FOR EACH STATEMENT EXECUTE FUNCTION renewals_module_refresh_costs_update();

CREATE OR REPLACE FUNCTION renewals_module_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE renewals_subscription SET modules_cost = 0 WHERE modules_cost <> 0;
    RETURN NULL;
END $$;

CREATE TRIGGER renewals_module_cost_truncate
AFTER TRUNCATE ON renewals_module
FOR EACH STATEMENT EXECUTE FUNCTION renewals_module_truncated();

-- Backfill: every subscription with a priced module (the row trigger computes the sum).
UPDATE renewals_subscription s SET modules_cost = s.modules_cost
WHERE EXISTS (SELECT 1 FROM renewals_module m
              WHERE m.subscription_id = s.id AND m.unit_price IS NOT NULL);
"""

REVERSE_SQL = """
DROP TRIGGER IF EXISTS renewals_module_cost_truncate ON renewals_module;
DROP TRIGGER IF EXISTS renewals_module_cost_update ON renewals_module;
DROP TRIGGER IF EXISTS renewals_module_cost_delete ON renewals_module;
DROP TRIGGER IF EXISTS renewals_module_cost_insert ON renewals_module;
DROP TRIGGER IF EXISTS renewals_subscription_modules_cost ON renewals_subscription;
DROP FUNCTION IF EXISTS renewals_module_truncated();
DROP FUNCTION IF EXISTS renewals_module_refresh_costs_update();
DROP FUNCTION IF EXISTS renewals_module_refresh_costs();
DROP FUNCTION IF EXISTS renewals_subscription_modules_cost();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("renewals", "0009_reports_risks_cleanup"),
    ]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="modules_cost",
            field=models.DecimalField(
                db_default=Decimal("0"),
                decimal_places=2,
                default=Decimal("0"),
                editable=False,
                help_text="Per billing period, in the subscription's currency; kept by the database.",
                max_digits=24,
                verbose_name="modules per period",
            ),
        ),
        migrations.RunSQL(SQL, REVERSE_SQL),
    ]
