//! The index method on small, hand-checked inputs.

use super::*;
use innoreport_core::{IndicatorCode, PillarIndicator};

fn pillar(code: &str, sub: SubIndex, indicators: &[&str]) -> Pillar {
    Pillar {
        code: code.into(),
        sub_index: sub,
        name_vi: code.into(),
        name_en: code.into(),
        indicators: indicators
            .iter()
            .map(|i| PillarIndicator {
                indicator: IndicatorCode::parse(i).unwrap(),
                weight: 1.0,
                direction: Direction::HigherIsBetter,
            })
            .collect(),
    }
}

fn framework() -> Vec<Pillar> {
    vec![
        pillar("inp", SubIndex::Input, &["a", "c"]),
        pillar("out", SubIndex::Output, &["b"]),
    ]
}

fn run(a: &[f64], b: &[f64], c: &[f64]) -> IndexResult {
    let n = a.len();
    let units: Vec<String> = (0..n).map(|i| format!("u{i:02}")).collect();
    let values: Vec<HashMap<String, f64>> = (0..n)
        .map(|i| {
            [("a", a[i]), ("b", b[i]), ("c", c[i])]
                .into_iter()
                .filter(|(_, v)| !v.is_nan())
                .map(|(k, v)| (k.to_owned(), v))
                .collect()
        })
        .collect();
    compute_index(
        &units,
        &values,
        &framework(),
        Some(Uncertainty {
            draws: 200,
            seed: 42,
        }),
    )
}

fn norm_of(r: &IndexResult, unit: usize, pillar: &str) -> f64 {
    r.units[unit].pillars[pillar].0.unwrap()
}

#[test]
fn excel_skew_and_kurt_match_excel() {
    let x: Vec<f64> = (1..=9).map(f64::from).chain([50.0]).collect();
    assert!((excel_skew(&x).unwrap() - 2.9751).abs() < 1e-4);
    assert!((excel_kurt(&x).unwrap() - 9.1404).abs() < 1e-4);
    assert_eq!(excel_skew(&[1.0, 1.0, 1.0]), None);
}

#[test]
fn a_skewed_indicator_is_winsorised_at_the_high_end() {
    let a: Vec<f64> = (1..=9).map(f64::from).chain([50.0]).collect();
    let flat: Vec<f64> = (1..=10).map(f64::from).collect();
    // b is the output pillar; c mirrors b so only a's treatment matters in "inp".
    let r = run(&a, &flat, &[f64::NAN; 10]);
    assert_eq!(r.treatments.len(), 1);
    assert_eq!(r.treatments[0].indicator, "a");
    assert_eq!(
        r.treatments[0].treatment,
        Treatment::Winsorised {
            steps: 1,
            high_end: true
        }
    );
    // 50 became 9: min 1, max 9.
    assert!((norm_of(&r, 9, "inp") - 100.0).abs() < 1e-9);
    assert!((norm_of(&r, 8, "inp") - 100.0).abs() < 1e-9);
    assert!(
        (norm_of(&r, 4, "inp") - 50.0).abs() < 1e-9,
        "5 → 100 × (5 − 1)/(9 − 1)"
    );
    assert_eq!(
        r.excluded,
        vec![Excluded {
            indicator: "c".into(),
            reason: "no_values"
        }]
    );
}

#[test]
fn an_indicator_still_skewed_after_five_steps_is_log_transformed() {
    let a: Vec<f64> = std::iter::repeat_n(1.0, 50)
        .chain((2..=8).map(f64::from))
        .collect();
    let n = a.len();
    let b: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let r = run(&a, &b, &vec![f64::NAN; n]);
    let t = r.treatments.iter().find(|t| t.indicator == "a").unwrap();
    assert_eq!(t.treatment, Treatment::Log);
    // x' = ln(x − 1 + 0.07); normalised over [ln 0.07, ln 7.07].
    let lo = 0.07f64.ln();
    let hi = 7.07f64.ln();
    let expected = 100.0 * (1.07f64.ln() - lo) / (hi - lo);
    assert!(
        (norm_of(&r, 50, "inp") - expected).abs() < 1e-9,
        "{} vs {expected}",
        norm_of(&r, 50, "inp")
    );
    assert!((norm_of(&r, 0, "inp")).abs() < 1e-9);
}

