// The "Nhập báo cáo" (report entry) tab of a commune page: a form generated from the catalog for
// each period the commune may report, checked by the API's own dry run before it is sent, kept
// in the browser (IndexedDB) as it is typed so nothing is lost to a reload, a closed tab or a
// lost connection, and sent when the connection returns. A province admin enters a paper report
// for one of the province's communes through the same form (the API records the admin's name).

export const ENTRY_WORDS = {
  vi: {
    entry: "Nhập báo cáo", entryFor: "Nhập báo cáo", reportOf: "Báo cáo", chooseCommune: "Xã/phường",
    check: "Kiểm tra", submit: "Gửi báo cáo", previous: "Kỳ trước", yearTarget: "Kế hoạch năm",
    helpLast: "số tại cuối kỳ", helpSum: "cộng dồn trong kỳ", helpMean: "bình quân trong kỳ", helpMax: "giá trị lớn nhất trong kỳ",
    atMost: "không lớn hơn", notNumber: "Không phải là số (ví dụ 1.234 hoặc 12,5)",
    late: "Đã quá hạn nộp ({deadline}): báo cáo sẽ được ghi nhận là nộp muộn.",
    dueBy: "Hạn nộp: {deadline}.", lockedApproved: "Báo cáo đã được Sở phê duyệt nên không sửa được nữa (chỉ xem).",
    lockedPast: "Đã khóa số liệu từ {lock}; chỉ xem. Đề nghị Sở mở lại nếu cần sửa.",
    reopenedNote: "Sở đã mở lại báo cáo này: xã có thể nộp hoặc sửa.",
    revisionNow: "Đã nộp lần {revision}.", notFiled: "Chưa nộp.", sent: "Đã gửi thành công: lần {revision}.",
    unchanged: "Không có thay đổi so với lần nộp trước.",
    checked: "Số liệu hợp lệ.", problems: "Cần sửa trước khi gửi:", warningsTitle: "Cần xem lại (không phải lỗi):",
    confirmWarnings: "Tôi đã xem lại các giá trị khác thường và xác nhận là đúng",
    offline: "Đang mất kết nối. Bản nháp được lưu trên máy; báo cáo sẽ tự gửi khi có mạng.",
    queued: "Đang chờ gửi khi có mạng (đã lưu trên máy).", draftKept: "Bản nháp chưa gửi, lưu trên máy lúc {at}.",
    discardDraft: "Bỏ bản nháp", conflictTitle: "Báo cáo vừa được người khác sửa (lần {revision}). Chọn giá trị giữ lại:",
    mine: "Của tôi", theirs: "Đã lưu", keepMine: "giữ của tôi", useTheirs: "dùng giá trị đã lưu", mergeSubmit: "Gộp và gửi lại",
    tasksTitle: "Tiến độ nhiệm vụ trong kế hoạch", textsTitle: "Nội dung báo cáo", notStated: "— chưa báo cáo —",
    highlights: "Kết quả nổi bật", difficulties: "Khó khăn, vướng mắc", proposals: "Đề xuất, kiến nghị",
    result: "Kết quả", percent: "Tiến độ (%)", valuesTitle: "Số liệu", noOpen: "Không có kỳ báo cáo nào.",
    p_empty: "Báo cáo cần ít nhất một số liệu.", p_negative: "Không được là số âm.", p_too_large: "Số quá lớn.",
    p_not_integer: "Phải là số nguyên.", p_too_many_decimals: "Quá nhiều chữ số thập phân.",
    p_exceeds_whole: "Không được lớn hơn “{whole}”.", p_not_a_number: "Không phải là số.",
    w_far: "Giá trị {value} khác xa {history} kỳ trước của đơn vị (trung vị {median}): đề nghị kiểm tra lại.",
    w_constant: "Giá trị {value} khác với {history} kỳ trước (đều là {median}): đề nghị kiểm tra lại.",
    sending: "Đang gửi…", lockedNow: "Báo cáo đã bị khóa (đã được phê duyệt hoặc đã khóa sổ): không gửi được.",
    draftLocked: "Có bản nháp lưu trên máy lúc {at} nhưng báo cáo đã khóa nên không gửi được.",
    returnedNote: "Sở đã trả lại báo cáo để chỉnh sửa: {comment}", noComment: "(không có ý kiến)",
    autoMerged: "Các thay đổi khác của người kia đã được giữ lại.", chooseStatus: "Chọn tình trạng nhiệm vụ trước.",
    waiting: "{n} báo cáo đang chờ gửi.", cannotLoadOffline: "Chưa mở kỳ này khi có mạng nên không xem được khi ngoại tuyến.",
    percentNumber: "Tiến độ phải là số nguyên từ 0 đến 100.", tooLong: "Dài quá {n} ký tự.",
  },
  en: {
    entry: "Enter report", entryFor: "Enter report", reportOf: "Report", chooseCommune: "Commune",
    check: "Check", submit: "Send report", previous: "Previous period", yearTarget: "Year target",
    helpLast: "value at the end of the period", helpSum: "total over the period", helpMean: "average over the period", helpMax: "highest value in the period",
    atMost: "at most", notNumber: "Not a number (e.g. 1.234 or 12,5)",
    late: "The deadline ({deadline}) has passed: the report will count as late.",
    dueBy: "Due by {deadline}.", lockedApproved: "The province approved this report; it can no longer be changed (read only).",
    lockedPast: "Locked since {lock}; read only. Ask the province to reopen it to change it.",
    reopenedNote: "The province reopened this report: the commune may send or correct it.",
    revisionNow: "Sent as revision {revision}.", notFiled: "Not sent yet.", sent: "Sent: revision {revision}.",
    unchanged: "Nothing changed since the last revision.",
    checked: "The figures are valid.", problems: "Fix before sending:", warningsTitle: "Please double-check (not errors):",
    confirmWarnings: "I have checked the unusual values and confirm they are right",
    offline: "Offline. The draft is kept on this device; the report is sent when the connection returns.",
    queued: "Waiting for a connection to send (kept on this device).", draftKept: "Unsent draft, kept on this device at {at}.",
    discardDraft: "Discard the draft", conflictTitle: "Someone changed this report meanwhile (revision {revision}). Choose what to keep:",
    mine: "Mine", theirs: "Stored", keepMine: "keep mine", useTheirs: "use the stored value", mergeSubmit: "Merge and send",
    tasksTitle: "Progress on the plan's tasks", textsTitle: "The report's texts", notStated: "— not stated —",
    highlights: "Highlights", difficulties: "Difficulties", proposals: "Proposals",
    result: "Result", percent: "Progress (%)", valuesTitle: "Figures", noOpen: "No reporting period.",
    p_empty: "A report needs at least one figure.", p_negative: "May not be negative.", p_too_large: "Too large.",
    p_not_integer: "Must be a whole number.", p_too_many_decimals: "Too many decimals.",
    p_exceeds_whole: "May not be above “{whole}”.", p_not_a_number: "Not a number.",
    w_far: "{value} is far from the {history} earlier periods (median {median}): please check it.",
    w_constant: "{value} differs from the {history} earlier periods (all {median}): please check it.",
    sending: "Sending…", lockedNow: "The report is locked (approved or past its lock): it cannot be sent.",
    draftLocked: "A draft kept on this device at {at} cannot be sent: the report is locked.",
    returnedNote: "The province returned the report for correction: {comment}", noComment: "(no comment)",
    autoMerged: "The other person's other changes are kept.", chooseStatus: "Choose the task's status first.",
    waiting: "{n} reports waiting to be sent.", cannotLoadOffline: "This period was not opened online, so it cannot be shown offline.",
    percentNumber: "Progress must be a whole number from 0 to 100.", tooLong: "Longer than {n} characters.",
  },
};

