"""Deterministic demo organisation: a mid-sized Chinese software company.

Used by ``manage.py seed_demo`` (start-up) and by ``bench/generate.py`` (larger, same shapes).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁琳晨欣怡雪婷倩颖佳琪思雨涵梦瑶子轩博文浩然一鸣晓东海峰志强建国"
# Demo e-mail domain: reserved-style, never a real company.
EMAIL_DOMAIN = "demo-corp.example"


@dataclass(frozen=True)
class DemoDepartment:
    code: str
    name: str
    parent: str | None
    headcount: int


DEPARTMENTS = [
    DemoDepartment("hq", "总经办", None, 8),
    DemoDepartment("rd", "研发中心", None, 40),
    DemoDepartment("rd-qa", "测试部", "rd", 14),
    DemoDepartment("pmo", "项目管理办公室", None, 10),
    DemoDepartment("mkt", "市场部", None, 18),
    DemoDepartment("sales", "销售部", None, 26),
    DemoDepartment("fin", "财务部", None, 10),
    DemoDepartment("hr", "人力资源部", None, 8),
    DemoDepartment("it", "信息技术部", None, 16),
]


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    roles: tuple[str, ...]
    department: str
    heads: tuple[str, ...] = ()
    administers: tuple[str, ...] = ()
    # Signs in to *Administration* (Django's admin) with its model permissions. Not a superuser:
    # a superuser would hold every role, finance's final approval included.
    staff: bool = False


USERS = [
    DemoUser("admin", "王强", ("it_admin",), "it", staff=True),
    DemoUser("finance", "李娜", ("finance",), "fin"),
    DemoUser("head_rd", "张伟", ("department_head",), "rd", heads=("rd",)),
    DemoUser("head_mkt", "刘洋", ("department_head",), "mkt", heads=("mkt",)),
    DemoUser("swadmin_rd", "陈静", ("software_admin",), "rd", administers=("rd",)),
    DemoUser("auditor", "赵敏", ("auditor",), "fin"),
    DemoUser("legal", "孙悦", ("legal",), "hq"),
    DemoUser("employee", "周杰", (), "sales"),
]


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    return rng.choice(SURNAMES) + given


@dataclass(frozen=True)
class DemoPerson:
    employee_no: str
    name: str
    email: str
    department: str
    status: str
    left_on: dt.date | None


def people_for(
    department_code: str, start_no: int, count: int, rng: random.Random, today: dt.date
) -> list[DemoPerson]:
    """``count`` people for one department; about 1 in 30 has left in the last year."""
    rows = []
    for i in range(count):
        no = start_no + i
        left = rng.random() < 1 / 30
        rows.append(
            DemoPerson(
                employee_no=f"E{no:05d}",
                name=person_name(rng),
                email=f"e{no:05d}@{EMAIL_DOMAIN}",
                department=department_code,
                status="left" if left else "active",
                left_on=today - dt.timedelta(days=rng.randint(5, 330)) if left else None,
            )
        )
    return rows
