use std::sync::Arc;

use super::*;
use crate::cube::{ReportCells, Units};

const CATALOG: &str = r#"
[[dataset]]
code = "q"
name_vi = "Quý"
name_en = "Quarterly"
period_type = "quarter"
deadline = { kind = "day_of_last_month", day = 5 }
lock = { kind = "days_after_deadline", days = 30 }

[[dataset]]
code = "a"
name_vi = "Năm"
name_en = "Annual"
period_type = "year"
deadline = { kind = "fixed_day_month", day = 5, month = 12 }
lock = { kind = "never" }

[[indicator]]
code = "dossiers_total"
name_vi = "x"
name_en = "x"
unit_vi = "x"
unit_en = "x"
value_type = "count"
dataset = "q"
temporal = "sum"
spatial = "sum"

[[indicator]]
code = "dossiers_online_full"
name_vi = "x"
name_en = "x"
unit_vi = "x"
unit_en = "x"
value_type = "count"
dataset = "q"
temporal = "sum"
spatial = "sum"

[[indicator]]
code = "staff_total"
name_vi = "x"
name_en = "x"
unit_vi = "x"
unit_en = "x"
value_type = "count"
dataset = "q"
temporal = "last"
spatial = "sum"

[[indicator]]
code = "staff_trained"
name_vi = "x"
name_en = "x"
unit_vi = "x"
unit_en = "x"
value_type = "count"
dataset = "q"
temporal = "last"
spatial = "sum"

[[indicator]]
code = "ocop_3star"
name_vi = "x"
name_en = "x"
unit_vi = "x"
unit_en = "x"
value_type = "count"
dataset = "q"
temporal = "last"
spatial = "sum"

[[indicator]]
code = "ocop_4star"
name_vi = "x"
name_en = "x"
unit_vi = "x"
unit_en = "x"
value_type = "count"
dataset = "q"
temporal = "last"
spatial = "sum"

[[indicator]]
code = "population"
name_vi = "x"
name_en = "x"
unit_vi = "x"
unit_en = "x"
value_type = "count"
dataset = "a"
temporal = "last"
spatial = "sum"

[[indicator]]
code = "budget_total"
name_vi = "x"
name_en = "x"
unit_vi = "x"
unit_en = "x"
value_type = "money"
dataset = "a"
temporal = "sum"
spatial = "sum"

[[indicator]]
code = "budget_st"
name_vi = "x"
name_en = "x"
unit_vi = "x"
unit_en = "x"
value_type = "money"
dataset = "a"
temporal = "sum"
spatial = "sum"

[[indicator]]
code = "online_dossier_rate"
name_vi = "x"
name_en = "x"
unit_vi = "%"
unit_en = "%"
value_type = "percent"
formula = { kind = "ratio", numerator = ["dossiers_online_full"], denominator = ["dossiers_total"], scale = 100 }

[[indicator]]
code = "staff_trained_rate"
name_vi = "x"
name_en = "x"
unit_vi = "%"
unit_en = "%"
value_type = "percent"
formula = { kind = "ratio", numerator = ["staff_trained"], denominator = ["staff_total"], scale = 100 }

[[indicator]]
code = "budget_st_share"
name_vi = "x"
name_en = "x"
unit_vi = "%"
unit_en = "%"
value_type = "percent"
formula = { kind = "ratio", numerator = ["budget_st"], denominator = ["budget_total"], scale = 100 }

[[indicator]]
code = "ocop_products"
name_vi = "x"
name_en = "x"
unit_vi = "x"
unit_en = "x"
value_type = "count"
formula = { kind = "sum", terms = ["ocop_3star", "ocop_4star"] }

[[indicator]]
code = "ocop_products_per_10k"
name_vi = "x"
name_en = "x"
unit_vi = "x"
unit_en = "x"
value_type = "rate"
formula = { kind = "ratio", numerator = ["ocop_products"], denominator = ["population"], scale = 10000 }
"#;

fn p(s: &str) -> Period {
    Period::parse(s).unwrap()
}

