"""Contacts' doubtful values set apart, after parsing: what the Latin checks could not confirm.

The reading stage read every e-mail address on an OCR page twice and recorded each reconciliation
in `Page.latin` (`pipeline.reading.latin`). An address parsed into a contact that a check left
uncertain moves from `emails` to the contact's `uncertain` values; every uncertain value (these,
and numbers outside the numbering plan that `contacts` found) becomes a problem naming what was
read, so the document goes before a person and no doubtful value is printed as certain.
"""

from __future__ import annotations

from models import Document, Issue, Unsure
from models.page import Page

UNSURE_CONFIDENCE = 0.3


def mark_uncertain(doc: Document, pages: list[Page]) -> Document:
    """Addresses no check confirmed move from the contact's printed values to `uncertain`; every
    uncertain value (these, and numbers outside the numbering plan) gets a problem naming what was read."""
    doubtful = {c.value.lower(): c for p in pages for c in p.latin if not c.certain}
    for contact in doc.contacts:
        for email in list(contact.emails):
            check = doubtful.get(email.lower())
            if check is None:
                continue
            contact.emails.remove(email)
            readings = [check.read] + ([check.reread] if check.reread else [])
            contact.uncertain.append(
                Unsure(field="emails", value=email, readings=readings, confidence=UNSURE_CONFIDENCE, reason=check.reason or "")
            )
    for contact in doc.contacts:
        for u in contact.uncertain:
            if not any(p.code == f"contacts.{u.field}_uncertain" and u.value in p.message for p in doc.problems):
                doc.problems.append(
                    Issue(
                        code=f"contacts.{u.field}_uncertain",
                        message=f"{contact.name or contact.org or '联系人'}: {u.value} is uncertain ({u.reason}); read as "
                        + " / ".join(u.readings),
                        severity="warning",
                    )
                )
    return doc
