//! The innovation index: the GII-style method of CATALOG.md, exactly, so that an analyst can
//! recompute every score in a spreadsheet (see `INDEX_METHOD.md` next to this crate).
//!
//! Input: for each unit (communes of a province, or provinces) the values of the framework's
//! indicators (already rolled up by the catalog rules); missing stays missing. Output: scores,
//! ranks, pillar contributions, strengths and weaknesses, the outlier treatments applied and
//! the indicators left out, and (optionally) Monte Carlo rank uncertainty.

use std::collections::{BTreeMap, HashMap};

use innoreport_core::{Direction, Pillar, SubIndex};

/// The share of the framework's indicators a unit needs to be scored.
pub const COVERAGE: f64 = 2.0 / 3.0;
/// Outlier thresholds (Excel SKEW and KURT).
pub const SKEW_LIMIT: f64 = 2.25;
pub const KURT_LIMIT: f64 = 3.5;
/// Winsorisation steps before the log transform.
pub const MAX_WINSOR_STEPS: usize = 5;
/// Values needed before outliers are looked for.
pub const MIN_VALUES_FOR_OUTLIERS: usize = 5;

/// How one indicator's values were treated.
#[derive(Debug, Clone, PartialEq)]
pub enum Treatment {
    /// Winsorised in `steps` steps at the high (or low) end.
    Winsorised { steps: usize, high_end: bool },
    /// ln(x − min + 0.01 (max − min)).
    Log,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TreatmentReport {
    pub indicator: String,
    pub treatment: Treatment,
    pub skew_before: f64,
    pub kurt_before: f64,
    pub skew_after: f64,
    pub kurt_after: f64,
}

/// Why an indicator was left out of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Excluded {
    pub indicator: String,
    pub reason: &'static str,
}

/// One unit's results.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitScore {
    pub unit: String,
    /// Share of the framework's indicators with a value.
    pub coverage: f64,
    pub score: Option<f64>,
    pub rank: Option<u32>,
    pub input: Option<f64>,
    pub input_rank: Option<u32>,
    pub output: Option<f64>,
    pub output_rank: Option<u32>,
    pub efficiency: Option<f64>,
    /// Pillar code → (score, rank).
    pub pillars: BTreeMap<String, (Option<f64>, Option<u32>)>,
    /// Pillar code → points of the index score it contributes (they add up to the score).
    pub contributions: BTreeMap<String, f64>,
    pub strengths: Vec<String>,
    pub weaknesses: Vec<String>,
    /// Monte Carlo ranks (nearest-rank percentiles).
    pub rank_p5: Option<u32>,
    pub rank_median: Option<u32>,
    pub rank_p95: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IndexResult {
    pub units: Vec<UnitScore>,
    pub treatments: Vec<TreatmentReport>,
    pub excluded: Vec<Excluded>,
}

/// Monte Carlo settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Uncertainty {
    pub draws: usize,
    pub seed: u64,
}

/// Excel SKEW: n/((n−1)(n−2)) Σ((x−x̄)/s)³ with s the sample standard deviation.
pub fn excel_skew(x: &[f64]) -> Option<f64> {
    let n = x.len() as f64;
    if x.len() < 3 {
        return None;
    }
    let mean = x.iter().sum::<f64>() / n;
    let s = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    if s == 0.0 {
        return None;
    }
    Some(n / ((n - 1.0) * (n - 2.0)) * x.iter().map(|v| ((v - mean) / s).powi(3)).sum::<f64>())
}

/// Excel KURT: n(n+1)/((n−1)(n−2)(n−3)) Σ((x−x̄)/s)⁴ − 3(n−1)²/((n−2)(n−3)).
pub fn excel_kurt(x: &[f64]) -> Option<f64> {
    let n = x.len() as f64;
    if x.len() < 4 {
        return None;
    }
    let mean = x.iter().sum::<f64>() / n;
    let s = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    if s == 0.0 {
        return None;
    }
    let sum4 = x.iter().map(|v| ((v - mean) / s).powi(4)).sum::<f64>();
    Some(
        n * (n + 1.0) / ((n - 1.0) * (n - 2.0) * (n - 3.0)) * sum4
            - 3.0 * (n - 1.0).powi(2) / ((n - 2.0) * (n - 3.0)),
    )
}

