// The "Nhiệm vụ" (tasks) tab of the province and commune pages: how far each commune got with
// the tasks of its plan, read from the same /api/v1/plans endpoints a script would use, with the
// signed-in token. A province sees completion by commune and by section, the overdue tasks and
// the communes' difficulties and proposals; a commune sees its own tasks.

export const TASK_WORDS = {
  vi: {
    overview: "Tổng hợp", tasks: "Nhiệm vụ", planCompletion: "Tiến độ thực hiện nhiệm vụ", byCommune: "Theo xã",
    bySection: "Theo nội dung", overdueTasks: "Nhiệm vụ quá hạn", feedback: "Khó khăn, vướng mắc và đề xuất, kiến nghị",
    taskCount: "Số nhiệm vụ", completed: "Hoàn thành", in_progress: "Đang triển khai", not_started: "Chưa triển khai",
    not_feasible: "Không thực hiện được", notReported: "Chưa báo cáo", overdue: "Quá hạn", completionRate: "Tỷ lệ hoàn thành",
    task: "Nhiệm vụ", section: "Nội dung", lead: "Cơ quan chủ trì", timeframe: "Thời gian thực hiện", due: "Hạn",
    daysOverdue: "Số ngày quá hạn", percent: "Tiến độ", result: "Kết quả", difficulty: "Khó khăn, vướng mắc",
    proposal: "Đề xuất, kiến nghị", kind: "Loại", text: "Nội dung", wholeReport: "Chung (cả báo cáo)",
    plan: "Kế hoạch", noPlan: "chưa có kế hoạch", myTasks: "Nhiệm vụ của xã", asOf: "Tính đến",
  },
  en: {
    overview: "Overview", tasks: "Tasks", planCompletion: "Plan task completion", byCommune: "By commune",
    bySection: "By section", overdueTasks: "Overdue tasks", feedback: "Difficulties and proposals",
    taskCount: "Tasks", completed: "Completed", in_progress: "In progress", not_started: "Not started",
    not_feasible: "Cannot be carried out", notReported: "Not reported", overdue: "Overdue", completionRate: "Completion rate",
    task: "Task", section: "Section", lead: "Lead unit", timeframe: "Timeframe", due: "Due",
    daysOverdue: "Days overdue", percent: "Progress", result: "Result", difficulty: "Difficulty",
    proposal: "Proposal", kind: "Kind", text: "Text", wholeReport: "General (whole report)",
    plan: "Plan", noPlan: "no plan", myTasks: "The commune's tasks", asOf: "As of",
  },
};

// The tab bar of a province or commune page: the overview, the tasks, the notices and, on a
// commune page for those who may submit, the report entry form.
export function tabs({ el, t, go, entry }, base, active) {
  const link = (href, text, testid, on) => el("a", { href, class: on ? "tab active" : "tab", "data-testid": testid,
    "aria-current": on ? "page" : null, onclick: (e) => { e.preventDefault(); go(href + location.search); } }, text);
  return el("nav", { class: "tabs", "aria-label": "tabs" },
    link(base, t("overview"), "tab-overview", active === "overview"),
    link(`${base}/tasks`, t("tasks"), "tab-tasks", active === "tasks"),
    link(`${base}/notices`, t("notices"), "tab-notices", active === "notices"),
    entry && base.startsWith("/commune/") ? link(`${base}/entry`, t("entry"), "tab-entry", active === "entry") : null);
}

const statusText = (t, s) => (s ? t(s) : t("notReported"));

function countColumns({ t, pct }) {
  return [
    { title: t("taskCount"), value: (r) => r.tasks, num: true },
    { title: t("completed"), value: (r) => r.completed, num: true },
    { title: t("in_progress"), value: (r) => r.in_progress, num: true },
    { title: t("not_started"), value: (r) => r.not_started, num: true },
    { title: t("not_feasible"), value: (r) => r.not_feasible, num: true },
    { title: t("notReported"), value: (r) => r.not_reported, num: true },
    { title: t("overdue"), value: (r) => r.overdue, num: true, cls: (r) => (r.overdue ? "status-late" : null) },
    { title: t("completionRate"), value: (r) => pct(r.completion_rate), num: true },
  ];
}

