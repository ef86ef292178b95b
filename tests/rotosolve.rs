//! Rotosolve: the spectra it assumes hold for every gate (the energy along a weight has no
//! harmonic beyond them), each step lands on the minimum along its weight (checked by a dense
//! scan), budgets are kept exactly, and it reaches the TFIM-4 ground energy.

use qloop::train::rotosolve::WeightSpectrum;
use qloop::train::{ansatz, optimize, Energy, Optimizer, Rotosolve, RunOptions, Stream};
use qloop::{Angle, Circuit, Gate, Param, PauliSum};
use rand::{Rng, SeedableRng};
use std::f64::consts::{PI, TAU};

/// Every gate of the set, in random places, each angle an affine form in one or (one time in
/// four) two of `w` weights with coefficients from {1, −1, 2, ½} (so weights are shared
/// between gates).
fn weighted_circuit(n: usize, len: usize, w: usize, seed: u64) -> Circuit {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let weights = Param::weights("w", w);
    let coeffs = [1.0, -1.0, 2.0, 0.5];
    let mut c = Circuit::new(n);
    for q in 0..n {
        c = c.h(q);
    }
    for k in 0..len {
        let mut g = Gate::all()[k % Gate::all().len()].clone();
        if g.num_qubits() > n {
            continue;
        }
        for a in g.angles_mut() {
            let mut angle = Angle::constant(rng.random_range(-3.0..3.0));
            let terms = if rng.random_range(0..4) == 0 { 2 } else { 1 };
            for _ in 0..terms {
                let p = &weights[rng.random_range(0..w)];
                angle = angle + coeffs[rng.random_range(0..coeffs.len())] * p;
            }
            *a = angle;
        }
        let mut qubits: Vec<usize> = (0..n).collect();
        for j in 0..g.num_qubits() {
            let r = rng.random_range(j..n);
            qubits.swap(j, r);
        }
        qubits.truncate(g.num_qubits());
        c = c.gate(g, &qubits);
    }
    c
}

/// The energy with weight `i` moved by `x` from `theta`.
fn along(energy: &Energy, theta: &[f64], i: usize, x: f64) -> f64 {
    let mut p = theta.to_vec();
    p[i] += x;
    energy.exact(&p).unwrap()
}

fn observable() -> PauliSum {
    "0.7*Z0*Z1 - 0.4*X2 + 0.3*Y0*X1*Z2 + 0.2*Y1"
        .parse()
        .unwrap()
}

#[test]
fn the_energy_along_each_weight_has_no_harmonic_beyond_its_spectrum() {
    for seed in 0..4 {
        let c = weighted_circuit(3, 40, 16, seed);
        let spectra = WeightSpectrum::of(&c).unwrap();
        let energy = Energy::new(&c, observable(), None).unwrap();
        let theta: Vec<f64> = (0..spectra.len()).map(|i| 0.3 * i as f64 - 0.5).collect();
        for (i, s) in spectra.iter().enumerate() {
            assert!(s.degree >= 1, "weight {i} of seed {seed} has no frequency");
            // Sample one period 2π/ω at M points: the DFT has no content above K.
            let m = 4 * s.degree + 8;
            let y: Vec<f64> = (0..m)
                .map(|j| along(&energy, &theta, i, TAU * j as f64 / (m as f64 * s.base)))
                .collect();
            let scale = y.iter().map(|v| v.abs()).fold(1.0, f64::max);
            for h in s.degree + 1..=m / 2 {
                let (mut re, mut im) = (0.0, 0.0);
                for (j, v) in y.iter().enumerate() {
                    let t = TAU * (h * j) as f64 / m as f64;
                    re += v * t.cos();
                    im += v * t.sin();
                }
                let size = (re * re + im * im).sqrt() / m as f64;
                assert!(
                    size < 1e-12 * scale,
                    "seed {seed}, weight {i}: harmonic {h} of base {} has size {size:e} beyond degree {}",
                    s.base,
                    s.degree
                );
            }
        }
    }
}

