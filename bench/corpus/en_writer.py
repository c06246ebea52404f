"""English wording: en_n and EnWriter, which writes one contract's clauses with the mentions
marked."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from bench.corpus.words import Marks, Words, _person_en, en_date, en_words, grouped


def en_n(w: Words, key: str, value: int) -> str:
    return w.pick(key, [f"{en_words(value)} ({value})", str(value), f"{en_words(value)} ({value})"])


class EnWriter:
    """English clauses for one contract."""

    def __init__(self, t: dict[str, Any], w: Words, m: Marks) -> None:
        self.t, self.w, self.m = t, w, m
        self.V = w.pick("vendor-label", ["Provider", "Licensor", "Vendor", "Supplier"])
        self.C = w.pick("customer-label", ["Customer", "Customer", "Licensee", "Subscriber"])
        self.date_style = w.pick("date_style", [0, 0, 0, 1, 1, 2, 3])

    def date(self, day: dt.date) -> str:
        return en_date(day, self.date_style)

    def term_words(self, months: int, key: str) -> str:
        years = months // 12
        return self.w.pick(
            key,
            [f"{en_words(months)} ({months}) months",
             f"{en_words(years)} ({years}) year{'s' if years > 1 else ''}", f"{months} months"],
        )  # fmt: skip

    def percent(self, value: Decimal, key: str) -> str:
        plain = f"{value.normalize():f}"
        if "." in plain:
            return f"{plain}%"
        return self.w.pick(
            key, [f"{en_words(int(value))} percent ({plain}%)", f"{plain}%", f"{plain} percent"]
        )

    def amount_text(self) -> str:
        value, currency = self.t["amount_value"], self.t["currency"]
        whole = value == value.to_integral()
        g0 = grouped(value, 0 if whole else 2)
        forms = {
            "USD": [
                f"USD {grouped(value)}",
                f"US${g0}",
                f"${grouped(value)} (US dollars)",
                f"USD {g0}",
            ],
            "CNY": [f"RMB {g0}", f"CNY {grouped(value)}", f"RMB {grouped(value)}"],
            "EUR": [f"EUR {grouped(value)}", f"€{grouped(value)}", f"EUR {g0}"],
            "SGD": [f"SGD {grouped(value)}", f"S${g0}"],
        }[currency]
        return self.w.pick("amount-form", forms)

    def tax_text(self) -> str:
        included, rate = self.t["tax_included"], self.t["tax_rate"]
        if included is None:
            return ""
        if included:
            return self.w.pick(
                "tax",
                [
                    f" (inclusive of {rate}% VAT)",
                    ", inclusive of all applicable taxes",
                    " (tax inclusive)",
                ],
            )
        return self.w.pick(
            "tax",
            [" (exclusive of VAT)", ", exclusive of all applicable taxes", " (excluding taxes)"],
        )

    def parties(self) -> str:
        t, m, V, C = self.t, self.m, self.V, self.C
        made = ""
        if t["signed_on"] and t["signed_style"] in ("header", "both"):
            made = f" on {m('signed_on', self.date(t['signed_on']))}"
        vendor = m("vendor", t["vendor"])
        customer = m("customer", t["customer"])
        title = self.w.pick(
            "agreement-name",
            [
                "Software Subscription Agreement",
                "Subscription Agreement",
                "SaaS Services Agreement",
            ],
        )
        if self.w.chance("parties-list", 0.5):
            return (
                f'<p>This {title} (this "Agreement") is made{made} by and between {vendor}, '
                f"{t['vendor_incorporation']}, with its principal office at {t['vendor_address']} "
                f'("{V}"), and {customer}, a company incorporated in {t["customer_place"]} with its '
                f'registered office at {t["customer_address"]} ("{C}").</p>'
            )
        dated = f"<p><b>THIS AGREEMENT</b> is dated {made[4:]}.</p>" if made else ""
        return (
            f"{dated}<p><b>PARTIES</b></p>"
            f"<p>(1) {vendor}, {t['vendor_incorporation']}, whose principal office is at "
            f'{t["vendor_address"]} ("{V}"); and</p>'
            f"<p>(2) {customer}, a company incorporated in {t['customer_place']}, whose registered "
            f'office is at {t["customer_address"]} ("{C}").</p>'
        )

    def seats_sentence(self) -> str:
        t, m, C = self.t, self.m, self.C
        seats = t["seats"]
        product = f"{t['product']} ({t['edition']} Edition)"
        if seats is None:
            return f"<p>{self.V} grants {C} a non-exclusive, non-transferable right to access and use {product} during the Subscription Term for its internal business purposes.</p>"
        options = [
            f"{self.V} grants {C} a non-exclusive, non-transferable right to access and use {product} during the Subscription Term. {C} may permit up to {m('seats', f'{seats} Authorized Users')} to use the Service.",
            f"{C} has purchased {m('seats', f'{seats} named user subscriptions')} to {product}. Each subscription may be used by one individual only and may not be shared.",
            f"The subscription covers {m('seats', f'{seats} seats')} of {product}. Additional seats may be added at any time by a further order.",
        ]
        return f"<p>{self.w.pick('seats', options)}</p>"

    def period(self) -> str:
        t, m, V = self.t, self.m, self.V
        style = t["period_style"]
        if style == "none":
            return f"<p>The Subscription Term begins on the date {V} makes the Service available to {self.C}.</p>"
        start = m("valid_from", self.date(t["valid_from"])) if t["valid_from"] else ""
        end = m("valid_to", self.date(t["valid_to"])) if t["valid_to"] else ""
        if style == "both":
            term = m("term_months", self.term_words(t["term_months"], "term"))
            options = [
                f'The initial subscription term shall commence on {start} and continue for a period of {term}, ending on {end} (the "Initial Term").',
                f"{V} will provide the Service for an initial term of {term}, from {start} to {end}.",
            ]
            return f"<p>{self.w.pick('period-both', options)}</p>"
        if style == "dates":
            options = [
                f"This Agreement is effective from {start} until {end}, unless terminated earlier in accordance with its terms.",
                f'The Subscription Term begins on {start} and ends on {end} (the "Initial Term").',
            ]
            return f"<p>{self.w.pick('period-dates', options)}</p>"
        term = m("term_months", self.term_words(t["term_months"], "term"))
        return f'<p>The initial Subscription Term is {term}, commencing on {start} (the "Initial Term").</p>'

    def billing_text(self) -> str:
        cycle = self.t["billing_cycle"]
        if cycle is None:
            return ""
        options = {
            "annual": ["Fees are invoiced annually in advance", f"{self.V} will invoice {self.C} annually"],
            "one_off": ["Fees are invoiced in full upon execution of this Agreement", "Fees are billed as a single one-time charge"],
            "quarterly": ["Fees are invoiced quarterly in advance", f"{self.V} will invoice the Fees quarterly"],
            "monthly": ["Fees are billed monthly", f"{self.V} will invoice {self.C} monthly in arrears"],
        }[cycle]  # fmt: skip
        return self.m("billing_cycle", self.w.pick("billing", options))

    def payment_text(self, joined: bool) -> str:
        days = self.t["payment_terms"]
        if days is None:
            return ""
        if days == 0:
            options = [
                "payable in full in advance",
                "payable in advance before the Service is made available",
            ]
            if self.t["billing_cycle"] not in (None, "one_off"):
                options = ["payable in advance of each billing period", "payable in advance"]
            text = self.w.pick("payment0", options)
            return self.m("payment_terms", text if joined else f"All Fees are {text}")
        n = en_n(self.w, "pay-n", days)
        options = [
            f"payable within {n} days of the invoice date",
            f"payable net {days} days from the date of invoice",
            f"due within {n} days after {self.C} receives the invoice",
        ]
        text = self.w.pick("payment", options)
        return self.m("payment_terms", text if joined else f"Each invoice is {text}")

    def fees(self) -> list[str]:
        t, m, C, V = self.t, self.m, self.C, self.V
        out = []
        if t["amount"] is not None:
            amount = m("amount", self.amount_text())
            tax = self.tax_text()
            if t["amount_basis"] == "annual":
                sentence = self.w.pick(
                    "annual",
                    [f"The annual subscription fee is {amount}{tax}.",
                     f"{C} shall pay {V} an annual fee of {amount}{tax}."],
                )  # fmt: skip
            else:
                sentence = self.w.pick(
                    "total",
                    [f"The total Subscription Fees payable under this Agreement are {amount}{tax}.",
                     f'In consideration of the Service, {C} shall pay {amount}{tax} in total (the "Fees").'],
                )  # fmt: skip
            if t["unit_price"] is not None:
                sentence = (
                    f"The Fees are calculated at {t['currency']} {grouped(t['unit_price'], 0)} per "
                    f"user per year. {sentence}"
                )
            out.append(f"<p>{sentence}</p>")
        billing = self.billing_text()
        payment = self.payment_text(joined=bool(billing))
        if billing and payment:
            out.append(
                f"<p>{billing} and are {payment}.</p>"
                if "Fees are" in billing
                else f"<p>{billing}; invoices are {payment}.</p>"
            )
        elif billing or payment:
            out.append(f"<p>{billing or payment}.</p>")
        out.append(
            "<p>Any amount not paid when due shall bear interest at the rate of 1.5% per month "
            f"or the maximum rate permitted by law, whichever is lower. {V} may suspend the Service "
            "if any undisputed invoice remains unpaid for more than fifteen (15) days after its due date.</p>"
        )
        return out

    def renewal(self) -> list[str]:
        t, m, C, V = self.t, self.m, self.C, self.V
        out = []
        renew = self.term_words(t["renewal_months"], "renewal-words")
        if t["auto_renew"] is True:
            if t["notice_days"] is None:
                out.append(
                    f"<p>{m('auto_renew', 'This Agreement renews automatically at the end of each Subscription Term.')}</p>"
                )
            else:
                n = m("notice_days", en_n(self.w, "notice-n", t["notice_days"]))
                options = [
                    f'Upon expiry of the Initial Term, {m("auto_renew", f"this Agreement shall automatically renew for successive renewal terms of {renew} each")} (each a "Renewal Term") unless either party notifies the other in writing of its intention not to renew at least {n} days prior to the end of the then-current term.',
                    f"{m('auto_renew', 'Subscriptions will automatically renew for additional periods equal to the expiring subscription term')}, unless either party gives the other written notice of non-renewal at least {n} days before the end of the relevant subscription term.",
                    f"{m('auto_renew', f'This Agreement will renew automatically for further periods of {renew}')} unless {C} cancels by giving {n} days' written notice before the renewal date.",
                ]
                out.append(f"<p>{self.w.pick('renew', options)}</p>")
        elif t["auto_renew"] is False:
            options = [
                "This Agreement shall not automatically renew. Any renewal shall be subject to a new order form executed by both parties.",
                "The subscription will expire at the end of the Subscription Term and will not renew automatically.",
                f"There is no automatic renewal; {C} may renew by placing a new order.",
            ]
            out.append(f"<p>{m('auto_renew', self.w.pick('norenew', options))}</p>")
        if t["price_cap"] is not None:
            p = m("price_cap", self.percent(t["price_cap"], "cap-form"))
            options = [
                f"Any increase in the Fees for a renewal term shall not exceed {p} of the Fees for the immediately preceding term.",
                f"Renewal pricing will not increase by more than {p} over the prior term's fees.",
                f"{V} may increase the Fees upon renewal by no more than {p}.",
            ]
            out.append(f"<p>{self.w.pick('cap', options)}</p>")
        if t["list_price"]:
            options = [
                f"Fees for each renewal term will be charged at {V}'s then-current list price.",
                "Renewal subscriptions will be invoiced at the list price in effect at the time of renewal.",
                f"Upon renewal, pricing will revert to {V}'s then-current standard list pricing.",
            ]
            out.append(f"<p>{m('list_price', self.w.pick('list', options))}</p>")
        return out

    def location_words(self) -> str:
        return {
            "CN": self.w.pick("cn-words", ["mainland China", "the People's Republic of China"]),
            "EU": "the European Union",
            "US": "the United States",
            "SG": "Singapore",
            "HK": "Hong Kong",
        }[self.t["data_location"]]

    def data(self) -> list[str]:
        t, m, C, V = self.t, self.m, self.C, self.V
        out = []
        if t["personal_info"]:
            options = [
                "Each party shall comply with all applicable data protection laws, including the Personal Information Protection Law of the People's Republic of China, in its processing of personal data under this Agreement.",
                f"To the extent {V} processes Personal Data on behalf of {C}, it shall do so only on {C}'s documented instructions and in accordance with the Data Processing Addendum attached as Exhibit B.",
            ]
            out.append(f"<p>{m('personal_info', self.w.pick('pi', options))}</p>")
        if t["data_location"]:
            where = m("data_location", self.location_words())
            options = [
                f"{V} shall store and process {C} Data only in data centres located in {where}.",
                f"All {C} Data will be hosted within {where} and shall not be transferred outside it without {C}'s prior written consent.",
            ]
            out.append(f"<p>{self.w.pick('location', options)}</p>")
        out.append(
            f"<p>{V} shall maintain appropriate technical and organisational measures to protect {C} "
            "Data against unauthorised access, including encryption in transit and at rest.</p>"
        )
        return out

    def exit(self) -> list[str]:
        t, m, C, V = self.t, self.m, self.C, self.V
        if t["data_return"]:
            options = [
                f"Upon termination or expiration of this Agreement, {V} shall make {C} Data available to {C} for export in a commonly used format for thirty (30) days, after which {V} will delete it.",
                f"Within thirty (30) days after termination, {V} shall return all {C} Data to {C} and, upon {C}'s written confirmation, securely delete all copies.",
                f"{V} will provide reasonable assistance to migrate {C} Data to {C} or a successor provider upon expiry or termination.",
            ]
            return [f"<p>{m('data_return', self.w.pick('return', options))}</p>"]
        if t["deletion_clause"]:
            return [
                f"<p>{V} has no obligation to retain {C} Data after termination or expiration of this Agreement and may delete it thereafter.</p>"
            ]
        return []

    def termination(self) -> list[str]:
        t, m, C, V = self.t, self.m, self.C, self.V
        out = []
        n = en_n(self.w, "term-n", t["termination_notice"])
        kind = t["termination"]
        if kind:
            options = {
                "both": [
                    f"Either party may terminate this Agreement for convenience upon {n} days' prior written notice to the other party.",
                    f"This Agreement may be terminated by either party at any time, without cause, on {n} days' written notice.",
                ],
                "customer": [
                    f"{C} may terminate this Agreement for convenience at any time upon {n} days' written notice to {V}, and {V} shall refund any prepaid Fees covering the remainder of the Subscription Term. {V} may not terminate this Agreement for convenience.",
                    f"{C} may terminate this Agreement without cause on {n} days' written notice.",
                ],
                "vendor_only": [
                    f"{V} may terminate this Agreement for any reason upon {n} days' written notice to {C}. {C} may not terminate this Agreement for convenience, and Fees paid are non-refundable.",
                    f"{V} reserves the right to terminate this Agreement without cause on {n} days' notice; {C} has no right to terminate for convenience.",
                ],
                "none": [
                    "Neither party may terminate this Agreement for convenience. Subscriptions are non-cancellable and Fees paid are non-refundable.",
                    f"This Agreement is non-cancellable for the duration of the Subscription Term, and {C} may not terminate it for convenience.",
                ],
            }[kind]
            out.append(f"<p>{m('termination', self.w.pick('termination', options))}</p>")
        if t["breach_clause"]:
            cure = en_n(self.w, "cure-n", t["cure_days"])
            out.append(
                "<p>Either party may terminate this Agreement by written notice if the other party "
                f"materially breaches this Agreement and fails to cure the breach within {cure} days "
                "after receiving written notice of it, or if the other party becomes insolvent.</p>"
            )
        return out

    def signature(self) -> str:
        t, m = self.t, self.m
        dated = t["signed_on"] and t["signed_style"] in ("sign", "both")

        def cell(name_field: str, key: str) -> str:
            date = (
                f"Date: {m('signed_on', self.date(t['signed_on']))}"
                if dated
                else "Date: ____________"
            )
            titles = {
                "v": ["VP, Sales", "Chief Revenue Officer", "Director", "General Counsel"],
                "c": ["General Manager", "Chief Information Officer", "Head of Procurement"],
            }
            title = self.w.pick(f"title-{key}", titles[key])
            return (
                f"<td><b>{m(name_field, t[name_field], signature=True)}</b><br>By: ______________________<br>"
                f"Name: {_person_en(self.w, f'signer-{key}')}<br>Title: {title}<br>{date}</td>"
            )

        return (
            "<p>IN WITNESS WHEREOF, the parties have caused this Agreement to be executed by their "
            "duly authorised representatives.</p>"
            f'<table class="sign"><tr>{cell("vendor", "v")}{cell("customer", "c")}</tr></table>'
        )

    def governing_law(self) -> str:
        country = self.t["vendor_country"]
        law, forum = {
            "SG": ("the Republic of Singapore", "the Singapore International Arbitration Centre (SIAC) in Singapore"),
            "HK": ("the Hong Kong Special Administrative Region", "the Hong Kong International Arbitration Centre (HKIAC) in Hong Kong"),
            "UK": ("England and Wales", "the London Court of International Arbitration (LCIA) in London"),
            "US": ("the State of New York", "the International Centre for Dispute Resolution in New York"),
        }.get(country, ("the People's Republic of China", "the China International Economic and Trade Arbitration Commission (CIETAC) in Beijing"))  # fmt: skip
        return (
            f"<p>This Agreement shall be governed by and construed in accordance with the laws of {law}, "
            "without regard to its conflict of laws principles. Any dispute arising out of or in "
            f"connection with this Agreement shall be finally resolved by arbitration administered by {forum}.</p>"
        )
