"""Vietnamese labels for what a citizen reads in an export of their data."""

STATUS = {
    "new": "Mới tiếp nhận",
    "assigned": "Đã chuyển đơn vị xử lý",
    "acknowledged": "Đơn vị đã tiếp nhận",
    "in_progress": "Đang xử lý",
    "waiting_citizen": "Chờ người dân bổ sung thông tin",
    "resolved": "Đã xử lý",
    "closed": "Đã đóng",
    "duplicate": "Trùng phản ánh khác",
    "cancelled": "Đã huỷ",
}
CHANNEL = {
    "phone": "Điện thoại",
    "sms": "Tin nhắn SMS",
    "zalo": "Zalo",
    "web": "Cổng thông tin",
    "email": "Thư điện tử",
    "app": "Ứng dụng",
    "walk_in": "Trực tiếp",
    "open311": "Open311",
}
EVENT = {
    "created": "Tiếp nhận phản ánh",
    "assigned": "Chuyển đơn vị xử lý",
    "unrouted": "Chờ phân loại",
    "acknowledged": "Đơn vị tiếp nhận",
    "started": "Bắt đầu xử lý",
    "info_requested": "Đề nghị người dân bổ sung thông tin",
    "info_received": "Đã nhận thông tin bổ sung",
    "resolved": "Đã xử lý",
    "rejected": "Đơn vị từ chối (không thuộc thẩm quyền)",
    "transferred": "Chuyển đơn vị khác",
    "rerouted": "Phân loại lại",
    "closed": "Đóng phản ánh",
    "reopened": "Mở lại phản ánh",
    "cancelled": "Huỷ phản ánh",
    "marked_duplicate": "Trùng phản ánh khác",
    "note": "Ghi chú",
    "caller_informed": "Đã gọi lại cho người dân",
    "updated": "Chỉnh sửa thông tin",
    "sla_warning": "Sắp quá hạn xử lý",
    "sla_breached": "Quá hạn xử lý",
    "escalated": "Báo cáo cấp trên",
    "legal_hold": "Tạm giữ dữ liệu theo yêu cầu pháp lý",
    "legal_hold_lifted": "Kết thúc tạm giữ dữ liệu",
}
ACCESS = {
    "reveal": "Xem danh tính người phản ánh (có lý do)",
    "caller_history": "Tra cứu lịch sử theo số điện thoại",
    "export": "Cung cấp dữ liệu cho chủ thể dữ liệu",
    "erasure": "Xoá dữ liệu theo yêu cầu",
    "retention": "Ẩn danh hoá khi hết thời hạn lưu trữ",
    "legal_hold": "Tạm giữ dữ liệu",
    "legal_hold_lifted": "Kết thúc tạm giữ dữ liệu",
}
# Headings of the export document's fields.
FIELDS = {
    "reference": "Mã phản ánh",
    "received_at": "Thời điểm tiếp nhận",
    "channel": "Kênh tiếp nhận",
    "status": "Trạng thái",
    "caller": "Thông tin người phản ánh",
    "description": "Nội dung phản ánh",
    "address": "Địa chỉ",
    "topic": "Lĩnh vực",
    "area": "Địa bàn",
    "unit": "Đơn vị xử lý",
    "outcome": "Kết quả xử lý",
    "history": "Quá trình xử lý",
    "accesses": "Những lần dữ liệu được truy cập",
}


def label(table: dict[str, str], code: str | None) -> str | None:
    """The Vietnamese label of a code, or the code itself when it has none."""
    return None if code is None else table.get(code, code)