const STATUSES = ["not_started", "in_progress", "completed", "not_feasible"];
const TEXTS = ["highlights", "difficulties", "proposals"];
const TASK_TEXTS = ["result", "difficulties", "proposals"];

// ---------- numbers as people in Vietnam write them ----------

// What a person typed → a number (null when empty, NaN when it is not one), as people write
// numbers in the page's language: in Vietnamese "1.234,5", "12,5" and "1.234" (a thousand); in
// English "1,234.5", "12.5" and "1,234". With both separators the last one is the decimal one;
// groups of thousands must be whole groups ("1.2.3" is not a number).
export function parseNumber(raw, lang = "vi") {
  let s = String(raw ?? "").trim().replace(/[\s\u00a0]/g, "");
  if (s === "") return null;
  if (!/\d/.test(s)) return NaN;
  const [group, decimal] = lang === "en" ? [",", "."] : [".", ","];
  const comma = s.lastIndexOf(","), dot = s.lastIndexOf(".");
  const grouped = (x, sep) => new RegExp(`^-?\\d{1,3}(\\${sep}\\d{3})+$`).test(x) && !/^-?0\d/.test(x.replace(/[.,]/g, ""));
  if (comma >= 0 && dot >= 0) {
    const [g, d] = comma > dot ? [".", ","] : [",", "."];
    const [whole, frac] = [s.slice(0, s.lastIndexOf(d)), s.slice(s.lastIndexOf(d) + 1)];
    if (!grouped(whole, g) && whole.includes(g)) return NaN;
    s = `${whole.split(g).join("")}.${frac}`;
  } else if (s.includes(group)) {
    const parts = s.split(group);
    // "1.234" is a thousand; "1.5", "5." and "0.125" cannot be groups of thousands: decimals.
    if (grouped(s, group)) s = parts.join("");
    else if (parts.length === 2) s = parts.join(".");
    else return NaN;
  } else if (s.includes(decimal)) {
    if (s.split(decimal).length !== 2) return NaN;
    s = s.replace(decimal, ".");
  }
  s = s.replace(/^(-?)\./, "$10.").replace(/\.$/, "");
  return /^-?\d+(\.\d+)?$/.test(s) ? Number(s) : NaN;
}

