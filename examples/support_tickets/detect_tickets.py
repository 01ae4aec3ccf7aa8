"""Support tickets whose topic mix shifts: a text column and its embeddings, no model download.

The tickets are generated (``driftloop.data.synthetic_text``); their embeddings are a fixed
random projection of their hashed character n-grams. Run it to print the Markdown summary and
write ``tickets.html`` beside it (or to the folder given):

    python examples/support_tickets/detect_tickets.py [OUT_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

import driftloop
from driftloop.data.synthetic_text import ticket_embeddings, tickets


def frames(n: int = 500) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Last month's tickets, five topics alike, against this month's: delivery doubled."""
    ref_text, _ = tickets(n, seed=0)
    cur_text, _ = tickets(n, (0.4, 0.15, 0.15, 0.15, 0.15), seed=1)
    ref = pd.DataFrame({"body": ref_text, "embedding": list(ticket_embeddings(ref_text))})
    cur = pd.DataFrame({"body": cur_text, "embedding": list(ticket_embeddings(cur_text))})
    return ref, cur


def main(out_dir: Path) -> driftloop.DriftReport:
    ref, cur = frames()
    report = driftloop.detect(ref, cur)
    print(report.to_markdown())
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "tickets.html").write_text(report.to_html(title="Support tickets"), encoding="utf-8")
    return report


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
