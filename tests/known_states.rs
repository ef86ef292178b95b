//! Known states pin the semantics: Bell, GHZ, QFT of a basis state, Grover, ⟨Z⟩ after RY,
//! exact identities and the edge-case angles.

mod common;
use common::*;
use qloop::{Circuit, Par, Param, StateVector};
use std::f64::consts::{FRAC_1_SQRT_2, PI};

fn load(name: &str) -> Circuit {
    Circuit::load(format!("{}/circuits/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn hadamard_on_every_qubit_is_uniform() {
    for n in 1..=10 {
        let psi = (0..n)
            .fold(Circuit::new(n), |c, q| c.h(q))
            .statevector()
            .unwrap();
        let expected = vec![c((1.0 / (1 << n) as f64).sqrt(), 0.0); 1 << n];
        assert_close(psi.amplitudes(), &expected, tol(1 << n), &format!("H^{n}"));
    }
}

#[test]
fn bell_state() {
    let psi = load("bell.qasm").statevector().unwrap();
    let h = FRAC_1_SQRT_2;
    assert_close(
        psi.amplitudes(),
        &[c(h, 0.0), c(0.0, 0.0), c(0.0, 0.0), c(h, 0.0)],
        tol(4),
        "Bell",
    );
}

#[test]
fn ghz_state() {
    let psi = load("ghz5.qasm").statevector().unwrap();
    let mut expected = vec![c(0.0, 0.0); 32];
    expected[0] = c(FRAC_1_SQRT_2, 0.0);
    expected[31] = c(FRAC_1_SQRT_2, 0.0);
    assert_close(psi.amplitudes(), &expected, tol(32), "GHZ5");
}

#[test]
fn qft_of_a_basis_state() {
    // circuits/qft4.qasm prepares |5⟩ and applies the QFT: amplitude y is e^{2πi·5y/16}/4.
    let psi = load("qft4.qasm").statevector().unwrap();
    let expected: Vec<_> = (0..16)
        .map(|y| num_complex::Complex64::from_polar(0.25, 2.0 * PI * 5.0 * y as f64 / 16.0))
        .collect();
    assert_close(psi.amplitudes(), &expected, tol(16), "QFT|5⟩");
}

#[test]
fn grover_finds_the_marked_state() {
    let p = load("grover3.qasm").statevector().unwrap().probabilities();
    // Two iterations on N = 8: sin²(5·asin(1/√8)) = 0.9453125 exactly (= 121/128).
    assert!(
        (p[0b101] - 121.0 / 128.0).abs() < 1e-12,
        "P(101) = {}",
        p[0b101]
    );
    let rest = (1.0 - 121.0 / 128.0) / 7.0;
    for (i, &pi) in p.iter().enumerate().filter(|&(i, _)| i != 0b101) {
        assert!((pi - rest).abs() < 1e-12, "P({i:03b}) = {pi}");
    }
}

#[test]
fn z_expectation_after_ry_is_cos_theta() {
    let theta = Param::weight("theta");
    let program = Circuit::new(1).ry(theta, 0).compile().unwrap();
    let mut psi = StateVector::zero(1).unwrap();
    for t in [0.0, 1e-9, 0.3, PI / 2.0, -PI, PI, 2.0 * PI, 100.0] {
        program.run(&[t], &[], &mut psi, Par::Seq).unwrap();
        let z = psi.expectation_z(0).unwrap();
        assert!((z - t.cos()).abs() < 1e-15, "θ = {t}: ⟨Z⟩ = {z}");
    }
}

#[test]
fn identity_circuits_return_exactly_the_zero_state() {
    let n = 3;
    let circuits = [
        Circuit::new(n),
        Circuit::new(n).id(0).id(2).barrier_all(),
        Circuit::new(n)
            .rz(0.0, 1)
            .p(0.0, 2)
            .rx(0.0, 0)
            .u(0.0, 0.0, 0.0, 1),
    ];
    for circuit in circuits {
        let psi = circuit.statevector().unwrap();
        let mut expected = [c(0.0, 0.0); 8];
        expected[0] = c(1.0, 0.0);
        assert_eq!(psi.amplitudes(), &expected[..], "{circuit:?}");
    }
}

#[test]
fn global_phases_follow_qiskit() {
    // rx(2π) = rz(2π) = −I, p(2π) = I: the sign of |0⟩ shows the phase.
    let amp0 = |c: Circuit| c.statevector().unwrap().amplitudes()[0];
    for (name, circuit, expected) in [
        ("rx(2π)", Circuit::new(1).rx(2.0 * PI, 0), -1.0),
        ("ry(2π)", Circuit::new(1).ry(2.0 * PI, 0), -1.0),
        ("rz(2π)", Circuit::new(1).rz(2.0 * PI, 0), -1.0),
        ("rzz(2π)", Circuit::new(2).rzz(2.0 * PI, 0, 1), -1.0),
        ("p(2π)", Circuit::new(1).p(2.0 * PI, 0), 1.0),
        ("rx(4π)", Circuit::new(1).rx(4.0 * PI, 0), 1.0),
    ] {
        let a = amp0(circuit);
        assert!(
            (a - c(expected, 0.0)).norm() < 1e-15,
            "{name}: ⟨0|U|0⟩ = {a}"
        );
    }
    // rz(θ)|+⟩ = (e^{−iθ/2}|0⟩ + e^{iθ/2}|1⟩)/√2: the phase sits on both amplitudes.
    let psi = Circuit::new(1).h(0).rz(0.5, 0).statevector().unwrap();
    let a = psi.amplitudes();
    assert!((a[0] - num_complex::Complex64::from_polar(FRAC_1_SQRT_2, -0.25)).norm() < 1e-15);
    assert!((a[1] - num_complex::Complex64::from_polar(FRAC_1_SQRT_2, 0.25)).norm() < 1e-15);
}

#[test]
fn edge_angles_stay_unitary_and_match_the_matrix_definition() {
    for theta in [0.0, PI, -PI, 2.0 * PI, 1e-9, 100.0] {
        let psi = Circuit::new(2)
            .h(0)
            .rx(theta, 0)
            .ry(theta, 1)
            .crz(theta, 0, 1)
            .rxx(theta, 0, 1)
            .u(theta, theta, theta, 1)
            .statevector()
            .unwrap();
        assert!((psi.norm_sqr() - 1.0).abs() < 1e-14, "θ = {theta}");
        // ry(θ)|0⟩ = cos(θ/2)|0⟩ + sin(θ/2)|1⟩.
        let a = Circuit::new(1).ry(theta, 0).statevector().unwrap();
        assert!((a.amplitudes()[0].re - (theta / 2.0).cos()).abs() < 1e-15);
        assert!((a.amplitudes()[1].re - (theta / 2.0).sin()).abs() < 1e-15);
    }
}

#[test]
fn marginals_of_ghz() {
    let psi = load("ghz5.qasm").statevector().unwrap();
    let m = psi.marginal_probabilities(&[4, 0]).unwrap();
    assert!((m[0] - 0.5).abs() < 1e-15 && (m[3] - 0.5).abs() < 1e-15 && m[1] == 0.0 && m[2] == 0.0);
    let single = psi.marginal_probabilities(&[2]).unwrap();
    assert!((single[0] - 0.5).abs() < 1e-15);
    assert!(psi.marginal_probabilities(&[5]).is_err());
    assert!(psi.marginal_probabilities(&[1, 1]).is_err());
}
