"""Alerts: a Slack Block Kit message, a generic JSON webhook, the console.

Messages are built from a drift report and what happened to the model; senders deliver one
message and say whether it arrived. Delivery guarantees (retry later, never twice, cooldown) are
the outbox's job (:mod:`driftloop.actions.outbox`).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from driftloop.report.format import fmt_number, fmt_p

if TYPE_CHECKING:
    from driftloop.config import AlertsConfig
    from driftloop.drift.concept import ConceptReport
    from driftloop.drift.results import ColumnDrift, DriftReport, FamilyVerdict, MultivariateDrift

__all__ = [
    "Alert",
    "ConsoleSender",
    "Delivery",
    "Sender",
    "SlackSender",
    "WebhookSender",
    "build_alert",
    "escape",
    "senders_for",
]


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: plain text, Slack blocks and a JSON payload for generic webhooks."""

    text: str
    blocks: list[dict[str, Any]]
    payload: dict[str, Any]
    fingerprint: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "blocks": self.blocks,
            "payload": self.payload,
            "fingerprint": self.fingerprint,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Alert:
        return cls(data["text"], data["blocks"], data["payload"], data["fingerprint"])

    def with_note(self, note: str) -> Alert:
        """The same alert with one more line (text, a context block, the JSON payload)."""
        block = {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(note)}]}
        payload = {**self.payload, "notes": [*self.payload.get("notes", []), note]}
        return Alert(f"{self.text}\n{note}", [*self.blocks, block], payload, self.fingerprint)


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one delivery ended. ``unknown``: the request went out but no answer came (a read
    timeout): the receiver may or may not have the alert, so it must not be re-sent blindly."""

    ok: bool
    detail: str
    unknown: bool = False


class Sender(Protocol):
    channel: str

    def send(self, alert: Alert) -> Delivery: ...


def escape(text: object) -> str:
    """User data made inert for Slack mrkdwn: ``&``, ``<`` and ``>`` escaped as Slack asks, so a
    column named ``<!here>`` or a disguised ``<http://evil|link>`` shows as text.

    Examples
    --------
    >>> escape("<!here> & <http://x|y>")
    '&lt;!here&gt; &amp; &lt;http://x|y&gt;'
    """
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: object) -> str:
    """User data inside a code span (a backtick would close it)."""
    return "`" + escape(text).replace("`", "'") + "`"


def build_alert(
    pipeline: str,
    run_id: str,
    window: tuple[str, str],
    report: DriftReport,
    *,
    report_location: str = "",
    model_outcome: str = "",
    top: int = 5,
    concept: ConceptReport | None = None,
) -> Alert:
    """The alert for one run's drift report (read at the file edge with
    ``DriftReport.from_json``), with its concept report when the run has one."""
    drifted = _ranked(report)
    concept_shift = concept is not None and concept.concept_drift
    hurt = _performance_line(report.performance)
    verdict = "Performance drop" if hurt and not report.dataset_drift else None
    head = (
        f"{verdict or _verdict(report, concept_shift)} in '{pipeline}' for {window[0]} to "
        f"{window[1]}"
    )
    summary = (
        f"{len(drifted)} of {report.n_tested} features drifted ({report.share_drifted:.0%}; "
        f"dataset threshold {report.drift_share:.0%}); {len(report.degradation)} degradation "
        "alert(s)."
    )
    in_segments = _segment_findings(report)
    acts_on = _acts_on(report.family)
    if acts_on:
        summary += f" Acts on: {escape(acts_on)}."
    lines = _drift_lines(drifted, top, report.impact) + _segment_lines(in_segments, top)
    joint = _multivariate_lines(report)
    broken = [
        f"• {_code(a.feature)} {a.kind}: {escape(a.message)}" for a in report.degradation[:top]
    ]
    if concept is not None and concept_shift:
        broken.insert(0, _concept_line(concept))
    if hurt:
        broken.insert(0, hurt)
    context = [f"run {_code(run_id)}"]
    if report_location:
        context.append(f"report: {escape(report_location)}")
    if model_outcome:
        context.append(f"model: {escape(model_outcome)}")
    fingerprint = _fingerprint(
        pipeline, window, report, drifted, in_segments, run_id, model_outcome
    )
    payload = _payload(pipeline, run_id, window, report, drifted, report_location, model_outcome)
    text = "\n".join([escape(head), summary, *joint, *lines, *broken, " · ".join(context)])
    blocks = _blocks(head, summary, lines, broken, context)
    if joint:
        blocks.insert(2, _section("*Multivariate drift*\n" + "\n".join(joint)))
    return Alert(text, blocks, payload, fingerprint)


def _ranked(report: DriftReport) -> list[ColumnDrift]:
    """The drifted columns, most significant first (by what the model uses first, when its
    reliance is known: a feature it ignores last)."""
    impact = report.impact or {}
    drifted = [c for c in report.columns if c.drifted]
    if impact:
        drifted.sort(key=lambda c: -impact.get(c.name, -1.0))
    drifted.sort(key=lambda c: (c.p_value is None, c.p_value or -(c.statistic or 0)))
    return drifted


def _fingerprint(
    pipeline: str,
    window: tuple[str, str],
    report: DriftReport,
    drifted: list[ColumnDrift],
    in_segments: list[tuple[str, str]],
    run_id: str,
    model_outcome: str,
) -> str:
    """What makes an alert news: the same fingerprint within the cooldown is suppressed."""
    found = _found(report)
    return json.dumps(
        {
            **({"segments": sorted(in_segments)} if in_segments else {}),
            "pipeline": pipeline,
            "window": list(window),  # another window is news, even with the same features
            "drifted": sorted(c.name for c in drifted),
            "degradation": sorted(f"{a.feature}:{a.kind}" for a in report.degradation),
            # a model promoted, rejected or not published is always news: never suppressed
            "model": run_id if model_outcome else None,
            # only when found, so the alerts of reports without it keep their fingerprints
            **({"multivariate": sorted(m.method for m in found)} if found else {}),
        },
        sort_keys=True,
    )


def _payload(
    pipeline: str,
    run_id: str,
    window: tuple[str, str],
    report: DriftReport,
    drifted: list[ColumnDrift],
    report_location: str,
    model_outcome: str,
) -> dict[str, Any]:
    """The generic webhook's JSON body."""
    payload: dict[str, Any] = {
        "pipeline": pipeline,
        "run_id": run_id,
        "window_start": window[0],
        "window_end": window[1],
        "dataset_drift": report.dataset_drift,
        "share_drifted": report.share_drifted,
        "drifted_features": [c.name for c in drifted],
        "multivariate": [
            {"method": m.method, "top_features": list(m.top_features)} for m in _found(report)
        ],
        "degradation": [a.to_dict() for a in report.degradation],
        "report": report_location,
        "model": model_outcome,
    }
    moved = {c.name: [m.name for m in c.moved] for c in drifted if c.moved}
    if moved:  # only when present, so other reports' payloads keep their shape
        payload["moved"] = moved
    return payload


