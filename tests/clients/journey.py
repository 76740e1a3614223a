"""A commune system and an analyst, through the Python client openapi-python-client generates from
openapi/openapi.json, against the real binary (tests/clients/run). Exports are read as a user
reads them: CSV with pandas, workbooks with openpyxl.

Usage: journey.py BASE_URL OFFICER_USER OFFICER_PASSWORD ANALYST_TOKEN
"""

import datetime
import io
import sys

import openpyxl
import pandas
from innoreport_api_client import AuthenticatedClient, Client
from innoreport_api_client.api.analysis import aggregates, aggregates_csv, aggregates_xlsx
from innoreport_api_client.api.auth import issue_token
from innoreport_api_client.api.reports import (
    import_reports_csv,
    list_reports,
    list_reports_csv,
    list_reports_xlsx,
    list_revisions,
    submit_report,
)
from innoreport_api_client.models import (
    AggregateList,
    ImportSummary,
    Lang,
    LevelParam,
    ReportOut,
    ReportSubmission,
    ReportSubmissionValues,
    RevisionList,
    TokenRequest,
    TokenResponse,
)
from innoreport_api_client.types import File

BASE, USER, PASSWORD, ANALYST = sys.argv[1:5]
COMMUNE = "03808"


def check(condition, what):
    if not condition:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok: {what}")


def current_quarter():
    now = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=7)))
    return f"{now.year}Q{(now.month - 1) // 3 + 1}"


def submission(values):
    v = ReportSubmissionValues()
    v.additional_properties = values
    return ReportSubmission(dataset="dmst-quarterly", period=PERIOD, values=v, comment="journey")


PERIOD = current_quarter()

# Sign in as the commune's system.
token = issue_token.sync(client=Client(base_url=BASE), body=TokenRequest(username=USER, password=PASSWORD))
check(isinstance(token, TokenResponse) and token.token_type == "Bearer", "a token from /auth/token")
officer = AuthenticatedClient(base_url=BASE, token=token.access_token)

# Submit, retry, correct.
first = {"dossiers_total": 900.0, "dossiers_online_full": 450.0, "staff_trained": None}
res = submit_report.sync_detailed(client=officer, body=submission(first))
check(res.status_code == 201 and isinstance(res.parsed, ReportOut), f"a submission is stored (201): {res.content[:200]!r}")
revision = res.parsed.revision
check(res.parsed.values.additional_properties["dossiers_total"] == 900.0, "the answer carries the values")
for w in res.parsed.warnings:
    check(w.score is None or isinstance(w.score, float), "a warning's score is a number or absent")
res = submit_report.sync_detailed(client=officer, body=submission(first))
check(res.status_code == 200 and res.parsed.revision == revision, "an identical retry changes nothing (200)")
res = submit_report.sync_detailed(client=officer, body=submission({"dossiers_online_full": 600.0}))
check(res.status_code == 201 and res.parsed.revision == revision + 1, "a correction is a new revision (201)")

# Revisions: old → new.
revs = list_revisions.sync(client=officer, dataset="dmst-quarterly", period=PERIOD, commune=COMMUNE)
check(isinstance(revs, RevisionList) and len(revs.items) >= 2, "the revisions are listed")
last = revs.items[-1]
check(
    any(c.indicator == "dossiers_online_full" and c.old == 450.0 and c.new == 600.0 for c in last.changes),
    "the last revision shows old → new",
)

# An upload of a CSV file, as bytes, in a dry run.
csv_upload = f"commune,dataset,period,indicator,value\n{COMMUNE},dmst-quarterly,{PERIOD},st_models,3\n"
summary = import_reports_csv.sync(
    client=officer, body=File(payload=io.BytesIO(csv_upload.encode()), file_name="bao-cao.csv"), dry_run=True
)
check(isinstance(summary, ImportSummary) and summary.dry_run and summary.updated == 1, "a CSV file is imported (dry run)")

# Exports of the officer's reports: every row, CSV and Excel.
pages, cursor = 0, None
json_rows = 0
while True:
    page = list_reports.sync(client=officer, limit=2, cursor=cursor) if cursor else list_reports.sync(client=officer, limit=2)
    json_rows += len(page.items)
    pages += 1
    cursor = page.next_cursor
    if not cursor:
        break
text = list_reports_csv.sync(client=officer)
check(isinstance(text, str) and text.startswith("\ufeffcommune,"), "the CSV export is text with a BOM")
frame = pandas.read_csv(io.StringIO(text.lstrip("\ufeff")), dtype={"commune": str, "province": str})
check(len(frame) == json_rows and pages > 1, f"the CSV has every row of the JSON pages ({len(frame)} = {json_rows} over {pages} pages)")
check(set(frame["commune"]) == {COMMUNE}, "an officer's export holds their commune only")

