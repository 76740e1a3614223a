//! The benchmark's database side: creating the database, and computing the same rollups and
//! compliance in plain PostgreSQL SQL (over the product's own tables) and in DuckDB (over the
//! same current values, loaded in memory), to compare with the aggregator.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text, Timestamp};
use serde_json::Value;

use crate::{Compared, Failure, RunArgs, load, median};

fn connect(url: &str) -> Result<PgConnection, Failure> {
    Ok(PgConnection::establish(url)?)
}

/// `url` with its database name replaced by `postgres` (to create and drop the database).
fn maintenance(url: &str) -> Result<(String, String), Failure> {
    let (head, db) = url
        .rsplit_once('/')
        .ok_or("database URL without a database")?;
    let db = db.split('?').next().unwrap_or(db).to_owned();
    if db.is_empty() || !db.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("unexpected database name {db:?}").into());
    }
    Ok((format!("{head}/postgres"), db))
}

pub fn recreate_database(url: &str) -> Result<(), Failure> {
    let (admin, db) = maintenance(url)?;
    let mut conn = connect(&admin)?;
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).execute(&mut conn)?;
    diesel::sql_query(format!("CREATE DATABASE {db}")).execute(&mut conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, sql: &str) -> Result<i64, Failure> {
    Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n)
}

pub fn count_reports(url: &str) -> Result<i64, Failure> {
    count(&mut connect(url)?, "SELECT count(*) AS n FROM reports")
}

pub struct Sizes {
    pub reports: i64,
    pub revisions: i64,
    pub values: i64,
    pub current_values: i64,
}

pub fn sizes(url: &str) -> Result<Sizes, Failure> {
    let mut conn = connect(url)?;
    Ok(Sizes {
        reports: count(&mut conn, "SELECT count(*) AS n FROM reports")?,
        revisions: count(&mut conn, "SELECT count(*) AS n FROM revisions")?,
        values: count(&mut conn, "SELECT count(*) AS n FROM revision_values")?,
        current_values: count(
            &mut conn,
            &format!("SELECT count(*) AS n FROM ({CURRENT}) c"),
        )?,
    })
}

#[derive(QueryableByName)]
struct Unit {
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = Text)]
    province_code: String,
}

/// (commune, province) of every commune (or of Sơn La only).
pub fn communes(url: &str, one_province: bool) -> Result<Vec<(String, String)>, Failure> {
    let filter = if one_province {
        "WHERE province_code = '14'"
    } else {
        ""
    };
    let rows: Vec<Unit> = diesel::sql_query(format!(
        "SELECT code, province_code FROM communes {filter} ORDER BY code"
    ))
    .load(&mut connect(url)?)?;
    Ok(rows
        .into_iter()
        .map(|u| (u.code, u.province_code))
        .collect())
}

/// Every current value with its commune, province and period.
const CURRENT: &str = "
    SELECT c.province_code, r.commune_code, r.dataset_code, r.period, v.indicator_code, v.value
    FROM reports r
    JOIN revisions rv ON rv.report_id = r.id AND rv.number = r.current_revision
    JOIN revision_values v ON v.revision_id = rv.id
    JOIN communes c ON c.code = r.commune_code
    WHERE v.value IS NOT NULL";

/// Σ numerator ÷ Σ denominator × 100 by province. A year's ratio pairs its parts quarter by
/// quarter (CATALOG.md): each part is summed over the quarters where the commune reported both.
fn ratio_sql(year: i32) -> String {
    format!(
        "WITH cur AS (
            SELECT c.province_code, r.commune_code, r.period, v.indicator_code, v.value
            FROM reports r
            JOIN revisions rv ON rv.report_id = r.id AND rv.number = r.current_revision
            JOIN revision_values v ON v.revision_id = rv.id
            JOIN communes c ON c.code = r.commune_code
            WHERE r.dataset_code = 'dmst-quarterly' AND r.period LIKE '{year}Q_'
              AND v.indicator_code IN ('dossiers_online_full', 'dossiers_total')
              AND v.value IS NOT NULL
        ), per_quarter AS (
            SELECT province_code, commune_code, period,
                   SUM(value) FILTER (WHERE indicator_code = 'dossiers_online_full') AS num,
                   SUM(value) FILTER (WHERE indicator_code = 'dossiers_total') AS den
            FROM cur GROUP BY province_code, commune_code, period
        )
        SELECT province_code AS unit, 100.0 * SUM(num) / NULLIF(SUM(den), 0) AS value
        FROM per_quarter WHERE num IS NOT NULL AND den IS NOT NULL
        GROUP BY province_code ORDER BY province_code"
    )
}

