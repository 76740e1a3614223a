// innoreport dashboard pages: sign-in, province dashboard, commune page, national view (the
// accounts page is in accounts.js, the page-made downloads in sheets.js).
// Everything shown is read from the v1 API with the signed-in user's token, so a page shows
// exactly what the API lets that role read. No framework, no other host: these modules and the
// stylesheet are all the page loads. (About 640 lines: the translations and the four views that
// share the charts and tables; the accounts page and the page-made files are modules of their own.)

const T = {
  vi: {
    title: "Báo cáo KH, CN & ĐMST", signin: "Đăng nhập", username: "Tên đăng nhập", password: "Mật khẩu",
    signout: "Đăng xuất", other: "English", badLogin: "Sai tên đăng nhập hoặc mật khẩu.",
    tooMany: "Thử quá nhiều lần; vui lòng đợi một phút.", period: "Kỳ báo cáo", dataset: "Biểu mẫu",
    year: "Năm", targetValue: "Kế hoạch", headline: "Chỉ tiêu chính", change: "so với", target: "Đạt kế hoạch", noTarget: "chưa giao kế hoạch",
    compliance: "Tình hình nộp báo cáo", expected: "Phải nộp", received: "Đã nộp", onTime: "Đúng hạn",
    late: "Trễ hạn", missing: "Chưa nộp", pending: "Chưa đến hạn", deadline: "Hạn nộp", lock: "Khoá số liệu",
    lateMissing: "Xã trễ hạn và chưa nộp", commune: "Xã/phường", province: "Tỉnh/thành phố", status: "Tình trạng",
    received_at: "Nộp lúc", daysLate: "Số ngày trễ", index: "Chỉ số đổi mới sáng tạo cấp xã",
    indexProvinces: "Chỉ số đổi mới sáng tạo cấp tỉnh", score: "Điểm", rank: "Hạng",
    rankRange: "Khoảng hạng (5%–95%)", pillars: "Trụ cột", trend: "Xu hướng", indicator: "Chỉ tiêu",
    excel: "Tải Excel", csv: "Tải CSV", refused: "Bạn không có quyền xem trang này.",
    error: "Không tải được số liệu", loading: "Đang tải…", reports: "Báo cáo của xã", revisions: "Các lần sửa",
    revision: "Lần", author: "Người nộp", changes: "Thay đổi", deadlines: "Hạn nộp trong năm",
    targets: "Kế hoạch (chỉ tiêu giao)", actual: "Thực hiện", attainment: "Tỷ lệ đạt", value: "Giá trị",
    national: "Toàn quốc", provincesRanked: "Xếp hạng các tỉnh", byProvince: "Nộp báo cáo theo tỉnh",
    reportingRate: "Tỷ lệ đã nộp", onTimeRate: "Tỷ lệ đúng hạn", none: "Không có", show: "Xem",
    timeliness: "Đúng/trễ hạn", on_time: "đúng hạn", lateS: "trễ hạn", submitted: "đã nộp", approved: "đã duyệt",
    returned: "trả lại", notYet: "chưa có", dashboard: "Tổng hợp tỉnh", noData: "Chưa có số liệu", communesOf: "Số liệu từng xã của kỳ",
    word: "Tải báo cáo (Word)", document: "Báo cáo (Word)", wordYear: "Báo cáo năm", wordQuarter: "Quý",
    offlineSignin: "Không có kết nối mạng: cần có mạng để đăng nhập. Bản nháp vẫn được lưu trên máy.",
  },
  en: {
    title: "S&T and innovation reports", signin: "Sign in", username: "Username", password: "Password",
    signout: "Sign out", other: "Tiếng Việt", badLogin: "Wrong username or password.",
    tooMany: "Too many attempts; wait a minute.", period: "Period", dataset: "Data set", year: "Year", targetValue: "Target",
    headline: "Headline indicators", change: "vs", target: "Target attained", noTarget: "no target set",
    compliance: "Reporting compliance", expected: "Expected", received: "Received", onTime: "On time",
    late: "Late", missing: "Missing", pending: "Not yet due", deadline: "Deadline", lock: "Lock",
    lateMissing: "Late and missing communes", commune: "Commune", province: "Province", status: "Status",
    received_at: "Received", daysLate: "Days late", index: "Commune innovation index",
    indexProvinces: "Provincial innovation index", score: "Score", rank: "Rank",
    rankRange: "Rank range (5%–95%)", pillars: "Pillars", trend: "Trend", indicator: "Indicator",
    excel: "Download Excel", csv: "Download CSV", refused: "You may not view this page.",
    error: "Could not load the figures", loading: "Loading…", reports: "The commune's reports", revisions: "Revisions",
    revision: "Revision", author: "Author", changes: "Changes", deadlines: "Deadlines this year",
    targets: "Targets", actual: "Actual", attainment: "Attainment", value: "Value", national: "National",
    provincesRanked: "Provinces ranked", byProvince: "Reporting by province", reportingRate: "Reporting rate",
    onTimeRate: "On-time rate", none: "None", show: "Show", timeliness: "Timeliness", on_time: "on time",
    lateS: "late", submitted: "submitted", approved: "approved", returned: "returned", notYet: "none yet",
    dashboard: "Province dashboard", noData: "No figures yet", communesOf: "Each commune's figures for",
    word: "Download the report (Word)", document: "Report (Word)", wordYear: "Annual report", wordQuarter: "Quarter",
    offlineSignin: "Offline: signing in needs a connection. Drafts stay kept on this device.",
  },
};

