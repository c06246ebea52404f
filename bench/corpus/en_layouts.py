"""The English layouts (en_msa, en_order) and their filler clauses."""

from __future__ import annotations

from typing import Any

from bench.corpus.en_writer import EnWriter, en_n
from bench.corpus.words import Marks, Words, _fill, _order, grouped

EN_FILLERS: list[tuple[str, list[str]]] = [
    ("Definitions", [
        '"Authorized User" means an employee or contractor of {C} whom {C} has authorised to use the Service.',
        '"{C} Data" means all data, content and information submitted to the Service by or on behalf of {C}.',
        '"Documentation" means the user guides and specifications for the Service that {V} makes available online.',
        '"Service" means the hosted software service described in the applicable order, including any updates {V} makes generally available.',
    ]),
    ("Support and Service Levels", [
        "{V} shall use commercially reasonable efforts to make the Service available 99.9% of the time in each calendar month, excluding scheduled maintenance.",
        "{V} will respond to Severity 1 incidents within one (1) hour and to Severity 2 incidents within four (4) hours during the support hours stated in the Documentation.",
        "If monthly availability falls below 99.9%, {C} is entitled to a service credit of 5% of the monthly Fees for each full 1% shortfall, up to 25% of the monthly Fees.",
    ]),
    ("{C} Responsibilities", [
        "{C} is responsible for all activity occurring under its accounts and shall keep its login credentials confidential.",
        "{C} shall not (a) sell, resell, license or sublicense the Service, (b) reverse engineer the Service, or (c) use the Service to store or transmit malicious code.",
        "{C} shall notify {V} promptly of any unauthorised use of any password or account.",
    ]),
    ("Confidentiality", [
        "Each party shall hold the other party's Confidential Information in confidence and shall not disclose it to any third party except to its employees and advisers who need to know it.",
        "The obligations in this Section shall survive for a period of three (3) years following termination or expiration of this Agreement.",
        "Confidential Information does not include information that is or becomes publicly available through no fault of the receiving party.",
    ]),
    ("Intellectual Property", [
        "{V} and its licensors retain all right, title and interest in and to the Service and the Documentation, including all intellectual property rights therein.",
        "{C} retains all rights in {C} Data. {C} grants {V} a limited licence to host and process {C} Data solely to provide the Service.",
    ]),
    ("Warranties", [
        "{V} warrants that the Service will perform materially in accordance with the Documentation for ninety (90) days from the start of the Subscription Term.",
        "EXCEPT AS EXPRESSLY PROVIDED IN THIS AGREEMENT, THE SERVICE IS PROVIDED \"AS IS\" AND EACH PARTY DISCLAIMS ALL OTHER WARRANTIES, EXPRESS OR IMPLIED.",
    ]),
    ("Indemnification", [
        "{V} shall defend {C} against any claim by a third party alleging that the Service infringes that third party's intellectual property rights, and shall pay any damages finally awarded.",
        "{C} shall promptly notify {V} of any such claim and give {V} sole control of its defence and settlement.",
    ]),
    ("Limitation of Liability", [
        "IN NO EVENT SHALL EITHER PARTY'S AGGREGATE LIABILITY ARISING OUT OF THIS AGREEMENT EXCEED THE TOTAL FEES PAID BY {C} IN THE TWELVE (12) MONTHS PRECEDING THE EVENT GIVING RISE TO THE CLAIM.",
        "Neither party shall be liable for any indirect, incidental, special or consequential damages, or for loss of profits or revenues.",
    ]),
    ("Force Majeure", [
        "Neither party shall be liable for any failure or delay in performance caused by events beyond its reasonable control, including natural disasters, war, epidemics or failures of public networks.",
        "The affected party shall notify the other party within ten (10) days of the occurrence of such an event.",
    ]),
    ("Audit", [
        "{V} may, no more than once in any twelve (12) month period and on reasonable notice, verify {C}'s compliance with the usage limits of this Agreement.",
    ]),
    ("Anti-Corruption and Export Control", [
        "Each party shall comply with all applicable anti-bribery and anti-corruption laws and shall not offer or accept any improper payment in connection with this Agreement.",
        "{C} shall not permit any Authorized User to access the Service in violation of applicable export control or sanctions laws.",
    ]),
    ("General", [
        "Neither party may assign this Agreement without the prior written consent of the other party, except in connection with a merger or sale of substantially all of its assets.",
        "This Agreement constitutes the entire agreement between the parties and supersedes all prior agreements relating to its subject matter. It may be executed in counterparts.",
        "Notices shall be in writing and delivered by hand, courier or e-mail to the addresses set out above.",
    ]),
]  # fmt: skip