fn fails(x: &[f64]) -> Option<(f64, f64)> {
    match (excel_skew(x), excel_kurt(x)) {
        (Some(s), Some(k)) if s.abs() > SKEW_LIMIT && k > KURT_LIMIT => Some((s, k)),
        _ => None,
    }
}

fn moments(x: &[f64]) -> (f64, f64) {
    (excel_skew(x).unwrap_or(0.0), excel_kurt(x).unwrap_or(0.0))
}

/// Step 3: outlier treatment of one indicator's values (in place); `None` when untouched.
pub fn treat_outliers(values: &mut [f64]) -> Option<(Treatment, f64, f64)> {
    if values.len() < MIN_VALUES_FOR_OUTLIERS {
        return None;
    }
    let (skew0, kurt0) = fails(values)?;
    let original = values.to_vec();
    for step in 1..=MAX_WINSOR_STEPS {
        let skew = excel_skew(values).unwrap_or(0.0);
        let high = skew >= 0.0;
        let extreme = if high {
            values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        } else {
            values.iter().copied().fold(f64::INFINITY, f64::min)
        };
        let next = if high {
            values
                .iter()
                .copied()
                .filter(|v| *v < extreme)
                .fold(f64::NEG_INFINITY, f64::max)
        } else {
            values
                .iter()
                .copied()
                .filter(|v| *v > extreme)
                .fold(f64::INFINITY, f64::min)
        };
        if !next.is_finite() {
            break; // every value is the same: nothing left to winsorise
        }
        for v in values.iter_mut() {
            if *v == extreme {
                *v = next;
            }
        }
        if fails(values).is_none() {
            return Some((
                Treatment::Winsorised {
                    steps: step,
                    high_end: high,
                },
                skew0,
                kurt0,
            ));
        }
    }
    let min = original.iter().copied().fold(f64::INFINITY, f64::min);
    let max = original.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for (v, o) in values.iter_mut().zip(&original) {
        *v = (o - min + 0.01 * (max - min)).ln();
    }
    Some((Treatment::Log, skew0, kurt0))
}

/// Ranks, higher first, ties sharing the best place (1, 2, 2, 4); `None` (or not finite)
/// scores get no rank.
pub fn competition_ranks(scores: &[Option<f64>]) -> Vec<Option<u32>> {
    let finite = |s: &Option<f64>| s.filter(|x| x.is_finite());
    scores
        .iter()
        .map(|s| {
            finite(s).map(|x| {
                1 + scores
                    .iter()
                    .filter(|o| finite(o).is_some_and(|y| y > x))
                    .count() as u32
            })
        })
        .collect()
}

/// SplitMix64: a tiny, fully specified generator, so that the draws can be reproduced
/// outside this product (see INDEX_METHOD.md).
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1): the top 53 bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0.75, 1.25).
    pub fn weight_factor(&mut self) -> f64 {
        0.75 + 0.5 * self.next_f64()
    }
}

/// Nearest-rank percentile of sorted values: the value at position ⌈p·N⌉ (1-based).
fn nearest_rank(sorted: &[u32], p: f64) -> u32 {
    let n = sorted.len();
    let pos = ((p * n as f64).ceil() as usize).clamp(1, n);
    sorted[pos - 1]
}

/// Normalised values and the aggregation inputs of one run.
struct Prepared {
    /// unit index → indicator key (pillar, position) → normalised value.
    norm: Vec<HashMap<(usize, usize), f64>>,
    covered: Vec<bool>,
}

/// Pillar scores, input, output and index of one unit.
type Scores = (Vec<Option<f64>>, Option<f64>, Option<f64>, Option<f64>);

