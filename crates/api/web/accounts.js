// The accounts page (Tài khoản): the logins a province admin manages (an admin: every login),
// listed with filters and downloads, created, disabled and enabled, their passwords reset; all
// through the same /api/v1/users endpoints a script would use, with the signed-in token. The
// API decides what the caller may touch; the page only hides buttons that could not work.

export const ACCOUNT_WORDS = {
  vi: {
    accounts: "Tài khoản", newLogin: "Tạo tài khoản", role: "Vai trò", allRoles: "Mọi vai trò",
    state: "Trạng thái", allStates: "Mọi trạng thái", enabled: "Đang hoạt động", disabledS: "Đã khoá",
    displayName: "Tên hiển thị", updatedAt: "Thay đổi lúc", actions: "Thao tác", disable: "Khoá",
    enable: "Mở khoá", reset: "Đặt lại mật khẩu", create: "Tạo", more: "Xem thêm",
    passwordOptional: "Mật khẩu (để trống: hệ thống tạo)", communeCode: "Xã/phường",
    provinceCode: "Tỉnh/thành phố", confirmReset: "Đặt lại mật khẩu của %s? Mọi phiên đăng nhập của tài khoản này sẽ kết thúc.",
    confirmDisable: "Khoá tài khoản %s? Mọi phiên đăng nhập của tài khoản này kết thúc ngay.",
    newPassword: "Mật khẩu mới của %s (chỉ hiện một lần, hãy chuyển cho người dùng):",
    created: "Đã tạo tài khoản %s.", createdPassword: "Đã tạo tài khoản %s. Mật khẩu (chỉ hiện một lần):",
    done: "Đã lưu.", you: "(bạn)", anyProvince: "Mọi tỉnh",
    role_commune_officer: "Cán bộ xã", role_province_analyst: "Chuyên viên tỉnh",
    role_province_admin: "Quản trị tỉnh", role_national_analyst: "Chuyên viên trung ương",
    role_admin: "Quản trị hệ thống",
    f_username: "Tên đăng nhập", f_password: "Mật khẩu", f_commune: "Xã/phường", f_province: "Tỉnh/thành phố",
    f_role: "Vai trò", f_display_name: "Tên hiển thị", f_disabled: "Trạng thái",
    e_too_short: "cần ít nhất 12 ký tự", e_too_long: "quá dài", e_blank: "không được chỉ gồm khoảng trắng hay ký tự ẩn",
    e_too_simple: "quá đơn giản (một ký tự lặp lại, một dãy liên tiếp hay một hàng phím)",
    e_contains_username: "không được chứa tên đăng nhập", e_common_password: "là mật khẩu quá phổ biến; hãy chọn mật khẩu khác",
    e_taken: "tên này đã có người dùng (không phân biệt hoa thường)",
    e_invalid_username: "chỉ gồm chữ, số và - _ . @ (không bắt đầu bằng - hoặc @), tối đa 64 ký tự",
    e_required: "cần nhập", e_unknown_commune: "không có xã/phường này", e_invalid_commune: "mã xã gồm 5 chữ số",
    e_unknown_province: "không có tỉnh này", e_mismatch: "xã không thuộc tỉnh này",
    e_scope_mismatch: "vai trò và phạm vi không khớp", e_invalid_characters: "có ký tự điều khiển hoặc ký tự đảo chiều",
    e_self: "không thể tự khoá tài khoản của mình", forbidden: "Bạn không quản lý tài khoản này hoặc phạm vi này.",
  },
  en: {
    accounts: "Accounts", newLogin: "New login", role: "Role", allRoles: "Every role", state: "State",
    allStates: "Every state", enabled: "Enabled", disabledS: "Disabled", displayName: "Display name",
    updatedAt: "Changed", actions: "Actions", disable: "Disable", enable: "Enable", reset: "Reset password",
    create: "Create", more: "Show more", passwordOptional: "Password (empty: generated)",
    communeCode: "Commune", provinceCode: "Province",
    confirmReset: "Reset the password of %s? Every session of this login ends.",
    confirmDisable: "Disable %s? Every session of this login ends at once.",
    newPassword: "New password of %s (shown only once; pass it on to its user):",
    created: "Login %s created.", createdPassword: "Login %s created. Its password (shown only once):",
    done: "Saved.", you: "(you)", anyProvince: "Every province",
    role_commune_officer: "Commune officer", role_province_analyst: "Province analyst",
    role_province_admin: "Province admin", role_national_analyst: "National analyst", role_admin: "Administrator",
    f_username: "Username", f_password: "Password", f_commune: "Commune", f_province: "Province", f_role: "Role",
    f_display_name: "Display name", f_disabled: "State", forbidden: "You do not manage this login or this scope.",
  },
};

