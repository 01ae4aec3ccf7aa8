"""Text columns: n-gram drift and each descriptor, their level, what moved, long cells, and
the JSON report."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

import driftloop
from driftloop.data.synthetic_text import TOPICS, ticket_embeddings, tickets
from driftloop.drift.text import DESCRIPTORS, descriptors, text_test
from driftloop.drift.unstructured import MAX_TEXT_CHARS
from driftloop.errors import ValueQualityError

SHIFTED = (0.4, 0.15, 0.15, 0.15, 0.15)  # delivery from 20% to 40% of tickets


def test_a_free_text_column_is_tested_not_left_out() -> None:
    ref, _ = tickets(300, seed=0)
    cur, _ = tickets(300, seed=1)
    column = driftloop.detect(pl.DataFrame({"t": ref}), pl.DataFrame({"t": cur})).column("t")
    assert (column.kind, column.method, column.family) == ("text", "text", "p_value")
    assert not column.drifted and [d.name for d in column.descriptors] == list(DESCRIPTORS)


def test_no_drift_holds_its_rate_over_splits() -> None:
    flagged = 0
    for seed in range(30):
        ref, _ = tickets(150, seed=seed)
        cur, _ = tickets(150, seed=500 + seed)
        flagged += text_test(ref, cur, permutations=99).p_value < 0.05
    assert flagged <= 5  # 5% of 30 is 1.5


def test_a_topic_shift_is_detected_and_its_ngrams_named() -> None:
    ref, _ = tickets(400, seed=0)
    cur, _ = tickets(400, SHIFTED, seed=1)
    result = text_test(ref, cur)
    assert result.p_value < 0.01
    assert _only_in_topic(result.moved[0].name, "delivery")
    assert result.moved[0].current > result.moved[0].reference


def _only_in_topic(ngram: str, topic: str) -> bool:
    """Whether the n-gram (spaces mark word edges) comes from this topic's words alone."""
    words = {name: " ".join(f" {w} " for w in vocabulary) for name, vocabulary in TOPICS.items()}
    return ngram in words[topic] and not any(ngram in w for n, w in words.items() if n != topic)


@pytest.mark.parametrize(
    ("change", "descriptor"),
    [
        (lambda t: [x + " " + x for x in t], "length"),
        (lambda t: ["" if i % 4 == 0 else x for i, x in enumerate(t)], "empty"),
        (lambda t: [x + " é" if i % 4 == 0 else x for i, x in enumerate(t)], "non_ascii"),
        (
            lambda t: [x + f" zq{i}x" if i % 3 == 0 else x for i, x in enumerate(t)],
            "out_of_vocabulary",
        ),
    ],
    ids=["length", "empty", "non_ascii", "out_of_vocabulary"],
)
def test_each_descriptor_detects_its_own_change(change, descriptor) -> None:
    ref, _ = tickets(300, seed=0)
    cur, _ = tickets(300, seed=1)
    result = text_test(ref, change(cur))
    found = {d.name: d for d in result.descriptors}
    assert found[descriptor].p_value < 0.01
    assert found[descriptor].p_value == min(d.p_value for d in result.descriptors)
    assert result.p_value < 0.05


def test_descriptors_measure_both_sides_alike() -> None:
    values = descriptors(["a b", "a c", "d"], ["a", ""])
    # reference 'd' is seen in no other reference document: out of vocabulary for itself
    assert values[:, 3].tolist() == [0.5, 0.5, 1.0, 0.0, 0.0]
    assert values[:, 1].tolist() == [0.0, 0.0, 0.0, 0.0, 1.0]


def test_identifier_like_text_is_left_out_unless_its_kind_is_set() -> None:
    ids = pl.DataFrame({"code": [f"T-{i:05d}" for i in range(200)]})
    report = driftloop.detect(ids, ids)
    assert report.excluded[0].name == "code" and "identifier-like" in report.excluded[0].reason
    forced = driftloop.detect(ids, ids, config={"columns": {"code": {"kind": "text"}}})
    assert forced.column("code").kind == "text"


def test_a_cell_too_long_is_one_line_naming_the_row() -> None:
    ref, _ = tickets(100)
    cur = [*ref[:5], "x" * (MAX_TEXT_CHARS + 1), *ref[5:]]
    with pytest.raises(
        ValueQualityError,
        match=r"Column 't' in current data has a text of "
        r"1,000,001 characters at row 5",
    ):
        driftloop.detect(pl.DataFrame({"t": ref}), pl.DataFrame({"t": cur}))


def test_a_ten_megabyte_cell_on_the_command_line_is_one_line_and_writes_nothing(
    tmp_path,
) -> None:
    from typer.testing import CliRunner

    from driftloop.cli import app

    ref, _ = tickets(100)
    cur = [*ref[:7], "y" * 10_000_000, *ref[8:]]
    pl.DataFrame({"t": ref}).write_parquet(tmp_path / "ref.parquet")
    pl.DataFrame({"t": cur}).write_parquet(tmp_path / "cur.parquet")
    out = tmp_path / "report.json"
    argv = ["detect", str(tmp_path / "ref.parquet"), str(tmp_path / "cur.parquet")]
    result = CliRunner().invoke(app, [*argv, "--json", str(out)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output
    assert "Column 't' in current data has a text of 10,000,000 characters at row 7" in lines[0]
    assert "Truncate or drop such cells" in lines[0] and not out.exists()


def test_text_in_the_json_report() -> None:
    ref, _ = tickets(300, seed=0)
    cur, _ = tickets(300, SHIFTED, seed=1)
    report = driftloop.detect(pl.DataFrame({"t": ref}), pl.DataFrame({"t": cur}))
    column = json.loads(report.to_json())["columns"][0]
    assert column["drifted"] and column["moved"][0]["name"]
    assert {d["name"] for d in column["descriptors"]} == set(DESCRIPTORS)
    assert all(0 <= d["p_value"] <= 1 for d in column["descriptors"])


def test_ticket_embeddings_carry_the_topic_shift() -> None:
    ref, _ = tickets(300, seed=0)
    cur, _ = tickets(300, SHIFTED, seed=1)
    frame = {"e": list(ticket_embeddings(ref))}, {"e": list(ticket_embeddings(cur))}
    column = driftloop.detect(pl.DataFrame(frame[0]), pl.DataFrame(frame[1])).column("e")
    assert column.kind == "embedding" and column.drifted
    assert np.isfinite(column.statistic)


def test_identical_sides_do_not_drift_even_with_words_seen_once() -> None:
    df = pl.DataFrame({"t": [f"free text number {i}" for i in range(200)]})
    column = driftloop.detect(df, df).column("t")
    assert not column.drifted
    assert {d.name: d.p_value for d in column.descriptors}["out_of_vocabulary"] == 1.0
