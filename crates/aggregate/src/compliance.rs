//! Deadline compliance of one data set and period, as of an instant.
//!
//! Per commune: `on_time` (first revision received by the deadline), `late` (received after
//! it), `missing` (deadline passed, nothing received) or `pending` (deadline ahead, nothing
//! received). Receipt is the server's time of the first accepted revision; a report first
//! received after `as_of` counts as not received yet. Rates are over the communes expected, so
//! they never exceed 100%.

use chrono::{DateTime, Duration, Utc};
use polars::prelude::*;

use crate::AggregateError;
use crate::cube::Units;
use crate::eval::UnitFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComplianceStatus {
    OnTime,
    Late,
    Missing,
    Pending,
}

impl ComplianceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ComplianceStatus::OnTime => "on_time",
            ComplianceStatus::Late => "late",
            ComplianceStatus::Missing => "missing",
            ComplianceStatus::Pending => "pending",
        }
    }
}

/// One commune's standing.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplianceRow {
    pub commune: String,
    pub province: String,
    pub status: ComplianceStatus,
    pub first_received_at: Option<DateTime<Utc>>,
    /// Whole days (started) past the deadline: at receipt for `late`, at `as_of` for `missing`.
    pub days_late: Option<i64>,
}

/// Counts over a set of communes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComplianceSummary {
    /// The province code, or `VN` for all.
    pub unit: String,
    pub expected: u32,
    pub received: u32,
    pub on_time: u32,
    pub late: u32,
    pub missing: u32,
    pub pending: u32,
}

impl ComplianceSummary {
    pub fn reporting_rate(&self) -> f64 {
        if self.expected == 0 {
            0.0
        } else {
            (self.received as f64 / self.expected as f64).min(1.0)
        }
    }

    pub fn on_time_rate(&self) -> f64 {
        if self.expected == 0 {
            0.0
        } else {
            (self.on_time as f64 / self.expected as f64).min(1.0)
        }
    }
}

/// Whole days started between the end of the deadline and `t`.
fn days_after(deadline: DateTime<Utc>, t: DateTime<Utc>) -> i64 {
    let over = t - (deadline + Duration::seconds(1));
    if over < Duration::zero() {
        0
    } else {
        over.num_seconds() / 86_400 + 1
    }
}

/// Compliance of the communes `filter` names, given the first receipt instant of each
/// commune's report (`received_us`, microseconds since the epoch, a row per commune of `units`).
/// Returns the per-commune rows (in code order), the summary per province and the total.
pub fn compliance(
    units: &Units,
    received_us: &Int64Chunked,
    filter: UnitFilter,
    deadline: DateTime<Utc>,
    as_of: DateTime<Utc>,
) -> Result<
    (
        Vec<ComplianceRow>,
        Vec<ComplianceSummary>,
        ComplianceSummary,
    ),
    AggregateError,