// A stored number as a field shows it, in the page's language, without grouping (so it reads
// back the same).
export const inputText = (x, lang = "vi") =>
  (x === null || x === undefined ? "" : lang === "en" ? String(x) : String(x).replace(".", ","));

// ---------- drafts in IndexedDB ----------

function db() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open("innoreport", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("drafts");
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}

async function store(mode, work) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const tx = d.transaction("drafts", mode);
    const req = work(tx.objectStore("drafts"));
    tx.oncomplete = () => resolve(req && req.result);
    tx.onerror = () => reject(tx.error);
  });
}

export const drafts = {
  get: (key) => store("readonly", (s) => s.get(key)),
  put: (key, value) => store("readwrite", (s) => s.put(value, key)),
  remove: (key) => store("readwrite", (s) => s.delete(key)),
  all: () => store("readonly", (s) => s.getAll()),
};

// ---------- waiting reports ----------

// The form on screen (one at a time), told when its waiting report went.
let current = null;
let started = false;

// A draft is the login's own: keyed by who typed it, never sent under another login.
const draftKey = (sub, code, dataset, period) => `${sub}|${code}|${dataset}|${period}`;

// Sends every waiting report of the signed-in login (each as it was when it was queued); called
// when the page opens, when the connection returns and every 30 seconds meanwhile. A report the
// server refuses (a conflict, a lock) stops waiting: its form shows why when it is opened.
async function flush(ctx) {
  const me = ctx.claims();
  if (!me || !navigator.onLine) return;
  const all = await drafts.all().catch(() => []);
  for (const d of all.filter((x) => x.queued && x.sub === me.sub && x.body)) {
    let res;
    try {
      res = await ctx.send("POST", "/api/v1/reports", d.body);
    } catch (_) {
      return; // offline again, or signed out: the next call tries again
    }
    if (res.ok) {
      await drafts.remove(d.key).catch(() => {});
      // Read it again, so the copy kept for offline use is the one just stored.
      const b = d.body;
      await ctx.api(`/api/v1/reports/${encodeURIComponent(b.dataset)}/${encodeURIComponent(b.period)}/${encodeURIComponent(b.commune)}`)
        .catch(() => {});
    } else await drafts.put(d.key, { ...d, queued: false, refused: res.status }).catch(() => {});
    if (current && current.key === d.key) current.flushed(res);
  }
}

function start(ctx) {
  if (started) return;
  started = true;
  window.addEventListener("online", () => { if (current) current.online(); flush(ctx); });
  window.addEventListener("offline", () => { if (current) current.offline(); });
  setInterval(() => flush(ctx), 30000);
}

// ---------- the form ----------

function say(t, key, vars = {}) {
  return Object.entries(vars).reduce((s, [k, v]) => s.replace(`{${k}}`, v), t(key));
}

function previousPeriod(p) {
  if (/^\d{4}$/.test(p)) return String(Number(p) - 1);
  const [y, q] = p.split("Q").map(Number);
  return q === 1 ? `${y - 1}Q4` : `${y}Q${q - 1}`;
}

function help(t, ind, unit, names) {
  const parts = [unit || null,
    { last: t("helpLast"), sum: t("helpSum"), mean: t("helpMean"), max: t("helpMax") }[ind.temporal] || null,
    ind.at_most ? `${t("atMost")} “${names[ind.at_most] || ind.at_most}”` : null];
  return parts.filter(Boolean).join(" · ");
}

export async function entryView(ctx, code) {
  const { api, el, t, enc, params, go, claims, nameOf, when } = ctx;
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
  start(ctx);
  await flush(ctx);
  const who = claims();
  const unit = await api(`/api/v1/communes/${enc(code)}`);
  const nodes = [];
  if (!who.commune) {
    // A province admin (or an admin) picks the commune whose paper report they enter.
    const communes = await api(`/api/v1/provinces/${enc(unit.province)}/communes?limit=1000`);
    nodes.push(el("div", { class: "pickers" }, el("label", {}, t("chooseCommune"),
      el("select", { "data-testid": "entry-commune", onchange: (e) => go(`/commune/${e.target.value}/entry`) },
        communes.items.map((c) => el("option", { value: c.code, selected: c.code === code, text: `${c.code} — ${nameOf(c)}` }))))));
  }
  const waiting = (await drafts.all().catch(() => [])).filter((d) => d.queued && d.sub === who.sub);
  if (waiting.length) nodes.push(el("p", { class: "warn", "data-testid": "waiting", text: say(t, "waiting", { n: waiting.length }) }));
  const [periods, datasets] = await Promise.all([api(`/api/v1/communes/${enc(code)}/periods`), api("/api/v1/datasets")]);
  if (!periods.items.length) return [...nodes, el("p", { class: "muted", text: t("noOpen") })];
  const dsName = (c) => { const d = datasets.items.find((x) => x.code === c); return d ? nameOf(d) : c; };
  const wanted = `${params().get("dataset")}|${params().get("period")}`;
  const item = periods.items.find((p) => `${p.dataset}|${p.period}` === wanted)
    || periods.items.find((p) => p.editable) || periods.items[0];
  nodes.push(el("div", { class: "pickers" }, el("label", {}, t("reportOf"),
    el("select", { "data-testid": "entry-period", onchange: (e) => {
      const [dataset, period] = e.target.value.split("|");
      ctx.setQuery({ dataset, period });
    } }, periods.items.map((p) => el("option", { value: `${p.dataset}|${p.period}`, selected: p === item,
      text: `${p.period}${p.editable ? "" : " 🔒"} — ${dsName(p.dataset)}` }))))));
  try {
    nodes.push(await reportForm(ctx, code, item, when));
  } catch (e) {
    if (e instanceof TypeError) nodes.push(el("p", { class: "warn", "data-testid": "not-offline", text: t("cannotLoadOffline") }));
    else throw e;
  }
  return nodes;
}