/// Σ by province of each commune's last quarter of the year (temporal rule `last`).
fn stock_sql(year: i32) -> String {
    format!(
        "WITH last AS (
            SELECT DISTINCT ON (r.commune_code) c.province_code, v.value
            FROM reports r
            JOIN revisions rv ON rv.report_id = r.id AND rv.number = r.current_revision
            JOIN revision_values v ON v.revision_id = rv.id
            JOIN communes c ON c.code = r.commune_code
            WHERE r.dataset_code = 'dmst-quarterly' AND r.period LIKE '{year}Q_'
              AND v.indicator_code = 'staff_total' AND v.value IS NOT NULL
            ORDER BY r.commune_code, r.period DESC
        )
        SELECT province_code AS unit, SUM(value) AS value FROM last
        GROUP BY province_code ORDER BY province_code"
    )
}

/// On time, late and missing by province for one data set and period.
fn compliance_sql(period: &str) -> String {
    format!(
        "SELECT c.province_code AS unit,
                COUNT(r.id) FILTER (WHERE r.first_received_at <= $1) AS on_time,
                COUNT(r.id) FILTER (WHERE r.first_received_at > $1) AS late,
                COUNT(*) - COUNT(r.id) AS missing
         FROM communes c
         LEFT JOIN reports r ON r.commune_code = c.code
              AND r.dataset_code = 'dmst-quarterly' AND r.period = '{period}'
         GROUP BY c.province_code ORDER BY c.province_code"
    )
}

#[derive(QueryableByName)]
struct ValueRow {
    #[diesel(sql_type = Text)]
    unit: String,
    #[diesel(sql_type = Nullable<Double>)]
    value: Option<f64>,
}

#[derive(QueryableByName)]
struct ComplianceRow {
    #[diesel(sql_type = Text)]
    unit: String,
    #[diesel(sql_type = BigInt)]
    on_time: i64,
    #[diesel(sql_type = BigInt)]
    late: i64,
    #[diesel(sql_type = BigInt)]
    missing: i64,
}

#[derive(QueryableByName)]
struct CurrentRow {
    #[diesel(sql_type = Text)]
    province_code: String,
    #[diesel(sql_type = Text)]
    commune_code: String,
    #[diesel(sql_type = Text)]
    dataset_code: String,
    #[diesel(sql_type = Text)]
    period: String,
    #[diesel(sql_type = Text)]
    indicator_code: String,
    #[diesel(sql_type = Double)]
    value: f64,
}

#[derive(QueryableByName)]
struct ReportRow {
    #[diesel(sql_type = Text)]
    province_code: String,
    #[diesel(sql_type = Text)]
    commune_code: String,
    #[diesel(sql_type = Text)]
    dataset_code: String,
    #[diesel(sql_type = Text)]
    period: String,
    #[diesel(sql_type = Timestamp)]
    first_received_at: chrono::NaiveDateTime,
}

type Values = BTreeMap<String, f64>;
type Counts = BTreeMap<String, (i64, i64, i64)>;

