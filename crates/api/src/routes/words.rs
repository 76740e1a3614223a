//! Coded values of exports, with their Vietnamese wording for `lang=vi`.

use innoreport_core::{ReportStatus, ReviewAction, Role, Timeliness};

use crate::http::export::Cell;

fn code(code: &str, vi: &str) -> Cell {
    Cell::Code(code.to_owned(), vi.to_owned())
}

pub fn status(s: ReportStatus) -> Cell {
    code(
        s.as_str(),
        match s {
            ReportStatus::Submitted => "Đã nộp",
            ReportStatus::Returned => "Trả lại để sửa",
            ReportStatus::Approved => "Đã duyệt",
        },
    )
}

pub fn timeliness(t: Timeliness) -> Cell {
    code(
        t.as_str(),
        match t {
            Timeliness::OnTime => "Đúng hạn",
            Timeliness::Late => "Trễ hạn",
        },
    )
}

pub fn compliance(s: innoreport_service::analysis::ComplianceStatus) -> Cell {
    use innoreport_service::analysis::ComplianceStatus as S;
    code(
        s.as_str(),
        match s {
            S::OnTime => "Đúng hạn",
            S::Late => "Trễ hạn",
            S::Missing => "Chưa nộp (quá hạn)",
            S::Pending => "Chưa đến hạn",
        },
    )
}

pub fn role(r: Role) -> Cell {
    code(
        r.as_str(),
        match r {
            Role::CommuneOfficer => "Cán bộ xã",
            Role::ProvinceAnalyst => "Chuyên viên tỉnh",
            Role::ProvinceAdmin => "Quản trị tỉnh",
            Role::NationalAnalyst => "Chuyên viên trung ương",
            Role::Admin => "Quản trị hệ thống",
        },
    )
}

pub fn review(a: ReviewAction) -> Cell {
    code(
        a.as_str(),
        match a {
            ReviewAction::Approve => "Duyệt",
            ReviewAction::Return => "Trả lại",
            ReviewAction::Unapprove => "Bỏ duyệt",
            ReviewAction::Reopen => "Mở lại",
        },
    )
}

/// An action of the change log.
pub fn change_action(action: &str) -> Cell {
    let vi = match action {
        "targets.set" => "Đặt chỉ tiêu kế hoạch",
        "framework.replace" => "Thay khung chỉ số",
        "user.create" => "Tạo tài khoản",
        "user.disable" => "Khóa tài khoản",
        "user.enable" => "Mở khóa tài khoản",
        "user.update" => "Đổi vai trò, phạm vi",
        "user.reset_password" => "Đặt lại mật khẩu",
        "user.change_password" => "Đổi mật khẩu",
        "user.duplicate" => "Tài khoản trùng tên (khác hoa thường)",
        "token.mint" => "Cấp token vận hành",
        "webhook.create" => "Đăng ký webhook",
        "webhook.remove" => "Gỡ webhook",
        "user.preferences" => "Đổi cài đặt thông báo",
        other => other,
    };
    code(action, vi)
}

/// What a notice is about.
pub fn notice_kind(kind: &str) -> Cell {
    let vi = match kind {
        "reminder" => "Nhắc hạn nộp",
        "returned" => "Trả lại báo cáo",
        "approved" => "Phê duyệt báo cáo",
        "reopened" => "Mở lại báo cáo",
        "unapproved" => "Hủy phê duyệt báo cáo",
        "digest" => "Tổng hợp sau hạn nộp",
        "task_overdue" => "Nhiệm vụ quá hạn",
        other => other,
    };
    code(kind, vi)
}

/// How a notice goes.
pub fn channel(channel: &str) -> Cell {
    code(
        channel,
        if channel == "email" {
            "Thư điện tử"
        } else {
            "Webhook"
        },
    )
}

/// Where a notice's delivery stands.
pub fn delivery_status(status: &str) -> Cell {
    let vi = match status {
        "pending" => "Đang chờ gửi",
        "sent" => "Đã gửi",
        "failed" => "Gửi không được",
        "cancelled" => "Không gửi (không còn đúng)",
        other => other,
    };
    code(status, vi)
}
