// The dashboard pages in a real browser (Debian's Chromium, headless), against the running
// binary with demo data: sign in as a province analyst, see the dashboard with figures, switch
// the period, download Excel, be refused another province, switch to English, open a commune
// page, sign in as a national analyst for the national view, and as a province admin run the
// province's logins on the accounts page. Screenshots go to $SCREENSHOTS.
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import assert from "node:assert/strict";

const base = process.env.BASE_URL;
const shots = process.env.SCREENSHOTS;
const analyst = { username: process.env.ANALYST_USER, password: process.env.ANALYST_PASSWORD };
const national = { username: process.env.NATIONAL_USER, password: process.env.NATIONAL_PASSWORD };
const officer = { username: process.env.OFFICER_USER, password: process.env.OFFICER_PASSWORD };
const provinceAdmin = { username: process.env.ADMIN_USER, password: process.env.ADMIN_PASSWORD };
const commune = process.env.COMMUNE;
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const results = [];
let current = null; // the page a failing step is shown from

// Signs in on the page's sign-in form (the page must show it).
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
      await current.screenshot({ path: `${shots}/failed.png`, fullPage: true }).catch(() => {});
      console.log(`not ok - ${name}; the page showed:\n${(await current.locator("body").innerText().catch(() => "")).slice(0, 1500)}`);
    }
    throw e;
  }
  results.push(`ok ${name} (${Date.now() - started} ms)`);
  console.log(`ok - ${name}`);
}

