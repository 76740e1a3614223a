// The "Thông báo" (notices) tab of the province and commune pages: the delivery log of
// reminders, notices of review actions, digests and overdue-task notices, read from
// GET /api/v1/notifications with the signed-in token (a commune sees only its own).

export const NOTICE_WORDS = {
  vi: {
    notices: "Thông báo", noticeLog: "Nhật ký gửi thông báo", noticeKind: "Loại", recipient: "Người nhận",
    channel: "Kênh", subject: "Tiêu đề", deliveryStatus: "Tình trạng", attempts: "Số lần gửi",
    createdAt: "Tạo lúc", sentAt: "Gửi lúc", lastError: "Lỗi gần nhất", allKinds: "Tất cả",
    reminder: "Nhắc hạn nộp", returned: "Trả lại báo cáo", approved: "Phê duyệt báo cáo",
    reopened: "Mở lại báo cáo", unapproved: "Hủy phê duyệt báo cáo", digest: "Tổng hợp sau hạn nộp", task_overdue: "Nhiệm vụ quá hạn",
    pending: "Đang chờ gửi", sent: "Đã gửi", failed: "Gửi không được", cancelled: "Không gửi (không còn đúng)",
    email: "Thư điện tử", webhook: "Webhook", noNotices: "Chưa có thông báo nào.", more: "Xem thêm",
  },
  en: {
    notices: "Notices", noticeLog: "Delivery log", noticeKind: "Kind", recipient: "Recipient",
    channel: "Channel", subject: "Subject", deliveryStatus: "Status", attempts: "Attempts",
    createdAt: "Created", sentAt: "Sent", lastError: "Last error", allKinds: "All",
    reminder: "Reminder", returned: "Report returned", approved: "Report approved",
    reopened: "Report reopened", unapproved: "Approval withdrawn", digest: "Digest after the deadline", task_overdue: "Task overdue",
    pending: "Waiting", sent: "Sent", failed: "Failed", cancelled: "Not sent (no longer true)",
    email: "Email", webhook: "Webhook", noNotices: "No notices yet.", more: "Show more",
  },
};

const KINDS = ["reminder", "returned", "approved", "reopened", "unapproved", "digest", "task_overdue"];

export async function noticesView(ctx, level, code) {
  const { api, el, t, table, downloads, section, query, when, params, picker } = ctx;
  const kind = KINDS.includes(params().get("kind")) ? params().get("kind") : null;
  const filter = kind ? { [level]: code, kind } : { [level]: code };
  const page = (cursor) => api(`/api/v1/notifications${query({ ...filter, limit: 200, ...(cursor ? { cursor } : {}) })}`);
  const log = await page(null);
  const kindPicker = picker(t("noticeKind"), "kind", kind || "",
    [{ value: "", text: t("allKinds") }, ...KINDS.map((k) => ({ value: k, text: t(k) }))], "notice-kind");
  const columns = [
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
  ];
  if (!log.items.length) {
    return [el("div", { class: "pickers" }, kindPicker), section(t("noticeLog"), "notices",
      el("p", { class: "muted", "data-testid": "notices-empty", text: t("noNotices") }),
      downloads(`/api/v1/notifications${query(filter)}`, `thong-bao-${code}`, "notices-download"))];
  }
  // Older messages page in below, 200 at a time: nothing is cut off silently.
  const shown = table(columns, log.items, "notices-table");
  let cursor = log.next_cursor;
  const more = el("button", { type: "button", "data-testid": "notices-more", hidden: !cursor, onclick: async () => {
    const next = await page(cursor);
    const rows = table(columns, next.items, "notices-table").querySelectorAll("tbody tr");
    shown.querySelector("tbody").append(...rows);
    cursor = next.next_cursor;
    more.hidden = !cursor;
  } }, t("more"));
  return [
    el("div", { class: "pickers" }, kindPicker),
    section(t("noticeLog"), "notices", shown, more,
      downloads(`/api/v1/notifications${query(filter)}`, `thong-bao-${code}`, "notices-download")),
  ];
}
