//! SPSA settings at equal evaluation budgets on TFIM-4 (the ansatz of `circuits/hea4.json`):
//! for three sets of 40 seeded random starts, the median final exact energy after 651 and
//! 2,051 loss evaluations (calibration included), for qloop's training defaults, Qiskit's
//! settings and `Spsa::budgeted`. The table is in `docs/performance.md`.
//!
//! Run with `cargo run --release --example spsa_budget`.

use qloop::train::{
    ansatz, optimize, Bounds, Energy, Rotosolve, RunOptions, SecondOrderSpsa, Spsa, StepSize,
    Stream,
};
use qloop::{Circuit, PauliSum};
use rand::Rng;

/// A way to build the solver for a seed (and a parameter count).
#[derive(Clone, Copy)]
enum Make {
    First(fn(u64, usize) -> Spsa),
    Second(fn(u64) -> SecondOrderSpsa),
    Sequential,
}

const SETTINGS: [(&str, Make); 6] = [
    (
        "Spsa::new (training defaults)",
        Make::First(|s, _| Spsa::new(s)),
    ),
    (
        "Qiskit's (c = 0.2, first step 2π/10)",
        Make::First(|s, d| {
            Spsa::new(s).resamplings(1).blocking(None).block(
                0..d,
                StepSize::Calibrated(std::f64::consts::TAU / 10.0),
                0.2,
                Bounds::Free,
            )
        }),
    ),
    ("Spsa::budgeted", Make::First(Spsa::budgeted)),
    (
        "2-SPSA (SecondOrderSpsa::hessian)",
        Make::Second(SecondOrderSpsa::hessian),
    ),
    (
        "QN-SPSA (SecondOrderSpsa::metric)",
        Make::Second(SecondOrderSpsa::metric),
    ),
    ("Rotosolve (the minimize default)", Make::Sequential),
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    0.5 * (v[v.len() / 2 - 1] + v[v.len() / 2])
}

fn main() -> qloop::Result<()> {
    let circuit = Circuit::load(std::path::Path::new("circuits/hea4.json"))?;
    let h: PauliSum = ansatz::tfim(4, 1.0, 1.0).parse()?;
    let energy = Energy::new(&circuit, h, None)?;
    let dim = circuit.parameters().len();
    for budget in [651u64, 2051] {
        for (name, make) in SETTINGS {
            let mut medians = Vec::new();
            for set in [1000u64, 5000, 9000] {
                let mut finals = Vec::new();
                for start in 0..40u64 {
                    let mut rng = Stream::new(set + start).rng();
                    let init: Vec<f64> = (0..dim)
                        .map(|_| rng.random_range(-std::f64::consts::PI..std::f64::consts::PI))
                        .collect();
                    let options = RunOptions {
                        max_iters: u64::MAX,
                        max_evals: Some(budget),
                        ..Default::default()
                    };
                    let (params, used) = match make {
                        Make::First(f) => {
                            let out =
                                optimize(energy.clone(), f(start, dim), init, options, vec![])?;
                            (out.params, out.evaluations)
                        }
                        Make::Second(f) => {
                            let out = optimize(energy.clone(), f(start), init, options, vec![])?;
                            (out.params, out.evaluations)
                        }
                        Make::Sequential => {
                            let solver = Rotosolve::for_circuit(&circuit)?;
                            let out = optimize(energy.clone(), solver, init, options, vec![])?;
                            (out.params, out.evaluations)
                        }
                    };
                    assert!(used <= budget, "{used} evaluations");
                    finals.push(energy.exact(&params)?);
                }
                medians.push(format!("{:.4}", median(finals)));
            }
            println!(
                "{budget:>5} evaluations  {name:<40} medians {}",
                medians.join(" / ")
            );
        }
    }
    Ok(())
}
