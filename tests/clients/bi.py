"""A BI tool's view of the OData feed, with real OData clients from PyPI: pyodata (an OData V2
client: the feed answers it in V2's JSON) and python-odata (an OData V4 client). Both sign in
with an integration key as the password of HTTP Basic, as Power BI and Excel do.

    python bi.py BASE_URL INTEGRATION_KEY

Reads $metadata, pages through a province table filtered by period and indicator, and compares
every row with /api/v1/analytics for the same table.
"""

import sys

import pyodata
import pyodata.v2.model
import requests

BASE, KEY = sys.argv[1], sys.argv[2]
ROOT = BASE + "/api/v1/odata/"
PERIODS = ("2026Q1", "2026Q2")
INDICATORS = ("online_dossier_rate", "dossiers_total")


def check(what, ok, detail=""):
    if not ok:
        print(f"FAILED: {what} {detail}")
        sys.exit(1)
    print(f"ok: {what}")


def key(row):
    return (row["indicator"], row["period"], row["unit"])


session = requests.Session()
session.auth = ("powerbi", KEY)

# The same table from /analytics, with the same key.
analytics = session.get(
    BASE + "/api/v1/analytics",
    params={"indicator": ",".join(INDICATORS), "period": ",".join(PERIODS), "level": "commune"},
    timeout=60,
)
check("the key reads /analytics", analytics.status_code == 200, analytics.text[:300])
want = {key(r): r for r in analytics.json()["rows"]}
check("the table has rows", len(want) > 100, len(want))

FILTER = "(period eq '{}' or period eq '{}') and (indicator eq '{}' or indicator eq '{}')".format(
    *PERIODS, *INDICATORS
)

# --- pyodata (OData V2) ---
# retain_null: a missing value stays None (pyodata's default turns it into the type's zero).
client = pyodata.Client(ROOT, session, config=pyodata.v2.model.Config(retain_null=True))
sets = sorted(es.name for es in client.schema.entity_sets)
check("pyodata reads $metadata", "CommuneValues" in sets and "Reports" in sets, sets)
props = [p.name for p in client.schema.entity_type("Value").proprties()]
check("the Value type has its properties", "numerator" in props and "communes_expected" in props, props)

rows, pages = [], 0
request = client.entity_sets.CommuneValues.get_entities().filter(FILTER).count(inline=True)
request.add_headers({"Prefer": "odata.maxpagesize=40"})
result = request.execute()
total = result.total_count
while True:
    pages += 1
    rows.extend(result)
    if result.next_url is None:
        break
    following = client.entity_sets.CommuneValues.get_entities().next_url(result.next_url)
    following.add_headers({"Prefer": "odata.maxpagesize=40"})
    result = following.execute()
check(f"pyodata pages through the province table ({pages} pages)", pages > 3, pages)
check("the inline count is the number of rows", total == len(rows), f"{total} vs {len(rows)}")
got = {(e.indicator, e.period, e.unit): e for e in rows}
check("every row once", len(got) == len(rows))
check("the same cells as /analytics", set(got) == set(want), f"{len(got)} vs {len(want)}")
for k, e in got.items():
    w = want[k]
    for prop in ("value", "numerator", "denominator", "communes_reporting", "communes_expected"):
        a, b = getattr(e, prop), w[prop]
        same = (a is None and b is None) or (a is not None and b is not None and abs(float(a) - float(b)) < 1e-9)
        if not same:
            check(f"{k} {prop}", False, f"{a} vs {b}")
check("pyodata's values equal /analytics, cell by cell", True)
count = client.entity_sets.CommuneValues.get_entities().filter(FILTER).count().execute()
check("$count agrees", count == len(want), count)
reports = client.entity_sets.Reports.get_entities().top(5).execute()
check("reports read with their instants", len(reports) == 5 and reports[0].deadline.year >= 2025,
      [r.deadline for r in reports])

# --- python-odata (OData V4) ---
from odata import ODataService  # noqa: E402

service = ODataService(ROOT, session=session, reflect_entities=True, quiet_progress=True)
Value = service.entities["CommuneValues"]
query = service.query(Value).filter(Value.period == PERIODS[0]).filter(Value.indicator == INDICATORS[0])
v4 = list(query)
want_one = {k: w for k, w in want.items() if k[0] == INDICATORS[0] and k[1] == PERIODS[0]}
check("python-odata (V4) reads the filtered table", len(v4) == len(want_one), f"{len(v4)} vs {len(want_one)}")
for e in v4:
    w = want_one[(e.indicator, e.period, e.unit)]
    a, b = e.value, w["value"]
    if not ((a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-9)):
        check(f"V4 {e.unit}", False, f"{a} vs {b}")
check("python-odata's values equal /analytics", True)
print("bi: every step passed")