def _verdict(report: DriftReport, concept_shift: bool) -> str:
    """What the alert is about, most serious first: the dataset, features, the concept."""
    if report.dataset_drift:
        return "Dataset drift"
    if report.degradation:
        return "Feature degradation"
    if _found(report):
        return "Multivariate drift"
    return "Concept drift" if concept_shift else "Drift"


def _drift_lines(
    drifted: list[ColumnDrift], top: int, impact: dict[str, float] | None = None
) -> list[str]:
    lines = []
    for c in drifted[:top]:
        p = f", p={fmt_p(c.p_value)}" if c.p_value is not None else ""
        lines.append(
            f"• {_code(c.name)} {c.method} = {fmt_number(c.statistic)}{p} "
            f"(threshold {fmt_number(c.threshold)}){_moved_text(c)}"
            f"{_impact_text(c.name, impact)}"
        )
    if len(drifted) > top:
        lines.append(f"• … and {len(drifted) - top} more")
    return lines


def _impact_text(name: str, impact: dict[str, float] | None) -> str:
    """The model's reliance on a drifted feature, when the production model's is known."""
    from driftloop.drift.results import LOW_IMPACT

    if not impact or name not in impact:
        return ""
    share = impact[name]
    if share < LOW_IMPACT:
        return f" — low impact: the model barely uses it ({share:.0%} of its reliance)"
    return f" — the model relies on it for {share:.0%}"


