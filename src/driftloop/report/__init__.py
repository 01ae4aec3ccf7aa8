"""Rendering of drift reports (HTML, Markdown). Never computes statistics."""

from driftloop.report.html import render_html
from driftloop.report.markdown import render_markdown

__all__ = ["render_html", "render_markdown"]
