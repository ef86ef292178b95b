//! 2-SPSA and QN-SPSA: the Hessian estimate on a quadratic (where it is exact in mean), the
//! evaluation budget, seeded repeatability, and progress on TFIM-4.

use qloop::train::{ansatz, optimize, CostFunction, Energy, Objective, Probe, RunOptions};
use qloop::train::{SecondOrderSpsa, Stream};
use qloop::PauliSum;

/// `L(x) = ½ Σ a_i x_i²`, steep: a first-order step of size 1 would diverge.
struct Valley;

const CURVATURE: [f64; 4] = [100.0, 120.0, 140.0, 160.0];

impl CostFunction for Valley {
    type Param = Probe;
    type Output = f64;
    fn cost(&self, p: &Probe) -> Result<f64, argmin::core::Error> {
        Ok(0.5
            * p.params
                .iter()
                .zip(CURVATURE)
                .map(|(x, a)| a * x * x)
                .sum::<f64>())
    }
}

impl Objective for Valley {
    fn num_params(&self) -> usize {
        4
    }
}

fn options(budget: u64) -> RunOptions {
    RunOptions {
        max_iters: u64::MAX,
        max_evals: Some(budget),
        ..Default::default()
    }
}

#[test]
fn two_spsa_scales_its_steps_by_the_estimated_curvature() {
    let start = vec![1.0; 4];
    let initial = Valley
        .cost(&Probe::new(start.clone(), Stream::new(0)))
        .unwrap();
    let solver = SecondOrderSpsa::hessian(5).gains(0.3, 0.1, 10.0);
    let out = optimize(Valley, solver, start, options(1000), vec![]).unwrap();
    assert!(out.evaluations <= 1000);
    let end = Valley
        .cost(&Probe::new(out.params.clone(), Stream::new(0)))
        .unwrap();
    assert!(end < 1e-3 * initial, "{initial} → {end}");
}

#[test]
fn qn_spsa_descends_on_tfim4_within_its_budget_and_repeats() {
    let circuit = qloop::Circuit::load(std::path::Path::new("circuits/hea4.json")).unwrap();
    let h: PauliSum = ansatz::tfim(4, 1.0, 1.0).parse().unwrap();
    let energy = Energy::new(&circuit, h, None).unwrap();
    let init: Vec<f64> = (0..16).map(|k| 0.9 - 0.2 * k as f64).collect();
    let start = energy.exact(&init).unwrap();
    let run = |seed| {
        optimize(
            energy.clone(),
            SecondOrderSpsa::metric(seed),
            init.clone(),
            options(700),
            vec![],
        )
        .unwrap()
    };
    let (a, b) = (run(2), run(2));
    assert_eq!(a.params, b.params);
    assert!(a.evaluations <= 700, "{}", a.evaluations);
    let end = energy.exact(&a.params).unwrap();
    assert!(end < start - 2.0, "{start} → {end}");
    // QN-SPSA needs states: an objective without them is refused with a clear error.
    let err = optimize(
        Valley,
        SecondOrderSpsa::metric(1),
        vec![0.5; 4],
        options(50),
        vec![],
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("fidelities"), "{err}");
}