> {
    let rows_in: Vec<usize> = (0..units.len())
        .filter(|&r| match filter {
            UnitFilter::All => true,
            UnitFilter::Province(p) => units.province_of_row(r) == p,
            UnitFilter::Commune(c) => r == c,
        })
        .collect();
    let received_at = |row: usize| {
        received_us
            .get(row)
            .and_then(DateTime::<Utc>::from_timestamp_micros)
    };
    let on_time_before = (deadline + Duration::seconds(1)).timestamp_micros();
    let as_of_us = as_of.timestamp_micros();
    let frame = df!(
        "commune" => rows_in.iter().map(|&r| units.communes()[r].as_str()).collect::<Vec<_>>(),
        "province" => rows_in.iter().map(|&r| units.provinces()[units.province_of_row(r)].as_str()).collect::<Vec<_>>(),
        "first_us" => rows_in.iter().map(|&r| received_us.get(r)).collect::<Vec<_>>(),
    )?;
    let received = col("first_us")
        .is_not_null()
        .and(col("first_us").lt_eq(lit(as_of_us)));
    let status = when(received.clone())
        .then(
            when(col("first_us").lt(lit(on_time_before)))
                .then(lit("on_time"))
                .otherwise(lit("late")),
        )
        .otherwise(
            when(lit(as_of_us).gt_eq(lit(on_time_before)))
                .then(lit("missing"))
                .otherwise(lit("pending")),
        );
    let rows = frame
        .lazy()
        .with_columns([status.alias("status"), received.alias("received")])
        .collect()?;

    let counts = |lf: LazyFrame, key: Expr| -> PolarsResult<DataFrame> {
        let is = |s: &str| col("status").eq(lit(s)).cast(DataType::UInt32).sum();
        lf.group_by([key.alias("unit")])
            .agg([
                len().cast(DataType::UInt32).alias("expected"),
                col("received")
                    .cast(DataType::UInt32)
                    .sum()
                    .alias("received"),
                is("on_time").alias("on_time"),
                is("late").alias("late"),
                is("missing").alias("missing"),
                is("pending").alias("pending"),
            ])
            .sort(["unit"], SortMultipleOptions::default())
            .collect()
    };
    let summaries = |df: DataFrame| -> Result<Vec<ComplianceSummary>, AggregateError> {
        let unit = df.column("unit")?.str()?.clone();
        let get =
            |name: &str| -> PolarsResult<UInt32Chunked> { Ok(df.column(name)?.u32()?.clone()) };
        let (e, r, o, l, m, p) = (
            get("expected")?,
            get("received")?,
            get("on_time")?,
            get("late")?,
            get("missing")?,
            get("pending")?,
        );
        Ok((0..df.height())
            .map(|i| ComplianceSummary {
                unit: unit.get(i).unwrap_or_default().to_owned(),
                expected: e.get(i).unwrap_or(0),
                received: r.get(i).unwrap_or(0),
                on_time: o.get(i).unwrap_or(0),
                late: l.get(i).unwrap_or(0),
                missing: m.get(i).unwrap_or(0),
                pending: p.get(i).unwrap_or(0),
            })
            .collect())
    };
    let by_province = summaries(counts(rows.clone().lazy(), col("province"))?)?;
    let total = summaries(counts(rows.clone().lazy(), lit("VN"))?)?
        .into_iter()
        .next()
        .unwrap_or(ComplianceSummary {
            unit: "VN".into(),
            ..Default::default()
        });

    let statuses = rows.column("status")?.str()?.clone();
    let mut out = Vec::with_capacity(rows_in.len());
    for (i, &row) in rows_in.iter().enumerate() {
        let status = match statuses.get(i) {
            Some("on_time") => ComplianceStatus::OnTime,
            Some("late") => ComplianceStatus::Late,
            Some("missing") => ComplianceStatus::Missing,
            _ => ComplianceStatus::Pending,
        };
        let first = received_at(row).filter(|t| *t <= as_of);
        let days_late = match status {
            ComplianceStatus::Late => first.map(|t| days_after(deadline, t)),
            ComplianceStatus::Missing => Some(days_after(deadline, as_of)),
            _ => None,
        };
        out.push(ComplianceRow {
            commune: units.communes()[row].clone(),
            province: units.provinces()[units.province_of_row(row)].clone(),
            status,
            first_received_at: first,
            days_late,
        });
    }
    Ok((out, by_province, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn units(codes: &[(&str, &str)]) -> Units {
        Units::new(
            codes
                .iter()
                .map(|(c, p)| (c.to_string(), p.to_string()))
                .collect(),
        )
    }

    fn received(times: &[Option<&str>]) -> Int64Chunked {
        Int64Chunked::from_slice_options(
            "r".into(),
            &times
                .iter()
                .map(|t| t.map(|t| at(t).timestamp_micros()))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn on_time_late_missing_and_pending_with_rates_over_the_expected() {
        let deadline = at("2026-03-05T23:59:59+07:00");
        let units = units(&[
            ("00001", "01"),
            ("00002", "01"),
            ("00003", "01"),
            ("00004", "02"),
            ("00005", "02"),
        ]);
        let received = received(&[
            Some("2026-03-01T10:00:00+07:00"),     // on time
            Some("2026-03-05T23:59:59.500+07:00"), // last second: on time
            Some("2026-03-08T09:00:00+07:00"),     // late by 3 days (started)
            Some("2026-04-20T09:00:00+07:00"),     // after as_of: not yet received
            None,
        ]);
        let as_of = at("2026-03-10T12:00:00+07:00");
        let (rows, by_province, total) =
            compliance(&units, &received, UnitFilter::All, deadline, as_of).unwrap();
        let statuses: Vec<&str> = rows.iter().map(|r| r.status.as_str()).collect();
        assert_eq!(
            statuses,
            vec!["on_time", "on_time", "late", "missing", "missing"]
        );
        assert_eq!(rows[2].days_late, Some(3));
        assert_eq!(
            rows[3].days_late,
            Some(5),
            "5 March end → 10 March noon: 5 days started"
        );
        assert_eq!(rows[3].first_received_at, None);
        assert_eq!(
            (
                total.expected,
                total.received,
                total.on_time,
                total.late,
                total.missing,
                total.pending
            ),
            (5, 3, 2, 1, 2, 0)
        );
        assert!((total.reporting_rate() - 0.6).abs() < 1e-12);
        assert!((total.on_time_rate() - 0.4).abs() < 1e-12);
        assert_eq!(by_province.len(), 2);
        assert_eq!(
            (by_province[0].unit.as_str(), by_province[0].received),
            ("01", 3)
        );
        assert_eq!(
            (by_province[1].unit.as_str(), by_province[1].missing),
            ("02", 2)
        );
        let (only, _, total) =
            compliance(&units, &received, UnitFilter::Province(1), deadline, as_of).unwrap();
        assert_eq!(only.len(), 2);
        assert_eq!(total.expected, 2);
    }

    #[test]
    fn before_the_deadline_nothing_received_is_pending() {
        let deadline = at("2026-03-05T23:59:59+07:00");
        let units = units(&[("00001", "01"), ("00002", "01")]);
        let received = received(&[Some("2026-02-01T10:00:00+07:00"), None]);
        let (rows, _, total) = compliance(
            &units,
            &received,
            UnitFilter::All,
            deadline,
            at("2026-03-01T00:00:00+07:00"),
        )
        .unwrap();
        assert_eq!(rows[1].status, ComplianceStatus::Pending);
        assert_eq!(rows[1].days_late, None);
        assert_eq!((total.on_time, total.pending, total.missing), (1, 1, 0));
    }
}