def _moved_text(column: ColumnDrift, top: int = 3) -> str:
    """An embedding or text column's parts that moved most, and its shifted descriptors."""
    if not column.moved:  # reports before schema 1.7 have none
        return ""
    names = ", ".join(_code(m.name) for m in column.moved[:top])
    described = [d.name for d in column.descriptors if (d.p_value or 1) < 0.05]
    shifted = f"; descriptors: {', '.join(described)}" if described else ""
    return f", moved most: {names}{shifted}"


def _found(report: DriftReport) -> list[MultivariateDrift]:
    """The multivariate methods that found drift (reports before schema 1.2 have none)."""
    return [m for m in report.multivariate if m.drifted]


def _multivariate_lines(report: DriftReport) -> list[str]:
    """One line per method that found drift, naming the columns that drive it."""
    lines = []
    for m in _found(report):
        p = f", p={fmt_p(m.p_value)}" if m.p_value is not None else ""
        lines.append(
            f"• *{escape(m.method)}* = {fmt_number(m.statistic)}{p} (threshold "
            f"{fmt_number(m.threshold)}): {escape(m.finding)}"
        )
    return lines


def _segment_findings(report: DriftReport) -> list[tuple[str, str]]:
    """(column, segment) for every column drifted inside a segment of the report: those that
    survived the window's family when the report has one."""
    if report.family is not None:
        return [(f.name, f.where) for f in report.family.findings if f.part == "segments"]
    return [
        (c.name, f"{s.column} = {s.value}") for s in report.segments for c in s.columns if c.drifted
    ]


def _acts_on(family: FamilyVerdict | None) -> str:
    """The findings of the window's family, in words (empty: none, or an older report)."""
    if family is None:
        return ""
    lines = [f.line for f in family.findings]
    return ", ".join(lines[:5]) + (f" and {len(lines) - 5} more" if len(lines) > 5 else "")


def _segment_lines(found: list[tuple[str, str]], top: int) -> list[str]:
    """``• `windspeed` drifted where `workingday = 0` ``."""
    lines = [f"• {_code(name)} drifted where {_code(where)}" for name, where in found[:top]]
    if len(found) > top:
        lines.append(f"• … and {len(found) - top} more segment finding(s)")
    return lines


def _performance_line(section: dict[str, Any] | None) -> str:
    """``• *Model hurt*: estimated roc_auc 0.711 (95% 0.659-0.762), reference 0.821``, when the
    window's performance dropped beyond its interval (empty otherwise)."""
    if not section or "skipped" in section:
        return ""
    drops = [
        f"{name} {escape(section['metric'])} {r['value']:.3f} ({r['confidence']:.0%} "
        f"{r['lower']:.3f}-{r['upper']:.3f}), reference {r['reference_value']:.3f}"
        for name, r in (("estimated", section), ("realized", section.get("realized")))
        if r is not None and r.get("alert")
    ]
    return "• *Model hurt*: " + "; ".join(drops) if drops else ""


def _concept_line(concept: ConceptReport) -> str:
    changes = [
        f"{escape(m.name)} {fmt_number(m.baseline)} → {fmt_number(m.current)} "
        f"(95% CI {fmt_number(m.ci_low)}-{fmt_number(m.ci_high)})"
        for m in concept.metrics
        if m.alerted
    ]
    return "• *Concept drift*: predictions no longer track outcomes: " + "; ".join(changes)


def _blocks(
    head: str, summary: str, lines: list[str], broken: list[str], context: list[str]
) -> list[dict[str, Any]]:
    """The Slack Block Kit message: header, summary, drifted features, degradation, context."""

    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": escape(head)[:150]}},
        _section(summary),
    ]
    if lines:
        blocks.append(_section("*Top drifted features*\n" + "\n".join(lines)))
    if broken:
        blocks.append(_section("*Degradation*\n" + "\n".join(broken)[:2900]))
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]}
    )
    return blocks


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


class ConsoleSender:
    """Prints the alert: the embedded default, always 'delivered'."""

    channel = "console"

    def __init__(self, printer: Any = print) -> None:
        self.printer = printer

    def send(self, alert: Alert) -> Delivery:
        self.printer(alert.text)
        return Delivery(True, "printed")


