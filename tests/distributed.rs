//! The distributed statevector on in-process ranks ([`LocalCluster`]) against the
//! single-process simulator: random circuits with every gate of the set on every mix of local
//! and global targets and controls, 2 to 16 ranks.

mod common;

use common::random_circuit;
use qloop::dist::{DistributedState, LocalCluster};
use qloop::{Circuit, PauliSum};

fn observable(n: usize) -> PauliSum {
    let mut terms = vec![
        format!("0.7*X{}*Y{}", n - 1, 0),
        format!("-0.3*Z{}*Z{}", n - 2, 1),
    ];
    terms.push(format!("0.25*Y{}*X{}*Z0", n - 1, n - 2));
    terms.push("0.5*X1".into());
    terms.join(" + ").parse().unwrap()
}

#[test]
fn distributed_runs_equal_the_single_process_state() {
    for (seed, n, ranks) in [
        (1u64, 4usize, 2usize),
        (2, 6, 4),
        (3, 8, 2),
        (4, 8, 8),
        (5, 10, 4),
        (6, 10, 16),
    ] {
        let circuit = random_circuit(n, 120, seed);
        let exact = circuit.compile().unwrap().statevector(&[], &[]).unwrap();
        let local = n - ranks.trailing_zeros() as usize;
        let mut d = DistributedState::zero(LocalCluster::new(ranks, local), n).unwrap();
        d.apply(&circuit, &[], &[]).unwrap();
        let got = d.gather().unwrap();
        let worst = got
            .iter()
            .zip(exact.amplitudes())
            .map(|(a, b)| (a - b).norm())
            .fold(0.0, f64::max);
        assert!(
            worst < 1e-12,
            "seed {seed}, {n} qubits on {ranks} ranks: {worst}"
        );
        let t = d.traffic();
        assert!(t.swaps > 0, "the circuit touches global qubits");
        assert_eq!(t.bytes, t.predicted_bytes());
        let z = d.z_expectations();
        let probs = exact.probabilities();
        for (q, zq) in z.iter().enumerate() {
            let want: f64 = probs
                .iter()
                .enumerate()
                .map(|(i, p)| if i >> q & 1 == 1 { -p } else { *p })
                .sum();
            assert!((zq - want).abs() < 1e-12);
        }
        for qubits in [
            vec![n - 1],
            vec![0, n - 1, 1],
            (0..n).rev().collect::<Vec<_>>(),
        ] {
            let want = exact.marginal_probabilities(&qubits).unwrap();
            let got = d.marginal_probabilities(&qubits).unwrap();
            for (a, b) in got.iter().zip(&want) {
                assert!((a - b).abs() < 1e-12, "marginal of {qubits:?}");
            }
        }
        let h = observable(n);
        let e = d.expectation(&h).unwrap();
        assert!((e - h.expectation(&exact).unwrap()).abs() < 1e-12);
        // The expectation leaves the state as it was.
        assert_eq!(d.gather().unwrap(), got);
        assert!((d.norm_sqr() - 1.0).abs() < 1e-12);
    }
}

#[test]
fn diagonal_gates_and_global_controls_never_communicate() {
    let n = 6;
    // Ranks 4: qubits 4 and 5 are global.
    let circuit = Circuit::new(n)
        .h(0)
        .h(5)
        .h(4)
        .cx(5, 0)
        .cp(0.3, 4, 5)
        .rzz(0.7, 5, 1)
        .rzz(-0.4, 4, 5)
        .crz(1.1, 5, 4)
        .ccx(4, 5, 2)
        .t(5)
        .rz(0.2, 4);
    let mut d = DistributedState::zero(LocalCluster::new(4, 4), n).unwrap();
    // H on the global qubits 5 and 4 needs them local: two swaps; everything after is
    // diagonal or controlled on global qubits, but the swaps moved them.
    d.apply(&circuit, &[], &[]).unwrap();
    let exact = circuit.compile().unwrap().statevector(&[], &[]).unwrap();
    let got = d.gather().unwrap();
    for (a, b) in got.iter().zip(exact.amplitudes()) {
        assert!((a - b).norm() < 1e-13);
    }
    let diag_only = Circuit::new(n)
        .cp(0.3, 4, 5)
        .rzz(0.7, 5, 1)
        .crz(1.1, 5, 4)
        .cz(4, 0)
        .cx(5, 0)
        .t(5)
        .rz(0.2, 4)
        .p(0.9, 5);
    let mut d = DistributedState::zero(LocalCluster::new(4, 4), n).unwrap();
    d.apply(&diag_only, &[], &[]).unwrap();
    assert_eq!(d.traffic().swaps, 0);
}

#[test]
fn bad_layouts_are_refused() {
    let e = DistributedState::zero(LocalCluster::new(3, 4), 6).unwrap_err();
    assert!(e.to_string().contains("not a power of two"), "{e}");
    let e = DistributedState::zero(LocalCluster::new(8, 1), 4).unwrap_err();
    assert!(e.to_string().contains("fewer than 2 local qubits"), "{e}");
    let e = DistributedState::zero(LocalCluster::new(2, 5), 5).unwrap_err();
    assert!(e.to_string().contains("are not 2^4 amplitudes"), "{e}");
}

