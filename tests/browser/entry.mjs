// The report entry form ("Nhập báo cáo") in a real browser at phone size, against the running
// binary with demo data: a commune officer fills a quarterly report with one error and one
// outlier and sees both on their fields, fixes it and sends it (revision 1), corrects it
// (revision 2); a second tab changes the report and the first gets the merge view; offline the
// draft survives a reload and is sent when the connection returns; a locked period is read only
// until the province reopens it; a province admin enters a paper report for another commune.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import assert from "node:assert/strict";

const base = process.env.BASE_URL;
const shots = process.env.SCREENSHOTS;
const provinceAdmin = { username: process.env.ADMIN_USER, password: process.env.ADMIN_PASSWORD };
const officer = { username: "xa-nhap-lieu", password: "nhập liệu từ điện thoại 2026" };
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const phone = { viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: "vi-VN" };
const results = [];
let current = null;

async function signIn(page, who) {
  await page.getByTestId("username").fill(who.username);
  await page.getByTestId("password").fill(who.password);
  await page.getByTestId("submit").click();
}

async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
  } catch (e) {
    if (current) {
      await current.screenshot({ path: `${shots}/entry-failed.png`, fullPage: true }).catch(() => {});
      console.log(`not ok - ${name}; the page showed:\n${(await current.locator("body").innerText().catch(() => "")).slice(0, 2000)}`);
    }
    throw e;
  }
  results.push(`ok ${name} (${Date.now() - started} ms)`);
  console.log(`ok - ${name}`);
}

// A fetch of the API with the page's token.
const call = (page, method, path, body) => page.evaluate(async ([method, path, body]) => {
  const res = await fetch(path, { method, headers: { Authorization: `Bearer ${sessionStorage.getItem("innoreport.token")}`,
    "Content-Type": "application/json" }, body: body ? JSON.stringify(body) : undefined });
  return { status: res.status, body: await res.json().catch(() => null) };
}, [method, path, body]);

// Fills the form so it is valid: every figure from the commune's previous report (so nothing is
// an outlier), then `values` on top.
async function fill(page, values) {
  for (const [code, v] of Object.entries(values)) await page.getByTestId(`field-${code}`).fill(v);
}

async function submitted(page) {
  await page.getByTestId("entry-submit").click();
  const outcome = page.getByTestId("sent").or(page.getByTestId("needs-confirmation"));
  await outcome.waitFor();
  if (await page.getByTestId("needs-confirmation").count()) {
    await page.getByTestId("confirm-warnings").check();
    await page.getByTestId("entry-submit").click();
    await page.getByTestId("sent").waitFor();
  }
  return page.getByTestId("sent").innerText();
}

let revisions = 0;
const errors = [];
const watch = (page) => {
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error" && !/Failed to load resource|ERR_INTERNET_DISCONNECTED/.test(m.text())) errors.push(m.text()); });
};

