// The "Thông báo" (notices) tab of the province and commune pages: the delivery log of
// reminders, notices of review actions, digests and overdue-task notices, read from
// GET /api/v1/notifications with the signed-in token (a commune sees only its own).

export const NOTICE_WORDS = {
  vi: {
    notices: "Thông báo", noticeLog: "Nhật ký gửi thông báo", noticeKind: "Loại", recipient: "Người nhận",
    channel: "Kênh", subject: "Tiêu đề", deliveryStatus: "Tình trạng", attempts: "Số lần gửi",
    createdAt: "Tạo lúc", sentAt: "Gửi lúc", lastError: "Lỗi gần nhất", allKinds: "Tất cả",
    reminder: "Nhắc hạn nộp", returned: "Trả lại báo cáo", approved: "Phê duyệt báo cáo",
    reopened: "Mở lại báo cáo", digest: "Tổng hợp sau hạn nộp", task_overdue: "Nhiệm vụ quá hạn",
    pending: "Đang chờ gửi", sent: "Đã gửi", failed: "Gửi không được", email: "Thư điện tử", webhook: "Webhook",
    noNotices: "Chưa có thông báo nào.",
  },
  en: {
    notices: "Notices", noticeLog: "Delivery log", noticeKind: "Kind", recipient: "Recipient",
    channel: "Channel", subject: "Subject", deliveryStatus: "Status", attempts: "Attempts",
    createdAt: "Created", sentAt: "Sent", lastError: "Last error", allKinds: "All",
    reminder: "Reminder", returned: "Report returned", approved: "Report approved",
    reopened: "Report reopened", digest: "Digest after the deadline", task_overdue: "Task overdue",
    pending: "Waiting", sent: "Sent", failed: "Failed", email: "Email", webhook: "Webhook",
    noNotices: "No notices yet.",
  },
};

const KINDS = ["reminder", "returned", "approved", "reopened", "digest", "task_overdue"];

export async function noticesView(ctx, level, code) {
  const { api, el, t, table, downloads, section, query, when, params, picker } = ctx;
  const kind = KINDS.includes(params().get("kind")) ? params().get("kind") : null;
  const filter = kind ? { [level]: code, kind } : { [level]: code };
  const path = `/api/v1/notifications${query({ ...filter, limit: 200 })}`;
  const log = await api(path);
  const kindPicker = picker(t("noticeKind"), "kind", kind || "",
    [{ value: "", text: t("allKinds") }, ...KINDS.map((k) => ({ value: k, text: t(k) }))], "notice-kind");
  const rows = log.items;
  return [
    el("div", { class: "pickers" }, kindPicker),
    section(t("noticeLog"), "notices",
      rows.length ? table([
        { title: t("createdAt"), value: (r) => when(r.created_at) },
        { title: t("noticeKind"), value: (r) => t(r.kind) },
        { title: t("commune"), value: (r) => r.commune || "—" },
        { title: t("recipient"), value: (r) => r.recipient },
        { title: t("channel"), value: (r) => t(r.channel) },
        { title: t("subject"), value: (r) => r.subject },
        { title: t("deliveryStatus"), value: (r) => t(r.status),
          cls: (r) => (r.status === "failed" ? "status-late" : r.status === "pending" ? "status-missing" : null) },
        { title: t("attempts"), value: (r) => r.attempts, num: true },
        { title: t("sentAt"), value: (r) => (r.sent_at ? when(r.sent_at) : "—") },
        { title: t("lastError"), value: (r) => r.last_error || "—" },
      ], rows, "notices-table") : el("p", { class: "muted", "data-testid": "notices-empty", text: t("noNotices") }),
      downloads(`/api/v1/notifications${query(filter)}`, `thong-bao-${code}`, "notices-download")),
  ];
}