/// Counts sampled from the distributed state (the global qubits swapped back first) are the
/// single process's for the same seed: every rank count, both samplers (the merge of sorted
/// uniforms, and conditional binomials above `max(2^n, 2^20)` shots), all qubits or a
/// subset into chosen bits.
#[test]
fn distributed_counts_do_not_depend_on_the_number_of_ranks() {
    for (seed, n) in [(21u64, 6usize), (22, 9), (23, 10)] {
        let circuit = random_circuit(n, 80, seed);
        let exact = circuit.compile().unwrap().statevector(&[], &[]).unwrap();
        let subset = [(n - 1, 0), (0, 2), (n / 2, 1)];
        for shots in [0usize, 1, 1000, (1 << 20) + 3] {
            for (measurements, bits) in [(&[][..], 0), (&subset[..], 3)] {
                let want = qloop::Counts::sample(&exact, measurements, bits, shots, seed).unwrap();
                for ranks in [2usize, 4, 8] {
                    let local = n - ranks.trailing_zeros() as usize;
                    let mut d = DistributedState::zero(LocalCluster::new(ranks, local), n).unwrap();
                    d.apply(&circuit, &[], &[]).unwrap();
                    let got = d.sample(measurements, bits, shots, seed).unwrap().unwrap();
                    assert_eq!(
                        got, want,
                        "seed {seed}, {n} qubits, {ranks} ranks, {shots} shots"
                    );
                    // Sampling left the state as it was (up to where the qubits now are).
                    let after = d.gather().unwrap();
                    let worst = after
                        .iter()
                        .zip(exact.amplitudes())
                        .map(|(a, b)| (a - b).norm())
                        .fold(0.0, f64::max);
                    assert!(worst < 1e-12);
                }
            }
        }
    }
}

/// Entanglement spectra of cuts through local and global qubits, on either side of the half,
/// equal the single process's; a side larger than a rank's local qubits is refused.
#[test]
fn distributed_entropies_equal_the_single_process() {
    use qloop::entropy::LogBase;
    for (seed, n, ranks) in [(31u64, 6usize, 2usize), (32, 8, 4), (33, 9, 8), (34, 10, 4)] {
        let circuit = random_circuit(n, 100, seed);
        let exact = circuit.compile().unwrap().statevector(&[], &[]).unwrap();
        let local = n - ranks.trailing_zeros() as usize;
        let mut d = DistributedState::zero(LocalCluster::new(ranks, local), n).unwrap();
        d.apply(&circuit, &[], &[]).unwrap();
        let cuts: Vec<Vec<usize>> = vec![
            vec![0],
            vec![n - 1],
            (0..n / 2).collect(),
            vec![n - 1, 0, 3],
            (1..n).collect(),
            vec![n - 2, n - 1],
        ];
        for cut in &cuts {
            let want = exact.entanglement().spectrum(cut).unwrap();
            let got = d.spectrum(cut).unwrap();
            let what = format!("seed {seed}, {n} qubits on {ranks} ranks, cut {cut:?}");
            assert_eq!(got.eigenvalues().len(), want.eigenvalues().len(), "{what}");
            for (a, b) in got.eigenvalues().iter().zip(want.eigenvalues()) {
                assert!((a - b).abs() < 1e-12, "{what}: {a} vs {b}");
            }
            let (s1, s2) = (got.von_neumann(LogBase::E), want.von_neumann(LogBase::E));
            assert!((s1 - s2).abs() < 1e-12, "{what}: {s1} vs {s2}");
        }
        // The state is unchanged (the swaps only moved qubits).
        let after = d.gather().unwrap();
        for (a, b) in after.iter().zip(exact.amplitudes()) {
            assert!((a - b).norm() < 1e-12);
        }
    }
    let mut d = DistributedState::zero(LocalCluster::new(16, 2), 6).unwrap();
    d.apply(&random_circuit(6, 40, 1), &[], &[]).unwrap();
    let e = d.spectrum(&[0, 1, 2]).unwrap_err().to_string();
    assert!(e.contains("3 qubits, more than the 2 local qubits"), "{e}");
    assert!(d.spectrum(&[5, 0]).is_ok());
}

/// The planner without a state predicts exactly the swaps and bytes of a run.
#[test]
fn plans_predict_the_traffic_of_runs() {
    for (seed, n, ranks) in [(41u64, 8usize, 2usize), (42, 9, 4), (43, 10, 8)] {
        let circuit = random_circuit(n, 120, seed);
        let plan = qloop::dist::PlanSummary::of(&circuit, ranks).unwrap();
        let local = n - ranks.trailing_zeros() as usize;
        let mut d = DistributedState::zero(LocalCluster::new(ranks, local), n).unwrap();
        d.apply(&circuit, &[], &[]).unwrap();
        let t = d.traffic();
        assert_eq!(
            (plan.swaps, plan.bytes_per_rank),
            (t.swaps, t.bytes),
            "seed {seed}"
        );
        assert!(plan.seconds(2.0, 1e11, 1e10, 1e-6) > 0.0);
    }
    let e = qloop::dist::PlanSummary::of(&Circuit::new(4).h(0), 8).unwrap_err();
    assert!(e.to_string().contains("fewer than 2 local qubits"), "{e}");
}

/// A layered circuit (H on every qubit, a CX chain, RZ on every qubit, 6 layers): commuting
/// gates run ahead of the global qubit, so 2 ranks need one swap in all, and the state is the
/// single process's.
#[test]
fn layered_circuits_need_one_swap_on_two_ranks() {
    let n = 10;
    let mut c = Circuit::new(n);
    for l in 0..6 {
        for q in 0..n {
            c = c.h(q);
        }
        for q in 0..n - 1 {
            c = c.cx(q, q + 1);
        }
        for q in 0..n {
            c = c.rz(0.1 * (l * n + q + 1) as f64, q);
        }
    }
    let exact = c.compile().unwrap().statevector(&[], &[]).unwrap();
    let mut d = DistributedState::zero(LocalCluster::new(2, n - 1), n).unwrap();
    d.apply(&c, &[], &[]).unwrap();
    assert_eq!(d.traffic().swaps, 1);
    for (a, b) in d.gather().unwrap().iter().zip(exact.amplitudes()) {
        assert!((a - b).norm() < 1e-12);
    }
}
