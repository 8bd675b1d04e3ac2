"""Who gets which e-mail for a message, and its Vietnamese text. Pure.

Units (their `emails` in units.yaml): a new assignment, an SLA warning, a breach, and an
escalation (to the parent unit). Callers who gave an e-mail: their reference on filing, and the
outcome on resolve. A confidential caller still gets their own reference at their own address
(it names nothing but the reference), but the outcome mail then carries no resolution text.
No mail ever carries a caller's identity or other callers' data: texts come from the message
body, which is built without caller identity (app.outbox.render).
"""

from dataclasses import dataclass
from typing import Any

from app.catalog.catalog import Catalog
from app.timefmt import to_local


@dataclass(frozen=True)
class Mail:
    audience: str  # unit | caller
    unit_code: str | None
    recipient: str
    subject: str
    body: str
    digest: bool = False


def _when(value: str | None) -> str:
    if not value:
        return "—"
    from datetime import datetime

    return to_local(datetime.fromisoformat(value))[:16].replace("T", " ")


def _summary(ticket: dict[str, Any]) -> list[str]:
    topic = (ticket.get("topic") or {}).get("name") or "—"
    area = (ticket.get("area") or {}).get("name") or "—"
    return [
        f"Mã phiếu: {ticket['reference']}",
        f"Lĩnh vực: {topic}",
        f"Địa bàn: {area}",
        f"Địa chỉ: {ticket.get('address') or '—'}",
        f"Nội dung: {ticket.get('description') or '—'}",
    ]


def _unit_mails(catalog: Catalog, code: str | None, subject: str, lines: list[str]) -> list[Mail]:
    unit = catalog.units.get(code or "")
    if unit is None:
        return []
    body = "\n".join([f"Kính gửi {unit.name},", "", *lines, "", "Đường dây nóng 1022"])
    return [
        Mail("unit", unit.code, email, subject, body, digest=unit.mail_digest_minutes > 0)
        for email in unit.emails
    ]


def mails_for(
    catalog: Catalog, message: dict[str, Any], caller_email: str | None, confidential: bool
) -> list[Mail]:
    """The mails one outbox message causes. `message` is the webhook body (a dict)."""
    type_, data = message["type"], message["data"]
    ticket = data.get("ticket")
    if ticket is None:
        return []
    ref = ticket["reference"]
    details = data["event"]["details"]
    assignment = data.get("assignment") or {}
    due = [
        f"Hạn tiếp nhận: {_when(assignment.get('acknowledge_due_at'))}",
        f"Hạn xử lý: {_when(assignment.get('resolve_due_at'))}",
    ]
    target = {"acknowledge": "tiếp nhận", "resolve": "xử lý"}.get(details.get("target"), "")
    mails: list[Mail] = []
    if type_ == "ticket.assigned":
        unit = (assignment.get("unit") or {}).get("code")
        mails += _unit_mails(
            catalog,
            unit,
            f"[1022] Phiếu mới {ref}",
            ["Đơn vị được giao phiếu mới.", *_summary(ticket), *due],
        )
    elif type_ == "sla.warning":
        mails += _unit_mails(
            catalog,
            details.get("unit"),
            f"[1022] Sắp quá hạn {target} {ref}",
            [f"Phiếu sắp quá hạn {target}.", *_summary(ticket), *due],
        )
    elif type_ == "sla.breached":
        mails += _unit_mails(
            catalog,
            details.get("unit"),
            f"[1022] Quá hạn {target} {ref}",
            [f"Phiếu đã quá hạn {target}.", *_summary(ticket), *due],
        )
    elif type_ == "sla.escalated":
        below = catalog.units.get(details.get("from_unit") or "")
        mails += _unit_mails(
            catalog,
            details.get("to_unit"),
            f"[1022] Chuyển cấp: {ref} quá hạn {target}",
            [
                f"Phiếu của {below.name if below else details.get('from_unit')} đã quá hạn "
                f"{target} và được chuyển lên đơn vị cấp trên.",
                *_summary(ticket),
                *due,
            ],
        )
    if caller_email and type_ == "ticket.created":
        mails.append(
            Mail(
                "caller",
                None,
                caller_email,
                f"Đường dây nóng 1022 đã tiếp nhận phản ánh {ref}",
                "\n".join(
                    [
                        "Kính gửi Quý người dân,",
                        "",
                        f"Đường dây nóng 1022 đã tiếp nhận phản ánh của Quý vị lúc "
                        f"{_when(ticket.get('received_at'))}.",
                        f"Mã phản ánh: {ref}",
                        "Vui lòng giữ mã này để tra cứu kết quả xử lý.",
                        "",
                        "Đường dây nóng 1022",
                    ]
                ),
            )
        )
    if caller_email and type_ == "ticket.resolved":
        outcome = [] if confidential else [f"Kết quả: {details.get('resolution') or '—'}"]
        mails.append(
            Mail(
                "caller",
                None,
                caller_email,
                f"Phản ánh {ref} đã được xử lý",
                "\n".join(
                    [
                        "Kính gửi Quý người dân,",
                        "",
                        f"Phản ánh {ref} của Quý vị đã được xử lý.",
                        *outcome,
                        "",
                        "Đường dây nóng 1022",
                    ]
                ),
            )
        )
    return mails


def digest(unit_name: str, items: list[tuple[str, str]]) -> tuple[str, str]:
    """One mail gathering a unit's (subject, body) items: its subject and body."""
    subject = f"[1022] Tổng hợp {len(items)} thông báo"
    parts = [f"Kính gửi {unit_name},", "", f"{len(items)} thông báo mới:", ""]
    for i, (s, b) in enumerate(items, 1):
        inner = b.split("\n", 2)[-1].rsplit("\n\nĐường dây nóng 1022", 1)[0]
        parts += [f"{i}. {s}", inner, ""]
    parts.append("Đường dây nóng 1022")
    return subject, "\n".join(parts)
