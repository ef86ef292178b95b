//! Sampling, counts and expectation values, with explicit statistical bounds at fixed seeds.

use qloop::measure::{multinomial_frequencies, rng_from_seed, sample_histogram, sample_shots};
use qloop::{Circuit, Counts, PauliSum};

/// χ² statistic of observed counts against expected probabilities.
fn chi_square(observed: &[usize], probs: &[f64], shots: usize) -> f64 {
    observed
        .iter()
        .zip(probs)
        .filter(|(_, &p)| p > 0.0)
        .map(|(&o, &p)| {
            let e = p * shots as f64;
            (o as f64 - e).powi(2) / e
        })
        .sum()
}

fn dense(hist: &[(usize, usize)], len: usize) -> Vec<usize> {
    let mut out = vec![0; len];
    for &(i, c) in hist {
        out[i] += c;
    }
    out
}

#[test]
fn sampling_passes_a_chi_square_test() {
    let psi = Circuit::new(3)
        .ry(0.4, 0)
        .ry(1.3, 1)
        .cx(1, 2)
        .ry(2.2, 2)
        .statevector()
        .unwrap();
    let probs = psi.probabilities();
    for (seed, shots) in [(1, 1_000), (2, 100_000), (3, 3_000_000)] {
        let hist = sample_histogram(&probs, shots, &mut rng_from_seed(seed));
        let observed = dense(&hist, 8);
        assert_eq!(observed.iter().sum::<usize>(), shots);
        // 8 outcomes, 7 degrees of freedom: P(χ² > 24.32) = 0.001.
        let chi2 = chi_square(&observed, &probs, shots);
        assert!(chi2 < 24.32, "seed {seed}, {shots} shots: χ² = {chi2}");
    }
}

#[test]
fn sampling_never_returns_impossible_outcomes() {
    let probs = [0.0, 0.25, 0.0, 0.0, 0.75, 0.0];
    let hist = sample_histogram(&probs, 50_000, &mut rng_from_seed(4));
    assert!(hist.iter().all(|&(i, _)| i == 1 || i == 4), "{hist:?}");
    let shots = sample_shots(&probs, 1000, &mut rng_from_seed(5));
    assert_eq!(shots.len(), 1000);
    assert!(shots.iter().all(|&i| i == 1 || i == 4));
    // Ordered shots are shuffled, not sorted.
    assert!(shots.windows(2).any(|w| w[0] > w[1]));
    assert!(sample_histogram(&probs, 0, &mut rng_from_seed(6)).is_empty());
}

#[test]
fn sampling_is_reproducible_per_seed() {
    let psi = Circuit::new(4).h(0).h(1).h(2).h(3).statevector().unwrap();
    let a = Counts::sample(&psi, &[], 0, 1000, 11).unwrap();
    let b = Counts::sample(&psi, &[], 0, 1000, 11).unwrap();
    let d = Counts::sample(&psi, &[], 0, 1000, 12).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, d);
    assert_eq!(a.counts.values().sum::<usize>(), 1000);
}

#[test]
fn counts_are_keyed_with_classical_bit_zero_rightmost() {
    // qubit 0 = 1, qubit 1 = 0, qubit 2 = 1, measured into reversed classical bits.
    let c = Circuit::new(3)
        .x(0)
        .x(2)
        .measure(0, 2)
        .measure(1, 1)
        .measure(2, 0);
    let program = c.compile().unwrap();
    let psi = program.statevector(&[], &[]).unwrap();
    let counts = Counts::sample(&psi, program.measurements(), program.num_clbits(), 10, 1).unwrap();
    assert_eq!(counts.counts.len(), 1);
    assert_eq!(counts.counts["101"], 10);
    // Only qubit 0 measured into bit 1 of a 3-bit register: the other bits read 0.
    let c = Circuit::with_clbits(3, 3).x(0).x(2).measure(0, 1);
    let program = c.compile().unwrap();
    let psi = program.statevector(&[], &[]).unwrap();
    let counts = Counts::sample(&psi, program.measurements(), program.num_clbits(), 10, 1).unwrap();
    assert_eq!(counts.counts["010"], 10);
    // No measurements: every qubit, qubit 0 rightmost.
    let psi = Circuit::new(3).x(0).statevector().unwrap();
    assert_eq!(Counts::sample(&psi, &[], 0, 5, 1).unwrap().counts["001"], 5);
}

