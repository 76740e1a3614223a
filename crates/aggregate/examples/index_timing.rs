//! Times the innovation index for 34 provinces × 13 indicators with 1,000 Monte Carlo draws
//! (the default request). Run: `cargo run --release -p innoreport-aggregate --example index_timing`.

use std::collections::HashMap;
use std::time::Instant;

use innoreport_aggregate::index::{SplitMix64, Uncertainty, compute_index};

fn main() {
    let catalog =
        innoreport_core::Catalog::from_toml(include_str!("../../store/seed/catalog.toml"))
            .expect("catalog");
    let mut rng = SplitMix64::new(1);
    let units: Vec<String> = (1..=34).map(|i| format!("{i:02}")).collect();
    let values: Vec<HashMap<String, f64>> = units
        .iter()
        .map(|_| {
            catalog
                .pillars
                .iter()
                .flat_map(|p| &p.indicators)
                .map(|i| (i.indicator.to_string(), (rng.next_f64() * 100.0).powi(2)))
                .collect()
        })
        .collect();
    let mut times = Vec::new();
    for _ in 0..11 {
        let t = Instant::now();
        let r = compute_index(
            &units,
            &values,
            &catalog.pillars,
            Some(Uncertainty {
                draws: 1000,
                seed: 20250701,
            }),
        );
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(r.units.len(), 34);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "index, 34 units, 13 indicators, 1000 draws: median {:.1} ms (min {:.1}, max {:.1}, 11 runs)",
        times[5], times[0], times[10]
    );
}