/// Steps 5: pillar, sub-index and index scores of every unit for given weights.
/// `indicator_w[p][i]`, `pillar_w[p]`.
fn aggregate(
    pillars: &[Pillar],
    prepared: &Prepared,
    indicator_w: &[Vec<f64>],
    pillar_w: &[f64],
) -> Vec<Scores> {
    prepared
        .norm
        .iter()
        .zip(&prepared.covered)
        .map(|(norm, covered)| {
            if !covered {
                return (vec![None; pillars.len()], None, None, None);
            }
            let pillar_scores: Vec<Option<f64>> = pillars
                .iter()
                .enumerate()
                .map(|(p, _)| {
                    let (mut sum, mut weight) = (0.0, 0.0);
                    for (i, w) in indicator_w[p].iter().enumerate() {
                        if let Some(v) = norm.get(&(p, i)) {
                            sum += w * v;
                            weight += w;
                        }
                    }
                    (weight > 0.0).then(|| sum / weight)
                })
                .collect();
            let sub = |which: SubIndex| {
                let (mut sum, mut weight) = (0.0, 0.0);
                for (p, pillar) in pillars.iter().enumerate() {
                    if pillar.sub_index == which
                        && let Some(s) = pillar_scores[p]
                    {
                        sum += pillar_w[p] * s;
                        weight += pillar_w[p];
                    }
                }
                (weight > 0.0).then(|| sum / weight)
            };
            let (input, output) = (sub(SubIndex::Input), sub(SubIndex::Output));
            let index = input.zip(output).map(|(i, o)| (i + o) / 2.0);
            (pillar_scores, input, output, index)
        })
        .collect()
}

