"""Documents generated from a revision: the official SOP AP document (HTML and PDF)."""

from service.documents.sop import SopDocument, SopRow, render_html, render_pdf, sop_document

__all__ = ["SopDocument", "SopRow", "render_html", "render_pdf", "sop_document"]