fn timed<T>(reps: usize, mut f: impl FnMut() -> Result<T, Failure>) -> Result<(f64, T), Failure> {
    let mut last = f()?; // warm-up
    let mut times = Vec::new();
    for _ in 0..reps {
        let started = Instant::now();
        last = f()?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok((median(&times), last))
}

fn agree_values(a: &Values, b: &Values) -> bool {
    a.len() == b.len()
        && a.iter().all(|(k, x)| {
            b.get(k)
                .is_some_and(|y| (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0))
        })
}

fn api_values(doc: &Value) -> Values {
    doc["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| Some((i["unit"].as_str()?.to_owned(), i["value"].as_f64()?)))
        .collect()
}

fn api_counts(doc: &Value) -> Counts {
    doc["by_province"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            Some((
                p["unit"].as_str()?.to_owned(),
                (
                    p["on_time"].as_i64()?,
                    p["late"].as_i64()?,
                    p["missing"].as_i64()?,
                ),
            ))
        })
        .collect()
}

fn verdict(parts: &[(&str, bool)]) -> String {
    let wrong: Vec<&str> = parts.iter().filter(|p| !p.1).map(|p| p.0).collect();
    if wrong.is_empty() {
        "all equal".into()
    } else {
        format!("DIFFER: {}", wrong.join(", "))
    }
}

pub fn compare(args: &RunArgs, base: &str, admin: &str) -> Result<Vec<Compared>, Failure> {
    let mut conn = connect(&args.database_url)?;
    let y = args.year;
    let q = format!("{y}Q4");
    let compliance_path = format!("/api/v1/compliance?dataset=dmst-quarterly&period={q}");
    let api_compliance = load::get_json(base, &compliance_path, admin)?;
    let deadline: chrono::DateTime<chrono::Utc> = api_compliance["deadline"]
        .as_str()
        .ok_or("compliance without a deadline")?
        .parse()?;
    let deadline = deadline.naive_utc();

    let duck = match &args.python {
        Some(python) => Some(duckdb(&mut conn, python, args, &q, deadline)?),
        None => None,
    };

    let engine = engine(args, &mut conn, &q, deadline)?;
    let mut out = Vec::new();
    for (name, path, sql, key, (engine_ms, engine_values)) in [
        (
            format!("province rollup, {y}, ratio Σ÷Σ (online_dossier_rate)"),
            format!("/api/v1/aggregates?indicator=online_dossier_rate&period={y}&level=province"),
            ratio_sql(y),
            "ratio",
            engine.ratio,
        ),
        (
            format!("province rollup, {y}, stock, last quarter (staff_total)"),
            format!("/api/v1/aggregates?indicator=staff_total&period={y}&level=province"),
            stock_sql(y),
            "stock",
            engine.stock,
        ),
    ] {
        let http_ms = median(&load::repeat_get(base, &path, admin, 2, args.reps)?);
        let api = api_values(&load::get_json(base, &path, admin)?);
        let (pg_ms, pg) = timed(args.reps, || {
            Ok(diesel::sql_query(&sql)
                .load::<ValueRow>(&mut conn)?
                .into_iter()
                .filter_map(|r| Some((r.unit, r.value?)))
                .collect::<Values>())
        })?;
        let mut checks = vec![
            ("aggregator", agree_values(&api, &engine_values)),
            ("PostgreSQL", agree_values(&api, &pg)),
        ];
        let duckdb_ms = duck.as_ref().map(|d| {
            let part = &d[key];
            let values: Values = part["rows"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| Some((r[0].as_str()?.to_owned(), r[1].as_f64()?)))
                .collect();
            checks.push(("DuckDB", agree_values(&api, &values)));
            part["ms"].as_f64().unwrap_or(f64::NAN)
        });
        out.push(Compared {
            name,
            innoreport_ms: engine_ms,
            http_ms,
            postgres_ms: pg_ms,
            duckdb_ms,
            agree: verdict(&checks),
        });
    }

    let http_ms = median(&load::repeat_get(
        base,
        &compliance_path,
        admin,
        2,
        args.reps,
    )?);
    let api = api_counts(&api_compliance);
    let sql = compliance_sql(&q);
    let (pg_ms, pg) = timed(args.reps, || {
        Ok(diesel::sql_query(&sql)
            .bind::<Timestamp, _>(deadline)
            .load::<ComplianceRow>(&mut conn)?
            .into_iter()
            .map(|r| (r.unit, (r.on_time, r.late, r.missing)))
            .collect::<Counts>())
    })?;
    let mut checks = vec![
        ("aggregator", api == engine.compliance.1),
        ("PostgreSQL", api == pg),
    ];
    let duckdb_ms = duck.as_ref().map(|d| {
        let counts: Counts = d["compliance"]["rows"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| {
                Some((
                    r[0].as_str()?.to_owned(),
                    (r[1].as_i64()?, r[2].as_i64()?, r[3].as_i64()?),
                ))
            })
            .collect();
        checks.push(("DuckDB", api == counts));
        d["compliance"]["ms"].as_f64().unwrap_or(f64::NAN)
    });
    out.push(Compared {
        name: format!("compliance by province, {q} (on time, late, missing)"),
        innoreport_ms: engine.compliance.0,
        http_ms,
        postgres_ms: pg_ms,
        duckdb_ms,
        agree: verdict(&checks),
    });
    Ok(out)
}

/// innoreport's aggregator in this process, over the same current values (the year's frame,
/// built as the live view builds it) and the same receipts.
struct Engine {
    ratio: (f64, Values),
    stock: (f64, Values),
    compliance: (f64, Counts),
}

fn engine(
    args: &RunArgs,
    _conn: &mut PgConnection,
    period: &str,
    deadline: chrono::NaiveDateTime,
) -> Result<Engine, Failure> {
    use innoreport_aggregate::{Level, UnitFilter, rollup};
    use innoreport_core::Period;
    // The service's own live view, loaded as a replica loads it.
    let store = innoreport_store::Store::open(&args.database_url, 1)?;
    let service = innoreport_service::Service::new(
        store,
        innoreport_service::Clock::system(),
        innoreport_service::Options::default(),
    );
    let view = service.view().map_err(|e| e.chain())?;
    let year = Period::parse(&args.year.to_string())?;
    let roll = |indicator: &str| {
        timed(args.reps, || {
            Ok(rollup(
                &view.cube,
                &view.catalog,
                indicator,
                year,
                Level::Province,
                UnitFilter::All,
            )?
            .into_iter()
            .filter_map(|r| Some((r.unit, r.value?)))
            .collect::<Values>())
        })
    };
    let ratio = roll("online_dossier_rate")?;
    let stock = roll("staff_total")?;
    let quarter = Period::parse(period)?;
    let received = view.cube.received("dmst-quarterly", quarter);
    let now = chrono::Utc::now();
    let compliance = timed(args.reps, || {
        let (_, by_province, _) = innoreport_aggregate::compliance(
            view.cube.units(),
            &received,
            UnitFilter::All,
            deadline.and_utc(),
            now,
        )?;
        Ok(by_province
            .into_iter()
            .map(|s| (s.unit, (s.on_time as i64, s.late as i64, s.missing as i64)))
            .collect::<Counts>())
    })?;
    Ok(Engine {
        ratio,
        stock,
        compliance,
    })
}

/// Exports the current values and reports, loads them into DuckDB in memory (bench/duckdb.py)
/// and returns its timings and results.
fn duckdb(
    conn: &mut PgConnection,
    python: &std::path::Path,
    args: &RunArgs,
    period: &str,
    deadline: chrono::NaiveDateTime,
) -> Result<Value, Failure> {
    let dir = std::env::temp_dir().join(format!("innoreport-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let values: Vec<CurrentRow> =
        diesel::sql_query(format!("{CURRENT} ORDER BY r.period")).load(conn)?;
    let mut w = std::io::BufWriter::new(std::fs::File::create(dir.join("values.csv"))?);
    writeln!(w, "province,commune,dataset,period,indicator,value")?;
    for v in &values {
        writeln!(
            w,
            "{},{},{},{},{},{}",
            v.province_code, v.commune_code, v.dataset_code, v.period, v.indicator_code, v.value
        )?;
    }
    w.flush()?;
    drop(values);
    let reports: Vec<ReportRow> = diesel::sql_query(
        "SELECT c.province_code, r.commune_code, r.dataset_code, r.period, r.first_received_at
         FROM reports r JOIN communes c ON c.code = r.commune_code ORDER BY r.period",
    )
    .load(conn)?;
    let mut w = std::io::BufWriter::new(std::fs::File::create(dir.join("reports.csv"))?);
    writeln!(w, "province,commune,dataset,period,first_received_at")?;
    for r in &reports {
        writeln!(
            w,
            "{},{},{},{},{}",
            r.province_code,
            r.commune_code,
            r.dataset_code,
            r.period,
            r.first_received_at.format("%Y-%m-%d %H:%M:%S%.6f")
        )?;
    }
    w.flush()?;
    let units: Vec<Unit> =
        diesel::sql_query("SELECT code, province_code FROM communes").load(conn)?;
    let mut w = std::io::BufWriter::new(std::fs::File::create(dir.join("communes.csv"))?);
    writeln!(w, "code,province")?;
    for u in &units {
        writeln!(w, "{},{}", u.code, u.province_code)?;
    }
    w.flush()?;

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/duckdb_compare.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(&dir)
        .arg(args.year.to_string())
        .arg(period)
        .arg(deadline.format("%Y-%m-%d %H:%M:%S%.6f").to_string())
        .arg(args.reps.to_string())
        .output()?;
    let _ = std::fs::remove_dir_all(&dir);
    if !out.status.success() {
        return Err(format!("DuckDB: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}
