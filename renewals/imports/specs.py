"""What each kind of import contains, how its rows are checked against the database, and how
the checked rows are written (set-based upserts keyed by natural keys, so a re-import of the
same file changes nothing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from org.selectors import department_matches
from renewals.imports.columns import Column
from renewals.imports.reader import Header
from renewals.inventory import rules

BILLING = {
    "monthly": "monthly", "月付": "monthly", "月": "monthly",
    "quarterly": "quarterly", "季付": "quarterly", "季": "quarterly",
    "annual": "annual", "yearly": "annual", "年付": "annual", "年": "annual",
    "multi_year": "multi_year", "multi-year": "multi_year", "多年": "multi_year",
    "perpetual": "perpetual", "永久": "perpetual", "买断": "perpetual",
}  # fmt: skip
# A category by its code, its English name or its Chinese name (the form's choices).
CATEGORY = {
    "project": "project", "project management": "project", "项目管理": "project",
    "项目与任务管理": "project",
    "documents": "documents", "文档": "documents", "文档与知识库": "documents",
    "design": "design", "设计": "design",
    "crm": "crm", "客户关系": "crm", "客户关系与销售": "crm", "销售": "crm",
    "communication": "communication", "沟通": "communication", "沟通与会议": "communication",
    "development": "development", "开发": "development", "软件开发": "development",
    "office": "office", "办公": "office", "办公套件": "office",
    "finance": "finance", "财务": "finance", "财务与会计": "finance",
    "hr": "hr", "人事": "hr",
    "security": "security", "安全": "security", "安全与 it": "security",
    "analytics": "analytics", "数据分析": "analytics", "bi": "analytics",
    "数据分析与 bi": "analytics",
    "other": "other", "其他": "other",
}  # fmt: skip
SUB_STATUS = {
    "active": "active", "使用中": "active", "有效": "active",
    "renewing": "renewing", "续费中": "renewing",
    "expired": "expired", "已过期": "expired",
    "cancelled": "cancelled", "canceled": "cancelled", "已取消": "cancelled",
}  # fmt: skip
PERSON_STATUS = {
    "active": "active", "在职": "active", "正式": "active", "试用": "active",
    "left": "left", "离职": "left", "已离职": "left", "resigned": "left", "terminated": "left",
}  # fmt: skip


def _sql_braces(sql: str) -> str:
    """SQL with its braces doubled, for a check's ``where`` (filled in with str.format)."""
    return sql.replace("{", "{{").replace("}", "}}")


def c(name: str, kind: str = "text", *aliases: str, **extra: Any) -> Column:
    return Column(name=name, kind=kind, aliases=aliases, **extra)


@dataclass(frozen=True)
class Check:
    """A row-level check against the database: rows matching ``where`` get ``code`` on ``column``."""

    column: str
    code: str
    where: str
    needs: tuple[str, ...] = ()  # only when these columns are in the file
    # Instead of ``where``: a whole query over the staged rows giving (line, value shown) of
    # the rows in error, for checks across rows (a seat count per subscription).
    query: str = ""


@dataclass(frozen=True)
class ImportSpec:
    kind: str
    columns: list[Column]
    key: tuple[str, ...]
    checks: list[Check] = field(default_factory=list)

    def column(self, name: str) -> Column:
        return next(col for col in self.columns if col.name == name)

    def cell(self, name: str) -> str:
        return self.column(name).cell

    def value(self, name: str) -> str:
        return self.column(name).value()


# Rows that name a department by its code or name: exactly one department must answer, and it
# must be one the importer may change.
_DEPARTMENT = department_matches("d", "{department}")
DEPARTMENT_CHECKS = (
    Check(
        "department",
        "unknown_department",
        f"NOT EXISTS (SELECT 1 FROM org_department d WHERE {_DEPARTMENT})",
    ),
    Check(
        "department",
        "ambiguous_department",
        f"(SELECT count(*) FROM org_department d WHERE {_DEPARTMENT}) > 1",
    ),
    Check(
        "department",
        "department_not_allowed",
        f"(SELECT count(*) FILTER (WHERE NOT d.id = ANY(%(depts)s)) = 1 AND count(*) = 1 "
        f"FROM org_department d WHERE {_DEPARTMENT})",
    ),
)

# Rows that name a subscription by its reference: it must exist and be one the importer may change.
SUBSCRIPTION_CHECKS = (
    Check(
        "subscription",
        "unknown_subscription",
        "NOT EXISTS (SELECT 1 FROM renewals_subscription x WHERE x.ref = {subscription})",
    ),
    Check(
        "subscription",
        "department_not_allowed",
        "EXISTS (SELECT 1 FROM renewals_subscription x WHERE x.ref = {subscription} "
        "AND NOT x.department_id = ANY(%(depts)s))",
    ),
)