/// Computes the index of `units` from their values (`values[u]`: indicator code → value).
pub fn compute_index(
    units: &[String],
    values: &[HashMap<String, f64>],
    pillars: &[Pillar],
    uncertainty: Option<Uncertainty>,
) -> IndexResult {
    let total: usize = pillars.iter().map(|p| p.indicators.len()).sum();
    // Step 2: coverage.
    let coverage: Vec<f64> = values
        .iter()
        .map(|v| {
            let have = pillars
                .iter()
                .flat_map(|p| &p.indicators)
                .filter(|i| v.contains_key(i.indicator.as_str()))
                .count();
            if total == 0 {
                0.0
            } else {
                have as f64 / total as f64
            }
        })
        .collect();
    let covered: Vec<bool> = coverage.iter().map(|c| *c + 1e-12 >= COVERAGE).collect();

    // Steps 3 and 4, per indicator over the covered units.
    let mut treatments = Vec::new();
    let mut excluded = Vec::new();
    let mut norm: Vec<HashMap<(usize, usize), f64>> = vec![HashMap::new(); units.len()];
    let mut raw_for_percentiles: HashMap<(usize, usize), Vec<(usize, f64)>> = HashMap::new();
    for (p, pillar) in pillars.iter().enumerate() {
        for (i, pi) in pillar.indicators.iter().enumerate() {
            let code = pi.indicator.as_str();
            let present: Vec<(usize, f64)> = (0..units.len())
                .filter(|u| covered[*u])
                .filter_map(|u| values[u].get(code).map(|v| (u, *v)))
                .collect();
            if present.is_empty() {
                excluded.push(Excluded {
                    indicator: code.to_owned(),
                    reason: "no_values",
                });
                continue;
            }
            let mut xs: Vec<f64> = present.iter().map(|(_, v)| *v).collect();
            if let Some((treatment, skew_before, kurt_before)) = treat_outliers(&mut xs) {
                let (skew_after, kurt_after) = moments(&xs);
                treatments.push(TreatmentReport {
                    indicator: code.to_owned(),
                    treatment,
                    skew_before,
                    kurt_before,
                    skew_after,
                    kurt_after,
                });
            }
            let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if max == min {
                excluded.push(Excluded {
                    indicator: code.to_owned(),
                    reason: "constant",
                });
                continue;
            }
            for ((u, _), x) in present.iter().zip(&xs) {
                let n = match pi.direction {
                    Direction::HigherIsBetter => 100.0 * (x - min) / (max - min),
                    Direction::LowerIsBetter => 100.0 * (max - x) / (max - min),
                };
                norm[*u].insert((p, i), n);
            }
            raw_for_percentiles.insert((p, i), present);
        }
    }
    let prepared = Prepared {
        norm,
        covered: covered.clone(),
    };
    let indicator_w: Vec<Vec<f64>> = pillars
        .iter()
        .map(|p| p.indicators.iter().map(|i| i.weight).collect())
        .collect();
    let pillar_w = vec![1.0; pillars.len()];
    let results = aggregate(pillars, &prepared, &indicator_w, &pillar_w);

    // Step 6: ranks.
    let index_scores: Vec<Option<f64>> = results.iter().map(|r| r.3).collect();
    let ranks = competition_ranks(&index_scores);
    let input_ranks = competition_ranks(&results.iter().map(|r| r.1).collect::<Vec<_>>());
    let output_ranks = competition_ranks(&results.iter().map(|r| r.2).collect::<Vec<_>>());
    let pillar_ranks: Vec<Vec<Option<u32>>> = (0..pillars.len())
        .map(|p| competition_ranks(&results.iter().map(|r| r.0[p]).collect::<Vec<_>>()))
        .collect();

    // Step 8: Monte Carlo ranks.
    let mut mc: Vec<Vec<u32>> = vec![Vec::new(); units.len()];
    if let Some(Uncertainty { draws, seed }) = uncertainty {
        let mut rng = SplitMix64::new(seed);
        for _ in 0..draws {
            let mut iw = indicator_w.clone();
            let mut pw = pillar_w.clone();
            for (weights, pillar_weight) in iw.iter_mut().zip(pw.iter_mut()) {
                for w in weights.iter_mut() {
                    *w *= rng.weight_factor();
                }
                *pillar_weight *= rng.weight_factor();
            }
            let draw = aggregate(pillars, &prepared, &iw, &pw);
            let r = competition_ranks(&draw.iter().map(|d| d.3).collect::<Vec<_>>());
            for (u, rank) in r.into_iter().enumerate() {
                if let Some(rank) = rank {
                    mc[u].push(rank);
                }
            }
        }
    }

    let mut out = Vec::with_capacity(units.len());
    for (u, unit) in units.iter().enumerate() {
        let (pillar_scores, input, output, score) = results[u].clone();
        let mut pillar_map = BTreeMap::new();
        let mut contributions = BTreeMap::new();
        for (p, pillar) in pillars.iter().enumerate() {
            pillar_map.insert(pillar.code.clone(), (pillar_scores[p], pillar_ranks[p][u]));
        }
        if score.is_some() {
            // index = ½ input + ½ output; input = mean of its available pillars, so each
            // available pillar contributes score / (2 × number of available pillars).
            for which in [SubIndex::Input, SubIndex::Output] {
                let available: Vec<usize> = (0..pillars.len())
                    .filter(|p| pillars[*p].sub_index == which && pillar_scores[*p].is_some())
                    .collect();
                for p in &available {
                    contributions.insert(
                        pillars[*p].code.clone(),
                        pillar_scores[*p].unwrap_or(0.0) / (2.0 * available.len() as f64),
                    );
                }
            }
        }
        // Step 7: strengths and weaknesses by percentile rank among units.
        let mut percentiles: Vec<(f64, String)> = Vec::new();
        if covered[u] {
            for (p, pillar) in pillars.iter().enumerate() {
                for (i, pi) in pillar.indicators.iter().enumerate() {
                    let Some(present) = raw_for_percentiles.get(&(p, i)) else {
                        continue;
                    };
                    let Some(x) = values[u].get(pi.indicator.as_str()) else {
                        continue;
                    };
                    let n = present.len();
                    if n < 2 {
                        continue;
                    }
                    let below = present
                        .iter()
                        .filter(|(_, y)| match pi.direction {
                            Direction::HigherIsBetter => y < x,
                            Direction::LowerIsBetter => y > x,
                        })
                        .count();
                    percentiles.push((below as f64 / (n - 1) as f64, pi.indicator.to_string()));
                }
            }
        }
        percentiles.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let strengths: Vec<String> = percentiles.iter().take(3).map(|p| p.1.clone()).collect();
        let mut low = percentiles.clone();
        low.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let weaknesses: Vec<String> = low.iter().take(3).map(|p| p.1.clone()).collect();
        let mut ranks_mc = mc[u].clone();
        ranks_mc.sort_unstable();
        let pct = |p: f64| (!ranks_mc.is_empty()).then(|| nearest_rank(&ranks_mc, p));
        out.push(UnitScore {
            unit: unit.clone(),
            coverage: coverage[u],
            score,
            rank: ranks[u],
            input,
            input_rank: input_ranks[u],
            output,
            output_rank: output_ranks[u],
            efficiency: input
                .zip(output)
                .and_then(|(i, o)| (i != 0.0).then(|| o / i)),
            pillars: pillar_map,
            contributions,
            strengths,
            weaknesses,
            rank_p5: pct(0.05),
            rank_median: pct(0.5),
            rank_p95: pct(0.95),
        });
    }
    IndexResult {
        units: out,
        treatments,
        excluded,
    }
}

#[cfg(test)]
mod tests;