class SlackSender:
    """A Slack incoming webhook (slack_sdk), retrying 429 (Retry-After), 5xx, connection errors."""

    channel = "slack"

    def __init__(self, webhook_url: str, *, retries: int = 3, timeout: float = 10) -> None:
        from slack_sdk.http_retry.builtin_handlers import (
            ConnectionErrorRetryHandler,
            RateLimitErrorRetryHandler,
            ServerErrorRetryHandler,
        )
        from slack_sdk.webhook import WebhookClient

        handlers = [
            RateLimitErrorRetryHandler(max_retry_count=retries),
            ServerErrorRetryHandler(max_retry_count=retries),  # 500 and 503 only
            _gateway_retry_handler(retries),  # 502 and 504: a proxy in front of Slack
            ConnectionErrorRetryHandler(max_retry_count=retries),
        ]
        # slack_sdk takes whole seconds: round up, never down to 0 (which never waits for Slack)
        seconds = max(1, math.ceil(timeout))
        self._client = WebhookClient(webhook_url, timeout=seconds, retry_handlers=handlers)

    def send(self, alert: Alert) -> Delivery:
        try:
            response = self._client.send(text=alert.text, blocks=alert.blocks)
        except TimeoutError:  # sent, no answer in time: Slack may well have it
            return Delivery(False, "no answer in time: delivery unknown", unknown=True)
        except Exception as err:  # connection errors after retries: report, keep in the outbox
            return Delivery(False, f"{type(err).__name__}")
        # WebhookClient does not raise on 4xx/5xx: check the answer ourselves.
        if response.status_code == 200 and response.body == "ok":
            return Delivery(True, "ok")
        return Delivery(False, f"HTTP {response.status_code}: {str(response.body)[:100]}")


def _gateway_retry_handler(retries: int) -> Any:
    from slack_sdk.http_retry.handler import RetryHandler
    from slack_sdk.http_retry.request import HttpRequest
    from slack_sdk.http_retry.response import HttpResponse
    from slack_sdk.http_retry.state import RetryState

    class GatewayErrorRetryHandler(RetryHandler):
        def _can_retry(
            self,
            *,
            state: RetryState,
            request: HttpRequest,
            response: HttpResponse | None = None,
            error: Exception | None = None,
        ) -> bool:
            return response is not None and response.status_code in (502, 504)

    return GatewayErrorRetryHandler(max_retry_count=retries)


class WebhookSender:
    """POSTs the alert's JSON payload; retries 429/5xx/connection errors with backoff."""

    channel = "webhook"

    def __init__(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        *,
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        self.url, self.headers, self.retries, self.backoff = url, headers or {}, retries, backoff

    def send(self, alert: Alert) -> Delivery:
        detail = ""
        for attempt in range(self.retries + 1):
            try:
                response = httpx.post(
                    self.url, json=alert.payload, headers=self.headers, timeout=10
                )
                if 200 <= response.status_code < 300:
                    return Delivery(True, f"HTTP {response.status_code}")
                detail = f"HTTP {response.status_code}"
                if response.status_code not in (408, 429) and response.status_code < 500:
                    return Delivery(False, detail)
                delay = float(response.headers.get("retry-after", self.backoff * 2**attempt))
            except httpx.ReadTimeout:  # sent, no answer in time: the receiver may have it
                return Delivery(False, "no answer in time: delivery unknown", unknown=True)
            except httpx.HTTPError as err:
                detail, delay = type(err).__name__, self.backoff * 2**attempt
            if attempt < self.retries:
                time.sleep(min(delay, 30))
        return Delivery(False, detail)


def senders_for(alerts: AlertsConfig, printer: Callable[[str], None] = print) -> list[Sender]:
    """The channels an ``alerts`` section names: console, Slack, generic webhooks."""
    senders: list[Sender] = []
    if alerts.console:
        senders.append(ConsoleSender(printer))
    if alerts.slack is not None:
        s = alerts.slack
        senders.append(
            SlackSender(s.webhook_url.get_secret_value(), retries=s.retries, timeout=s.timeout)
        )
    for i, hook in enumerate(alerts.webhooks):
        sender = WebhookSender(
            hook.url.get_secret_value(),
            {k: v.get_secret_value() for k, v in hook.headers.items()},
            retries=hook.retries,
        )
        sender.channel = f"webhook{i}"
        senders.append(sender)
    return senders