try {
  // The province admin picks a commune whose current quarter is not in yet, and gives it a login.
  const admin = await (await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: "vi-VN" })).newPage();
  watch(admin);
  current = admin;
  await admin.goto(`${base}/signin`);
  await signIn(admin, provinceAdmin);
  await admin.waitForURL(/\/province\/14/);
  const communes = (await call(admin, "GET", "/api/v1/provinces/14/communes?limit=1000")).body.items.map((c) => c.code);
  let commune = null, open = null, other = null;
  for (const c of communes) {
    const items = (await call(admin, "GET", `/api/v1/communes/${c}/periods`)).body.items;
    const q = items.find((p) => p.dataset === "dmst-quarterly" && p.editable);
    if (q && q.revision === 0 && c !== "03808") {
      if (!commune) { commune = c; open = q; } else if (!other) other = c;
    }
    if (commune && other) break;
  }
  assert.ok(commune && other, "two communes whose open quarter is not in yet");
  const made = await call(admin, "POST", "/api/v1/users", { username: officer.username, role: "commune_officer", commune,
    password: officer.password, email: "nhaplieu@example.vn" });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const [y, q] = open.period.split("Q").map(Number);
  const before = q === 1 ? `${y - 1}Q4` : `${y}Q${q - 1}`;
  const previous = (await call(admin, "GET", `/api/v1/reports/dmst-quarterly/${before}/${commune}`)).body;
  const usual = Object.fromEntries(Object.entries((previous && previous.values) || {}).map(([k, v]) => [k, String(v).replace(".", ",")]));

  const ctx = await browser.newContext(phone);
  const page = await ctx.newPage();
  watch(page);
  current = page;

  await step("on a phone the officer opens the form of the open quarter, generated from the catalog", async () => {
    await page.goto(`${base}/signin`);
    await signIn(page, officer);
    await page.waitForURL(new RegExp(`/commune/${commune}`));
    await page.getByTestId("tab-entry").click();
    await page.waitForURL(/\/entry/);
    await page.getByTestId("entry-form").waitFor();
    assert.equal(await page.getByTestId("entry-period").inputValue(), `dmst-quarterly|${open.period}`);
    const indicators = (await call(page, "GET", "/api/v1/indicators?dataset=dmst-quarterly")).body.items.filter((i) => i.kind === "reported");
    for (const i of indicators) {
      const field = page.getByTestId(`field-${i.code}`);
      assert.equal(await field.getAttribute("inputmode"), i.value_type === "count" ? "numeric" : "decimal", i.code);
    }
    assert.ok(await page.getByText(indicators[0].name, { exact: true }).count(), "Vietnamese names");
    // Fits the screen: nothing wider than the phone, buttons a thumb can hit.
    const wide = await page.evaluate(() => [...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > 362).slice(0, 5)
      .map((e) => `${e.tagName}.${e.className}[${e.getAttribute("data-testid")}] ${Math.round(e.getBoundingClientRect().right)}`));
    assert.deepEqual(wide, [], "no sideways scrolling");
    const box = await page.getByTestId("entry-submit").boundingBox();
    assert.ok(box.height >= 44, `a submit button ${box.height}px high`);
    const late = await page.getByTestId("late-notice").count();
    assert.equal(late, open.late ? 1 : 0, "says the report will be late exactly when it will");
    await page.screenshot({ path: `${shots}/20-entry-phone.png`, fullPage: true });
  });

  await step("one error and one outlier show on their fields; fixed, the report is sent (201)", async () => {
    await fill(page, { ...usual, dossiers_total: "1.200", dossiers_online_full: "1.500", staff_total: "4.000" });
    await page.getByTestId("entry-submit").click();
    await page.getByTestId("problem-dossiers_online_full").waitFor();
    await page.getByTestId("warning-staff_total").waitFor();
    assert.equal(await page.getByTestId("sent").count(), 0);
    const none = (await call(page, "GET", `/api/v1/communes/${commune}/periods`)).body.items.find((p) => p.period === open.period && p.dataset === "dmst-quarterly");
    assert.equal(none.revision, 0, "a dry run stores nothing");
    await page.screenshot({ path: `${shots}/21-entry-problems.png`, fullPage: true });
    await fill(page, { dossiers_online_full: "1.150,0" });
    assert.match(await submitted(page), /lần 1/);
    const stored = (await call(page, "GET", `/api/v1/reports/dmst-quarterly/${open.period}/${commune}`)).body;
    assert.equal(stored.values.dossiers_total, 1200, "1.200 is twelve hundred");
    assert.equal(stored.values.dossiers_online_full, 1150);
    assert.equal(stored.author, officer.username);
  });

  await step("a correction is revision 2, with the plan's task progress and the report's texts", async () => {
    await fill(page, { staff_total: usual.staff_total || "20" });
    // The commune's plan (the demo's 2026 plans) shows its tasks in the same form.
    const status = page.locator('[data-testid^="task-status-"]').first();
    const code = (await status.count()) ? (await status.getAttribute("data-testid")).slice("task-status-".length) : null;
    if (code) {
      await status.selectOption("completed");
      await page.getByTestId(`task-percent-${code}`).fill("100");
    }
    await page.getByTestId("text-highlights").fill("Hoàn thành tập huấn chuyển đổi số\ncho 3 thôn");
    assert.match(await submitted(page), /lần 2/);
    const stored = (await call(page, "GET", `/api/v1/reports/dmst-quarterly/${open.period}/${commune}`)).body;
    assert.equal(stored.texts.highlights, "Hoàn thành tập huấn chuyển đổi số\ncho 3 thôn", "line breaks kept");
    if (code) assert.equal(stored.tasks[code].status, "completed");
  });

  await step("a second tab changes the report; the first gets the merge view and merges", async () => {
    const second = await ctx.newPage();
    watch(second);
    await second.goto(`${base}/signin`);
    await signIn(second, officer);
    await second.waitForURL(new RegExp(`/commune/${commune}`));
    await second.goto(`${base}/commune/${commune}/entry`);
    await second.getByTestId("entry-form").waitFor();
    await fill(second, { dossiers_total: "1.300" });
    // The other tab also moves a task of the plan on (this tab leaves it alone).
    const status = second.locator('[data-testid^="task-status-"]').first();
    const task = (await status.count()) ? (await status.getAttribute("data-testid")).slice("task-status-".length) : null;
    if (task) {
      await status.selectOption("in_progress");
      await second.getByTestId(`task-percent-${task}`).fill("60");
    }
    assert.match(await submitted(second), /lần 3/);
    await second.close();
    // Both changed the total, differently: asked. Only this tab changed the online dossiers: kept.
    await fill(page, { dossiers_total: "1.250", dossiers_online_full: "1.180" });
    await page.getByTestId("entry-submit").click();
    await page.getByTestId("conflict").waitFor();
    await page.getByTestId("conflict-dossiers_total").waitFor();
    assert.equal(await page.getByTestId("conflict-dossiers_online_full").count(), 0, "not asked: only one side changed it");
    if (task) assert.equal(await page.getByTestId(`conflict-${task}`).count(), 0, "nor the task only the other tab moved");
    await page.screenshot({ path: `${shots}/22-entry-conflict.png`, fullPage: true });
    await page.getByTestId("use-theirs-dossiers_total").check();
    await page.getByTestId("merge-submit").click();
    await page.getByTestId("sent").or(page.getByTestId("needs-confirmation")).waitFor();
    if (await page.getByTestId("needs-confirmation").count()) {
      await page.getByTestId("confirm-warnings").check();
      await page.getByTestId("entry-submit").click();
      await page.getByTestId("sent").waitFor();
    }
    const stored = (await call(page, "GET", `/api/v1/reports/dmst-quarterly/${open.period}/${commune}`)).body;
    assert.equal(stored.revision, 4);
    assert.equal(stored.values.dossiers_total, 1300, "the other tab's value, chosen");
    assert.equal(stored.values.dossiers_online_full, 1180, "and mine");
    if (task) assert.equal(stored.tasks[task].status, "in_progress", "the other tab's task progress kept");
  });

  await step("changes that do not clash are merged and sent without a question", async () => {
    const now = (await call(admin, "GET", `/api/v1/reports/dmst-quarterly/${open.period}/${commune}`)).body;
    const other = await call(admin, "POST", "/api/v1/reports", { commune, dataset: "dmst-quarterly", period: open.period,
      base_revision: now.revision, values: { st_models: 6 } });
    assert.equal(other.status, 201, JSON.stringify(other.body));
    await fill(page, { businesses_innovating: "2" });
    await page.getByTestId("entry-submit").click();
    await page.getByTestId("sent").or(page.getByTestId("needs-confirmation")).waitFor();
    if (await page.getByTestId("needs-confirmation").count()) {
      await page.getByTestId("confirm-warnings").check();
      await page.getByTestId("entry-submit").click();
      await page.getByTestId("sent").waitFor();
    }
    assert.ok(await page.getByTestId("conflict").isHidden(), "no question asked");
    const stored = (await call(page, "GET", `/api/v1/reports/dmst-quarterly/${open.period}/${commune}`)).body;
    assert.equal(stored.values.st_models, 6, "the other change kept");
    assert.equal(stored.values.businesses_innovating, 2, "and mine sent");
    revisions = stored.revision;
  });

  await step("offline the draft survives a reload and is sent when the connection returns", async () => {
    await page.evaluate(async () => { await navigator.serviceWorker.ready; });
    await page.reload();
    await page.getByTestId("entry-form").waitFor();
    await ctx.setOffline(true);
    await page.getByTestId("offline").waitFor();
    await fill(page, { digital_teams: "7" });
    await page.waitForTimeout(300);
    await page.reload();
    await page.getByTestId("entry-form").waitFor();
    assert.equal(await page.getByTestId("field-digital_teams").inputValue(), "7", "the draft survived the reload");
    await page.getByTestId("draft-kept").waitFor();
    await page.getByTestId("entry-submit").click();
    await page.getByTestId("queued").waitFor();
    await page.screenshot({ path: `${shots}/23-entry-offline.png`, fullPage: true });
    await ctx.setOffline(false);
    await page.getByTestId("sent").waitFor({ timeout: 15000 });
    const stored = (await call(page, "GET", `/api/v1/reports/dmst-quarterly/${open.period}/${commune}`)).body;
    assert.equal(stored.values.digital_teams, 7);
    assert.equal(stored.revision, revisions + 1);
    revisions = stored.revision;
  });

  await step("a field emptied after a send in the same visit is cleared in the stored report", async () => {
    const had = (await call(page, "GET", `/api/v1/reports/dmst-quarterly/${open.period}/${commune}`)).body.values;
    const code = Object.keys(had).find((k) => !["dossiers_total", "dossiers_online_full", "staff_total", "staff_trained",
      "digital_teams", "digital_team_members", "businesses_total", "businesses_innovating", "initiatives_proposed", "initiatives_recognized"].includes(k));
    assert.ok(code, `a value to clear in ${JSON.stringify(had)}`);
    await page.getByTestId(`field-${code}`).fill("");
    assert.match(await submitted(page), new RegExp(`lần ${revisions + 1}`));
    const stored = (await call(page, "GET", `/api/v1/reports/dmst-quarterly/${open.period}/${commune}`)).body;
    assert.equal(stored.values[code], undefined, `${code} cleared`);
    revisions = stored.revision;
  });

  await step("a waiting report is never sent under the next login of the same browser", async () => {
    await ctx.setOffline(true);
    await fill(page, { outreach_sessions: "9" });
    await page.getByTestId("entry-submit").click();
    await page.getByTestId("queued").waitFor();
    await page.evaluate(() => document.getElementById("signout").click());
    await page.waitForURL(/\/signin/);
    await ctx.setOffline(false);
    await signIn(page, provinceAdmin);
    await page.waitForURL(/\/province\/14/);
    await page.goto(`${base}/commune/${commune}/entry`);
    await page.getByTestId("entry-form").waitFor();
    await page.waitForTimeout(500);
    assert.equal(await page.getByTestId("draft-kept").count(), 0, "the officer's draft is not the admin's");
    const stored = (await call(page, "GET", `/api/v1/reports/dmst-quarterly/${open.period}/${commune}`)).body;
    assert.equal(stored.revision, revisions, "nothing sent under the admin's name");
    assert.notEqual(stored.values.outreach_sessions, 9);
    // The officer, signed in again, finds it sent.
    await page.evaluate(() => document.getElementById("signout").click());
    await page.waitForURL(/\/signin/);
    await signIn(page, officer);
    await page.waitForURL(new RegExp(`/commune/${commune}`));
    await page.goto(`${base}/commune/${commune}/entry`);
    await page.getByTestId("entry-form").waitFor();
    const after = (await call(page, "GET", `/api/v1/reports/dmst-quarterly/${open.period}/${commune}`)).body;
    assert.equal(after.revision, revisions + 1);
    assert.equal(after.values.outreach_sessions, 9);
    assert.equal(after.author, officer.username);
  });

  await step("a locked period is read only until the province reopens it", async () => {
    const items = (await call(page, "GET", `/api/v1/communes/${commune}/periods`)).body.items;
    const locked = items.find((p) => p.dataset === "dmst-quarterly" && p.locked_reason === "past_lock");
    assert.ok(locked, "a past quarter is locked");
    await page.getByTestId("entry-period").selectOption(`dmst-quarterly|${locked.period}`);
    await page.getByTestId("read-only").waitFor();
    assert.equal(await page.getByTestId("entry-submit").count(), 0);
    assert.ok(await page.getByTestId("field-dossiers_total").isDisabled());
    const reopened = await call(admin, "POST", `/api/v1/reports/dmst-quarterly/${locked.period}/${commune}/review`, { action: "reopen" });
    assert.ok([200, 201].includes(reopened.status), JSON.stringify(reopened.body));
    await page.reload();
    await page.getByTestId("reopened-notice").waitFor();
    assert.ok(!(await page.getByTestId("field-dossiers_total").isDisabled()));
  });

  await step("a province admin enters a paper report for another commune, under the admin's name", async () => {
    const p = await ctx.newPage();
    watch(p);
    current = p;
    await p.goto(`${base}/signin`);
    await signIn(p, provinceAdmin);
    await p.waitForURL(/\/province\/14/);
    await p.goto(`${base}/commune/${commune}/entry`);
    await p.getByTestId("entry-commune").selectOption(other);
    await p.waitForURL(new RegExp(`/commune/${other}/entry`));
    await p.getByTestId("entry-form").waitFor();
    await fill(p, { dossiers_total: "80", dossiers_online_full: "40" });
    assert.match(await submitted(p), /lần 1/);
    const stored = (await call(p, "GET", `/api/v1/reports/dmst-quarterly/${open.period}/${other}`)).body;
    assert.equal(stored.author, provinceAdmin.username);
    await p.screenshot({ path: `${shots}/24-entry-admin.png`, fullPage: true });
  });

  assert.deepEqual(errors.filter((e) => !/40[139]|42[23]|Forbidden/.test(e)), [], "no script errors");
} finally {
  await browser.close();
}
console.log(results.join("\n"));
