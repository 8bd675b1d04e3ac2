"""Jinja2 for the console: the environment, Vietnamese labels and local-time formatting.

Templates only lay out what the services returned; the wording of statuses, SLA states and
durations is decided here, in Python, so that it is tested and the same on every page.
"""

from datetime import date, datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from app.timefmt import LOCAL_TZ

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

STATUS_VI = {
    "new": "Mới, chờ phân loại",
    "assigned": "Đã giao",
    "acknowledged": "Đã tiếp nhận",
    "in_progress": "Đang xử lý",
    "waiting_citizen": "Chờ người dân bổ sung",
    "resolved": "Đã giải quyết",
    "closed": "Đã đóng",
    "duplicate": "Trùng lặp",
    "cancelled": "Đã huỷ",
}
SLA_VI = {
    "on_track": "Trong hạn",
    "warning": "Sắp đến hạn",
    "breached": "Quá hạn",
    "paused": "Tạm dừng",
    "met": "Đạt",
    "missed": "Trễ",
    "ended": "Kết thúc",
}
PRIORITY_VI = {"low": "Thấp", "normal": "Bình thường", "high": "Cao", "urgent": "Khẩn"}
CHANNEL_VI = {
    "phone": "Điện thoại",
    "sms": "SMS",
    "zalo": "Zalo",
    "web": "Web",
    "email": "Email",
    "app": "Ứng dụng",
    "walk_in": "Trực tiếp",
    "open311": "Open311",
}
ACTION_VI = {
    "acknowledge": "Tiếp nhận",
    "start": "Bắt đầu xử lý",
    "request-info": "Hỏi thêm người dân",
    "info-received": "Đã nhận thông tin bổ sung",
    "resolve": "Báo đã giải quyết",
    "reject": "Từ chối (không thuộc thẩm quyền)",
    "transfer": "Chuyển đơn vị",
    "reroute": "Định tuyến lại",
    "close": "Đóng phiếu",
    "reopen": "Mở lại",
    "cancel": "Huỷ phiếu",
    "duplicate": "Đánh dấu trùng",
    "notes": "Ghi chú",
    "caller-informed": "Đã gọi lại cho người dân",
}
ROLE_VI = {
    "operator": "Tổng đài viên",
    "unit_agent": "Cán bộ đơn vị",
    "supervisor": "Giám sát",
    "admin": "Quản trị",
}
WEEKDAY_VI = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]


def local_datetime(value: datetime | None) -> str:
    """'14:05 ngày 03/03/2026' in Hanoi time; '—' for None."""
    if value is None:
        return "—"
    local = value.astimezone(LOCAL_TZ)
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def local_date(value: date | datetime | None) -> str:
    """'Thứ Ba, 03/03/2026' (a datetime is first put in Hanoi time)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(LOCAL_TZ).date()
    return f"{WEEKDAY_VI[value.weekday()]}, {value:%d/%m/%Y}"


def duration(seconds: float | int | None) -> str:
    """Working time in words: '2 ngày 3 giờ', '45 phút' (a day = 24 h of clock time here
    only when the policy counts calendar time; callers say which in the label)."""
    if seconds is None:
        return "—"
    minutes = int(abs(seconds) // 60)
    hours, minutes = divmod(minutes, 60)
    if hours >= 24:
        days, hours = divmod(hours, 24)
        return f"{days} ngày {hours} giờ" if hours else f"{days} ngày"
    if hours:
        return f"{hours} giờ {minutes} phút" if minutes else f"{hours} giờ"
    return f"{minutes} phút"


def time_left(seconds: float | int | None) -> str:
    """'còn 3 giờ 20 phút' or 'quá 1 giờ' from remaining (negative once overdue) seconds."""
    if seconds is None:
        return "—"
    return f"còn {duration(seconds)}" if seconds >= 0 else f"quá {duration(seconds)}"


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%".replace(".", ",")


def _env() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.filters.update(
        local_datetime=local_datetime,
        local_date=local_date,
        duration=duration,
        time_left=time_left,
        percent=percent,
    )
    env.globals.update(
        STATUS_VI=STATUS_VI,
        SLA_VI=SLA_VI,
        PRIORITY_VI=PRIORITY_VI,
        CHANNEL_VI=CHANNEL_VI,
        ACTION_VI=ACTION_VI,
        ROLE_VI=ROLE_VI,
    )
    return templates


templates = _env()


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """The named template as an HTML response."""
    return templates.TemplateResponse(request, name, context, status_code=status_code)