/// A report of the fixture: commune, period, values.
type Fixture<'a> = (&'a str, &'a str, &'a [(&'a str, f64)]);

/// Province 01: communes 00001 (A) and 00002 (B); province 02: commune 00003 (C), silent.
fn fixture(reports: &[Fixture<'_>]) -> (Cube, Catalog) {
    let catalog = Catalog::from_toml(CATALOG).unwrap();
    let units = Arc::new(Units::new(vec![
        ("00001".into(), "01".into()),
        ("00002".into(), "01".into()),
        ("00003".into(), "02".into()),
    ]));
    let mut cube = Cube::new(units);
    let states = reports
        .iter()
        .map(|(commune, period, values)| {
            let period = p(period);
            ReportCells {
                dataset: if period.kind() == PeriodType::Year {
                    "a"
                } else {
                    "q"
                }
                .into(),
                period,
                commune: commune.to_string(),
                first_received_us: 0,
                values: values.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            }
        })
        .collect();
    cube.apply(states).unwrap();
    (cube, catalog)
}

fn one(rows: &[AggregateRow], unit: &str) -> AggregateRow {
    rows.iter().find(|r| r.unit == unit).unwrap().clone()
}

fn roll(cube: &Cube, catalog: &Catalog, i: &str, period: &str, level: Level) -> Vec<AggregateRow> {
    rollup(cube, catalog, i, p(period), level, UnitFilter::All).unwrap()
}

#[test]
fn a_ratio_rolls_up_as_sum_of_numerators_over_sum_of_denominators() {
    let (cube, catalog) = fixture(&[
        (
            "00001",
            "2026Q1",
            &[("dossiers_total", 100.0), ("dossiers_online_full", 90.0)],
        ),
        (
            "00001",
            "2026Q2",
            &[("dossiers_total", 100.0), ("dossiers_online_full", 50.0)],
        ),
        (
            "00002",
            "2026Q1",
            &[("dossiers_total", 10.0), ("dossiers_online_full", 1.0)],
        ),
    ]);
    let p01 = one(
        &roll(
            &cube,
            &catalog,
            "online_dossier_rate",
            "2026",
            Level::Province,
        ),
        "01",
    );
    assert_eq!((p01.numerator, p01.denominator), (Some(141.0), Some(210.0)));
    assert_eq!(p01.value, Some(100.0 * 141.0 / 210.0));
    // Not the mean of the communes' rates (70% and 10%).
    assert_eq!((p01.communes_reporting, p01.communes_expected), (2, 2));
    let p02 = one(
        &roll(
            &cube,
            &catalog,
            "online_dossier_rate",
            "2026",
            Level::Province,
        ),
        "02",
    );
    assert_eq!(
        (p02.value, p02.communes_reporting, p02.communes_expected),
        (None, 0, 1)
    );
}

#[test]
fn a_year_ratio_pairs_its_parts_quarter_by_quarter() {
    // B reports online dossiers in Q3 without the total: Q3 is not paired, so B's year is Q1
    // alone (1 / 10), not (1 + 5) / 10.
    let (cube, catalog) = fixture(&[
        (
            "00002",
            "2026Q1",
            &[("dossiers_total", 10.0), ("dossiers_online_full", 1.0)],
        ),
        ("00002", "2026Q3", &[("dossiers_online_full", 5.0)]),
        // A stock ratio takes the latest quarter with both parts: Q2 (8 of 20), not Q3's
        // lone total.
        (
            "00001",
            "2026Q2",
            &[("staff_total", 20.0), ("staff_trained", 8.0)],
        ),
        ("00001", "2026Q3", &[("staff_total", 25.0)]),
    ]);
    let b = one(
        &roll(
            &cube,
            &catalog,
            "online_dossier_rate",
            "2026",
            Level::Commune,
        ),
        "00002",
    );
    assert_eq!((b.numerator, b.denominator), (Some(1.0), Some(10.0)));
    let a = one(
        &roll(
            &cube,
            &catalog,
            "staff_trained_rate",
            "2026",
            Level::Commune,
        ),
        "00001",
    );
    assert_eq!((a.numerator, a.denominator), (Some(8.0), Some(20.0)));
    assert_eq!(a.value, Some(40.0));
    // The stock alone still takes its own latest quarter.
    let total = one(
        &roll(&cube, &catalog, "staff_total", "2026", Level::Commune),
        "00001",
    );
    assert_eq!(total.value, Some(25.0));
    // A quarter with only one part counts for nobody.
    let q3 = one(
        &roll(
            &cube,
            &catalog,
            "online_dossier_rate",
            "2026Q3",
            Level::Province,
        ),
        "01",
    );
    assert_eq!((q3.value, q3.communes_reporting), (None, 0));
}

#[test]
fn a_stock_over_a_year_takes_the_last_quarter_and_a_flow_sums() {
    let (cube, catalog) = fixture(&[
        (
            "00001",
            "2026Q1",
            &[("staff_total", 20.0), ("dossiers_total", 100.0)],
        ),
        (
            "00001",
            "2026Q3",
            &[("staff_total", 25.0), ("dossiers_total", 100.0)],
        ),
        (
            "00002",
            "2026Q2",
            &[("staff_total", 7.0), ("dossiers_total", 10.0)],
        ),
        ("00001", "2025Q4", &[("dossiers_total", 999.0)]),
    ]);
    let stock = roll(&cube, &catalog, "staff_total", "2026", Level::Commune);
    assert_eq!(one(&stock, "00001").value, Some(25.0), "Q3 is A's latest");
    assert_eq!(one(&stock, "00002").value, Some(7.0));
    assert_eq!(
        one(
            &roll(&cube, &catalog, "staff_total", "2026", Level::Province),
            "01"
        )
        .value,
        Some(32.0)
    );
    let flow = roll(&cube, &catalog, "dossiers_total", "2026", Level::National);
    assert_eq!(flow.len(), 1);
    assert_eq!(flow[0].unit, "VN");
    assert_eq!(flow[0].value, Some(210.0), "2025Q4 is not part of 2026");
    assert_eq!(
        (flow[0].communes_reporting, flow[0].communes_expected),
        (2, 3)
    );
    let half = roll(&cube, &catalog, "dossiers_total", "2026S1", Level::Province);
    assert_eq!(one(&half, "01").value, Some(110.0));
}

#[test]
fn a_sum_with_a_missing_term_is_missing_at_every_level() {
    let (cube, catalog) = fixture(&[
        (
            "00001",
            "2026Q4",
            &[("ocop_3star", 2.0), ("ocop_4star", 1.0)],
        ),
        // B reports only its 3-star products: its total is unknown, not 3.
        ("00002", "2026Q4", &[("ocop_3star", 3.0)]),
        ("00001", "2026", &[("population", 5000.0)]),
        ("00002", "2026", &[("population", 15000.0)]),
    ]);
    let communes = roll(&cube, &catalog, "ocop_products", "2026Q4", Level::Commune);
    assert_eq!(one(&communes, "00001").value, Some(3.0));
    assert_eq!(one(&communes, "00002").value, None);
    let province = one(
        &roll(&cube, &catalog, "ocop_products", "2026Q4", Level::Province),
        "01",
    );
    assert_eq!(
        (province.value, province.communes_reporting),
        (Some(3.0), 1)
    );
    // The per-10k form counts only the communes with every term and a population.
    let per10k = one(
        &roll(
            &cube,
            &catalog,
            "ocop_products_per_10k",
            "2026Q4",
            Level::Province,
        ),
        "01",
    );
    assert_eq!(
        (per10k.numerator, per10k.denominator),
        (Some(3.0), Some(5000.0))
    );
    assert_eq!(per10k.value, Some(10000.0 * 3.0 / 5000.0));
}

#[test]
fn a_period_finer_than_the_data_set_is_refused() {
    let (cube, catalog) = fixture(&[("00001", "2026Q1", &[("dossiers_total", 100.0)])]);
    for (indicator, period) in [
        ("dossiers_total", "202601"),
        ("online_dossier_rate", "202603"),
        ("population", "2026Q1"),
        ("budget_st_share", "2026Q2"),
    ] {
        assert!(
            matches!(
                rollup(
                    &cube,
                    &catalog,
                    indicator,
                    p(period),
                    Level::Province,
                    UnitFilter::All
                ),
                Err(AggregateError::PeriodTooFine { .. })
            ),
            "{indicator} {period}"
        );
    }
    // The per-10k forms of quarterly indicators are answered for a quarter, over the year's
    // population.
    assert!(check_period(&catalog, "ocop_products_per_10k", p("2026Q1")).is_ok());
}

#[test]
fn a_province_is_the_same_number_whichever_units_are_asked_for() {
    let (cube, catalog) = fixture(&[
        (
            "00001",
            "2026",
            &[("budget_total", 1234.567), ("budget_st", 12.345)],
        ),
        (
            "00002",
            "2026",
            &[("budget_total", 0.1), ("budget_st", 0.2)],
        ),
        (
            "00003",
            "2026",
            &[("budget_total", 987.654), ("budget_st", 3.3)],
        ),
    ]);
    let all = rollup(
        &cube,
        &catalog,
        "budget_st_share",
        p("2026"),
        Level::Province,
        UnitFilter::All,
    )
    .unwrap();
    let only = rollup(
        &cube,
        &catalog,
        "budget_st_share",
        p("2026"),
        Level::Province,
        UnitFilter::Province(0),
    )
    .unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(
        one(&all, "01").value.map(f64::to_bits),
        only[0].value.map(f64::to_bits)
    );
    let commune = rollup(
        &cube,
        &catalog,
        "budget_st_share",
        p("2026"),
        Level::Commune,
        UnitFilter::Commune(2),
    )
    .unwrap();
    assert_eq!(commune.len(), 1);
    assert_eq!(commune[0].unit, "00003");
}

#[test]
fn a_zero_denominator_is_missing_but_its_parts_are_shown() {
    let (cube, catalog) = fixture(&[(
        "00001",
        "2026Q1",
        &[("dossiers_total", 0.0), ("dossiers_online_full", 0.0)],
    )]);
    let a = one(
        &roll(
            &cube,
            &catalog,
            "online_dossier_rate",
            "2026Q1",
            Level::Province,
        ),
        "01",
    );
    assert_eq!(
        (a.value, a.numerator, a.denominator, a.communes_reporting),
        (None, Some(0.0), Some(0.0), 1)
    );
}

#[test]
fn unknown_indicators_are_errors() {
    let (cube, catalog) = fixture(&[]);
    assert!(matches!(
        rollup(
            &cube,
            &catalog,
            "nope",
            p("2026"),
            Level::Province,
            UnitFilter::All
        ),
        Err(AggregateError::UnknownIndicator(_))
    ));
}