#[test]
fn spectra_follow_the_gates_and_coefficients() {
    let t = Param::weight("t");
    let u = Param::weight("u");
    let c = Circuit::new(2)
        .ry(&t, 0)
        .cry(0.5 * &u, 0, 1)
        .rz(&u, 1)
        .rzz(0.0 * &t + 0.3, 0, 1);
    let s = WeightSpectrum::of(&c).unwrap();
    // t: one rotation → {1}; u: {0, ±¼, ±½} ⊕ {0, ±1} → multiples of ¼ up to 3/2.
    assert_eq!((s[0].base, s[0].degree), (1.0, 1));
    assert_eq!((s[1].base, s[1].degree), (0.25, 6));
    let bad = Circuit::new(1)
        .ry(&t, 0)
        .rz(std::f64::consts::SQRT_2 * &t, 0);
    let err = WeightSpectrum::of(&bad).unwrap_err().to_string();
    assert!(
        err.contains("weight 't'") && err.contains("frequencies"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn each_step_lands_on_the_minimum_along_its_weight() {
    // Controlled rotations and shared weights give degrees above 1 (the grid-and-Newton path).
    for seed in 10..13 {
        let c = weighted_circuit(3, 20, 6, seed);
        let spectra = WeightSpectrum::of(&c).unwrap();
        let energy = Energy::new(&c, observable(), None).unwrap();
        let theta: Vec<f64> = (0..spectra.len()).map(|i| 0.4 - 0.7 * i as f64).collect();
        for steps in 1..=spectra.len() as u64 {
            let options = RunOptions {
                max_iters: steps,
                ..Default::default()
            };
            let solver = Rotosolve::new(spectra.clone()).with_tolerance(0.0);
            let before = optimize(
                energy.clone(),
                solver.clone(),
                theta.clone(),
                RunOptions {
                    max_iters: steps - 1,
                    ..Default::default()
                },
                vec![],
            )
            .unwrap();
            let out = optimize(energy.clone(), solver, theta.clone(), options, vec![]).unwrap();
            let i = (steps - 1) as usize;
            let reached = energy.exact(&out.params).unwrap();
            let period = TAU / spectra[i].base;
            let scan = (0..20_000)
                .map(|j| along(&energy, &before.params, i, period * j as f64 / 20_000.0))
                .fold(f64::INFINITY, f64::min);
            assert!(
                reached <= scan + 1e-12,
                "seed {seed}, weight {i} (degree {}): {reached} above the scan's {scan}",
                spectra[i].degree
            );
            let predicted = *out.solver.history().last().unwrap();
            assert!(
                (predicted - reached).abs() < 1e-11,
                "{predicted} vs {reached}"
            );
            let cost: u64 = 1 + spectra[..=i]
                .iter()
                .map(|s| 2 * s.degree as u64)
                .sum::<u64>();
            assert_eq!(out.evaluations, cost);
        }
    }
}

#[test]
fn reaches_the_tfim_ground_energy_within_budgets() {
    let circuit = Circuit::load(std::path::Path::new("circuits/hea4.json")).unwrap();
    let h: PauliSum = ansatz::tfim(4, 1.0, 1.0).parse().unwrap();
    let energy = Energy::new(&circuit, h, None).unwrap();
    let exact = -4.758_770_483_143_634;
    let mut finals = Vec::new();
    for start in 0..9u64 {
        let mut rng = Stream::new(70 + start).rng();
        let init: Vec<f64> = (0..16).map(|_| rng.random_range(-PI..PI)).collect();
        let options = RunOptions {
            max_iters: u64::MAX,
            max_evals: Some(651),
            ..Default::default()
        };
        let solver = Rotosolve::for_circuit(&circuit).unwrap();
        let out = optimize(energy.clone(), solver, init, options, vec![]).unwrap();
        assert_eq!(out.evaluations, 1 + 2 * out.iterations);
        assert!(
            out.evaluations <= 651 && out.evaluations >= 649,
            "{}",
            out.evaluations
        );
        let e = energy.exact(&out.params).unwrap();
        assert!(e >= exact - 1e-12, "{e} below the ground energy");
        finals.push(e);
    }
    finals.sort_by(f64::total_cmp);
    assert!(
        finals[4] <= -4.70,
        "median {} at 651 evaluations",
        finals[4]
    );
}

#[test]
fn a_converged_run_stops_and_noisy_runs_keep_the_budget() {
    // ⟨Z₀⟩ + ⟨Z₁⟩ after RY on each: two steps reach −2, the next sweep finds nothing to lower.
    let c = Circuit::new(2)
        .ry(Param::weight("a"), 0)
        .ry(Param::weight("b"), 1);
    let h: PauliSum = "Z0 + Z1".parse().unwrap();
    let energy = Energy::new(&c, h.clone(), None).unwrap();
    let options = RunOptions {
        max_iters: 100,
        ..Default::default()
    };
    let solver = Rotosolve::for_circuit(&c).unwrap();
    let out = optimize(energy.clone(), solver, vec![0.2, -2.5], options, vec![]).unwrap();
    assert_eq!(out.iterations, 4, "{}", out.termination);
    assert!((energy.exact(&out.params).unwrap() + 2.0).abs() < 1e-14);
    // With shots the current value is measured again at each sweep's start: sweeps cost
    // 2 + 2 + 1, and the budget is never passed.
    let noisy = Energy::new(&c, h, Some(500)).unwrap();
    for budget in [10u64, 11, 12, 13, 14, 15] {
        let options = RunOptions {
            max_iters: u64::MAX,
            max_evals: Some(budget),
            ..Default::default()
        };
        let solver = Rotosolve::for_circuit(&c).unwrap().remeasure(true);
        let out = optimize(noisy.clone(), solver, vec![0.2, -2.5], options, vec![]).unwrap();
        assert!(
            out.evaluations <= budget && out.evaluations + 3 > budget,
            "{budget}: {}",
            out.evaluations
        );
        assert!(energy.exact(&out.params).unwrap() < -1.8);
    }
    // The shot noise follows the seed: repeatable, and different for another seed.
    let run = |seed: u64| {
        let solver = Rotosolve::for_circuit(&c)
            .unwrap()
            .with_seed(seed)
            .remeasure(true);
        let options = RunOptions {
            max_iters: 6,
            ..Default::default()
        };
        optimize(noisy.clone(), solver, vec![0.2, -2.5], options, vec![])
            .unwrap()
            .params
    };
    assert_eq!(run(4), run(4));
    assert_ne!(run(4), run(5));
}
