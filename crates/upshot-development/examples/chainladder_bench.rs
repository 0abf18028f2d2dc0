//! Times upshot's Mack chain ladder on triangles written by
//! `bench/cohorts_chainladder.py` (the same triangles Python's chainladder
//! fits) and prints the total reserve for comparison; also times the Bayesian
//! projection (1,000 draws) on the same triangles.
//!
//! `cargo run --release -p upshot-cohorts --example chainladder_bench -- triangles.json`

// A benchmark prints its figures.
#![allow(clippy::print_stdout)]

use std::time::Instant;

use upshot_development::chainladder::{LastSigma, Triangle};
use upshot_development::projection::{Method, Setup, project};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: chainladder_bench TRIANGLES.json")?;
    let data: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    let ages = data["ages"].as_u64().ok_or("ages")? as usize;
    let triangles: Vec<Triangle> = data["segments"]
        .as_array()
        .ok_or("segments")?
        .iter()
        .map(|s| {
            let rows: Vec<Vec<f64>> = s["rows"]
                .as_array()
                .map(|rows| {
                    rows.iter()
                        .map(|r| r.as_array().map(|r| r.iter().filter_map(|v| v.as_f64()).collect()).unwrap_or_default())
                        .collect()
                })
                .unwrap_or_default();
            Triangle::from_rows(&rows, ages)
        })
        .collect();
    let reps = 200;
    let start = Instant::now();
    let mut reserve = 0.0;
    let mut fitted = 0;
    for _ in 0..reps {
        reserve = 0.0;
        fitted = 0;
        for t in &triangles {
            if let Ok(fit) = t.mack(LastSigma::LogLinear) {
                reserve += fit.total_reserve;
                fitted += 1;
            }
        }
    }
    let per_fit = start.elapsed().as_secs_f64() / f64::from(reps);
    println!(
        "upshot Mack chain ladder: {} triangles ({fitted} with development), {:.3} ms for all (mean of {reps}); total reserve {reserve:.4}",
        triangles.len(),
        per_fit * 1000.0
    );
    let start = Instant::now();
    for (i, t) in triangles.iter().enumerate() {
        let methods = vec![Method::ChainLadder; t.cells.len()];
        let exposure = vec![1.0; t.cells.len()];
        let setup = Setup {
            triangle: t,
            exposure: &exposure,
            methods: &methods,
            lag_prior: None,
            unit_scale: 1.0,
            draws: 1000,
            burn_in: 200,
        };
        let _ = project(&setup, &mut upshot_stats::rng::stream(1, "bench", i as u64));
    }
    println!("upshot Bayesian ODP projection, 1,000 draws: {:.1} ms for all", start.elapsed().as_secs_f64() * 1000.0);
    Ok(())
}