# A whole number the checks may cast (at most nine digits: the format checks refuse the rest).
_WHOLE = "^[+]?[0-9]{{1,9}}$"

# ---------------------------------------------------------------------------------------------
SUBSCRIPTIONS = ImportSpec(
    kind="subscriptions",
    columns=[
        c("ref", "text", "reference", "编号", "订阅编号", max_length=30),
        c("vendor", "text", "供应商", "厂商", max_length=rules.VENDOR_NAME_MAX),
        c("product", "text", "产品", max_length=120),
        c("edition", "text", "plan", "版本", required=False, max_length=80),
        c("category", "choice", "类别", "分类", required=False, choices=CATEGORY),
        c("department", "text", "department_code", "部门", "部门编码", "部门名称", max_length=100),
        c("owner", "text", "负责人", required=False, max_length=150),
        c("seats", "int", "seats_purchased", "席位", "席位数", "账号数", max_value=rules.MAX_SEATS),
        c("unit_price", "decimal", "price", "单价"),
        c("currency", "currency", "币种", "货币", required=False),
        c("billing_cycle", "choice", "计费周期", "付费周期", required=False, choices=BILLING),
        c("term_start", "date", "start", "开始日期", "起始日期"),
        c("term_end", "date", "end", "结束日期", "到期日期", "到期日"),
        c("auto_renew", "bool", "自动续费", required=False),
        c(
            "notice_period_days",
            "int",
            "notice_days",
            "notice_period",
            "通知期",
            "提前通知天数",
            required=False,
            max_value=rules.MAX_NOTICE_DAYS,
        ),
        c("status", "choice", "状态", required=False, choices=SUB_STATUS),
        c("tags", "text", "标签", required=False, max_length=400),
        c("notes", "text", "备注", required=False, max_length=rules.TEXT_MAX),
        c("modules", "text", "模块", required=False, max_length=2000),
    ],
    key=("ref",),
    checks=[
        Check(
            "modules",
            "bad_module_list",
            r"EXISTS (SELECT 1 FROM regexp_split_to_table({modules}, '\s*[;；]\s*') m(item) "
            "WHERE btrim(m.item) <> '' AND btrim(m.item) !~ "
            + _sql_braces(f"'^[^=]{{1,{rules.MODULE_NAME_MAX}}}(={rules.price_pattern_sql()})?$')"),
            needs=("modules",),
        ),
        *DEPARTMENT_CHECKS,
        Check(
            "ref",
            "department_not_allowed",
            "EXISTS (SELECT 1 FROM renewals_subscription x WHERE x.ref = {ref} "
            "AND NOT x.department_id = ANY(%(depts)s))",
        ),
        Check(
            "owner",
            "unknown_user",
            "NOT EXISTS (SELECT 1 FROM org_user u WHERE u.username = {owner})",
            needs=("owner",),
        ),
        # The owner rule of the form and the API (renewals.inventory.rules.owner_sql).
        Check(
            "owner",
            "owner_outside",
            "EXISTS (SELECT 1 FROM org_user u JOIN org_department d ON "
            + department_matches("d", "{department}")
            + " WHERE u.username = {owner} AND NOT "
            + _sql_braces(rules.owner_sql("u", "d"))
            + ")",
            needs=("owner",),
        ),
        Check(
            "currency",
            "unknown_currency",
            "upper({currency}) <> %(base)s AND NOT EXISTS "
            "(SELECT 1 FROM renewals_currencyrate r WHERE r.currency = upper({currency}))",
            needs=("currency",),
        ),
        Check(
            "term_end",
            "end_before_start",
            "renewals_parse_date({term_end}) <= renewals_parse_date({term_start})",
        ),
        # The rules of renewals.inventory.rules the form and the API apply, in SQL: at least one
        # seat, a notice period shorter than the term.
        Check(
            "seats",
            "seats_too_few",
            f"CASE WHEN {{seats}} ~ '{_WHOLE}' THEN ltrim({{seats}}, '+')::bigint < 1 ELSE false END",
        ),
        Check(
            "notice_period_days",
            "notice_too_long",
            f"CASE WHEN {{notice_period_days}} ~ '{_WHOLE}' THEN ltrim({{notice_period_days}}, '+')::bigint "
            ">= renewals_parse_date({term_end}) - renewals_parse_date({term_start}) ELSE false END",
            needs=("notice_period_days",),
        ),
        Check(
            "product",
            "duplicate_product",
            "EXISTS (SELECT 1 FROM renewals_subscription x JOIN renewals_vendor v ON v.id = x.vendor_id "
            "JOIN org_department d ON d.id = x.department_id "
            f"WHERE {rules.vendor_key_sql('v.name')} = {rules.vendor_key_sql('{vendor}')} "
            f"AND x.product = {{product}} AND {_DEPARTMENT} AND x.ref <> {{ref}})",
        ),
    ],
)