// Values (numbers or null), texts (strings or null) and tasks (objects or null) of a report as
// the API holds them.
function partsOf(report, reported, tasks) {
  return {
    values: Object.fromEntries(reported.map((i) => [i.code, report && report.values[i.code] !== undefined ? report.values[i.code] : null])),
    texts: Object.fromEntries(TEXTS.map((k) => [k, (report && report.texts && report.texts[k]) || null])),
    tasks: Object.fromEntries(tasks.map((x) => [x.task, tidyTask(report && report.tasks && report.tasks[x.task])])),
  };
}

// A task's progress without its empty parts (the API answers them as null, the form leaves them
// out): the same progress compares the same.
function tidyTask(p) {
  if (!p) return null;
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== null && v !== undefined && v !== ""));
}

// Equal as the API holds them (objects compared whatever the order of their keys).
const canonical = (v) => (v && typeof v === "object"
  ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])])) : v ?? null);
const same = (a, b) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

async function reportForm(ctx, code, item, when) {
  const { api, send, el, t, enc, nameOf, fmt, lang, claims } = ctx;
  const me = claims();
  const key = draftKey(me.sub, code, item.dataset, item.period);
  const path = `/api/v1/reports/${enc(item.dataset)}/${enc(item.period)}/${enc(code)}`;
  const soft = (p) => api(p).catch((e) => { if (e instanceof TypeError) throw e; return null; });
  const [inds, first, before, targets, plan, reviews] = await Promise.all([
    api(`/api/v1/indicators?dataset=${enc(item.dataset)}`),
    item.revision ? soft(path) : null,
    soft(`/api/v1/reports/${enc(item.dataset)}/${enc(previousPeriod(item.period))}/${enc(code)}`),
    soft(`/api/v1/targets?year=${item.period.slice(0, 4)}&commune=${enc(code)}`),
    soft(`/api/v1/plans/progress/${enc(code)}?period=${enc(item.period)}`),
    item.status === "returned" ? soft(`${path}/reviews`) : null,
  ]);
  const l = lang();
  const reported = inds.items.filter((i) => i.kind === "reported");
  const names = Object.fromEntries(inds.items.map((i) => [i.code, nameOf({ name: i.name, name_en: i.name_en })]));
  const target = (c) => (targets && targets.items || []).find((x) => x.indicator === c);
  const tasks = plan ? plan.items : [];
  // The report the form started from (the base of the next submission and of a merge).
  let stored = first;
  let base = partsOf(stored, reported, tasks);
  const editable = item.editable;
  const saved = await drafts.get(key).catch(() => null);
  const draft = editable ? saved : null;
  const fromServer = () => ({
    values: Object.fromEntries(reported.map((i) => [i.code, inputText(base.values[i.code], l)])),
    tasks: Object.fromEntries(tasks.map((x) => [x.task, base.tasks[x.task]
      ? { ...base.tasks[x.task], percent: base.tasks[x.task].percent ?? "" } : { status: "", percent: "" }])),
    texts: Object.fromEntries(TEXTS.map((k) => [k, base.texts[k] || ""])),
  });
  // The revision the values shown come from (a copy kept offline may be older than the list says:
  // then sending from it is a conflict to merge, never an overwrite).
  const state = { key, base: stored ? stored.revision : item.revision, queued: false, ...fromServer() };
  if (draft) {
    // Typed in the other language: the same numbers, written as this one writes them.
    const conv = (v) => {
      if (!draft.lang || draft.lang === l) return v;
      const n = parseNumber(v, draft.lang);
      return n === null || Number.isNaN(n) ? v : inputText(n, l);
    };
    const values = Object.fromEntries(Object.entries(draft.values || {}).map(([k, v]) => [k, conv(v)]));
    Object.assign(state, { values: { ...state.values, ...values }, tasks: { ...state.tasks, ...draft.tasks },
      texts: { ...state.texts, ...draft.texts }, base: draft.base, queued: draft.queued });
    if (draft.stored) { stored = draft.stored; base = partsOf(stored, reported, tasks); }
  }
  const fields = {};

  const notice = el("div", { class: "entry-status", "data-testid": "entry-status", "aria-live": "polite" });
  const problems = el("div", { class: "problems", role: "alert", "data-testid": "entry-problems", hidden: true });
  const conflict = el("div", { class: "conflict", "data-testid": "conflict", hidden: true });
  const confirm = el("label", { class: "confirm", hidden: true }, el("input", { type: "checkbox", "data-testid": "confirm-warnings" }), t("confirmWarnings"));
  const offlineBanner = el("p", { class: "offline", "data-testid": "offline", hidden: navigator.onLine, text: t("offline") });

  const persist = (extra = {}) => drafts.put(key, { key, sub: me.sub, lang: l, values: state.values, tasks: state.tasks, texts: state.texts,
    base: state.base, stored, queued: state.queued, at: new Date().toISOString(), ...extra }).catch(() => {});
  const setNotice = (text, cls, testid, ...more) => notice.replaceChildren(el("p", { class: cls, "data-testid": testid, text }), ...more);

  // Figures.
  const valueFields = reported.map((ind) => {
    const integer = ind.value_type === "count";
    const problem = el("p", { class: "problem", id: `p-${ind.code}`, "data-testid": `problem-${ind.code}`, hidden: true });
    const warning = el("p", { class: "warning", "data-testid": `warning-${ind.code}`, hidden: true });
    const input = el("input", { id: `f-${ind.code}`, name: ind.code, inputmode: integer ? "numeric" : "decimal",
      autocomplete: "off", "data-testid": `field-${ind.code}`, value: state.values[ind.code] ?? "", disabled: !editable,
      "aria-describedby": `p-${ind.code}`,
      oninput: (e) => {
        state.values[ind.code] = e.target.value;
        const bad = Number.isNaN(parseNumber(e.target.value, l));
        problem.hidden = !bad;
        problem.textContent = bad ? t("notNumber") : "";
        input.setAttribute("aria-invalid", bad ? "true" : "false");
        warning.hidden = true;
        persist();
      } });
    const tg = target(ind.code);
    const facts = [before && before.values[ind.code] !== undefined ? `${t("previous")}: ${fmt(before.values[ind.code], 6)}` : null,
      tg ? `${t("yearTarget")}: ${fmt(tg.target, 6)}` : null].filter(Boolean).join(" · ");
    fields[`values.${ind.code}`] = { problem, warning, input };
    return el("div", { class: "field", "data-field": `values.${ind.code}` },
      el("label", { for: `f-${ind.code}` }, names[ind.code]),
      input,
      el("p", { class: "help", text: help(t, ind, l === "en" ? ind.unit_en : ind.unit, names) }),
      facts ? el("p", { class: "facts", "data-testid": `facts-${ind.code}`, text: facts }) : null,
      problem, warning);
  });

  // The plan's tasks and the report's texts.
  const taskFields = tasks.map((x) => {
    const s = state.tasks[x.task];
    const problem = el("p", { class: "problem", "data-testid": `problem-task-${x.task}`, hidden: true });
    fields[`tasks.${x.task}`] = { problem };
    const update = (k, v) => { state.tasks[x.task] = { ...state.tasks[x.task], [k]: v }; persist(); };
    return el("fieldset", { class: "task", "data-testid": `task-${x.task}` },
      el("legend", { text: `${x.task}. ${x.title}` }),
      el("label", {}, t("status"), el("select", { disabled: !editable, "data-testid": `task-status-${x.task}`, onchange: (e) => update("status", e.target.value) },
        el("option", { value: "", text: t("notStated"), selected: !s.status }),
        STATUSES.map((v) => el("option", { value: v, text: t(v), selected: s.status === v })))),
      el("label", {}, t("percent"), el("input", { inputmode: "numeric", value: s.percent ?? "", disabled: !editable,
        "data-testid": `task-percent-${x.task}`, oninput: (e) => update("percent", e.target.value) })),
      TASK_TEXTS.map((k) => el("label", {}, t(k), el("textarea", { rows: 2, disabled: !editable, "data-testid": `task-${k}-${x.task}`,
        oninput: (e) => update(k, e.target.value) }, s[k] || ""))),
      problem);
  });
  const textFields = TEXTS.map((k) => {
    const problem = el("p", { class: "problem", "data-testid": `problem-text-${k}`, hidden: true });
    const area = el("textarea", { rows: 3, disabled: !editable, "data-testid": `text-${k}`,
      oninput: (e) => { state.texts[k] = e.target.value; persist(); } }, state.texts[k] || "");
    fields[`texts.${k}`] = { problem, input: area };
    return el("div", { class: "field" }, el("label", {}, t(k), area), problem);
  });

  // The form as the API would store it: numbers or null, texts or null, tasks or null.
  const mine = () => ({
    values: Object.fromEntries(reported.map((i) => [i.code, parseNumber(state.values[i.code], l)])),
    texts: Object.fromEntries(TEXTS.map((k) => [k, (state.texts[k] || "").trim() ? state.texts[k] : null])),
    tasks: Object.fromEntries(tasks.map((x) => {
      const s = state.tasks[x.task] || {};
      if (!s.status) return [x.task, null];
      const p = parseNumber(s.percent, l);
      return [x.task, { status: s.status, ...(p !== null ? { percent: p } : {}),
        ...Object.fromEntries(TASK_TEXTS.filter((k) => (s[k] || "").trim()).map((k) => [k, s[k]])) }];
    })),
  });
  // What the form sends: what differs from the report it started from (a field emptied clears
  // the stored one).
  const body = (parts = mine()) => {
    const diff = (kind) => Object.fromEntries(Object.entries(parts[kind])
      .filter(([k, v]) => !same(v, base[kind][k]) || (kind === "values" && v !== null)));
    const values = diff("values");
    const texts = diff("texts");
    const taskBody = diff("tasks");
    return { commune: code, dataset: item.dataset, period: item.period, base_revision: state.base, values,
      ...(Object.keys(taskBody).length ? { tasks: taskBody } : {}), ...(Object.keys(texts).length ? { texts } : {}) };
  };
  // Problems the page can see itself (a value or a percent that is not a number, a task's
  // progress without its status).
  const ownProblems = () => {
    const out = reported.filter((i) => Number.isNaN(parseNumber(state.values[i.code], l)))
      .map((i) => ({ field: `values.${i.code}`, code: "not_a_number", message: t("notNumber") }));
    for (const x of tasks) {
      const s = state.tasks[x.task] || {};
      const p = parseNumber(s.percent, l);
      if (Number.isNaN(p) || (p !== null && (p < 0 || p > 100 || !Number.isInteger(p)))) out.push({ field: `tasks.${x.task}`, message: t("percentNumber") });
      else if (TASK_TEXTS.some((k) => (s[k] || "").length > 2000)) out.push({ field: `tasks.${x.task}`, message: say(t, "tooLong", { n: "2.000" }) });
      else if (!s.status && (p !== null || TASK_TEXTS.some((k) => (s[k] || "").trim()))) out.push({ field: `tasks.${x.task}`, message: t("chooseStatus") });
    }
    for (const k of TEXTS) {
      if ((state.texts[k] || "").length > 8000) out.push({ field: `texts.${k}`, message: say(t, "tooLong", { n: "8.000" }) });
    }
    return out;
  };

  const clear = () => {
    for (const f of Object.values(fields)) {
      f.problem.hidden = true;
      if (f.warning) f.warning.hidden = true;
      if (f.input) f.input.setAttribute("aria-invalid", "false");
    }
    problems.hidden = true;
    problems.replaceChildren();
  };
  // The API's problem in the page's language where its code is known (its own words otherwise).
  const words = (e) => {
    const k = `p_${e.code}`;
    if (!e.code || t(k) === k) return e.message;
    const ind = reported.find((i) => i.code === (e.field || "").split(".")[1]);
    return say(t, k, { whole: ind && ind.at_most ? names[ind.at_most] : "" });
  };
  const label = (field) => (field && field.startsWith("values.") ? names[field.slice(7)]
    : field && field.startsWith("texts.") ? t(field.slice(6))
      : field && field.startsWith("tasks.") ? `${t("task")} ${field.slice(6)}` : field);
  const showProblems = (errors) => {
    const summary = [];
    const byField = {};
    for (const e of errors || []) {
      const field = Object.keys(fields).filter((k) => e.field === k || e.field.startsWith(`${k}.`))
        .sort((a, b) => b.length - a.length)[0];
      const message = words(e);
      if (field) (byField[field] = byField[field] || []).push(message);
      summary.push(`${label(field || e.field)}: ${message}`);
    }
    for (const [field, messages] of Object.entries(byField)) {
      fields[field].problem.hidden = false;
      fields[field].problem.textContent = messages.join("; ");
      if (fields[field].input) fields[field].input.setAttribute("aria-invalid", "true");
    }
    problems.hidden = false;
    problems.replaceChildren(el("p", { text: t("problems") }), ...summary.map((m) => el("p", { text: `• ${m}` })));
    const firstBad = Object.values(fields).find((f) => !f.problem.hidden);
    if (firstBad && firstBad.input) firstBad.input.focus();
    else problems.scrollIntoView({ block: "center" });
  };
  const showWarnings = (warnings) => {
    const list = [];
    for (const w of warnings || []) {
      const f = fields[`values.${w.indicator}`];
      const k = w.code === "differs_from_constant_history" ? "w_constant" : "w_far";
      const text = say(t, k, { value: fmt(w.value, 6), history: w.history, median: fmt(w.median, 6) });
      if (f) { f.warning.hidden = false; f.warning.textContent = text; }
      list.push(`${names[w.indicator] || w.indicator}: ${text}`);
    }
    confirm.hidden = !list.length;
    return list;
  };

  // A conflict: the report changed since the form started. Values only one side changed are
  // merged; only what both changed differently is asked.
  const showConflict = async () => {
    const theirsReport = await api(path);
    const theirs = partsOf(theirsReport, reported, tasks);
    const m = mine();
    const merged = { values: {}, texts: {}, tasks: {} };
    const asked = [];
    for (const kind of ["values", "texts", "tasks"]) {
      for (const k of Object.keys(m[kind])) {
        const [b, x, y] = [base[kind][k], m[kind][k], theirs[kind][k]];
        if (same(x, b)) merged[kind][k] = y;
        else if (same(y, b) || same(x, y)) merged[kind][k] = x;
        else { merged[kind][k] = x; asked.push([kind, k, x, y]); }
      }
    }
    const show = (kind, v) => (v === null || v === undefined ? "—" : kind === "values" ? fmt(v, 6)
      : kind === "tasks" ? `${t(v.status)}${v.percent !== undefined ? ` ${v.percent}%` : ""}` : String(v));
    const title = (kind, k) => (kind === "values" ? names[k] : kind === "texts" ? t(k) : `${t("task")} ${k}`);
    conflict.hidden = false;
    conflict.replaceChildren(el("p", { text: say(t, "conflictTitle", { revision: theirsReport.revision }) }),
      el("p", { class: "muted", text: t("autoMerged") }),
      el("table", {}, el("thead", {}, el("tr", {}, el("th", { text: t("indicator") }), el("th", { text: t("mine") }), el("th", { text: t("theirs") }))),
        el("tbody", {}, asked.map(([kind, k, x, y]) => el("tr", { "data-testid": `conflict-${k}` },
          el("td", { text: title(kind, k) }),
          el("td", {}, el("label", { class: "choice" }, el("input", { type: "radio", name: `c-${kind}-${k}`, checked: true,
            "data-testid": `keep-mine-${k}`, onchange: () => { merged[kind][k] = x; } }), `${show(kind, x)} (${t("keepMine")})`)),
          el("td", {}, el("label", { class: "choice" }, el("input", { type: "radio", name: `c-${kind}-${k}`,
            "data-testid": `use-theirs-${k}`, onchange: () => { merged[kind][k] = y; } }), `${show(kind, y)} (${t("useTheirs")})`)))))),
      el("button", { type: "button", class: "primary", "data-testid": "merge-submit", onclick: () => apply() }, t("mergeSubmit")));
    // Nothing both sides changed differently: merged and sent without a question.
    if (!asked.length) { await apply(); return; }
    conflict.scrollIntoView({ block: "start" });
    async function apply() {
      stored = theirsReport;
      base = theirs;
      state.base = theirsReport.revision;
      state.values = Object.fromEntries(reported.map((i) => [i.code, inputText(merged.values[i.code], l)]));
      state.texts = Object.fromEntries(TEXTS.map((k) => [k, merged.texts[k] || ""]));
      state.tasks = Object.fromEntries(tasks.map((x) => [x.task, merged.tasks[x.task]
        ? { ...merged.tasks[x.task], percent: merged.tasks[x.task].percent ?? "" } : { status: "", percent: "" }]));
      for (const i of reported) fields[`values.${i.code}`].input.value = state.values[i.code];
      for (const k of TEXTS) fields[`texts.${k}`].input.value = state.texts[k];
      conflict.hidden = true;
      await persist();
      await submit(true, merged);
    }
  };

  const buttons = [];
  const busy = (on) => { for (const b of buttons) b.disabled = on; if (on) setNotice(t("sending"), "muted", "sending"); };

  // Checks (a dry run) or sends the report; offline, keeps it waiting.
  async function post(dryRun, sent) {
    try {
      return await send("POST", `/api/v1/reports${dryRun ? "?dry_run=true" : ""}`, sent);
    } catch (e) {
      if (e instanceof TypeError) return { offline: true };
      throw e;
    }
  }
  // After a send: the stored report is the new base, read again (so the offline copy the service
  // worker keeps is the new one too), and the draft is gone.
  async function sent(res) {
    state.base = res.body.revision;
    state.queued = false;
    await drafts.remove(key).catch(() => {});
    try {
      stored = await api(path);
      base = partsOf(stored, reported, tasks);
      api(`/api/v1/communes/${enc(code)}/periods`).catch(() => {});
    } catch (_) { /* offline again: the next read catches up */ }
    setNotice(res.status === 200 ? t("unchanged") : say(t, "sent", { revision: res.body.revision }), "ok",
      res.status === 200 ? "unchanged" : "sent");
    showWarnings(res.body.warnings);
    confirm.hidden = true;
    confirm.querySelector("input").checked = false;
    revision.textContent = say(t, "revisionNow", { revision: res.body.revision });
    for (const n of head) n.remove();
  }
  async function submit(checkFirst, parts) {
    clear();
    notice.replaceChildren();
    const own = ownProblems();
    if (own.length) { showProblems(own); return; }
    const request = body(parts);
    if (!navigator.onLine) return queue(request);
    busy(true);
    try {
      if (checkFirst) {
        const dry = await post(true, request);
        if (dry.offline) return queue(request);
        if (!dry.ok) return refused(dry, request);
        const list = dry.body.warnings || [];
        if (list.length && !confirm.querySelector("input").checked) {
          const shown = showWarnings(list);
          setNotice(t("warningsTitle"), "warn", "needs-confirmation", ...shown.map((m) => el("p", { class: "warning", text: `• ${m}` })));
          notice.scrollIntoView({ block: "center" });
          return;
        }
      }
      const res = await post(false, request);
      if (res.offline) return queue(request);
      if (!res.ok) return refused(res, request);
      await sent(res);
    } finally {
      busy(false);
    }
  }
  async function queue(request) {
    state.queued = true;
    await persist({ body: request });
    setNotice(t("queued"), "warn", "queued");
  }
  async function refused(res, request) {
    notice.replaceChildren();
    if (res.status === 409) { await showConflict(); return; }
    if (res.status === 423) { setNotice(t("lockedNow"), "late", "locked-refusal"); return; }
    const errors = res.body && res.body.errors ? res.body.errors
      : [{ field: "report", message: (res.body && res.body.detail) || String(res.status) }];
    showProblems(errors);
    // The outliers among the other values, shown at once beside the problems: the same dry run
    // without the values in error.
    if (res.status === 422 && errors.every((e) => e.field.startsWith("values."))) {
      const rest = { ...request, values: { ...request.values } };
      for (const e of errors) delete rest.values[e.field.split(".")[1]];
      const again = await post(true, rest);
      if (again.ok) showWarnings(again.body.warnings);
    }
  }
  async function check() {
    clear();
    notice.replaceChildren();
    const own = ownProblems();
    if (own.length) { showProblems(own); return; }
    busy(true);
    try {
      const dry = await post(true, body());
      if (dry.offline) { setNotice(t("offline"), "warn", "offline-check"); return; }
      if (!dry.ok) return refused(dry, body());
      showWarnings(dry.body.warnings);
      setNotice(t("checked"), "ok", "checked");
    } finally {
      busy(false);
    }
  }

  current = { key, online: () => { offlineBanner.hidden = true; }, offline: () => { offlineBanner.hidden = false; },
    flushed: (res) => { if (res.ok) sent(res); else if (res.status === 409) showConflict(); else refused(res, body()); } };

  const revision = el("p", { class: "muted", "data-testid": "entry-revision",
    text: item.revision ? say(t, "revisionNow", { revision: item.revision }) : t("notFiled") });
  const head = [];
  const top = [];
  if (!editable) {
    top.push(el("p", { class: "locked", "data-testid": "read-only", text: item.locked_reason === "approved"
      ? t("lockedApproved") : say(t, "lockedPast", { lock: when(item.lock) }) }));
    if (saved) {
      top.push(el("p", { class: "warn", "data-testid": "draft-locked" }, say(t, "draftLocked", { at: when(saved.at) }), " ",
        el("button", { type: "button", "data-testid": "discard-draft", onclick: async () => {
          if (confirmDiscard(t)) { await drafts.remove(key); ctx.rerender(); }
        } }, t("discardDraft"))));
    }
  } else if (item.late && !item.revision) {
    head.push(el("p", { class: "late", "data-testid": "late-notice", text: say(t, "late", { deadline: when(item.deadline) }) }));
  } else {
    top.push(el("p", { class: "muted", "data-testid": "due-notice", text: say(t, "dueBy", { deadline: when(item.deadline) }) }));
  }
  if (item.reopened && editable) top.push(el("p", { class: "muted", "data-testid": "reopened-notice", text: t("reopenedNote") }));
  if (reviews && reviews.items && reviews.items.length) {
    const last = reviews.items[reviews.items.length - 1];
    head.push(el("p", { class: "warn", "data-testid": "returned-note", text: say(t, "returnedNote", { comment: last.comment || t("noComment") }) }));
  }
  if (draft) {
    head.push(el("p", { class: "warn", "data-testid": "draft-kept" }, say(t, "draftKept", { at: when(draft.at) }), " ",
      el("button", { type: "button", class: "small", "data-testid": "discard-draft", onclick: async () => {
        if (confirmDiscard(t)) { await drafts.remove(key); ctx.rerender(); }
      } }, t("discardDraft"))));
  }
  if (draft && draft.queued) setNotice(t("queued"), "warn", "queued");
  else if (draft && draft.refused) setTimeout(() => submit(true), 0);

  const checkButton = el("button", { type: "button", "data-testid": "entry-check", onclick: () => check() }, t("check"));
  const submitButton = el("button", { type: "submit", class: "primary", "data-testid": "entry-submit" }, t("submit"));
  buttons.push(checkButton, submitButton);
  const form = el("form", { class: "entry", "data-testid": "entry-form", novalidate: true,
    onsubmit: (e) => { e.preventDefault(); submit(true); } },
    ...top, ...head, revision, offlineBanner, problems,
    el("h2", { text: t("valuesTitle") }), el("div", { class: "fields" }, valueFields),
    tasks.length ? [el("h2", { text: t("tasksTitle") }), ...taskFields] : [],
    el("h2", { text: t("textsTitle") }), ...textFields,
    conflict, confirm, notice,
    editable ? el("div", { class: "actions" }, checkButton, submitButton) : null);
  return el("section", { "data-testid": "entry" }, form);
}

function confirmDiscard(t) {
  return window.confirm(t("discardDraft") + "?");
}