book_file = list_reports_xlsx.sync(client=officer, lang=Lang.VI)
check(isinstance(book_file, File), "the xlsx export is a file")
book = openpyxl.load_workbook(io.BytesIO(book_file.payload.read()))
sheet = book.active
check(sheet.max_row - 1 == json_rows, "the workbook has every row")
check(sheet.freeze_panes == "A2", "the header row is frozen")
check(sheet.auto_filter.ref is not None and sheet.auto_filter.ref.startswith("A1:"), "the header has a filter")
check(all(c.font.bold for c in sheet[1] if c.value), "the header is bold")
headers = [c.value for c in sheet[1]]
check("Trạng thái" in headers and "Nhận lần đầu" in headers, "Vietnamese headers with lang=vi")
status_col = headers.index("Trạng thái") + 1
statuses = {sheet.cell(row=r, column=status_col).value for r in range(2, sheet.max_row + 1)}
check(statuses <= {"Đã nộp", "Trả lại để sửa", "Đã duyệt"}, f"statuses in Vietnamese: {statuses}")
first_col = headers.index("Nhận lần đầu") + 1
cell = sheet.cell(row=2, column=first_col)
check(isinstance(cell.value, datetime.datetime) and "yy" in cell.number_format, "instants are Excel date-times")
for column in range(1, len(headers) + 1):
    letter = openpyxl.utils.get_column_letter(column)
    width = sheet.column_dimensions[letter].width
    check(width is not None and width >= len(str(headers[column - 1])), f"column {letter} is as wide as its header")
    break

# The analyst: a province aggregate as JSON, CSV and xlsx, with the same numbers.
analyst = AuthenticatedClient(base_url=BASE, token=ANALYST)
agg = aggregates.sync(client=analyst, indicator="online_dossier_rate", period=PERIOD, level=LevelParam.COMMUNE, province="14")
check(isinstance(agg, AggregateList) and len(agg.items) == 75, "75 communes of Sơn La")
csv_agg = pandas.read_csv(
    io.StringIO(aggregates_csv.sync(client=analyst, indicator="online_dossier_rate", period=PERIOD, level=LevelParam.COMMUNE, province="14").lstrip("\ufeff")),
    dtype={"unit": str},
)
by_unit = {r.unit: r.value for r in agg.items}
check(
    all((pandas.isna(row.value) and by_unit[row.unit] is None) or abs(row.value - by_unit[row.unit]) < 1e-9 for row in csv_agg.itertuples()),
    "the CSV aggregate equals the JSON one",
)
xlsx = aggregates_xlsx.sync(client=analyst, indicator="online_dossier_rate", period=PERIOD, level=LevelParam.COMMUNE, province="14")
sheet = openpyxl.load_workbook(io.BytesIO(xlsx.payload.read())).active
check(len(sheet.title) <= 31 and sheet.title.endswith(PERIOD), f"the sheet is named with its whole period: {sheet.title}")
values = {sheet.cell(row=r, column=1).value: sheet.cell(row=r, column=4).value for r in range(2, sheet.max_row + 1)}
check(all(values[u] == v or (values[u] is None and v is None) for u, v in by_unit.items()), "the workbook aggregate equals the JSON one")

# The analyst: the communes' plan completion (the demo's plans) as JSON, CSV and xlsx, with the
# same counts; the totals recomputed from the rows.
http = analyst.get_httpx_client()
progress_url = f"/api/v1/plans/progress?province=14&period={PERIOD}"
progress = http.get(progress_url).json()
communes = progress["communes"]
check(len(communes) == 75 and progress["communes_with_plan"] == 75, "every commune of Sơn La has the template's plan")
for key in ["tasks", "completed", "in_progress", "not_started", "not_feasible", "not_reported", "overdue"]:
    check(sum(c[key] for c in communes) == progress["totals"][key], f"the communes' {key} add up to the total")
frame = pandas.read_csv(io.StringIO(http.get(progress_url + "&format=csv").text.lstrip("\ufeff")), dtype={"commune": str})
check(len(frame) == 75 and int(frame["completed"].sum()) == progress["totals"]["completed"], "the CSV completion equals the JSON")
rates = {c["commune"]: c["completion_rate"] for c in communes}
check(all(abs(r.completion_rate - rates[r.commune]) < 1e-9 for r in frame.itertuples()), "the CSV rates equal the JSON")
book = openpyxl.load_workbook(io.BytesIO(http.get(progress_url + "&format=xlsx&lang=vi").content)).active
headers = [c.value for c in book[1]]
check(book.max_row == 76 and "Tỷ lệ hoàn thành" in headers, "the workbook has every commune, headers in Vietnamese")
feedback = pandas.read_csv(io.StringIO(http.get(f"/api/v1/plans/feedback?province=14&period={PERIOD}&format=csv").text.lstrip("\ufeff")), dtype={"commune": str})
check(set(feedback["kind"]) <= {"difficulty", "proposal"}, f"{len(feedback)} difficulties and proposals read with pandas")
print("journey: every step passed")