PEOPLE = ImportSpec(
    kind="people",
    columns=[
        c("employee_no", "text", "employee_number", "工号", "员工编号", max_length=40),
        c("name", "text", "姓名", max_length=100),
        c("email", "email", "e_mail", "邮箱", "电子邮箱", required=False, max_length=254),
        c("department", "text", "department_code", "部门", "部门编码", "部门名称", max_length=100),
        c("status", "choice", "状态", "在职状态", required=False, choices=PERSON_STATUS),
        c("left_on", "date", "leaving_date", "离职日期", required=False),
    ],
    key=("employee_no",),
    checks=[
        *DEPARTMENT_CHECKS,
        Check(
            "employee_no",
            "person_not_allowed",
            "EXISTS (SELECT 1 FROM org_person p WHERE p.employee_no = {employee_no} "
            "AND NOT p.department_id = ANY(%(depts)s))",
        ),
        Check("status", "left_needs_date", "{status_value} = 'left' AND {left_on} IS NULL"),
    ],
)

# The rows that would give a subscription more active seats than it has purchased (the
# database's seat-limit trigger would refuse the whole commit): per subscription, the rows that
# add an active seat (a new one, or a revoked one made active again) beyond the free seats (the
# purchased ones less the active ones, plus those the file revokes), in file order. The value
# shown is the number of free seats.
SEAT_LIMIT_QUERY = (
    "WITH r AS (SELECT s.line, x.id AS sub, x.seats_purchased AS bought, "
    "st.id IS NOT NULL AND st.revoked_on IS NULL AS was_active, "
    "CASE WHEN {has_revoked_on} THEN {revoked_on_value} IS NULL "
    "ELSE st.revoked_on IS NULL END AS will_be_active "
    "FROM import_stage s JOIN renewals_subscription x ON x.ref = {subscription} "
    "JOIN org_person p ON p.employee_no = {employee_no} "
    "LEFT JOIN renewals_seat st ON st.subscription_id = x.id AND st.person_id = p.id "
    "AND st.assigned_on = {assigned_on_value}), "
    "f AS (SELECT sub, bought - (SELECT count(*) FROM renewals_seat a WHERE a.subscription_id = sub "
    "AND a.revoked_on IS NULL) + count(*) FILTER (WHERE was_active AND NOT will_be_active) AS free "
    "FROM r GROUP BY sub, bought), "
    "a AS (SELECT r.line, f.free, row_number() OVER (PARTITION BY r.sub ORDER BY r.line) AS n "
    "FROM r JOIN f ON f.sub = r.sub WHERE r.will_be_active AND NOT r.was_active) "
    "SELECT line, greatest(free, 0)::text FROM a WHERE n > free"
)

SEATS = ImportSpec(
    kind="seats",
    columns=[
        c("subscription", "text", "subscription_ref", "ref", "订阅编号", "订阅", max_length=30),
        c("employee_no", "text", "工号", "员工编号", max_length=40),
        c("account", "text", "login", "账号", required=False, max_length=150),
        c("modules", "text", "模块", required=False, max_length=1000),
        c("assigned_on", "date", "分配日期", "开通日期"),
        c("revoked_on", "date", "回收日期", "停用日期", required=False),
        c("last_active_on", "date", "last_active", "最近活跃", "最后活跃日期", required=False),
    ],
    key=("subscription", "employee_no", "assigned_on"),
    checks=[
        *SUBSCRIPTION_CHECKS,
        Check(
            "employee_no",
            "unknown_person",
            "NOT EXISTS (SELECT 1 FROM org_person p WHERE p.employee_no = {employee_no})",
        ),
        Check(
            "modules",
            "unknown_module",
            "EXISTS (SELECT 1 FROM regexp_split_to_table({modules}, '\\s*[;,；，]\\s*') m(name) "
            "WHERE btrim(m.name) <> '' AND NOT EXISTS (SELECT 1 FROM renewals_module mo "
            "JOIN renewals_subscription x ON x.id = mo.subscription_id "
            "WHERE x.ref = {subscription} AND mo.name = btrim(m.name)))",
            needs=("modules",),
        ),
        Check(
            "revoked_on",
            "revoked_before_assigned",
            "renewals_parse_date({revoked_on}) < renewals_parse_date({assigned_on})",
            needs=("revoked_on",),
        ),
        Check("employee_no", "seat_limit", "", query=SEAT_LIMIT_QUERY),
        Check(
            "employee_no",
            "already_holds_seat",
            "{revoked_on_value} IS NULL AND EXISTS (SELECT 1 FROM renewals_seat st "
            "JOIN renewals_subscription x ON x.id = st.subscription_id "
            "JOIN org_person p ON p.id = st.person_id WHERE x.ref = {subscription} "
            "AND p.employee_no = {employee_no} AND st.revoked_on IS NULL "
            "AND st.assigned_on <> renewals_parse_date({assigned_on}))",
        ),
    ],
)