import { csvOf, saveBlob, tableRows, xlsxOf } from "./sheets.js";
import { ACCOUNT_WORDS, accountsView } from "./accounts.js";
import { TASK_WORDS, communeTasksView, provinceTasksView, tabs } from "./tasks.js";
import { NOTICE_WORDS, noticesView } from "./notices.js";
import { ENTRY_WORDS, entryView } from "./entry.js";

for (const l of ["vi", "en"]) Object.assign(T[l], ACCOUNT_WORDS[l], TASK_WORDS[l], NOTICE_WORDS[l], ENTRY_WORDS[l]);

const PILLAR_COLOURS = ["#0b5cad", "#2a9d8f", "#e9a23b", "#b5179e", "#6c757d", "#5a189a"];
const TOKEN_KEY = "innoreport.token";

// ---------- state, URL and API ----------

const params = () => new URLSearchParams(location.search);
let lang = params().get("lang") || localStorage.getItem("innoreport.lang") || "vi";
const t = (key) => (T[lang] && T[lang][key]) || T.en[key] || key;
const nameOf = (row) => (lang === "en" && row.name_en) || row.name || row.unit || "";

function claims() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return null;
  try {
    const body = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const c = JSON.parse(decodeURIComponent(escape(atob(body))));
    if (c.exp * 1000 < Date.now()) return null;
    return c;
  } catch (_) {
    return null;
  }
}

class ApiError extends Error {
  constructor(status, problem) {
    super((problem && problem.detail) || String(status));
    this.status = status;
  }
}

// Every value a page puts in an API URL is encoded, so a crafted link cannot smuggle another
// parameter in (a period of "2026Q3&indicator=x" stays one odd period, refused by the API).
const enc = encodeURIComponent;
const query = (params) => "?" + new URLSearchParams(params).toString();

async function api(path) {
  const res = await fetch(path, { headers: { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY)}` } });
  if (res.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    go(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new ApiError(401);
  }
  if (!res.ok) {
    let problem = null;
    try { problem = await res.json(); } catch (_) { /* not JSON */ }
    throw new ApiError(res.status, problem);
  }
  return res.json();
}

// A write: JSON in, { ok, status, body } out (a problem's body included), never a throw for a
// refused request, so a form can list every problem the API named.
async function send(method, path, body) {
  const res = await fetch(path, { method, headers: { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY)}`,
    "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (res.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    go(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new ApiError(401);
  }
  let parsed = null;
  try { parsed = await res.json(); } catch (_) { /* no body */ }
  return { ok: res.ok, status: res.status, body: parsed };
}

// Downloads need the token, so they go through fetch and a blob link.
async function download(path, format, filename) {
  const sep = path.includes("?") ? "&" : "?";
  await fetchFile(`${path}${sep}${new URLSearchParams({ format, lang })}`, `${filename}.${format}`);
}

