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
  },
};

const STATUSES = ["not_started", "in_progress", "completed", "not_feasible"];
const TEXTS = ["highlights", "difficulties", "proposals"];
const TASK_TEXTS = ["result", "difficulties", "proposals"];

// ---------- numbers as people in Vietnam write them ----------

// What a person typed → a number (null when empty, NaN when it is not one). Vietnamese first:
// "1.234,5", "12,5" and "1.234" (a thousand) as written in Vietnam; "1,234.5" and "1,234,567"
// as written in English; the separator that comes last is the decimal one.
export function parseNumber(raw) {
  let s = String(raw ?? "").trim().replace(/[\s\u00a0]/g, "");
  if (s === "") return null;
  const comma = s.lastIndexOf(","), dot = s.lastIndexOf(".");
  if (comma >= 0 && dot >= 0) {
    s = comma > dot ? s.replace(/\./g, "").replace(",", ".") : s.replace(/,/g, "");
  } else if (comma >= 0) {
    s = s.match(/,/g).length > 1 ? s.replace(/,/g, "") : s.replace(",", ".");
  } else if ((s.match(/\./g) || []).length > 1 || /^-?\d{1,3}\.\d{3}$/.test(s)) {
    s = s.replace(/\./g, "");
  }
  return /^-?\d+(\.\d+)?$/.test(s) ? Number(s) : NaN;
}

// A stored number as a field shows it: the Vietnamese decimal comma, no grouping (so it reads
// back the same whatever the page's language).
export const inputText = (x) => (x === null || x === undefined ? "" : String(x).replace(".", ","));

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

// ---------- the form ----------

// The form on screen (one at a time): the online handler sends its queued draft.
let current = null;
let listening = false;

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
      text: `${dsName(p.dataset)} — ${p.period}${p.editable ? "" : " 🔒"}` }))))));
  nodes.push(await reportForm(ctx, code, item, when));
  return nodes;
}