USAGE = ImportSpec(
    kind="usage",
    columns=[
        c("subscription", "text", "subscription_ref", "ref", "订阅编号", "订阅", max_length=30),
        c("module", "text", "模块", required=False, max_length=80),
        c("month", "month", "月份"),
        c("active_users", "int", "active", "活跃用户", "活跃用户数"),
        c("tasks_created", "int", "新建任务", "创建任务数", required=False),
        c("tasks_completed", "int", "完成任务", "完成任务数", required=False),
    ],
    key=("subscription", "module", "month"),
    checks=[
        *SUBSCRIPTION_CHECKS,
        Check(
            "module",
            "unknown_module",
            "{module} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM renewals_module mo "
            "JOIN renewals_subscription x ON x.id = mo.subscription_id "
            "WHERE x.ref = {subscription} AND mo.name = {module})",
            needs=("module",),
        ),
    ],
)

ACTIVITY = ImportSpec(
    kind="activity",
    columns=[
        c("subscription", "text", "subscription_ref", "ref", "订阅编号", "订阅", max_length=30),
        c("account", "text", "employee_no", "email", "login", "账号", "工号", max_length=254),
        c("last_active_on", "date", "last_active", "最近活跃", "最后活跃日期"),
    ],
    key=("subscription", "account"),
    checks=[
        *SUBSCRIPTION_CHECKS,
        Check("account", "unknown_seat", "NOT EXISTS (" + "{seat_match}" + ")"),
    ],
)

SPECS: dict[str, ImportSpec] = {
    spec.kind: spec for spec in (SUBSCRIPTIONS, PEOPLE, SEATS, USAGE, ACTIVITY)
}

# The active seats (column ``id``) an activity row refers to: by employee number, e-mail or the
# tool's login, whichever matches; the same seats as a join of seat and person on
# "p.employee_no = … OR lower(p.email) = … OR st.account = …". That OR across two tables could
# use no index, and on rows without statistics (a test's transaction, the demo seeding) the
# planner tested every seat and person against every staged row (test runs stalled 90 s). Three
# lookups joined by UNION, which PostgreSQL runs row by row (it cannot merge a UNION into the
# outer query), each on indexes whatever the statistics: the subscription by its reference, the
# person by employee number (unique) or lower-cased e-mail (person_email_lower_idx), then that
# subscription's active seats. UNION lists each seat once, as the join did.
_ACTIVE_SEAT = (
    "SELECT st.id FROM renewals_seat st WHERE st.revoked_on IS NULL AND st.subscription_id = "
    "(SELECT x.id FROM renewals_subscription x WHERE x.ref = {subscription}) AND "
)
SEAT_MATCH = " UNION ".join(
    (
        _ACTIVE_SEAT
        + "st.person_id = (SELECT p.id FROM org_person p WHERE p.employee_no = {account})",
        _ACTIVE_SEAT + "st.person_id = ANY (ARRAY(SELECT p.id FROM org_person p "
        "WHERE lower(p.email) = lower({account})))",
        _ACTIVE_SEAT + "st.account = {account}",
    )
)


def render(spec: ImportSpec, sql: str, header: Header) -> str:
    """Fill ``{column}`` (cell text), ``{column_value}`` (typed value) and helpers into ``sql``."""
    names: dict[str, str] = {}
    for col in spec.columns:
        present = col.name in header.present
        names[col.name] = col.cell if present else "NULL"
        names[f"{col.name}_value"] = col.value() if present else "NULL"
        names[f"has_{col.name}"] = "true" if present else "false"
    names["seat_match"] = SEAT_MATCH.format(**names) if spec.kind == "activity" else ""
    return sql.format(**names)
