#!/usr/bin/env python3
"""Generate units.csv (34 provinces, 3,321 communes) from the official list.

Source: the PyPI package `vietnam-provinces` 2025.10.1 (data/nested-divisions.json), which
carries the GSO administrative units in force since 1 July 2025 (Resolution 202/2025/QH15 and
the Standing Committee resolutions on commune-level arrangement). Run once; the CSV is data:

    pip download --no-deps vietnam-provinces==2025.10.1 -d /tmp/vnp
    python3 generate_units.py /tmp/vnp/vietnam_provinces-2025.10.1-py3-none-any.whl > units.csv

English names are derived: diacritics removed and the unit type translated
(Xã → Commune, Phường → Ward, Đặc khu → Special Zone, Thành phố → City, tỉnh → Province).
"""
import csv
import io
import json
import sys
import unicodedata
import zipfile

TYPES_EN = {"xã": "Commune", "phường": "Ward", "đặc khu": "Special Zone",
            "tỉnh": "Province", "thành phố trung ương": "City"}
PREFIXES = ("Thành phố ", "Tỉnh ", "Xã ", "Phường ", "Đặc khu ")


def ascii_name(name: str) -> str:
    name = name.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", name) if unicodedata.category(c) != "Mn")


def english(name: str, division_type: str) -> str:
    base = name
    for p in PREFIXES:
        if base.startswith(p):
            base = base[len(p):]
            break
    return f"{ascii_name(base)} {TYPES_EN[division_type]}"


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as z:
        data = json.loads(z.read("vietnam_provinces/data/nested-divisions.json"))
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["level", "code", "province_code", "name_vi", "name_en", "division_type", "codename"])
    provinces = sorted(data, key=lambda p: p["code"])
    for p in provinces:
        pc = f"{p['code']:02d}"
        w.writerow(["province", pc, pc, p["name"], english(p["name"], p["division_type"]),
                    p["division_type"], p["codename"]])
    communes = 0
    for p in provinces:
        pc = f"{p['code']:02d}"
        for c in sorted(p["wards"], key=lambda c: c["code"]):
            w.writerow(["commune", f"{c['code']:05d}", pc, c["name"],
                        english(c["name"], c["division_type"]), c["division_type"], c["codename"]])
            communes += 1
    assert len(provinces) == 34, len(provinces)
    assert communes == 3321, communes
    sys.stdout.write(out.getvalue())


if __name__ == "__main__":
    main(sys.argv[1])