try {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true, locale: "vi-VN" });
  const page = await context.newPage();
  current = page;
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("response", (r) => { if (r.status() === 404) errors.push(`404 ${r.url()}`); });

  await step("an analyst who is not signed in is sent to the sign-in page", async () => {
    await page.goto(`${base}/province/14?period=2025Q4`);
    await page.waitForURL(/\/signin\?next=/);
    await page.getByTestId("signin").waitFor();
    assert.equal(await page.locator("html").getAttribute("lang"), "vi");
    await page.screenshot({ path: `${shots}/01-signin.png` });
  });

  await step("a wrong password is refused on the page", async () => {
    await page.getByTestId("username").fill(analyst.username);
    await page.getByTestId("password").fill("not-the-password");
    await page.getByTestId("submit").click();
    await page.getByTestId("signin-error").filter({ hasText: /Sai tên đăng nhập/ }).waitFor();
  });

  await step("signed in, the province dashboard shows non-empty figures in Vietnamese", async () => {
    await page.getByTestId("password").fill(analyst.password);
    await page.getByTestId("submit").click();
    await page.waitForURL(/\/province\/14\?period=2025Q4/);
    await page.getByTestId("headline-value").first().waitFor();
    const values = await page.getByTestId("headline-value").allTextContents();
    assert.ok(values.length >= 4, `headline cards: ${values}`);
    assert.ok(values.every((v) => /[0-9]/.test(v)), `every headline has a figure: ${values}`);
    const text = await page.locator("main").innerText();
    assert.match(text, /Tỷ lệ hồ sơ giải quyết trực tuyến toàn trình/, "Vietnamese names with diacritics");
    assert.match(text, /Sơn La/);
    await page.getByTestId("compliance-bar").waitFor();
    const lateMissing = await page.getByTestId("late-missing").locator("tbody tr").count();
    assert.ok(lateMissing > 0, "the demo has late and missing communes");
    await page.getByTestId("index-chart").waitFor();
    const bars = await page.getByTestId("index-chart").locator("rect").count();
    const whiskers = await page.getByTestId("index-chart").locator("circle").count();
    assert.ok(bars > 10 && whiskers > 10, `pillar bars ${bars}, rank whiskers ${whiskers}`);
    const points = await page.getByTestId("trend-chart").locator("circle").count();
    assert.ok(points >= 4, `trend points ${points}`);
    await page.screenshot({ path: `${shots}/02-province-dashboard-vi.png`, fullPage: true });
  });

  await step("switching the period changes the URL and the figures", async () => {
    const before = await page.getByTestId("headline-section").locator("h2").innerText();
    await page.getByTestId("period").selectOption("2025Q3");
    await page.waitForURL(/period=2025Q3/);
    await page.getByTestId("headline-section").locator("h2").filter({ hasText: "2025Q3" }).waitFor();
    const after = await page.getByTestId("headline-section").locator("h2").innerText();
    assert.notEqual(before, after);
    // The URL can be shared: a colleague who opens it signs in and lands on the same view.
    const shared = page.url();
    const colleague = await browser.newContext();
    const other = await colleague.newPage();
    await other.goto(shared);
    await signIn(other, analyst);
    await other.getByTestId("headline-section").locator("h2").filter({ hasText: "2025Q3" }).waitFor();
    assert.equal(other.url(), shared);
    await colleague.close();
  });

  await step("a year shows the attainment of the province's targets", async () => {
    await page.getByTestId("period").selectOption("2025");
    await page.waitForURL(/period=2025(&|$)/);
    await page.getByTestId("headline-section").locator("h2").filter({ hasText: /— 2025$/ }).waitFor();
    const text = await page.getByTestId("headline").innerText();
    assert.match(text, /Đạt kế hoạch: [0-9]+,[0-9] %/, "target attainment in Vietnamese number format");
    await page.screenshot({ path: `${shots}/02b-province-year-targets.png`, fullPage: false });
    await page.getByTestId("period").selectOption("2025Q3");
    await page.waitForURL(/period=2025Q3/);
    await page.getByTestId("compliance-bar").waitFor();
  });

  await step("the compliance table downloads as an Excel workbook", async () => {
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByTestId("compliance-download-xlsx").click(),
    ]);
    const file = `${shots}/compliance.xlsx`;
    await download.saveAs(file);
    assert.match(download.suggestedFilename(), /\.xlsx$/);
    assert.ok(statSync(file).size > 1000);
    assert.equal(readFileSync(file).subarray(0, 2).toString(), "PK", "an xlsx is a zip");
    const [csv] = await Promise.all([
      page.waitForEvent("download"),
      page.getByTestId("index-download-csv").click(),
    ]);
    const csvFile = `${shots}/index.csv`;
    await csv.saveAs(csvFile);
    assert.ok(readFileSync(csvFile, "utf8").includes("Xã"), "CSV keeps Vietnamese names");
  });

  await step("tables without an API list download from the page, as CSV and Excel", async () => {
    const [csv] = await Promise.all([page.waitForEvent("download"), page.getByTestId("trend-download-csv").click()]);
    const csvFile = `${shots}/trend.csv`;
    await csv.saveAs(csvFile);
    const text = readFileSync(csvFile, "utf8");
    assert.ok(text.startsWith("\ufeff") && text.includes("2025Q3"), text.slice(0, 80));
    const [xlsx] = await Promise.all([page.waitForEvent("download"), page.getByTestId("trend-download-xlsx").click()]);
    const xlsxFile = `${shots}/trend.xlsx`;
    await xlsx.saveAs(xlsxFile);
    assert.equal(readFileSync(xlsxFile).subarray(0, 2).toString(), "PK");
    const [headline] = await Promise.all([page.waitForEvent("download"), page.getByTestId("headline-download-xlsx").click()]);
    await headline.saveAs(`${shots}/headline.xlsx`);
    assert.equal(readFileSync(`${shots}/headline.xlsx`).subarray(0, 2).toString(), "PK");
  });

  await step("the province report downloads as a Word document", async () => {
    const [doc] = await Promise.all([page.waitForEvent("download"), page.getByTestId("document-download").click()]);
    assert.match(doc.suggestedFilename(), /^bao-cao-14-.*\.docx$/);
    const file = `${shots}/province-report.docx`;
    await doc.saveAs(file);
    const bytes = readFileSync(file);
    assert.equal(bytes.subarray(0, 2).toString(), "PK", "a docx is a zip");
    assert.ok(bytes.includes("word/document.xml"), "with a Word document inside");
  });

  await step("another province's page is refused", async () => {
    await page.goto(`${base}/province/01?period=2025Q4`);
    await page.getByTestId("refused").first().waitFor();
    const text = await page.locator("main").innerText();
    assert.doesNotMatch(text, /Hà Nội/, "nothing of the other province is shown");
    await page.screenshot({ path: `${shots}/03-other-province-refused.png` });
  });

  await step("a crafted link cannot smuggle a parameter into the page's API calls", async () => {
    // The review's finding: a period of "2025Q4&province=01" put unencoded into the API URL
    // would show another query's figures under this page's heading.
    const calls = [];
    const statuses = [];
    const seen = (r) => { if (r.url().includes("/dashboard")) calls.push(new URL(r.url())); };
    const answered = (r) => { if (r.url().includes("/dashboard")) statuses.push(r.status()); };
    const before = errors.length;
    page.on("request", seen);
    page.on("response", answered);
    await page.goto(`${base}/province/14?period=${encodeURIComponent("2025Q4&province=01")}`);
    await page.getByTestId("error").first().waitFor();
    page.off("request", seen);
    page.off("response", answered);
    assert.ok(calls.length >= 1, "the page asked for the dashboard");
    // The API refuses the period as a whole (400); the browser logs that refused request as a
    // console error, which is this step's expected outcome and nothing else's.
    assert.ok(statuses.length >= 1 && statuses.every((s) => s === 400), `dashboard answers: ${statuses}`);
    const fresh = errors.splice(before);
    const unexpected = fresh.filter((e) => !/status of 400/.test(e));
    assert.deepEqual(unexpected, [], "no other errors while the crafted link is refused");
    for (const u of calls) {
      assert.deepEqual(u.searchParams.getAll("period"), ["2025Q4&province=01"], u.href);
      assert.equal(u.searchParams.get("province"), null, u.href);
    }
    assert.equal(await page.getByTestId("headline-value").count(), 0, "no figures under a wrong heading");
  });

  await step("the English switch translates the page", async () => {
    await page.goto(`${base}/province/14?period=2025Q4`);
    await page.getByTestId("headline-value").first().waitFor();
    await page.getByTestId("lang").click();
    await page.waitForURL(/lang=en/);
    await page.getByText("Province dashboard").first().waitFor();
    assert.equal(await page.locator("html").getAttribute("lang"), "en");
    await page.getByTestId("headline-value").first().waitFor();
    await page.screenshot({ path: `${shots}/04-province-dashboard-en.png`, fullPage: true });
    await page.getByTestId("lang").click();
    await page.waitForURL((u) => !u.search.includes("lang=en"));
  });

  await step("a commune page lists its reports, revisions, deadlines and targets", async () => {
    await page.goto(`${base}/commune/${commune}?year=2025`);
    await page.getByTestId("reports-table").waitFor();
    const rows = await page.getByTestId("reports-table").locator("tbody tr").count();
    assert.ok(rows >= 1, `reports: ${rows}`);
    await page.getByTestId("reports-table").locator("button").first().click();
    await page.getByTestId("revisions-table").waitFor();
    await page.getByTestId("deadlines-table").waitFor();
    await page.getByTestId("targets-table").waitFor();
    const targets = await page.getByTestId("targets-table").innerText();
    assert.match(targets, /Tỷ lệ hồ sơ giải quyết trực tuyến toàn trình/, "targets name their indicators");
    assert.match(targets, /[0-9]+,[0-9] %/, "with the attainment");
    const [doc] = await Promise.all([page.waitForEvent("download"), page.getByTestId("document-download-q4").click()]);
    assert.equal(doc.suggestedFilename(), `bao-cao-${commune}-2025Q4.docx`);
    await doc.saveAs(`${shots}/commune-report.docx`);
    assert.ok(readFileSync(`${shots}/commune-report.docx`).includes("word/document.xml"));
    await page.screenshot({ path: `${shots}/05-commune-page.png`, fullPage: true });
  });

  await step("the tasks tab shows each commune's plan completion, the overdue tasks and the proposals", async () => {
    await page.goto(`${base}/province/14`);
    await page.getByTestId("tab-tasks").click();
    await page.waitForURL(/\/province\/14\/tasks/);
    await page.getByTestId("plan-communes").waitFor();
    assert.equal(await page.getByTestId("plan-communes").locator("tbody tr").count(), 75, "every commune of Sơn La");
    assert.equal(await page.getByTestId("plan-sections").locator("tbody tr").count(), 4, "the template's four sections");
    const shown = Number((await page.getByTestId("plan-taskCount").innerText()).replace(/\D/g, ""));
    const period = await page.getByTestId("period").inputValue();
    const api = await page.evaluate(async (period) => {
      const res = await fetch(`/api/v1/plans/progress?province=14&period=${period}`,
        { headers: { Authorization: `Bearer ${sessionStorage.getItem("innoreport.token")}` } });
      return (await res.json()).totals.tasks;
    }, period);
    assert.equal(shown, api, "the page's task count is the API's");
    await page.getByTestId("plan-feedback-table").waitFor();
    const [xlsx] = await Promise.all([page.waitForEvent("download"), page.getByTestId("plan-communes-download-xlsx").click()]);
    await xlsx.saveAs(`${shots}/plan-completion.xlsx`);
    assert.ok(statSync(`${shots}/plan-completion.xlsx`).size > 1000, "the workbook downloads");
    await page.screenshot({ path: `${shots}/09-province-tasks.png`, fullPage: true });
    await page.getByTestId("tab-overview").click();
    await page.getByTestId("headline-value").first().waitFor();
  });

  await step("the notices tab shows the delivery log: the reopening told to Mường La", async () => {
    await page.goto(`${base}/province/14`);
    await page.getByTestId("tab-notices").click();
    await page.waitForURL(/\/province\/14\/notices/);
    await page.getByTestId("notices-table").waitFor();
    const rows = await page.getByTestId("notices-table").locator("tbody tr").allInnerTexts();
    const api = await page.evaluate(async () => {
      const res = await fetch("/api/v1/notifications?province=14&limit=200",
        { headers: { Authorization: `Bearer ${sessionStorage.getItem("innoreport.token")}` } });
      return (await res.json()).items;
    });
    assert.equal(rows.length, api.length, "the page lists what the API serves");
    assert.ok(rows.some((r) => r.includes("Mở lại báo cáo") && r.includes("login:xa-muong-la")), rows.join("\n"));
    await page.getByTestId("notice-kind").selectOption("digest");
    await page.waitForURL(/kind=digest/);
    await page.getByTestId("notices-empty").waitFor();
    await page.screenshot({ path: `${shots}/11-province-notices.png`, fullPage: true });
  });

  await step("on a phone the dashboard fits the screen", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    const p = await phone.newPage();
    await p.goto(`${base}/signin`);
    await signIn(p, analyst);
    await p.getByTestId("headline-value").first().waitFor();
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `no sideways scrolling of the page (${overflow} px)`);
    await p.screenshot({ path: `${shots}/06-province-dashboard-phone.png` });
    await phone.close();
  });

  await step("a national analyst sees provinces ranked and compliance by province", async () => {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const p = await ctx.newPage();
    await p.goto(`${base}/`);
    await signIn(p, national);
    await p.waitForURL(/\/national/);
    await p.getByTestId("provinces-table").waitFor();
    const provinces = await p.getByTestId("provinces-table").locator("tbody tr").count();
    assert.equal(provinces, 34);
    const byProvince = await p.getByTestId("by-province").locator("tbody tr").count();
    assert.equal(byProvince, 34);
    await p.screenshot({ path: `${shots}/07-national-view.png`, fullPage: true });
    await ctx.close();
  });

  await step("a commune officer lands on their commune and is refused another commune", async () => {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const p = await ctx.newPage();
    // A sign-in link that would send the user to another host after signing in is ignored.
    await p.goto(`${base}/signin?next=${encodeURIComponent("/\\evil.example/")}`);
    await signIn(p, officer);
    await p.waitForURL(new RegExp(`/commune/${commune}`));
    assert.equal(new URL(p.url()).origin, base);
    await p.getByTestId("reports-table").waitFor();
    const other = await p.evaluate(async () => (await (await fetch("/api/v1/provinces/14/communes?limit=2")).json()).items
      .map((c) => c.code));
    await p.goto(`${base}/commune/${other.find((c) => c !== "03808")}`);
    await p.getByTestId("refused").waitFor();
    // The province page shows the province's totals, but no ranking of the other communes.
    await p.goto(`${base}/province/14?period=2025Q4`);
    await p.getByTestId("headline-value").first().waitFor();
    assert.equal(await p.getByTestId("index-chart").count(), 0, "no commune ranking for an officer");
    assert.equal(await p.getByTestId("document-download").count(), 0, "no province report for an officer");
    const names = await p.getByTestId("late-missing").locator("tbody tr").allInnerTexts();
    assert.ok(names.every((n) => n.includes("Mường La") || n.includes("Không có")), `only the own commune: ${names}`);
    // The officer's own tasks: the nine of the template, on the commune's tasks tab.
    await p.goto(`${base}/commune/${commune}`);
    await p.getByTestId("tab-tasks").click();
    await p.getByTestId("commune-tasks-table").waitFor();
    assert.equal(await p.getByTestId("commune-tasks-table").locator("tbody tr").count(), 9);
    await p.screenshot({ path: `${shots}/10-commune-tasks.png`, fullPage: true });
    // The province's tasks tab lists other communes: refused.
    await p.goto(`${base}/province/14/tasks`);
    await p.getByTestId("refused").waitFor();
    // The officer's notices: the reopening of its report.
    await p.goto(`${base}/commune/${commune}/notices`);
    await p.getByTestId("notices-table").waitFor();
    const told = await p.getByTestId("notices-table").locator("tbody tr").allInnerTexts();
    assert.ok(told.length >= 1 && told.every((r) => r.includes(commune)), told.join("\n"));
    await p.screenshot({ path: `${shots}/08-officer-province-totals.png`, fullPage: true });
    await ctx.close();
  });

  await step("a province admin runs the province's logins on the accounts page", async () => {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true });
    const p = await ctx.newPage();
    current = p;
    const scriptErrors = [];
    p.on("pageerror", (e) => scriptErrors.push(String(e)));
    p.on("dialog", (d) => d.accept());
    await p.goto(`${base}/`);
    await signIn(p, provinceAdmin);
    await p.waitForURL(/\/province\/14/);
    await p.getByRole("link", { name: "Tài khoản" }).click();
    await p.waitForURL(/\/accounts/);
    const table = p.getByTestId("accounts-table");
    await table.waitFor();
    assert.match(await p.locator("h1").innerText(), /Tài khoản — Sơn La/);
    assert.match(await p.getByTestId("who").innerText(), /Quản trị tỉnh/);
    const listed = await table.locator("tbody tr td:first-child").allInnerTexts();
    for (const name of [analyst.username, officer.username, provinceAdmin.username]) {
      assert.ok(listed.includes(name), `${name} in ${listed}`);
    }
    assert.ok(!listed.includes(national.username), "no national login on a province's page");

    // A weak password is refused, naming the rule; nothing is created.
    await p.getByTestId("new-username").fill("xa-thu-nghiem");
    await p.getByTestId("new-role").selectOption("commune_officer");
    await p.getByTestId("new-commune").fill(commune);
    await p.getByTestId("new-password").fill("aaaaaaaaaaaa");
    await p.getByTestId("create").click();
    await p.getByTestId("account-errors").filter({ hasText: /Mật khẩu: quá đơn giản/ }).waitFor();
    assert.equal(await table.locator("tbody tr", { hasText: "xa-thu-nghiem" }).count(), 0);

    // Created with a generated password, shown once; the new login signs in with it.
    await p.getByTestId("new-password").fill("");
    await p.getByTestId("create").click();
    const first = (await p.getByTestId("generated-password").innerText()).trim();
    assert.ok(first.length >= 12, `generated password: ${first}`);
    await p.getByTestId("accounts-table").locator("tbody tr", { hasText: "xa-thu-nghiem" }).waitFor();
    await p.screenshot({ path: `${shots}/09-accounts-created.png`, fullPage: true });
    const userCtx = await browser.newContext();
    const u = await userCtx.newPage();
    await u.goto(`${base}/signin`);
    await signIn(u, { username: "xa-thu-nghiem", password: first });
    await u.waitForURL(new RegExp(`/commune/${commune}`));
    await u.getByTestId("reports-table").waitFor();

    // A reset shows a new password; the old one no longer signs in, the new one does.
    await p.getByTestId("reset-xa-thu-nghiem").click();
    await p.getByTestId("generated-password").filter({ hasNotText: first }).waitFor();
    const second = (await p.getByTestId("generated-password").innerText()).trim();
    assert.notEqual(second, first);
    // The session of the reset login ends at once.
    await u.reload();
    await u.waitForURL(/\/signin/);
    await signIn(u, { username: "xa-thu-nghiem", password: first });
    await u.getByTestId("signin-error").filter({ hasText: /Sai tên đăng nhập/ }).waitFor();
    await u.getByTestId("password").fill(second);
    await u.getByTestId("submit").click();
    await u.waitForURL(new RegExp(`/commune/${commune}`));

    // Disabled: the row says so and the login's open page is signed out on its next read.
    await p.getByTestId("toggle-xa-thu-nghiem").click();
    await table.locator("tbody tr", { hasText: "xa-thu-nghiem" }).filter({ hasText: "Đã khoá" }).waitFor();
    await u.reload();
    await u.waitForURL(/\/signin/);
    await userCtx.close();
    await p.getByTestId("filter-state").selectOption("true");
    await p.waitForURL(/disabled=true/);
    await p.getByTestId("accounts-table").waitFor();
    const disabled = await p.getByTestId("accounts-table").locator("tbody tr td:first-child").allInnerTexts();
    assert.deepEqual(disabled, ["xa-thu-nghiem"]);

    // The list downloads, as CSV, with the same logins.
    await p.getByTestId("filter-state").selectOption("");
    await p.getByTestId("accounts-table").waitFor();
    const [csv] = await Promise.all([p.waitForEvent("download"), p.getByTestId("accounts-download-csv").click()]);
    await csv.saveAs(`${shots}/logins.csv`);
    const text = readFileSync(`${shots}/logins.csv`, "utf8");
    assert.ok(text.includes("xa-thu-nghiem") && text.includes(analyst.username) && !text.includes(national.username), text.slice(0, 300));
    await p.screenshot({ path: `${shots}/10-accounts.png`, fullPage: true });

    // Another province's login is not the admin's to touch, even by a crafted request.
    const refused = await p.evaluate(async (name) => (await fetch(`/api/v1/users/${name}`, { method: "PATCH",
      headers: { Authorization: `Bearer ${sessionStorage.getItem("innoreport.token")}`, "Content-Type": "application/json" },
      body: JSON.stringify({ disabled: true }) })).status, national.username);
    assert.equal(refused, 403);
    assert.deepEqual(scriptErrors, [], "no script errors");
    await ctx.close();
  });

  assert.deepEqual(errors.filter((e) => !/403|401|Forbidden/.test(e)), [], "no script errors");
} finally {
  await browser.close();
}
console.log(results.join("\n"));
