"""Reads a province report with python-docx, as an independent docx reader, and checks its
layout and every figure of its tables against the API (tests/documents/run).

    read.py BASE_URL TOKEN YEAR OUT.docx
"""

import json
import sys
import urllib.request

import docx
from docx.shared import Mm

base, token, year, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]


def get(path):
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=60) as res:
        return res.headers.get("content-type"), res.read()


def api(path):
    return json.loads(get(path)[1])


def vn(text):
    """A number written the Vietnamese way (1.234,5), or None for '-'."""
    text = text.strip().lstrip("+")
    if text in ("", "-"):
        return None
    return float(text.replace(".", "").replace(",", "."))


def same(written, served, what):
    got = vn(written)
    want = None if served is None else round(served + 0.0, 2)
    assert (got is None and want is None) or (
        got is not None and want is not None and abs(got - want) < 0.0051
    ), f"{what}: the document says {written!r}, the API {served!r}"


AS_OF = "2026-12-03T00:00:00Z"
kind, body = get(
    f"/api/v1/documents/province/14?period={year}&number=125&as_of={AS_OF}"
    "&signer=Nguy%E1%BB%85n%20V%C4%83n%20A"
)
assert kind == "application/vnd.openxmlformats-officedocument.wordprocessingml.document", kind
with open(out, "wb") as f:
    f.write(body)
d = docx.Document(out)

s = d.sections[0]
assert abs(s.page_width - Mm(210)) < Mm(0.5) and abs(s.page_height - Mm(297)) < Mm(0.5), "A4"
for name, lo, hi in [("top", 20, 25), ("bottom", 20, 25), ("left", 30, 35), ("right", 15, 20)]:
    mm = getattr(s, f"{name}_margin").mm
    assert lo - 0.05 <= mm <= hi + 0.05, f"{name} margin {mm:.1f} mm"

tables = [[[c.text for c in row.cells] for row in t.rows] for t in d.tables]


def table(*header):
    for t in tables:
        if tuple(t[0][: len(header)]) == header:
            return t
    raise AssertionError(f"no table headed {header}")


# Compliance counts.
c = api(f"/api/v1/compliance?dataset=dmst-annual&period={year}&province=14&as_of={AS_OF}")
counts = table("Tình hình nộp báo cáo")
for row, key in zip(counts[1:], ["expected", "received", "on_time", "late", "missing", "pending"]):
    same(row[1], c[key], f"compliance {key}")
checked = 6

# The headline against the previous year and the targets.
dash = api(f"/api/v1/provinces/14/dashboard?period={year}")
headline = table("TT", "Chỉ tiêu", "Đơn vị")
assert len(headline) - 1 == len(dash["headline"])
for row, h in zip(headline[1:], dash["headline"]):
    assert row[1] == h["name"], (row[1], h["name"])
    same(row[3], h["value"], h["indicator"])
    same(row[4], h["previous"], h["indicator"] + " previous")
    same(row[5], h["change"], h["indicator"] + " change")
    a = h["target_attainment"]
    same(row[6], None if a is None else 100 * a, h["indicator"] + " attainment")
    assert row[7] == f'{h["communes_reporting"]}/{h["communes_expected"]}'
    checked += 5

# Annex I: every commune's figures.
by_name = {h["name"]: h["indicator"] for h in dash["headline"]}
for t in tables:
    head = t[0]
    if head[:2] != ["TT", "Xã, phường"] or head[2] == "Ngày nộp":
        continue
    for col, title in enumerate(head[2:], start=2):
        indicator = next(code for name, code in by_name.items() if title.startswith(name))
        agg = api(
            f"/api/v1/aggregates?indicator={indicator}&period={year}&level=commune&province=14"
        )
        values = {r["name"]: r["value"] for r in agg["items"]}
        assert len(t) - 1 == len(values) == 75
        for row in t[1:]:
            same(row[col], values[row[1]], f"{indicator} of {row[1]}")
            checked += 1

# Annex II: the ranks.
idx = api(f"/api/v1/index?period={year}&level=commune&province=14")
ranks = table("Xếp hạng", "Xã, phường", "Điểm")
by_commune = {r["name"]: r for r in idx["items"]}
for row in ranks[1:]:
    r = by_commune[row[1]]
    assert row[0] == ("-" if r["rank"] is None else str(r["rank"])), (row, r["rank"])
    same(row[2], r["score"], f"score of {row[1]}")
    checked += 2

text = "\n".join(p.text for p in d.paragraphs)
for want in ["BÁO CÁO", f"năm {year}", "Nguyễn Văn A"]:
    assert want in text or any(want in c for t in tables for r in t for c in r), want
print(f"{len(d.tables)} tables, {checked} figures equal to the API's")
