//! Single precision against double: random circuits of every gate kind, fused and cache-blocked,
//! with parameters; serial and parallel runs bit for bit.

mod common;

use common::random_circuit;
use proptest::prelude::*;
use qloop::sim::{Backend, SingleStatevector};
use qloop::{Blocking, Circuit, Par, Param, PauliSum, Precision, StateVector32};

/// Largest amplitude difference between the single- and double-precision runs of `program`.
fn max_error(program: &qloop::Program, weights: &[f64], inputs: &[f64]) -> f64 {
    let n = program.num_qubits();
    let mut single = StateVector32::zero(n).unwrap();
    program
        .run_single(weights, inputs, &mut single, Par::Seq)
        .unwrap();
    let double = program.statevector(weights, inputs).unwrap();
    single
        .amplitudes()
        .iter()
        .zip(double.amplitudes())
        .map(|(s, d)| (num_complex::Complex64::new(s.re as f64, s.im as f64) - d).norm())
        .fold(0.0, f64::max)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn single_precision_equals_double_to_1e_5(
        n in 8usize..=14,
        len in 10usize..150,
        seed in any::<u64>(),
        block in prop_oneof![Just(None), Just(Some(8usize)), Just(Some(10usize))],
    ) {
        let circuit = random_circuit(n, len, seed);
        let mut program = circuit.compile().unwrap();
        if let Some(k) = block {
            program = program.with_blocking(Blocking::Qubits(k));
        }
        let err = max_error(&program, &[], &[]);
        prop_assert!(err < 1e-5, "n = {n}, {len} gates, seed {seed}, {block:?}: {err:e}");
    }
}

#[test]
fn parameterized_runs_in_single_precision_equal_double() {
    let (a, b, x) = (Param::weight("a"), Param::weight("b"), Param::input("x"));
    let mut c = Circuit::new(12);
    for layer in 0..4 {
        for q in 0..12 {
            c = c
                .ry(x.clone() * (q as f64 + 1.0), q)
                .rz(a.clone() * (layer as f64 + 0.5), q);
        }
        for q in 0..11 {
            c = c.cx(q, q + 1).crx(b.clone(), q + 1, q);
        }
        c = c.rxx(a.clone() + b.clone(), 0, 11);
    }
    let program = c.compile().unwrap();
    for (weights, inputs) in [([0.3, -1.1], [0.7]), ([2.0, 0.4], [-0.2])] {
        let err = max_error(&program, &weights, &inputs);
        assert!(err < 1e-5, "{err:e}");
        let blocked = program.clone().with_blocking(Blocking::Qubits(8));
        assert!(max_error(&blocked, &weights, &inputs) < 1e-5);
    }
}

#[test]
fn serial_and_parallel_single_precision_runs_agree_bit_for_bit() {
    for (seed, block) in [(1, None), (2, Some(9)), (3, Some(12))] {
        let mut program = random_circuit(14, 200, seed).compile().unwrap();
        if let Some(k) = block {
            program = program.with_blocking(Blocking::Qubits(k));
        }
        let mut serial = StateVector32::zero(14).unwrap();
        let mut parallel = StateVector32::zero(14).unwrap();
        program.run_single(&[], &[], &mut serial, Par::Seq).unwrap();
        program
            .run_single(&[], &[], &mut parallel, Par::Rayon)
            .unwrap();
        assert_eq!(serial, parallel, "seed {seed}");
    }
}

#[test]
fn readouts_of_a_single_precision_state_sum_in_double() {
    let program = random_circuit(10, 120, 9).compile().unwrap();
    let mut single = SingleStatevector.zero_state(&program).unwrap();
    SingleStatevector
        .run(&program, &[], &[], &mut single, Par::Seq)
        .unwrap();
    let double = program.statevector(&[], &[]).unwrap();
    let h: PauliSum = "0.5*XXIIIIIIII + 1.5*IIIIIYZIII - 0.25*ZIIIIIIIIZ"
        .parse()
        .unwrap();
    let (es, ed) = (
        h.expectation(&single).unwrap(),
        h.expectation(&double).unwrap(),
    );
    assert!((es - ed).abs() < 1e-5, "{es} vs {ed}");
    for q in [0, 4, 9] {
        let (zs, zd) = (
            single.expectation_z(q).unwrap(),
            double.expectation_z(q).unwrap(),
        );
        assert!((zs - zd).abs() < 1e-5);
    }
    assert!((single.norm_sqr() - 1.0).abs() < 1e-5);
    let (ps, pd) = (single.probabilities(), double.probabilities());
    assert!(ps.iter().zip(&pd).all(|(a, b)| (a - b).abs() < 1e-6));
    assert_eq!(single.to_double().num_qubits(), 10);
    assert!(single.expectation_z(10).is_err());
}

#[test]
fn a_state_of_the_wrong_size_is_refused() {
    let program = Circuit::new(3).h(0).compile().unwrap();
    let mut psi = StateVector32::zero(2).unwrap();
    let err = program
        .run_single(&[], &[], &mut psi, Par::Seq)
        .unwrap_err();
    assert!(err.to_string().contains("3 qubits"), "{err}");
    assert_eq!(Precision::Single.amplitude_bytes(), 8);
    let bad = "quad".parse::<Precision>().unwrap_err().to_string();
    assert!(
        bad.contains("'quad'") && bad.contains("single, double"),
        "{bad}"
    );
}

#[test]
fn small_unblocked_runs_are_the_double_precision_state_rounded() {
    for (n, seed) in [(3, 1), (9, 2), (14, 3)] {
        let (a, x) = (Param::weight("a"), Param::input("x"));
        let mut circuit = random_circuit(n, 120, seed);
        for q in 0..n {
            circuit = circuit.ry(a.clone() * (q as f64 + 0.5), q).rz(x.clone(), q);
        }
        let program = circuit.compile().unwrap();
        let double = program.statevector(&[0.4], &[-1.3]).unwrap();
        let mut single = StateVector32::zero(n).unwrap();
        program
            .run_single(&[0.4], &[-1.3], &mut single, Par::Seq)
            .unwrap();
        for (s, d) in single.amplitudes().iter().zip(double.amplitudes()) {
            assert_eq!((s.re, s.im), (d.re as f32, d.im as f32), "n = {n}");
        }
    }
}

#[test]
fn large_unblocked_runs_apply_single_precision_kernels_step_by_step() {
    let program = random_circuit(17, 60, 5)
        .compile()
        .unwrap()
        .with_blocking(Blocking::Off);
    let err = max_error(&program, &[], &[]);
    assert!(err > 0.0 && err < 1e-5, "{err:e}");
}