#[test]
fn a_constant_indicator_is_left_out_and_reported() {
    let a = [5.0; 6];
    let b = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let c = [6.0, 5.0, 4.0, 3.0, 2.0, 1.0];
    let r = run(&a, &b, &c);
    assert!(r.excluded.contains(&Excluded {
        indicator: "a".into(),
        reason: "constant"
    }));
    // Input is c alone: unit 0 has c = 6 → 100.
    assert!((r.units[0].input.unwrap() - 100.0).abs() < 1e-9);
    assert!((r.units[0].output.unwrap() - 0.0).abs() < 1e-9);
    assert!((r.units[0].score.unwrap() - 50.0).abs() < 1e-9);
}

#[test]
fn a_unit_below_coverage_gets_no_score_and_does_not_move_the_others() {
    let a = [1.0, 2.0, 3.0, f64::NAN];
    let b = [1.0, 2.0, 3.0, 1000.0];
    let c = [1.0, 2.0, 3.0, f64::NAN];
    let r = run(&a, &b, &c);
    let low = &r.units[3];
    assert!((low.coverage - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!((low.score, low.rank, low.rank_median), (None, None, None));
    // b is normalised over the covered units only: 1..3.
    assert!((r.units[2].output.unwrap() - 100.0).abs() < 1e-9);
    assert!((r.units[1].output.unwrap() - 50.0).abs() < 1e-9);
    // 2 of 3 indicators is enough.
    let r = run(
        &[1.0, 2.0, 3.0, f64::NAN],
        &[1.0, 2.0, 3.0, 2.0],
        &[1.0, 2.0, 3.0, 2.0],
    );
    assert!(r.units[3].score.is_some());
}

#[test]
fn tied_scores_share_the_best_place() {
    let v = [4.0, 2.0, 2.0, 1.0];
    let r = run(&v, &v, &v);
    let ranks: Vec<Option<u32>> = r.units.iter().map(|u| u.rank).collect();
    assert_eq!(ranks, vec![Some(1), Some(2), Some(2), Some(4)]);
    assert_eq!(
        competition_ranks(&[Some(1.0), None, Some(3.0), Some(3.0)]),
        vec![Some(3), None, Some(1), Some(1)]
    );
    // Contributions add up to the score; efficiency is output ÷ input.
    for u in &r.units {
        let sum: f64 = u.contributions.values().sum();
        assert!((sum - u.score.unwrap()).abs() < 1e-9);
    }
    assert!((r.units[1].efficiency.unwrap() - 1.0).abs() < 1e-9);
    assert_eq!(r.units[0].strengths.len(), 3);
}

#[test]
fn monte_carlo_ranks_are_reproducible_and_ordered() {
    let a = [1.0, 2.0, 3.0, 4.0, 5.0];
    let b = [5.0, 4.0, 3.0, 2.0, 1.0];
    let c = [2.0, 2.0, 3.0, 3.0, 1.0];
    let r1 = run(&a, &b, &c);
    let r2 = run(&a, &b, &c);
    assert_eq!(r1, r2, "fixed seed, same answer");
    for u in &r1.units {
        let (p5, med, p95) = (
            u.rank_p5.unwrap(),
            u.rank_median.unwrap(),
            u.rank_p95.unwrap(),
        );
        assert!(p5 <= med && med <= p95, "{p5} {med} {p95}");
    }
    // SplitMix64 reference value (seed 0).
    assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    let mut g = SplitMix64::new(7);
    assert!(
        (0..1000)
            .map(|_| g.weight_factor())
            .all(|w| (0.75..1.25).contains(&w))
    );
}

#[test]
fn a_unit_without_a_finite_score_is_never_ranked() {
    let ranks = competition_ranks(&[Some(3.0), Some(f64::NAN), None, Some(5.0), Some(3.0)]);
    assert_eq!(ranks, [Some(2), None, None, Some(1), Some(2)]);
}
