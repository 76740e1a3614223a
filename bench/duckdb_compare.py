"""The benchmark's DuckDB side (run by innoreport-bench; see bench/README.md).

Loads the current values and reports exported by the benchmark into an in-memory DuckDB,
then times the same province rollups and compliance as the aggregator computes, and prints
their median times (ms) and results as JSON.

usage: duckdb_compare.py DIR YEAR PERIOD DEADLINE REPS
"""

import json
import statistics
import sys
import time

import duckdb

directory, year, period, deadline, reps = sys.argv[1:6]
year, reps = int(year), int(reps)

con = duckdb.connect(":memory:")
con.execute(
    f"""CREATE TABLE cur AS SELECT * FROM read_csv('{directory}/values.csv', header = true,
        columns = {{'province': 'VARCHAR', 'commune': 'VARCHAR', 'dataset': 'VARCHAR',
                    'period': 'VARCHAR', 'indicator': 'VARCHAR', 'value': 'DOUBLE'}})"""
)
con.execute(
    f"""CREATE TABLE reports AS SELECT * FROM read_csv('{directory}/reports.csv', header = true,
        columns = {{'province': 'VARCHAR', 'commune': 'VARCHAR', 'dataset': 'VARCHAR',
                    'period': 'VARCHAR', 'first_received_at': 'TIMESTAMP'}})"""
)
con.execute(
    f"""CREATE TABLE communes AS SELECT * FROM read_csv('{directory}/communes.csv', header = true,
        columns = {{'code': 'VARCHAR', 'province': 'VARCHAR'}})"""
)

queries = {
    # Σ numerator ÷ Σ denominator × 100, the parts paired quarter by quarter: summed over the
    # quarters where the commune reported both (CATALOG.md).
    "ratio": f"""
        WITH per_quarter AS (
            SELECT province, commune, period,
                   SUM(value) FILTER (WHERE indicator = 'dossiers_online_full') AS num,
                   SUM(value) FILTER (WHERE indicator = 'dossiers_total') AS den
            FROM cur
            WHERE dataset = 'dmst-quarterly' AND period LIKE '{year}Q_'
              AND indicator IN ('dossiers_online_full', 'dossiers_total')
            GROUP BY province, commune, period
        )
        SELECT province, 100.0 * SUM(num) / NULLIF(SUM(den), 0)
        FROM per_quarter WHERE num IS NOT NULL AND den IS NOT NULL
        GROUP BY province ORDER BY province""",
    # Each commune's last quarter of the year, summed by province.
    "stock": f"""
        WITH last AS (
            SELECT province, commune, arg_max(value, period) AS value
            FROM cur
            WHERE dataset = 'dmst-quarterly' AND period LIKE '{year}Q_'
              AND indicator = 'staff_total'
            GROUP BY province, commune
        )
        SELECT province, SUM(value) FROM last GROUP BY province ORDER BY province""",
    "compliance": f"""
        SELECT c.province,
               COUNT(r.commune) FILTER (WHERE r.first_received_at <= TIMESTAMP '{deadline}'),
               COUNT(r.commune) FILTER (WHERE r.first_received_at > TIMESTAMP '{deadline}'),
               COUNT(*) - COUNT(r.commune)
        FROM communes c
        LEFT JOIN reports r ON r.commune = c.code
             AND r.dataset = 'dmst-quarterly' AND r.period = '{period}'
        GROUP BY c.province ORDER BY c.province""",
}

out = {"duckdb": duckdb.__version__}
for name, sql in queries.items():
    rows = con.execute(sql).fetchall()  # warm-up
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        rows = con.execute(sql).fetchall()
        times.append((time.perf_counter() - started) * 1000.0)
    out[name] = {"ms": statistics.median(times), "rows": [list(r) for r in rows]}
print(json.dumps(out))