function standingColumns(ctx, withCommune) {
  const { t, fmt } = ctx;
  return [
    ...(withCommune ? [{ title: t("commune"), value: (r) => r.name_vi }] : []),
    { title: t("task"), value: (r) => `${r.task}. ${r.title}` },
    { title: t("lead"), value: (r) => r.lead },
    { title: t("timeframe"), value: (r) => r.timeframe },
    { title: t("status"), value: (r) => statusText(t, r.status), cls: (r) => (r.days_overdue ? "status-late" : null) },
    { title: t("percent"), value: (r) => (r.percent === null || r.percent === undefined ? "—" : `${fmt(r.percent, 0)} %`), num: true },
    { title: t("due"), value: (r) => (r.due ? r.due.split("-").reverse().join("/") : "—") },
    { title: t("daysOverdue"), value: (r) => r.days_overdue ?? "—", num: true },
    { title: t("result"), value: (r) => r.result || "—" },
  ];
}

export async function provinceTasksView(ctx, code, period) {
  const { api, el, t, table, downloads, section, query, when } = ctx;
  const path = `/api/v1/plans/progress${query({ province: code, period })}`;
  const p = await api(path);
  const body = [el("p", { class: "muted", "data-testid": "tasks-as-of" }, `${t("asOf")} ${when(p.as_of)}`)];
  const totals = p.totals;
  body.push(section(`${t("planCompletion")} — ${period}`, "plan-completion",
    el("div", { class: "cards" },
      [["taskCount", totals.tasks], ["completed", totals.completed], ["overdue", totals.overdue],
        ["completionRate", ctx.pct(totals.completion_rate)]].map(([k, v]) =>
        el("div", { class: "card", "data-testid": `plan-${k}` }, el("div", { class: "name", text: t(k) }), el("div", { class: "value", text: String(v) })))),
    el("h2", { text: t("byCommune") }),
    table([{ title: t("commune"), value: (r) => ctx.nameOf({ name: r.name_vi, name_en: r.name_en }) },
      { title: t("plan"), value: (r) => (r.plan ? "✓" : t("noPlan")) }, ...countColumns(ctx)], p.communes, "plan-communes"),
    downloads(`${path}&table=communes`, `nhiem-vu-${code}-${period}`, "plan-communes-download"),
    el("h2", { text: t("bySection") }),
    table([{ title: t("section"), value: (r) => `${r.section}. ${r.title}` },
      { title: t("commune"), value: (r) => r.communes, num: true }, ...countColumns(ctx)], p.sections, "plan-sections"),
    downloads(`${path}&table=sections`, `nhiem-vu-${code}-${period}-noi-dung`, "plan-sections-download")));
  body.push(section(t("overdueTasks"), "plan-overdue",
    table(standingColumns(ctx, true), p.overdue, "plan-overdue-table"),
    downloads(`${path}&table=overdue`, `nhiem-vu-qua-han-${code}-${period}`, "plan-overdue-download")));
  const feedbackPath = `/api/v1/plans/feedback${query({ province: code, period })}`;
  const f = await api(feedbackPath);
  body.push(section(`${t("feedback")} — ${period}`, "plan-feedback",
    table([
      { title: t("section"), value: (r) => (r.section ? `${r.section}. ${r.section_title || ""}` : t("wholeReport")) },
      { title: t("commune"), value: (r) => r.name_vi },
      { title: t("task"), value: (r) => (r.task ? `${r.task}. ${r.task_title || ""}` : "—") },
      { title: t("kind"), value: (r) => t(r.kind) },
      { title: t("text"), value: (r) => r.text },
    ], f.items, "plan-feedback-table"),
    downloads(feedbackPath, `kien-nghi-${code}-${period}`, "plan-feedback-download")));
  return body;
}

export async function communeTasksView(ctx, code, period) {
  const { api, el, t, table, downloads, section, query, enc, when } = ctx;
  const path = `/api/v1/plans/progress/${enc(code)}${query({ period })}`;
  const p = await api(path);
  return [
    el("p", { class: "muted", "data-testid": "tasks-as-of" }, `${t("asOf")} ${when(p.as_of)}`),
    section(`${t("myTasks")} — ${period}`, "commune-tasks",
      el("p", {}, `${t("taskCount")} ${p.totals.tasks} · ${t("completed")} ${p.totals.completed} · `
        + `${t("overdue")} ${p.totals.overdue} · ${t("completionRate")} ${ctx.pct(p.totals.completion_rate)}`),
      table([...standingColumns(ctx, false),
        { title: t("difficulty"), value: (r) => r.difficulties || "—" },
        { title: t("proposal"), value: (r) => r.proposals || "—" }], p.items, "commune-tasks-table"),
      downloads(path, `nhiem-vu-${code}-${period}`, "commune-tasks-download")),
  ];
}