async function reportForm(ctx, code, item, when) {
  const { api, send, el, t, enc, nameOf, fmt, lang } = ctx;
  const key = `${code}|${item.dataset}|${item.period}`;
  const path = `/api/v1/reports/${enc(item.dataset)}/${enc(item.period)}/${enc(code)}`;
  const soft = (p) => api(p).catch(() => null);
  const [inds, stored, before, targets, plan] = await Promise.all([
    api(`/api/v1/indicators?dataset=${enc(item.dataset)}`),
    item.revision ? soft(path) : null,
    soft(`/api/v1/reports/${enc(item.dataset)}/${enc(previousPeriod(item.period))}/${enc(code)}`),
    soft(`/api/v1/targets?year=${item.period.slice(0, 4)}&commune=${enc(code)}`),
    soft(`/api/v1/plans/progress/${enc(code)}?period=${enc(item.period)}`),
  ]);
  const reported = inds.items.filter((i) => i.kind === "reported");
  const names = Object.fromEntries(inds.items.map((i) => [i.code, nameOf({ name: i.name, name_en: i.name_en })]));
  const target = (c) => (targets && targets.items || []).find((x) => x.indicator === c);
  const tasks = plan ? plan.items : [];
  const saved = await drafts.get(key).catch(() => null);
  const fromServer = () => ({
    values: Object.fromEntries(reported.map((i) => [i.code, stored ? inputText(stored.values[i.code]) : ""])),
    tasks: Object.fromEntries(tasks.map((x) => [x.task, stored && stored.tasks && stored.tasks[x.task]
      ? { ...stored.tasks[x.task], percent: stored.tasks[x.task].percent ?? "" } : { status: "", percent: "" }])),
    texts: Object.fromEntries(TEXTS.map((k) => [k, (stored && stored.texts && stored.texts[k]) || ""])),
  });
  const state = { key, item, base: item.revision, queued: false, ...fromServer(), ...(saved ? {
    values: { ...fromServer().values, ...saved.values }, tasks: { ...fromServer().tasks, ...saved.tasks },
    texts: { ...fromServer().texts, ...saved.texts }, base: saved.base, queued: saved.queued } : {}) };
  const editable = item.editable;
  const fields = {};

  const notice = el("div", { class: "entry-status", "data-testid": "entry-status", "aria-live": "polite" });
  const problems = el("div", { class: "problems", "data-testid": "entry-problems", hidden: true });
  const conflict = el("div", { class: "conflict", "data-testid": "conflict", hidden: true });
  const confirm = el("label", { class: "confirm", hidden: true }, el("input", { type: "checkbox", "data-testid": "confirm-warnings" }), t("confirmWarnings"));
  const offlineBanner = el("p", { class: "offline", "data-testid": "offline", hidden: navigator.onLine, text: t("offline") });

  const persist = () => drafts.put(key, { values: state.values, tasks: state.tasks, texts: state.texts, base: state.base,
    queued: state.queued, at: new Date().toISOString() }).catch(() => {});
  const setNotice = (text, cls, testid) => notice.replaceChildren(el("p", { class: cls, "data-testid": testid, text }));

  // Figures.
  const valueFields = reported.map((ind) => {
    const integer = ind.value_type === "count";
    const input = el("input", { id: `f-${ind.code}`, name: ind.code, inputmode: integer ? "numeric" : "decimal",
      autocomplete: "off", "data-testid": `field-${ind.code}`, value: state.values[ind.code] ?? "", disabled: !editable,
      oninput: (e) => { state.values[ind.code] = e.target.value; check(ind.code); persist(); } });
    const problem = el("p", { class: "problem", "data-testid": `problem-${ind.code}`, hidden: true });
    const warning = el("p", { class: "warning", "data-testid": `warning-${ind.code}`, hidden: true });
    const tg = target(ind.code);
    const facts = [before && before.values[ind.code] !== undefined ? `${t("previous")}: ${fmt(before.values[ind.code], 6)}` : null,
      tg ? `${t("yearTarget")}: ${fmt(tg.target, 6)}` : null].filter(Boolean).join(" · ");
    fields[`values.${ind.code}`] = { problem, warning, input };
    const check = (c) => {
      const n = parseNumber(state.values[c]);
      problem.hidden = !Number.isNaN(n);
      problem.textContent = Number.isNaN(n) ? t("notNumber") : "";
      warning.hidden = true;
    };
    return el("div", { class: "field", "data-field": `values.${ind.code}` },
      el("label", { for: `f-${ind.code}` }, names[ind.code]),
      input,
      el("p", { class: "help", text: help(t, ind, lang() === "en" ? ind.unit_en : ind.unit, names) }),
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
    fields[`texts.${k}`] = { problem };
    return el("div", { class: "field" }, el("label", {}, t(k), el("textarea", { rows: 3, disabled: !editable, "data-testid": `text-${k}`,
      oninput: (e) => { state.texts[k] = e.target.value; persist(); } }, state.texts[k] || "")), problem);
  });

  // What would be sent.
  const body = () => {
    const values = {};
    for (const ind of reported) {
      const n = parseNumber(state.values[ind.code]);
      if (n !== null) values[ind.code] = n;
      else if (stored && stored.values[ind.code] !== undefined) values[ind.code] = null; // cleared
    }
    const taskBody = {};
    for (const x of tasks) {
      const s = state.tasks[x.task];
      if (!s || !s.status) continue;
      const p = parseNumber(s.percent);
      taskBody[x.task] = { status: s.status, ...(p !== null ? { percent: p } : {}),
        ...Object.fromEntries(TASK_TEXTS.filter((k) => (s[k] || "").trim()).map((k) => [k, s[k]])) };
    }
    const texts = {};
    for (const k of TEXTS) {
      if ((state.texts[k] || "").trim()) texts[k] = state.texts[k];
      else if (stored && stored.texts && stored.texts[k]) texts[k] = null;
    }
    return { commune: code, dataset: item.dataset, period: item.period, base_revision: state.base, values,
      ...(Object.keys(taskBody).length ? { tasks: taskBody } : {}), ...(Object.keys(texts).length ? { texts } : {}) };
  };

  const clear = () => {
    for (const f of Object.values(fields)) {
      f.problem.hidden = true;
      if (f.warning) f.warning.hidden = true;
    }
    problems.hidden = true;
    problems.replaceChildren();
  };
  // Every problem the API named goes to its field; what belongs to no field is listed above.
  // The API's problem in the page's language where its code is known (its own words otherwise).
  const words = (e) => {
    const key = `p_${e.code}`;
    if (t(key) === key) return e.message;
    const ind = reported.find((i) => i.code === (e.field || "").split(".")[1]);
    return say(t, key, { whole: ind && ind.at_most ? names[ind.at_most] : "" });
  };
  const showProblems = (errors) => {
    const summary = [];
    const byField = {};
    for (const e of errors || []) {
      const field = Object.keys(fields).filter((k) => e.field === k || e.field.startsWith(`${k}.`))
        .sort((a, b) => b.length - a.length)[0];
      const message = words(e);
      if (field) (byField[field] = byField[field] || []).push(message);
      const label = field && field.startsWith("values.") ? names[field.slice(7)] : e.field;
      summary.push(`${label}: ${message}`);
    }
    for (const [field, messages] of Object.entries(byField)) {
      fields[field].problem.hidden = false;
      fields[field].problem.textContent = messages.join("; ");
    }
    problems.hidden = false;
    problems.replaceChildren(el("p", { text: t("problems") }), ...summary.map((m) => el("p", { text: `• ${m}` })));
    const first = Object.values(fields).find((f) => !f.problem.hidden);
    if (first && first.input) first.input.focus();
  };
  const showWarnings = (warnings) => {
    for (const w of warnings || []) {
      const f = fields[`values.${w.indicator}`];
      const key = w.code === "differs_from_constant_history" ? "w_constant" : "w_far";
      if (f) {
        f.warning.hidden = false;
        f.warning.textContent = say(t, key, { value: fmt(w.value, 6), history: w.history, median: fmt(w.median, 6) });
      }
    }
    confirm.hidden = !(warnings && warnings.length);
  };
  const showConflict = async () => {
    const theirs = await api(path);
    const mine = body().values;
    const rows = reported.filter((i) => (mine[i.code] ?? null) !== (theirs.values[i.code] ?? null));
    const choice = {};
    conflict.hidden = false;
    conflict.replaceChildren(el("p", { text: say(t, "conflictTitle", { revision: theirs.revision }) }),
      el("table", {}, el("thead", {}, el("tr", {}, el("th", { text: t("indicator") }), el("th", { text: t("mine") }), el("th", { text: t("theirs") }))),
        el("tbody", {}, rows.map((i) => el("tr", { "data-testid": `conflict-${i.code}` },
          el("td", { text: names[i.code] }),
          el("td", {}, el("label", { class: "choice" }, el("input", { type: "radio", name: `c-${i.code}`, checked: true,
            "data-testid": `keep-mine-${i.code}`, onchange: () => { choice[i.code] = "mine"; } }), `${fmt(mine[i.code], 6)} (${t("keepMine")})`)),
          el("td", {}, el("label", { class: "choice" }, el("input", { type: "radio", name: `c-${i.code}`,
            "data-testid": `use-theirs-${i.code}`, onchange: () => { choice[i.code] = "theirs"; } }), `${fmt(theirs.values[i.code], 6)} (${t("useTheirs")})`)))))),
      el("button", { type: "button", class: "primary", "data-testid": "merge-submit", onclick: async () => {
        for (const [c, v] of Object.entries(choice)) {
          if (v === "theirs") {
            state.values[c] = inputText(theirs.values[c]);
            fields[`values.${c}`].input.value = state.values[c];
          }
        }
        state.base = theirs.revision;
        conflict.hidden = true;
        await persist();
        await submit(false);
      } }, t("mergeSubmit")));
  };

  // Sends (or, with `dryRun`, checks) the report; offline, queues it.
  async function post(dryRun, sent = body()) {
    try {
      return await send("POST", `/api/v1/reports${dryRun ? "?dry_run=true" : ""}`, sent);
    } catch (e) {
      if (e instanceof TypeError) return { offline: true };
      throw e;
    }
  }
  async function submit(checkFirst) {
    clear();
    notice.replaceChildren();
    const bad = reported.filter((i) => Number.isNaN(parseNumber(state.values[i.code])));
    if (bad.length) {
      showProblems(bad.map((i) => ({ field: `values.${i.code}`, message: t("notNumber") })));
      return;
    }
    if (checkFirst && navigator.onLine) {
      const dry = await post(true);
      if (dry.offline) return queue();
      if (!dry.ok) return refused(dry);
      const warnings = dry.body.warnings || [];
      if (warnings.length && !confirm.querySelector("input").checked) {
        showWarnings(warnings);
        setNotice(t("warningsTitle"), "warn", "needs-confirmation");
        return;
      }
    }
    if (!navigator.onLine) return queue();
    const res = await post(false);
    if (res.offline) return queue();
    if (!res.ok) return refused(res);
    state.base = res.body.revision;
    state.queued = false;
    await drafts.remove(key).catch(() => {});
    setNotice(res.status === 200 ? t("unchanged") : say(t, "sent", { revision: res.body.revision }), "ok",
      res.status === 200 ? "unchanged" : "sent");
    showWarnings(res.body.warnings);
    confirm.hidden = true;
    confirm.querySelector("input").checked = false;
    revision.textContent = say(t, "revisionNow", { revision: res.body.revision });
  }
  async function queue() {
    state.queued = true;
    await persist();
    setNotice(t("queued"), "warn", "queued");
  }
  async function refused(res) {
    if (res.status === 409) { showConflict(); return; }
    if (res.status === 423) {
      setNotice(res.body && res.body.detail ? res.body.detail : t("lockedPast"), "late", "locked-refusal");
      return;
    }
    const errors = res.body && res.body.errors ? res.body.errors
      : [{ field: "report", message: (res.body && res.body.detail) || String(res.status) }];
    showProblems(errors);
    // The outliers among the other values, shown at once beside the problems: the same dry run
    // without the values in error.
    if (res.status === 422 && errors.every((e) => e.field.startsWith("values."))) {
      const rest = body();
      for (const e of errors) delete rest.values[e.field.split(".")[1]];
      const again = await post(true, rest);
      if (again.ok) showWarnings(again.body.warnings);
    }
  }
  async function check() {
    clear();
    notice.replaceChildren();
    const dry = await post(true);
    if (dry.offline) { setNotice(t("offline"), "warn", "offline-check"); return; }
    if (!dry.ok) return refused(dry);
    showWarnings(dry.body.warnings);
    setNotice(t("checked"), "ok", "checked");
  }

  current = { state, submit, online: () => { offlineBanner.hidden = true; if (state.queued) submit(false); },
    offline: () => { offlineBanner.hidden = false; } };
  if (!listening) {
    listening = true;
    window.addEventListener("online", () => current && current.online());
    window.addEventListener("offline", () => current && current.offline());
  }

  const revision = el("p", { class: "muted", "data-testid": "entry-revision",
    text: item.revision ? say(t, "revisionNow", { revision: item.revision }) : t("notFiled") });
  const head = [];
  if (!editable) {
    head.push(el("p", { class: "locked", "data-testid": "read-only", text: item.locked_reason === "approved"
      ? t("lockedApproved") : say(t, "lockedPast", { lock: when(item.lock) }) }));
  } else if (item.late && !item.revision) {
    head.push(el("p", { class: "late", "data-testid": "late-notice", text: say(t, "late", { deadline: when(item.deadline) }) }));
  } else {
    head.push(el("p", { class: "muted", "data-testid": "due-notice", text: say(t, "dueBy", { deadline: when(item.deadline) }) }));
  }
  if (item.reopened && editable) head.push(el("p", { class: "muted", "data-testid": "reopened-notice", text: t("reopenedNote") }));
  if (saved && editable) {
    head.push(el("p", { class: "warn", "data-testid": "draft-kept" }, say(t, "draftKept", { at: when(saved.at) }), " ",
      el("button", { type: "button", "data-testid": "discard-draft", onclick: async () => {
        await drafts.remove(key); ctx.rerender();
      } }, t("discardDraft"))));
  }
  if (saved && saved.queued && editable) setNotice(t("queued"), "warn", "queued");

  const form = el("form", { class: "entry", "data-testid": "entry-form", novalidate: true,
    onsubmit: (e) => { e.preventDefault(); submit(true); } },
    ...head, revision, offlineBanner, problems,
    el("h2", { text: t("valuesTitle") }), el("div", { class: "fields" }, valueFields),
    tasks.length ? [el("h2", { text: t("tasksTitle") }), ...taskFields] : [],
    el("h2", { text: t("textsTitle") }), ...textFields,
    conflict, confirm, notice,
    editable ? el("div", { class: "actions" },
      el("button", { type: "button", "data-testid": "entry-check", onclick: () => check() }, t("check")),
      el("button", { type: "submit", class: "primary", "data-testid": "entry-submit" }, t("submit"))) : null);
  // A queued report goes as soon as the page is back with a connection.
  if (state.queued && navigator.onLine && editable) setTimeout(() => submit(false), 0);
  return el("section", { "data-testid": "entry" }, form);
}