async function fetchFile(path, filename) {
  const res = await fetch(path, {
    headers: { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY)}` },
  });
  if (!res.ok) { alert(`${t("error")} (${res.status})`); return; }
  const url = URL.createObjectURL(await res.blob());
  const a = el("a", { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function go(path, replace) {
  const url = new URL(path, location.origin);
  if (lang !== "vi") url.searchParams.set("lang", lang);
  (replace ? history.replaceState : history.pushState).call(history, {}, "", url);
  render();
}

function setQuery(changes) {
  const url = new URL(location.href);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === undefined || v === "") url.searchParams.delete(k); else url.searchParams.set(k, v);
  }
  history.pushState({}, "", url);
  render();
}

// ---------- DOM and formatting helpers ----------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

const fmt = (x, digits = 1) =>
  x === null || x === undefined || Number.isNaN(x) ? "—"
    : new Intl.NumberFormat(lang === "vi" ? "vi-VN" : "en-GB", { maximumFractionDigits: digits }).format(x);
const pct = (x) => (x === null || x === undefined ? "—" : `${fmt(x * 100, 1)} %`);
const when = (iso) => (iso ? new Date(iso).toLocaleString(lang === "vi" ? "vi-VN" : "en-GB", { timeZone: "Asia/Ho_Chi_Minh" }) : "—");

function table(columns, rows, testid) {
  return el("table", { "data-testid": testid },
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", { class: c.num ? "num" : null, text: c.title })))),
    el("tbody", {}, rows.length === 0
      ? el("tr", {}, el("td", { colspan: columns.length, class: "muted", text: t("none") }))
      : rows.map((r) => el("tr", {}, columns.map((c) => {
        const v = c.value(r);
        return el("td", { class: [c.num ? "num" : null, c.cls ? c.cls(r) : null].filter(Boolean).join(" ") || null },
          v instanceof Node ? v : String(v ?? "—"));
      })))));
}

function downloads(path, filename, testid) {
  return el("div", { class: "downloads" },
    el("button", { type: "button", "data-testid": `${testid}-xlsx`, onclick: () => download(path, "xlsx", filename) }, t("excel")),
    el("button", { type: "button", "data-testid": `${testid}-csv`, onclick: () => download(path, "csv", filename) }, t("csv")));
}

// Tables that no API list backs (a trend assembled from several reads, the deadlines of a
// year) download from what the page shows (see sheets.js).
function pageDownloads(tableEl, filename, testid) {
  return el("div", { class: "downloads" },
    el("button", { type: "button", "data-testid": `${testid}-xlsx`, onclick: () => saveBlob(xlsxOf(tableRows(tableEl), lang), `${filename}.xlsx`) }, t("excel")),
    el("button", { type: "button", "data-testid": `${testid}-csv`,
      onclick: () => saveBlob(new Blob([csvOf(tableRows(tableEl))], { type: "text/csv;charset=utf-8" }), `${filename}.csv`) }, t("csv")));
}

// The report document (.docx, Decree 30/2020 layout) of a province or a commune for a quarter or
// a year; the API writes it, the page only fetches it with the token.
function wordButton(level, code, period, label, testid) {
  return el("button", { type: "button", class: "word", "data-testid": testid,
    onclick: () => fetchFile(`/api/v1/documents/${level}/${enc(code)}${query({ period })}`, `bao-cao-${code}-${period}.docx`) }, label);
}

function section(title, testid, ...body) {
  return el("section", { "data-testid": testid }, el("h2", { text: title }), ...body);
}

// ---------- periods ----------

function currentQuarter() {
  const now = new Date(Date.now() + 7 * 3600 * 1000);
  return `${now.getUTCFullYear()}Q${Math.floor(now.getUTCMonth() / 3) + 1}`;
}

function previousQuarter(p) {
  let y = Number(p.slice(0, 4)); let q = Number(p.slice(5));
  q -= 1; if (q === 0) { q = 4; y -= 1; }
  return `${y}Q${q}`;
}

// The last complete quarter is the usual default: its deadline has passed.
const defaultPeriod = () => previousQuarter(currentQuarter());

function quarters(n, last) {
  const out = [last];
  while (out.length < n) out.unshift(previousQuarter(out[0]));
  return out;
}

function periodChoices() {
  const list = quarters(12, currentQuarter()).reverse();
  const years = [...new Set(list.map((p) => p.slice(0, 4)))];
  return [...list, ...years];
}

const periodKind = (p) => (/^[0-9]{4}$/.test(p) ? "year" : /Q/.test(p) ? "quarter" : /S/.test(p) ? "half" : "month");

// The data set asked for when it is reported for periods of this kind, else the first that is.
function datasetFor(period, asked, datasets) {
  const fits = (d) => d.period_type === periodKind(period);
  const chosen = datasets.find((d) => d.code === asked);
  return chosen && fits(chosen) ? chosen.code : (datasets.find(fits) || chosen || datasets[0]).code;
}

function picker(label, name, value, options, testid) {
  return el("label", {}, label,
    el("select", { name, "data-testid": testid, onchange: (e) => setQuery({ [name]: e.target.value }) },
      options.map((o) => el("option", { value: o.value, selected: o.value === value, text: o.text }))));
}

// ---------- SVG charts ----------

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) node.setAttribute(k, v);
  for (const c of children.flat()) if (c) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function legend(pillars) {
  return el("div", { class: "legend" }, pillars.map((p, i) => el("span", {},
    svg("svg", { width: 14, height: 14, viewBox: "0 0 14 14", "aria-hidden": "true" },
      svg("rect", { width: 14, height: 14, fill: PILLAR_COLOURS[i % PILLAR_COLOURS.length] })),
    ` ${nameOf(p)}`)));
}

// Index ranks: one row per unit, the score as a bar split into pillar contributions, and the
// rank with its Monte Carlo 5%–95% range as a whisker.
function indexChart(rows, pillars, testid) {
  const ranked = rows.filter((r) => r.score !== null).sort((a, b) => a.rank - b.rank);
  const n = ranked.length;
  if (n === 0) return el("p", { class: "muted", text: t("noData") });
  const rowH = 26, labelW = 230, barW = 380, gap = 30, rankW = 260, top = 34;
  const width = labelW + barW + gap + rankW + 20, height = top + n * rowH + 10;
  const maxScore = 100, maxRank = Math.max(n, ...ranked.map((r) => r.rank_p95 || r.rank));
  const rx = (rank) => labelW + barW + gap + ((rank - 1) / Math.max(1, maxRank - 1)) * rankW;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "data-testid": testid,
    "aria-label": `${t("score")} / ${t("rankRange")}` },
  svg("text", { x: labelW, y: 18, "font-size": 14 }, `${t("score")} (0–100), ${t("pillars").toLowerCase()}`),
  svg("text", { x: labelW + barW + gap, y: 18, "font-size": 14 }, t("rankRange")));
  ranked.forEach((r, i) => {
    const y = top + i * rowH;
    chart.append(svg("text", { x: labelW - 8, y: y + 17, "text-anchor": "end", "font-size": 14 }, `${r.rank}. ${nameOf(r)}`));
    let x = labelW;
    pillars.forEach((p, k) => {
      // A pillar's share of the bar is its weighted contribution to the score.
      const part = ((r.contributions && r.contributions[p.code]) || 0) / maxScore * barW;
      if (part > 0) {
        chart.append(svg("rect", { x, y: y + 4, width: part, height: rowH - 8, fill: PILLAR_COLOURS[k % PILLAR_COLOURS.length] },
          svg("title", {}, `${nameOf(p)}: ${fmt(r.pillars[p.code] && r.pillars[p.code].score)}`)));
        x += part;
      }
    });
    chart.append(svg("text", { x: x + 4, y: y + 17, "font-size": 13 }, fmt(r.score)));
    const lo = r.rank_p5 || r.rank, hi = r.rank_p95 || r.rank;
    chart.append(svg("line", { x1: rx(lo), x2: rx(hi), y1: y + rowH / 2, y2: y + rowH / 2, stroke: "#1b2430", "stroke-width": 2 }));
    chart.append(svg("line", { x1: rx(lo), x2: rx(lo), y1: y + 6, y2: y + rowH - 6, stroke: "#1b2430", "stroke-width": 2 }));
    chart.append(svg("line", { x1: rx(hi), x2: rx(hi), y1: y + 6, y2: y + rowH - 6, stroke: "#1b2430", "stroke-width": 2 }));
    chart.append(svg("circle", { cx: rx(r.rank_median || r.rank), cy: y + rowH / 2, r: 5, fill: "#b3261e" },
      svg("title", {}, `${t("rank")} ${r.rank} (${lo}–${hi})`)));
  });
  return chart;
}

// A line over periods, with its values written at the points.
function trendChart(points, unit, testid) {
  const known = points.filter((p) => p.value !== null && p.value !== undefined);
  if (known.length === 0) return el("p", { class: "muted", text: t("noData") });
  const width = 760, height = 300, left = 60, right = 50, top = 24, bottom = 40;
  const values = known.map((p) => p.value);
  let lo = Math.min(...values), hi = Math.max(...values);
  if (lo === hi) { lo -= 1; hi += 1; }
  const pad = (hi - lo) * 0.15; lo -= pad; hi += pad;
  const x = (i) => left + (i / Math.max(1, points.length - 1)) * (width - left - right);
  const y = (v) => top + (1 - (v - lo) / (hi - lo)) * (height - top - bottom);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "data-testid": testid, "aria-label": t("trend") });
  chart.append(svg("line", { x1: left, x2: width - right, y1: height - bottom, y2: height - bottom, stroke: "#d9dee5" }));
  points.forEach((p, i) => chart.append(svg("text", { x: x(i), y: height - 14, "text-anchor": "middle", "font-size": 14 }, p.period)));
  const path = points.map((p, i) => (p.value === null || p.value === undefined ? null : `${x(i)},${y(p.value)}`)).filter(Boolean);
  chart.append(svg("polyline", { points: path.join(" "), fill: "none", stroke: "#0b5cad", "stroke-width": 3 }));
  points.forEach((p, i) => {
    if (p.value === null || p.value === undefined) return;
    chart.append(svg("circle", { cx: x(i), cy: y(p.value), r: 5, fill: "#0b5cad" }));
    chart.append(svg("text", { x: x(i), y: y(p.value) - 10, "text-anchor": "middle", "font-size": 14 }, `${fmt(p.value)}${unit === "%" ? " %" : ""}`));
  });
  return chart;
}

// Received on time / late / missing / pending as one stacked bar.
function complianceBar(c, testid) {
  const parts = [["on_time", c.on_time, "#1f7a3a"], ["late", c.late, "#b26b00"], ["missing", c.missing, "#b3261e"], ["pending", c.pending, "#9aa5b1"]];
  const total = Math.max(1, c.expected);
  const chart = svg("svg", { viewBox: "0 0 600 40", role: "img", "data-testid": testid, "aria-label": t("compliance") });
  let x = 0;
  for (const [key, n, colour] of parts) {
    const w = (n / total) * 600;
    if (w <= 0) continue;
    chart.append(svg("rect", { x, y: 0, width: w, height: 40, fill: colour }, svg("title", {}, `${t(key === "on_time" ? "onTime" : key)}: ${n}`)));
    if (w > 40) chart.append(svg("text", { x: x + w / 2, y: 26, "text-anchor": "middle", "font-size": 16, fill: "#fff" }, n));
    x += w;
  }
  return chart;
}

// ---------- views ----------

const app = () => document.getElementById("app");

function refusedOr(error) {
  if (error.status === 403) return el("div", { class: "alert", role: "alert", "data-testid": "refused", text: t("refused") });
  return el("div", { class: "alert", role: "alert", "data-testid": "error", text: `${t("error")}: ${error.message}` });
}

// Where to go after signing in: only one of the pages' own paths (never another host: "//x",
// "/\\x" and absolute URLs are refused).
function safeNext(next) {
  return next && /^\/(province\/[0-9]{2}(\/tasks|\/notices)?|commune\/[0-9]{5}(\/tasks|\/notices|\/entry)?|national|accounts)(\?[^\\]*)?$/.test(next) ? next : "/";
}

function signinView() {
  const message = el("p", { role: "alert", "data-testid": "signin-error" });
  const form = el("form", { class: "signin", "data-testid": "signin",
    onsubmit: async (e) => {
      e.preventDefault();
      const data = new FormData(form);
      let res;
      try {
        res = await fetch("/api/v1/auth/token", { method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ username: data.get("username"), password: data.get("password") }) });
      } catch (_) {
        // Offline: signing in needs the server (drafts wait in the browser meanwhile).
        message.textContent = t("offlineSignin");
        return;
      }
      if (!res.ok) { message.textContent = res.status === 429 ? t("tooMany") : t("badLogin"); return; }
      sessionStorage.setItem(TOKEN_KEY, (await res.json()).access_token);
      go(safeNext(params().get("next")), true);
    } },
  el("h1", { text: t("signin") }),
  el("label", {}, t("username"), el("input", { name: "username", autocomplete: "username", required: true, "data-testid": "username" })),
  el("label", {}, t("password"), el("input", { name: "password", type: "password", autocomplete: "current-password", required: true, "data-testid": "password" })),
  el("button", { type: "submit", class: "primary", "data-testid": "submit" }, t("signin")),
  message);
  app().replaceChildren(form);
}

async function datasetOptions() {
  const list = await api("/api/v1/datasets");
  return list.items;
}

async function provinceView(code) {
  const q = params();
  const period = q.get("period") || defaultPeriod();
  const year = period.slice(0, 4);
  const datasets = await datasetOptions();
  const dataset = datasetFor(period, q.get("dataset"), datasets);
  const dash = await api(`/api/v1/provinces/${enc(code)}/dashboard${query({ period })}`);
  document.title = `${nameOf(dash)} — innoreport`;
  const pickers = el("div", { class: "pickers" },
    picker(t("period"), "period", period, periodChoices().map((p) => ({ value: p, text: p })), "period"),
    picker(t("dataset"), "dataset", dataset, datasets.map((d) => ({ value: d.code, text: nameOf(d) })), "dataset"));

  const cards = el("div", { class: "cards", "data-testid": "headline" }, dash.headline.map((h) => {
    // A change that rounds to nothing is no change.
    const dir = Math.abs(h.change || 0) < 0.05 ? "flat" : h.change > 0 ? "up" : "down";
    return el("div", { class: "card", "data-testid": "headline-card" },
      el("div", { class: "name", text: nameOf(h) }),
      el("div", { class: "value", "data-testid": "headline-value", text: `${fmt(h.value)} ${h.unit === "%" ? "%" : ""}` }),
      el("div", { class: dir }, h.change === null || h.change === undefined ? "—"
        : `${dir === "up" ? "▲" : dir === "down" ? "▼" : "■"} ${fmt(Math.abs(h.change))} ${t("change")} ${h.previous_period}`),
      el("div", { class: "muted" }, h.target_attainment === null || h.target_attainment === undefined
        ? t("noTarget") : `${t("target")}: ${pct(h.target_attainment)}`));
  }));

  const body = [el("h1", { text: `${t("dashboard")}: ${nameOf(dash)}` }), tabs(tabCtx(), `/province/${code}`, "overview"), pickers,
    section(`${t("headline")} — ${period}`, "headline-section", cards,
      downloads(`/api/v1/provinces/${enc(code)}/dashboard${query({ period })}`, `dashboard-${code}-${period}`, "headline-download"),
      /^\d{4}(Q[1-4])?$/.test(period) && dash.commune_index.length
        ? el("div", { class: "downloads" }, wordButton("province", code, period, t("word"), "document-download")) : null)];

  // Compliance of the chosen data set and period (the period must suit the data set).
  const compliancePath = `/api/v1/compliance${query({ dataset, period, province: code })}`;
  try {
    const c = await api(compliancePath);
    const lateMissing = c.communes.filter((r) => r.status === "late" || r.status === "missing");
    body.push(section(`${t("compliance")} — ${dataset}, ${period}`, "compliance",
      el("p", {}, `${t("deadline")}: ${when(c.deadline)} · ${t("expected")} ${c.expected} · ${t("received")} ${c.received} · `
        + `${t("onTime")} ${c.on_time} · ${t("late")} ${c.late} · ${t("missing")} ${c.missing} · ${t("pending")} ${c.pending}`),
      complianceBar(c, "compliance-bar"),
      el("h2", { text: t("lateMissing") }),
      table([
        // A province admin enters a missing commune's paper report from here (its form of this
        // period); others open the commune's page.
        { title: t("commune"), value: (r) => {
          const href = tabCtx().entry ? `/commune/${r.commune}/entry?dataset=${enc(dataset)}&period=${enc(period)}` : `/commune/${r.commune}`;
          return el("a", { href, "data-testid": "late-missing-link", onclick: (e) => { e.preventDefault(); go(href); } }, nameOf(r));
        } },
        { title: t("status"), value: (r) => (r.status === "late" ? t("lateS") : t("missing")), cls: (r) => `status-${r.status}` },
        { title: t("received_at"), value: (r) => when(r.first_received_at) },
        { title: t("daysLate"), value: (r) => r.days_late ?? "—", num: true },
      ], lateMissing, "late-missing"),
      downloads(compliancePath, `compliance-${code}-${dataset}-${period}`, "compliance-download")));
  } catch (e) {
    body.push(section(t("compliance"), "compliance", refusedOr(e)));
  }

  // Communes' innovation index for the period's year.
  const indexPath = `/api/v1/index${query({ period: year, level: "commune", province: code, uncertainty: "true" })}`;
  try {
    const [idx, framework] = await Promise.all([api(indexPath), api("/api/v1/index/framework")]);
    body.push(section(`${t("index")} — ${year}`, "index", legend(framework.pillars),
      indexChart(idx.items, framework.pillars, "index-chart"),
      downloads(indexPath, `index-${code}-${year}`, "index-download")));
  } catch (e) {
    if (e.status !== 403) body.push(section(t("index"), "index", refusedOr(e)));
  }

  // Trend of one headline indicator over the last eight quarters.
  const indicator = q.get("indicator") || (dash.headline[0] && dash.headline[0].indicator);
  if (indicator && /Q/.test(period)) {
    const periods = quarters(8, period);
    const points = await Promise.all(periods.map(async (p) => {
      try {
        const a = await api(`/api/v1/aggregates${query({ indicator, period: p, level: "province", province: code })}`);
        return { period: p, value: a.items[0] ? a.items[0].value : null, unit: a.unit_of_measure };
      } catch (_) { return { period: p, value: null }; }
    }));
    const communesPath = `/api/v1/aggregates${query({ indicator, period, level: "commune", province: code })}`;
    const trendTable = table([{ title: t("period"), value: (p) => p.period }, { title: t("value"), value: (p) => fmt(p.value), num: true }],
      points, "trend-table");
    body.push(section(`${t("trend")}`, "trend",
      el("div", { class: "pickers" }, picker(t("indicator"), "indicator", indicator,
        dash.headline.map((h) => ({ value: h.indicator, text: nameOf(h) })), "indicator")),
      trendChart(points, points[0] && points[0].unit, "trend-chart"),
      trendTable,
      pageDownloads(trendTable, `${indicator}-${code}-trend`, "trend-download"),
      el("p", { class: "muted", text: `${t("communesOf")} ${period}:` }),
      downloads(communesPath, `${indicator}-${code}-${period}`, "communes-download")));
  }
  return body;
}

async function communeView(code) {
  const q = params();
  const year = q.get("year") || currentQuarter().slice(0, 4);
  const unit = await api(`/api/v1/communes/${enc(code)}`);
  document.title = `${nameOf(unit)} — innoreport`;
  const reportsPath = `/api/v1/reports${query({ commune: code, limit: "1000" })}`;
  const reports = await api(reportsPath);
  const body = [el("h1", { text: nameOf(unit) }), tabs(tabCtx(), `/commune/${code}`, "overview"),
    el("div", { class: "pickers" }, picker(t("year"), "year", year,
      [0, 1, 2, 3].map((k) => String(Number(currentQuarter().slice(0, 4)) - k)).map((y) => ({ value: y, text: y })), "year")),
    section(t("document"), "documents", el("div", { class: "downloads" },
      wordButton("commune", code, year, `${t("wordYear")} ${year}`, "document-download"),
      ...[1, 2, 3, 4].filter((k) => `${year}Q${k}` <= currentQuarter()).map((k) => wordButton("commune", code, `${year}Q${k}`, `${t("wordQuarter")} ${["I", "II", "III", "IV"][k - 1]}/${year}`, `document-download-q${k}`))))];

  const revisionsBox = el("div", { "data-testid": "revisions" });
  body.push(section(t("reports"), "reports",
    table([
      { title: t("dataset"), value: (r) => r.dataset },
      { title: t("period"), value: (r) => r.period },
      { title: t("status"), value: (r) => t(r.status) },
      { title: t("timeliness"), value: (r) => (r.timeliness === "late" ? t("lateS") : t("on_time")), cls: (r) => `status-${r.timeliness}` },
      { title: t("revision"), value: (r) => r.revision, num: true },
      { title: t("received_at"), value: (r) => when(r.received_at) },
      { title: t("revisions"), value: (r) => el("button", { type: "button", onclick: () => showRevisions(r, revisionsBox) }, t("show")) },
    ], reports.items.filter((r) => r.period.startsWith(year)), "reports-table"),
    downloads(reportsPath, `reports-${code}`, "reports-download"), revisionsBox));

  // Deadlines of every period of the year, with this commune's report status.
  const datasets = await datasetOptions();
  const rows = [];
  for (const d of datasets) {
    const periods = d.period_type === "quarter" ? [1, 2, 3, 4].map((k) => `${year}Q${k}`)
      : d.period_type === "year" ? [year] : d.period_type === "half" ? [`${year}S1`, `${year}S2`]
        : Array.from({ length: 12 }, (_, k) => `${year}${String(k + 1).padStart(2, "0")}`);
    const details = await Promise.all(periods.map((p) => api(`/api/v1/datasets/${enc(d.code)}${query({ period: p })}`).catch(() => null)));
    details.forEach((detail, k) => {
      const report = reports.items.find((r) => r.dataset === d.code && r.period === periods[k]);
      rows.push({ dataset: nameOf(d), period: periods[k], deadline: detail && detail.schedule && detail.schedule.deadline,
        lock: detail && detail.schedule && detail.schedule.lock, report });
    });
  }
  const deadlinesTable = table([
    { title: t("dataset"), value: (r) => r.dataset },
    { title: t("period"), value: (r) => r.period },
    { title: t("deadline"), value: (r) => when(r.deadline) },
    { title: t("lock"), value: (r) => when(r.lock) },
    { title: t("status"), value: (r) => (r.report ? `${t(r.report.status)} (${r.report.timeliness === "late" ? t("lateS") : t("on_time")})` : t("notYet")) },
  ], rows, "deadlines-table");
  body.push(section(t("deadlines"), "deadlines", deadlinesTable,
    pageDownloads(deadlinesTable, `deadlines-${code}-${year}`, "deadlines-download")));

  const targetsPath = `/api/v1/targets${query({ year, commune: code })}`;
  const [targets, indicators] = await Promise.all([api(targetsPath), api("/api/v1/indicators")]);
  const indicatorName = (c) => { const i = indicators.items.find((x) => x.code === c); return i ? nameOf(i) : c; };
  body.push(section(`${t("targets")} — ${year}`, "targets", table([
    { title: t("indicator"), value: (r) => indicatorName(r.indicator) },
    { title: t("targetValue"), value: (r) => fmt(r.target), num: true },
    { title: t("actual"), value: (r) => fmt(r.actual), num: true },
    { title: t("attainment"), value: (r) => pct(r.attainment), num: true },
  ], targets.items, "targets-table"), downloads(targetsPath, `targets-${code}-${year}`, "targets-download")));
  return body;
}

// The tasks tab: a province's communes, or a commune's own tasks, for a quarter or a year.
async function tasksView(level, code) {
  const period = params().get("period") || defaultPeriod();
  const unit = await api(level === "province" ? `/api/v1/provinces/${enc(code)}` : `/api/v1/communes/${enc(code)}`);
  document.title = `${t("tasks")} — ${nameOf(unit)} — innoreport`;
  const recent = quarters(8, currentQuarter()).reverse();
  const choices = [...recent, ...new Set(recent.map((p) => p.slice(0, 4)))];
  const ctx = { api, el, t, table, downloads, section, query, enc, when, fmt, pct, nameOf };
  return [el("h1", { text: `${t("tasks")}: ${nameOf(unit)}` }), tabs(tabCtx(), `/${level}/${code}`, "tasks"),
    el("div", { class: "pickers" }, picker(t("period"), "period", period, choices.map((p) => ({ value: p, text: p })), "period")),
    ...await (level === "province" ? provinceTasksView(ctx, code, period) : communeTasksView(ctx, code, period))];
}

// What the tab bar needs: whether the caller may enter reports (commune officers, province
// admins, admins).
const tabCtx = () => {
  const c = claims();
  return { el, t, go, entry: !!c && ["commune_officer", "province_admin", "admin"].includes(c.role) };
};

// The report entry tab of a commune.
async function entryTab(code) {
  const unit = await api(`/api/v1/communes/${enc(code)}`);
  document.title = `${t("entry")} — ${nameOf(unit)} — innoreport`;
  const ctx = { api, send, el, t, enc, params, go, claims, nameOf, when, fmt, setQuery, rerender: render, lang: () => lang };
  return [el("h1", { text: `${t("entry")}: ${nameOf(unit)}` }), tabs(tabCtx(), `/commune/${code}`, "entry"),
    ...await entryView(ctx, code)];
}

// The notices tab: the delivery log of a province or of a commune.
async function noticesTab(level, code) {
  const unit = await api(level === "province" ? `/api/v1/provinces/${enc(code)}` : `/api/v1/communes/${enc(code)}`);
  document.title = `${t("notices")} — ${nameOf(unit)} — innoreport`;
  const ctx = { api, el, t, table, downloads, section, query, when, params, picker };
  return [el("h1", { text: `${t("notices")}: ${nameOf(unit)}` }), tabs(tabCtx(), `/${level}/${code}`, "notices"),
    ...await noticesView(ctx, level, code)];
}

async function showRevisions(report, box) {
  const list = await api(`/api/v1/reports/${enc(report.dataset)}/${enc(report.period)}/${enc(report.commune)}/revisions`);
  box.replaceChildren(el("h2", { text: `${t("revisions")}: ${report.dataset} ${report.period}` }), table([
    { title: t("revision"), value: (r) => r.revision, num: true },
    { title: t("author"), value: (r) => r.author },
    { title: t("received_at"), value: (r) => when(r.received_at) },
    { title: t("changes"), value: (r) => r.changes.map((c) => `${c.indicator}: ${fmt(c.old)} → ${fmt(c.new)}`).join("; ") },
  ], list.items, "revisions-table"),
  downloads(`/api/v1/reports/${enc(report.dataset)}/${enc(report.period)}/${enc(report.commune)}/revisions`,
    `revisions-${report.commune}-${report.dataset}-${report.period}`, "revisions-download"));
}

async function nationalView() {
  const q = params();
  const period = q.get("period") || defaultPeriod();
  const year = period.slice(0, 4);
  const datasets = await datasetOptions();
  const dataset = datasetFor(period, q.get("dataset"), datasets);
  const body = [el("h1", { text: t("national") }), el("div", { class: "pickers" },
    picker(t("period"), "period", period, periodChoices().map((p) => ({ value: p, text: p })), "period"),
    picker(t("dataset"), "dataset", dataset, datasets.map((d) => ({ value: d.code, text: nameOf(d) })), "dataset"))];
  const indexPath = `/api/v1/index${query({ period: year, level: "province", uncertainty: "true" })}`;
  const [idx, framework] = await Promise.all([api(indexPath), api("/api/v1/index/framework")]);
  body.push(section(`${t("indexProvinces")} — ${year}`, "index", legend(framework.pillars),
    indexChart(idx.items, framework.pillars, "index-chart"),
    table([
      { title: t("rank"), value: (r) => r.rank ?? "—", num: true },
      { title: t("province"), value: (r) => nameOf(r) },
      { title: t("score"), value: (r) => fmt(r.score), num: true },
      { title: t("rankRange"), value: (r) => (r.rank_p5 ? `${r.rank_p5}–${r.rank_p95}` : "—") },
    ], [...idx.items].sort((a, b) => (a.rank ?? 1e9) - (b.rank ?? 1e9)), "provinces-table"),
    downloads(indexPath, `index-provinces-${year}`, "index-download")));
  const compliancePath = `/api/v1/compliance${query({ dataset, period })}`;
  try {
    const c = await api(compliancePath);
    body.push(section(`${t("byProvince")} — ${dataset}, ${period}`, "compliance", complianceBar(c, "compliance-bar"),
      table([
        { title: t("province"), value: (r) => el("a", { href: `/province/${r.unit}?period=${period}&dataset=${dataset}`,
          onclick: (e) => { e.preventDefault(); go(`/province/${r.unit}?period=${period}&dataset=${dataset}`); } }, r.name) },
        { title: t("expected"), value: (r) => r.expected, num: true },
        { title: t("onTime"), value: (r) => r.on_time, num: true },
        { title: t("late"), value: (r) => r.late, num: true },
        { title: t("missing"), value: (r) => r.missing, num: true },
        { title: t("reportingRate"), value: (r) => pct(r.reporting_rate), num: true },
        { title: t("onTimeRate"), value: (r) => pct(r.on_time_rate), num: true },
      ], [...c.by_province].sort((a, b) => b.on_time_rate - a.on_time_rate), "by-province"),
      downloads(compliancePath, `compliance-${dataset}-${period}`, "compliance-download")));
  } catch (e) {
    body.push(section(t("byProvince"), "compliance", refusedOr(e)));
  }
  return body;
}

// ---------- chrome and routing ----------

function chrome(c) {
  document.documentElement.lang = lang;
  document.getElementById("lang").textContent = t("other");
  const out = document.getElementById("signout");
  out.hidden = !c;
  out.textContent = t("signout");
  document.getElementById("who").textContent = c ? `${c.sub} · ${t(`role_${c.role}`)}` : "";
  const nav = document.getElementById("nav");
  const links = [];
  if (c && (c.role === "admin" || c.role === "national_analyst")) links.push(["/national", t("national")]);
  if (c && c.province) links.push([`/province/${c.province}`, t("dashboard")]);
  if (c && c.commune) links.push([`/commune/${c.commune}`, t("reports")]);
  if (c && (c.role === "admin" || c.role === "province_admin")) links.push(["/accounts", t("accounts")]);
  nav.replaceChildren(...links.map(([href, text]) => el("a", { href, onclick: (e) => { e.preventDefault(); go(href); } }, text)));
}

// Views are async; one that finishes after the user has gone elsewhere must not paint over the
// newer view, so only the latest render may fill the page.
let renders = 0;

async function render() {
  const mine = ++renders;
  const show = (...nodes) => { if (mine === renders) app().replaceChildren(...nodes); };
  const c = claims();
  chrome(c);
  const path = location.pathname;
  if (!c || path === "/signin") {
    if (!c && path !== "/signin") { go(`/signin?next=${encodeURIComponent(path + location.search)}`, true); return; }
    if (c) { go("/", true); return; }
    signinView();
    return;
  }
  show(el("p", { class: "muted", text: t("loading") }));
  try {
    let m;
    if (path === "/") {
      go(c.commune ? `/commune/${c.commune}` : c.province ? `/province/${c.province}` : "/national", true);
    } else if ((m = path.match(/^\/province\/([0-9]{2})$/))) {
      show(...await provinceView(m[1]));
    } else if ((m = path.match(/^\/commune\/([0-9]{5})$/))) {
      show(...await communeView(m[1]));
    } else if ((m = path.match(/^\/(province|commune)\/([0-9]{2}|[0-9]{5})\/tasks$/))) {
      show(...await tasksView(m[1], m[2]));
    } else if ((m = path.match(/^\/commune\/([0-9]{5})\/entry$/))) {
      show(...await entryTab(m[1]));
    } else if ((m = path.match(/^\/(province|commune)\/([0-9]{2}|[0-9]{5})\/notices$/))) {
      show(...await noticesTab(m[1], m[2]));
    } else if (path === "/national") {
      show(...await nationalView());
    } else if (path === "/accounts") {
      show(...await accountsView({ api, send, el, t, table, downloads, section, picker, when, params, query, enc, nameOf, claims }));
    } else {
      show(refusedOr(new ApiError(404, { detail: path })));
    }
  } catch (e) {
    if (e.status !== 401) show(refusedOr(e));
  }
}

document.getElementById("lang").addEventListener("click", () => {
  lang = lang === "vi" ? "en" : "vi";
  localStorage.setItem("innoreport.lang", lang);
  setQuery({ lang: lang === "vi" ? null : lang });
});
document.getElementById("signout").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  // The API answers the service worker kept for offline use are this login's: gone with it.
  if (window.caches) caches.delete("innoreport-api-v1");
  go("/signin");
});
window.addEventListener("popstate", render);
render();