const PROVINCE_ROLES = ["commune_officer", "province_analyst", "province_admin"];
const ALL_ROLES = [...PROVINCE_ROLES, "national_analyst", "admin"];

// Every problem the API listed, one line each: the field and the rule in the page's language
// (the API's own English message where the page has no words for the rule).
function problemLines(ui, problem, status) {
  const errors = (problem && problem.errors) || [];
  const word = (key, fallback) => (ui.t(key) === key ? fallback : ui.t(key));
  const lines = errors.length
    ? errors.map((e) => `${word(`f_${e.field}`, e.field)}: ${word(`e_${e.code}`, e.message)}`)
    : [status === 403 ? ui.t("forbidden") : (problem && problem.detail) || ui.t("error")];
  return ui.el("ul", { class: "alert", role: "alert", "data-testid": "account-errors" }, lines.map((l) => ui.el("li", { text: l })));
}

// A notice shown once: a generated password is selectable and never stored by the page.
function secretNotice(ui, message, secret) {
  return ui.el("div", { class: "notice", role: "status", "data-testid": "account-notice" },
    ui.el("p", { text: message }),
    secret ? ui.el("code", { class: "secret", "data-testid": "generated-password", text: secret }) : null);
}

export async function accountsView(ui) {
  const { el, t, api, send } = ui;
  const me = ui.claims();
  const q = ui.params();
  const admin = me.role === "admin";
  const province = admin ? q.get("province") || "" : me.province;
  const filter = { role: q.get("role") || "", disabled: q.get("disabled") || "", province };
  const listQuery = Object.fromEntries(Object.entries(filter).filter(([, v]) => v));
  const listPath = `/api/v1/users${ui.query(listQuery)}`;
  const notice = el("div", { "data-testid": "account-messages" });
  const say = (node) => notice.replaceChildren(node);
  const roleName = (r) => t(`role_${r}`);
  const fill = (template, name) => template.replace("%s", name);

  const provinces = admin ? (await api("/api/v1/provinces")).items : [];
  const place = province ? ui.nameOf(admin ? provinces.find((p) => p.code === province) || { name: province }
    : await api(`/api/v1/provinces/${ui.enc(province)}`)) : "";
  const filters = el("div", { class: "pickers" },
    ui.picker(t("role"), "role", filter.role, [{ value: "", text: t("allRoles") }, ...(admin ? ALL_ROLES : PROVINCE_ROLES)
      .map((r) => ({ value: r, text: roleName(r) }))], "filter-role"),
    ui.picker(t("state"), "disabled", filter.disabled, [{ value: "", text: t("allStates") },
      { value: "false", text: t("enabled") }, { value: "true", text: t("disabledS") }], "filter-state"),
    admin ? ui.picker(t("provinceCode"), "province", province, [{ value: "", text: t("anyProvince") },
      ...provinces.map((p) => ({ value: p.code, text: ui.nameOf(p) }))], "filter-province") : null);

  // Rows are loaded a page at a time; "show more" follows the cursor.
  const tbodyHolder = el("div", {});
  const rows = [];
  let cursor = null;
  const moreButton = el("button", { type: "button", "data-testid": "more", hidden: true,
    onclick: () => loadMore() }, t("more"));

  function actions(login) {
    if (login.username === me.sub) return el("span", { class: "muted", text: t("you") });
    const toggle = el("button", { type: "button", "data-testid": `toggle-${login.username}`,
      onclick: async () => {
        if (!login.disabled && !confirm(fill(t("confirmDisable"), login.username))) return;
        const res = await send("PATCH", `/api/v1/users/${ui.enc(login.username)}`, { disabled: !login.disabled });
        if (!res.ok) { say(problemLines(ui, res.body, res.status)); return; }
        Object.assign(login, res.body);
        say(secretNotice(ui, t("done")));
        draw();
      } }, login.disabled ? t("enable") : t("disable"));
    const reset = el("button", { type: "button", "data-testid": `reset-${login.username}`,
      onclick: async () => {
        if (!confirm(fill(t("confirmReset"), login.username))) return;
        const res = await send("POST", `/api/v1/users/${ui.enc(login.username)}/password`, {});
        if (!res.ok) { say(problemLines(ui, res.body, res.status)); return; }
        Object.assign(login, res.body.login);
        say(secretNotice(ui, fill(t("newPassword"), login.username), res.body.generated_password));
        draw();
      } }, t("reset"));
    return el("span", { class: "row-actions" }, toggle, " ", reset);
  }

  function draw() {
    tbodyHolder.replaceChildren(ui.table([
      { title: t("username"), value: (l) => l.username },
      { title: t("displayName"), value: (l) => l.display_name || "—" },
      { title: t("role"), value: (l) => roleName(l.role) },
      { title: t("provinceCode"), value: (l) => l.province || "—" },
      { title: t("communeCode"), value: (l) => l.commune || "—" },
      { title: t("state"), value: (l) => (l.disabled ? t("disabledS") : t("enabled")), cls: (l) => (l.disabled ? "status-missing" : "status-on_time") },
      { title: t("updatedAt"), value: (l) => ui.when(l.updated_at) },
      { title: t("actions"), value: (l) => actions(l) },
    ], rows, "accounts-table"));
    moreButton.hidden = !cursor;
  }

  async function loadMore() {
    const page = await api(`${listPath}${listPath.includes("?") ? "&" : "?"}${new URLSearchParams({ limit: "100", ...(cursor ? { cursor } : {}) })}`);
    rows.push(...page.items);
    cursor = page.next_cursor;
    draw();
  }

  await loadMore();

  // The creation form: the roles the caller may create; a commune for commune officers, a
  // province for province roles when an admin creates them (a province admin: their own).
  const communes = province ? (await api(`/api/v1/provinces/${ui.enc(province)}/communes?limit=1000`)).items : [];
  const communeList = el("datalist", { id: "commune-codes" },
    communes.map((c) => el("option", { value: c.code, text: `${c.code} — ${ui.nameOf(c)}` })));
  const errors = el("div", {});
  const form = el("form", { class: "account-form", "data-testid": "new-login",
    onsubmit: async (e) => {
      e.preventDefault();
      const data = new FormData(form);
      const role = data.get("role");
      const body = { username: data.get("username").trim(), role, display_name: data.get("display_name").trim() };
      if (role === "commune_officer") body.commune = data.get("commune").trim();
      if (PROVINCE_ROLES.includes(role) && role !== "commune_officer") body.province = admin ? data.get("province") : me.province;
      if (data.get("password")) body.password = data.get("password");
      const res = await send("POST", "/api/v1/users", body);
      if (!res.ok) { errors.replaceChildren(problemLines(ui, res.body, res.status)); return; }
      errors.replaceChildren();
      form.reset();
      say(res.body.generated_password
        ? secretNotice(ui, fill(t("createdPassword"), res.body.username), res.body.generated_password)
        : secretNotice(ui, fill(t("created"), res.body.username)));
      rows.splice(0, rows.length);
      cursor = null;
      await loadMore();
    } },
  el("label", {}, t("username"), el("input", { name: "username", required: true, maxlength: 64, autocomplete: "off", "data-testid": "new-username" })),
  el("label", {}, t("role"), el("select", { name: "role", "data-testid": "new-role" },
    (admin ? ALL_ROLES : PROVINCE_ROLES).map((r) => el("option", { value: r, text: roleName(r) })))),
  el("label", {}, t("communeCode"), el("input", { name: "commune", list: "commune-codes", inputmode: "numeric", maxlength: 5, "data-testid": "new-commune" })),
  admin ? el("label", {}, t("provinceCode"), el("select", { name: "province", "data-testid": "new-province" },
    provinces.map((p) => el("option", { value: p.code, text: ui.nameOf(p) })))) : null,
  el("label", {}, t("displayName"), el("input", { name: "display_name", maxlength: 200, "data-testid": "new-display-name" })),
  el("label", {}, t("passwordOptional"), el("input", { name: "password", type: "password", autocomplete: "new-password", "data-testid": "new-password" })),
  el("button", { type: "submit", class: "primary", "data-testid": "create" }, t("create")),
  communeList);

  document.title = `${t("accounts")} — innoreport`;
  return [
    el("h1", { text: `${t("accounts")}${place ? ` — ${place}` : ""}` }),
    notice,
    ui.section(t("accounts"), "accounts", filters, tbodyHolder, moreButton,
      ui.downloads(listPath, `logins${province ? `-${province}` : ""}`, "accounts-download")),
    ui.section(t("newLogin"), "new-login-section", form, errors)];
}