#[test]
fn pauli_expectations_match_analytic_values() {
    let theta: f64 = 0.7;
    let psi = Circuit::new(2)
        .ry(theta, 0)
        .h(1)
        .s(1)
        .statevector()
        .unwrap();
    // Qubit 0: ⟨Z⟩ = cos θ, ⟨X⟩ = sin θ, ⟨Y⟩ = 0; qubit 1 = |+i⟩: ⟨Y⟩ = 1.
    for (obs, expected) in [
        ("IZ", theta.cos()),
        ("IX", theta.sin()),
        ("IY", 0.0),
        ("YI", 1.0),
        ("YZ", theta.cos()),
        ("Y1*X0", theta.sin()),
        ("2*Z0 - 0.5*Y1", 2.0 * theta.cos() - 0.5),
        ("-1e-3*II", -1e-3),
        ("IZ + -0.5*IZ - -1*IZ", 1.5 * theta.cos()),
    ] {
        let h: PauliSum = obs.parse().unwrap();
        let v = h.expectation(&psi).unwrap();
        assert!((v - expected).abs() < 1e-14, "{obs}: {v} vs {expected}");
    }
}

#[test]
fn shot_estimates_agree_with_exact_values_within_their_standard_error() {
    let h2: PauliSum = "-1.052373245772859*II + 0.39793742484318045*IZ - 0.39793742484318045*ZI - 0.01128010425623538*ZZ + 0.18093119978423156*XX"
        .parse()
        .unwrap();
    let psi = Circuit::new(2)
        .ry(0.3, 0)
        .ry(-1.1, 1)
        .cx(0, 1)
        .rx(0.5, 1)
        .statevector()
        .unwrap();
    let exact = h2.expectation(&psi).unwrap();
    let mut z_scores = Vec::new();
    for seed in 0..20 {
        let est = h2.estimate(&psi, 20_000, seed).unwrap();
        assert!(
            est.stderr > 0.0 && est.stderr < 0.01,
            "stderr {}",
            est.stderr
        );
        z_scores.push((est.value - exact) / est.stderr);
    }
    // |z| < 4.5 for every seed (P ≈ 7e-6 each) and the z-scores look standard normal.
    assert!(z_scores.iter().all(|z| z.abs() < 4.5), "{z_scores:?}");
    let var = z_scores.iter().map(|z| z * z).sum::<f64>() / z_scores.len() as f64;
    assert!((0.3..2.5).contains(&var), "variance of z-scores {var}");
}

#[test]
fn observable_errors_name_the_column() {
    for (text, column) in [
        ("0.5*ZQ", 6),
        ("ZZ + 0.3*XXX", 10),
        ("1.2.3*Z", 1),
        ("Z0 +", 5),
        ("ZZ ZZ", 4),
    ] {
        let err = text.parse::<PauliSum>().unwrap_err();
        match err {
            qloop::Error::Observable { column: c, .. } => assert_eq!(c, column, "{text}: {err}"),
            other => panic!("{text}: {other}"),
        }
    }
    let psi = Circuit::new(2).statevector().unwrap();
    let three: PauliSum = "ZZZ".parse().unwrap();
    assert!(three.expectation(&psi).is_err());
    let high: PauliSum = "Z2".parse().unwrap();
    assert!(high.expectation(&psi).is_err());
}

#[test]
fn multinomial_keeps_every_shot_and_is_unbiased() {
    let p = [0.1, 0.0, 0.6, 0.3];
    let mut mean = [0.0; 4];
    for k in 0..200 {
        let mut f = p.to_vec();
        multinomial_frequencies(&mut f, 1000, &mut rng_from_seed(k));
        assert!((f.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(f[1], 0.0);
        mean.iter_mut().zip(&f).for_each(|(m, x)| *m += x / 200.0);
    }
    // Standard error of each mean ≤ √(0.25 / 200 000) ≈ 0.0011.
    for (m, q) in mean.iter().zip(p) {
        assert!((m - q).abs() < 0.006, "{m} vs {q}");
    }
}
