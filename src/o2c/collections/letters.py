"""Reminder letters as PDF, drawn by WeasyPrint and stored under MEDIA_ROOT."""

from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from weasyprint import HTML


def letter_pdf(notice) -> bytes:
    html = render_to_string(
        "collections/letter.html",
        {
            "notice": notice,
            "entity": notice.customer.entity,
            "customer": notice.customer,
            "paragraphs": [part for part in notice.body.split("\n\n") if part.strip()],
        },
    )
    return HTML(string=html).write_pdf()


def store_letter(notice) -> None:
    """Render the notice's letter and attach it to the notice (saved by the caller)."""
    name = f"reminder-{notice.run_id}-{notice.customer.number}-{notice.pk}.pdf"
    notice.letter.save(name, ContentFile(letter_pdf(notice)), save=False)