def _en_section(number: int, title: str, paragraphs: list[str], C: str, V: str) -> str:
    out = [f"<h2>{number}. {_fill(title, C, V)}</h2>"]
    for j, p in enumerate(paragraphs, 1):
        p = _fill(p, C, V)
        if not p.startswith("<p>"):
            p = f"<p>{p}</p>"
        out.append(p.replace("<p>", f"<p>{number}.{j} ", 1))
    return "".join(out)


def en_msa(t: dict[str, Any], w: Words, m: Marks, fillers: int) -> tuple[str, str]:
    e = EnWriter(t, w, m)
    title = w.pick(
        "title",
        [
            "SOFTWARE SUBSCRIPTION AGREEMENT",
            "SAAS SUBSCRIPTION AGREEMENT",
            "CLOUD SERVICES AGREEMENT",
            "SUBSCRIPTION SERVICES AGREEMENT",
        ],
    )
    schedule = w.chance("schedule", 0.4)
    fillers_all = _order(
        w, "fillers", [f for f in EN_FILLERS if f[0] not in ("Definitions", "General")]
    )
    chosen = fillers_all[:fillers]
    sections: list[tuple[str, list[str]]] = [next(f for f in EN_FILLERS if f[0] == "Definitions")]
    sections.append(("Subscription and Access", [e.seats_sentence()]))
    fees = e.fees()
    if schedule:
        sections.append(
            (
                "Fees and Payment",
                [
                    f"{e.C} shall pay the Fees set out in Schedule 1. All amounts are stated and payable in the currency shown there.",
                    fees[-1],
                ],
            )
        )
    else:
        sections.append(("Fees and Payment", fees))
    sections += chosen[: len(chosen) // 2]
    data_title = "Data Protection and Security" if t["personal_info"] else "Data Security"
    sections.append((data_title, e.data()))
    sections += chosen[len(chosen) // 2 :]
    term_section = [e.period(), *e.renewal(), *e.termination(), *e.exit()]
    term_section.append(
        "Provisions of this Agreement which by their nature should survive termination shall survive any termination or expiration of this Agreement."
    )
    sections.append(("Term and Termination", term_section))
    general = next(f for f in EN_FILLERS if f[0] == "General")
    sections.append(("General", [e.governing_law(), *general[1]]))
    parts = [f"<h1>{title}</h1>"]
    if t["number"]:
        label = w.pick("number-label", ["Agreement No.", "Contract No.", "Agreement Number"])
        parts.append(f'<p class="right">{label}: {m("number", t["number"])}</p>')
    parts.append(e.parties())
    parts.append("<p>The parties agree as follows:</p>")
    for i, (head, paragraphs) in enumerate(sections, 1):
        parts.append(_en_section(i, head, paragraphs, e.C, e.V))
    parts.append(e.signature())
    if schedule:
        rows = fees[:-1]
        parts.append('<h2 class="break">Schedule 1 – Fees</h2>')
        parts.append(
            '<table class="grid terms"><tr><th class="h">Product</th><th class="h">Edition</th><th class="h">Term</th></tr>'
            f"<tr><td>{t['product']}</td><td>{t['edition']}</td><td>As set out in Section {len(sections) - 1}</td></tr></table>"
        )
        parts += rows
    return title, "".join(parts)


def en_order(t: dict[str, Any], w: Words, m: Marks, fillers: int) -> tuple[str, str]:
    e = EnWriter(t, w, m)
    title = w.pick("title", ["ORDER FORM", "SUBSCRIPTION ORDER FORM", "SERVICE ORDER FORM"])
    rows: list[tuple[str, str]] = []
    if t["number"]:
        rows.append(("Order Form No.", m("number", t["number"])))
    rows.append((e.C, m("customer", t["customer"])))
    rows.append((f"{e.C} Address", t["customer_address"]))
    rows.append((e.V, m("vendor", t["vendor"])))
    if t["valid_from"]:
        rows.append(("Subscription Start Date", m("valid_from", e.date(t["valid_from"]))))
    if t["valid_to"]:
        rows.append(("Subscription End Date", m("valid_to", e.date(t["valid_to"]))))
    if t["term_months"]:
        rows.append(
            ("Subscription Term", m("term_months", e.term_words(t["term_months"], "term-cell")))
        )
    if t["billing_cycle"]:
        cell = {
            "annual": "Annually in advance",
            "one_off": "One-time, upfront",
            "quarterly": "Quarterly in advance",
            "monthly": "Monthly",
        }[t["billing_cycle"]]
        rows.append(("Billing Frequency", m("billing_cycle", cell)))
    if t["payment_terms"] is not None:
        cell = (
            "Payable in advance"
            if t["payment_terms"] == 0
            else w.pick("net", [f"Net {t['payment_terms']}", f"Net {t['payment_terms']} days"])
        )
        rows.append(("Payment Terms", m("payment_terms", cell)))
    if t["auto_renew"] is not None:
        if t["auto_renew"] and t["notice_days"]:
            cell = f"{m('auto_renew', 'Yes')} – renews for successive periods of {e.term_words(t['renewal_months'], 'renewal-words')} unless either party gives at least {m('notice_days', en_n(w, 'notice-n', t['notice_days']))} days' written notice of non-renewal"
        else:
            cell = m("auto_renew", "Yes" if t["auto_renew"] else "No")
        rows.append(("Auto-Renewal", cell))
    if t["price_cap"] is not None:
        rows.append(
            (
                "Renewal Price Cap",
                f"Increase of no more than {m('price_cap', e.percent(t['price_cap'], 'cap-form'))} per renewal term",
            )
        )
    if t["list_price"]:
        rows.append(("Renewal Pricing", m("list_price", f"{e.V}'s then-current list price")))
    if t["data_location"]:
        rows.append(("Data Hosting Region", m("data_location", e.location_words())))
    key_terms = "".join(f"<tr><th>{a}</th><td>{b}</td></tr>" for a, b in rows)
    seats = m("seats", str(t["seats"])) if t["seats"] else "Enterprise-wide"
    unit = f"{t['currency']} {grouped(t['unit_price'])}" if t["unit_price"] is not None else "—"
    total = m("amount", e.amount_text()) + e.tax_text() if t["amount"] is not None else "As quoted"
    label = "Annual Fee" if t["amount_basis"] == "annual" else "Total Fees"
    lines = (
        '<table class="grid lines"><col style="width:34%"><col style="width:18%">'
        '<col style="width:18%"><col style="width:30%"><tr><th class="h">Product</th><th class="h">Edition</th>'
        '<th class="h">Quantity (users)</th><th class="h">Unit Price / user / year</th></tr>'
        f"<tr><td>{t['product']}</td><td>{t['edition']}</td><td>{seats}</td><td>{unit}</td></tr>"
        f'<tr><th colspan="3">{label}</th><td>{total}</td></tr></table>'
    )
    clauses = [*e.data(), *e.termination(), *e.exit()]
    pool = _order(w, "fillers", [f for f in EN_FILLERS if f[0] not in ("Definitions", "General")])[
        :fillers
    ]
    sections = [
        ("Order Terms", clauses),
        *pool,
        ("General", [e.governing_law(), *EN_FILLERS[-1][1]]),
    ]
    parts = [
        f"<h1>{title}</h1>",
        f"<p>This Order Form is entered into between the {e.V} and the {e.C} named below and is governed by {e.V}'s Master Subscription Agreement and the terms below.</p>",
        f'<table class="grid terms">{key_terms}</table>',
        "<h2>Products and Fees</h2>",
        lines,
        "<h2>Terms and Conditions</h2>",
    ]
    for i, (head, paragraphs) in enumerate(sections, 1):
        parts.append(_en_section(i, head, paragraphs, e.C, e.V))
    parts.append(e.signature())
    return title, "".join(parts)
