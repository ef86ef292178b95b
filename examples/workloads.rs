//! The simulator workloads of `docs/performance.md`, one at a time, for the side-by-side
//! harness in `benches/peers/`: prints one JSON line with the time and ⟨Z₀⟩.
//!
//! ```text
//! cargo run --release --example workloads -- w1 24          # 10 layers, one run
//! cargo run --release --example workloads -- w2 12 20000    # 3 layers, new angles per run
//! cargo run --release --example workloads -- w3 20 1000000  # shots from a 20-qubit state
//! ```
//!
//! The circuit is [`seed_layers`]: layers of [H on every qubit, CX(q, q+1) chain, RZ(θ) on
//! every qubit]. The fixed angles every tool uses are θ(l, q) = 0.1·(l·n + q + 1). Threads:
//! `RAYON_NUM_THREADS` (W1 runs with `Par::auto`, W2 serially, W3 on one thread).

use qloop::measure::{rng_from_seed, sample_histogram};
use qloop::train::ansatz::seed_layers;
use qloop::{Error, Par, StateVector};
use rand::Rng;
use std::time::Instant;

fn fixed_angles(n: usize, layers: usize) -> Vec<f64> {
    (0..n * layers).map(|k| 0.1 * (k + 1) as f64).collect()
}

fn arg(args: &[String], i: usize, what: &str) -> Result<usize, Error> {
    args.get(i)
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| Error::Shape {
            context: "workloads".into(),
            message: format!("argument {i} must be {what}; usage: w1 N | w2 N EVALS | w3 N SHOTS"),
        })
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = arg(&args, 1, "the number of qubits")?;
    let threads = rayon::current_num_threads();
    match args[0].as_str() {
        "w1" => {
            let program = seed_layers(n, 10).compile()?;
            let mut state = StateVector::zero(n)?;
            state.reset();
            let start = Instant::now();
            program.apply(&fixed_angles(n, 10), &[], &mut state, Par::auto(n))?;
            let seconds = start.elapsed().as_secs_f64();
            let z0 = state.expectation_z(0)?;
            println!(
                r#"{{"workload": "w1", "n": {n}, "threads": {threads}, "seconds": {seconds}, "z0": {z0}}}"#
            );
        }
        "w2" => {
            let evals = arg(&args, 2, "the number of evaluations")?;
            let program = seed_layers(n, 3).compile()?;
            let mut state = StateVector::zero(n)?;
            let mut weights = vec![0.0; 3 * n];
            let mut rng = rng_from_seed(7);
            let mut sum = 0.0;
            let start = Instant::now();
            for _ in 0..evals {
                weights
                    .iter_mut()
                    .for_each(|w| *w = rng.random::<f64>() * std::f64::consts::TAU);
                program.run(&weights, &[], &mut state, Par::Seq)?;
                sum += state.expectation_z(0)?;
            }
            let seconds = start.elapsed().as_secs_f64() / evals as f64;
            program.run(&fixed_angles(n, 3), &[], &mut state, Par::Seq)?;
            let z0 = state.expectation_z(0)?;
            // ⟨Z₀⟩ of this circuit vanishes for every angle; ⟨Z_{n−1}⟩ is a sharper check.
            let z_last = state.expectation_z(n - 1)?;
            println!(
                r#"{{"workload": "w2", "n": {n}, "threads": 1, "seconds": {seconds}, "z0": {z0}, "z_last": {z_last}, "checksum": {sum}}}"#
            );
        }
        "w3" => {
            let shots = arg(&args, 2, "the number of shots")?;
            let program = seed_layers(n, 2).compile()?;
            let state = program.statevector(&fixed_angles(n, 2), &[])?;
            let mut rng = rng_from_seed(11);
            let start = Instant::now();
            let histogram = sample_histogram(&state.probabilities(), shots, &mut rng);
            let seconds = start.elapsed().as_secs_f64();
            let ones: usize = histogram
                .iter()
                .filter(|(i, _)| i & 1 == 1)
                .map(|(_, c)| c)
                .sum();
            let sampled_z0 = 1.0 - 2.0 * ones as f64 / shots as f64;
            let z0 = state.expectation_z(0)?;
            println!(
                r#"{{"workload": "w3", "n": {n}, "threads": 1, "seconds": {seconds}, "z0": {z0}, "sampled_z0": {sampled_z0}}}"#
            );
        }
        other => {
            return Err(Error::Shape {
                context: "workloads".into(),
                message: format!("unknown workload {other:?}; expected w1, w2 or w3"),
            })
        }
    }
    Ok(())
}
