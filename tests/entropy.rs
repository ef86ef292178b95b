//! Entanglement measures against known states, a slow partial-trace + Jacobi reference,
//! invariances (complement, local unitaries), Page's formula for random states, and every
//! backend and route against each other.

mod common;
use common::*;
use num_complex::Complex64 as C64;
use proptest::prelude::*;
use qloop::entropy::{haar_state, page_entropy, Backend, LogBase, Method};
use qloop::measure::rng_from_seed;
use qloop::{Circuit, Error, Par, StateVector};
use std::f64::consts::LN_2;

const ROUTES: [Method; 3] = [Method::Auto, Method::Svd, Method::Gram];

/// Every non-empty proper subset of `n` qubits, as ascending lists.
fn proper_subsets(n: usize) -> Vec<Vec<usize>> {
    (1..(1usize << n) - 1)
        .map(|mask| (0..n).filter(|q| mask >> q & 1 == 1).collect())
        .collect()
}

fn ghz(n: usize) -> StateVector {
    let mut c = Circuit::new(n).h(0);
    for q in 1..n {
        c = c.cx(q - 1, q);
    }
    c.statevector().unwrap()
}

fn haar(n: usize, seed: u64) -> StateVector {
    haar_state(n, &mut rng_from_seed(seed)).unwrap()
}

/// `ρ_A[a, a'] = Σ_b ψ(a, b) ψ̄(a', b)` by explicit bit loops over the whole basis.
fn reference_rdm(psi: &StateVector, a: &[usize]) -> Vec<Vec<C64>> {
    let d = 1 << a.len();
    let amps = psi.amplitudes();
    let sub_index = |i: usize| {
        a.iter()
            .enumerate()
            .fold(0, |j, (k, &q)| j | ((i >> q & 1) << k))
    };
    let rest = |i: usize| a.iter().fold(i, |i, &q| i & !(1 << q));
    let mut rho = vec![vec![C64::new(0.0, 0.0); d]; d];
    for i in 0..amps.len() {
        for j in 0..amps.len() {
            if rest(i) == rest(j) {
                rho[sub_index(i)][sub_index(j)] += amps[i] * amps[j].conj();
            }
        }
    }
    rho
}

/// Eigenvalues of a Hermitian matrix by cyclic Jacobi rotations on its real symmetric
/// embedding `[[Re, −Im], [Im, Re]]` (each eigenvalue appears twice), descending.
fn reference_eigenvalues(h: &[Vec<C64>]) -> Vec<f64> {
    let d = h.len();
    let m = 2 * d;
    let mut s = vec![vec![0.0; m]; m];
    for i in 0..d {
        for j in 0..d {
            s[i][j] = h[i][j].re;
            s[i + d][j + d] = h[i][j].re;
            s[i][j + d] = -h[i][j].im;
            s[i + d][j] = h[i][j].im;
        }
    }
    for _sweep in 0..100 {
        let off: f64 = (0..m)
            .flat_map(|i| (0..m).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| s[i][j] * s[i][j])
            .sum();
        if off < 1e-30 {
            break;
        }
        for p in 0..m {
            for q in p + 1..m {
                if s[p][q].abs() < 1e-300 {
                    continue;
                }
                let theta = (s[q][q] - s[p][p]) / (2.0 * s[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let sn = t * c;
                for row in s.iter_mut() {
                    let (skp, skq) = (row[p], row[q]);
                    row[p] = c * skp - sn * skq;
                    row[q] = sn * skp + c * skq;
                }
                let (row_p, row_q) = (s[p].clone(), s[q].clone());
                for (k, (spk, sqk)) in row_p.into_iter().zip(row_q).enumerate() {
                    s[p][k] = c * spk - sn * sqk;
                    s[q][k] = sn * spk + c * sqk;
                }
            }
        }
    }
    let mut values: Vec<f64> = (0..m).map(|i| s[i][i]).collect();
    values.sort_by(|a, b| b.total_cmp(a));
    values.into_iter().step_by(2).collect()
}

fn reference_entropy(psi: &StateVector, a: &[usize]) -> f64 {
    reference_eigenvalues(&reference_rdm(psi, a))
        .into_iter()
        .filter(|&l| l > 1e-300)
        .map(|l| -l * l.ln())
        .sum()
}

#[test]
fn ghz_entropy_is_ln2_across_every_cut_by_every_route_and_backend() {
    let psi = ghz(5);
    for backend in Backend::all() {
        for method in ROUTES {
            let e = psi.entanglement().backend(backend).method(method);
            for a in proper_subsets(5) {
                let s = e.von_neumann(&a, LogBase::E).unwrap();
                assert!(
                    (s - LN_2).abs() < 1e-12,
                    "{backend:?} {method:?} {a:?}: {s}"
                );
                let bits = e.von_neumann(&a, LogBase::Two).unwrap();
                assert!((bits - 1.0).abs() < 1e-12);
            }
        }
    }
}

#[test]
fn product_states_have_zero_entropy_and_zero_meyer_wallach() {
    let mut c = Circuit::new(5);
    for q in 0..5 {
        c = c.u(0.3 + q as f64, 1.1 * q as f64, -0.7, q);
    }
    let psi = c.statevector().unwrap();
    let e = psi.entanglement();
    for a in proper_subsets(5) {
        for method in ROUTES {
            let s = e.method(method).von_neumann(&a, LogBase::E).unwrap();
            assert!(s.abs() < 1e-12, "{a:?}: {s}");
        }
        assert_eq!(e.spectrum(&a).unwrap().rank(), 1);
    }
    assert!(e.meyer_wallach().unwrap().abs() < 1e-12);
    assert!(e
        .single_qubit_entropies(LogBase::E)
        .unwrap()
        .iter()
        .all(|s| s.abs() < 1e-12));
}

#[test]
fn bell_pair_spectrum_schmidt_coefficients_and_mutual_information() {
    let psi = Circuit::new(2).h(0).cx(0, 1).statevector().unwrap();
    let e = psi.entanglement();
    let spectrum = e.spectrum(&[0]).unwrap();
    for l in spectrum.eigenvalues() {
        assert!((l - 0.5).abs() < 1e-15);
    }
    for s in e.schmidt_coefficients(&[1]).unwrap() {
        assert!((s - 0.5f64.sqrt()).abs() < 1e-15);
    }
    assert!((e.mutual_information(&[0], &[1], LogBase::E).unwrap() - 2.0 * LN_2).abs() < 1e-12);
    // The whole system is pure.
    assert!(e.von_neumann(&[0, 1], LogBase::E).unwrap().abs() < 1e-12);
}

#[test]
fn two_qubit_schmidt_state_matches_its_closed_form() {
    for theta in [0.1, 0.4, 0.785, 1.3] {
        // RY(2θ) then CX: cos θ |00⟩ + sin θ |11⟩.
        let psi = Circuit::new(2)
            .ry(2.0 * theta, 0)
            .cx(0, 1)
            .statevector()
            .unwrap();
        let (c2, s2) = (theta.cos().powi(2), theta.sin().powi(2));
        let expected = -c2 * c2.ln() - s2 * s2.ln();
        for method in ROUTES {
            let s = psi
                .entanglement()
                .method(method)
                .von_neumann(&[1], LogBase::E)
                .unwrap();
            assert!(
                (s - expected).abs() < 1e-13,
                "θ = {theta}: {s} vs {expected}"
            );
        }
        let r2 = psi.entanglement().renyi(&[0], 2.0, LogBase::E).unwrap();
        assert!((r2 + (c2 * c2 + s2 * s2).ln()).abs() < 1e-13);
    }
}

#[test]
fn reduced_density_matrix_matches_the_bit_loop_reference() {
    let psi = haar(5, 11);
    for a in [vec![0], vec![3, 1], vec![4, 0, 2], vec![0, 1, 2, 3]] {
        let rho = psi.entanglement().reduced_density_matrix(&a).unwrap();
        let reference = reference_rdm(&psi, &a);
        for (i, row) in reference.iter().enumerate() {
            for (j, value) in row.iter().enumerate() {
                assert!((rho[[i, j]] - value).norm() < tol(32), "{a:?} [{i},{j}]");
            }
        }
        // Its diagonal is the marginal distribution, in the same qubit order.
        let marginal = psi.marginal_probabilities(&a).unwrap();
        for (i, p) in marginal.iter().enumerate() {
            assert!((rho[[i, i]].re - p).abs() < tol(32));
        }
    }
}

#[test]
fn entropies_match_the_jacobi_reference_on_random_states() {
    for (seed, n) in [(1, 3), (2, 4), (3, 5), (4, 6)] {
        let psi = haar(n, seed);
        for a in proper_subsets(n).into_iter().step_by(3) {
            let expected = reference_entropy(&psi, &a);
            for backend in Backend::all() {
                for method in ROUTES {
                    let s = psi
                        .entanglement()
                        .backend(backend)
                        .method(method)
                        .von_neumann(&a, LogBase::E)
                        .unwrap();
                    assert!(
                        (s - expected).abs() < 1e-12,
                        "n={n} {a:?} {backend:?} {method:?}: {s} vs {expected}"
                    );
                }
            }
        }
    }
}

#[test]
fn subsystem_and_complement_have_equal_entropy_and_spectra() {
    let psi = haar(7, 5);
    for a in proper_subsets(7).into_iter().step_by(5) {
        let b: Vec<usize> = (0..7).filter(|q| !a.contains(q)).collect();
        let e = psi.entanglement();
        let (sa, sb) = (e.spectrum(&a).unwrap(), e.spectrum(&b).unwrap());
        assert_eq!(sa.eigenvalues().len(), sb.eigenvalues().len());
        for (x, y) in sa.eigenvalues().iter().zip(sb.eigenvalues()) {
            assert!((x - y).abs() < 1e-13);
        }
        let (va, vb) = (sa.von_neumann(LogBase::E), sb.von_neumann(LogBase::E));
        assert!((va - vb).abs() < 1e-12, "{a:?}: {va} vs {vb}");
    }
}

#[test]
fn entropy_is_invariant_under_local_unitaries_on_either_side() {
    let psi = haar(6, 9);
    let a = [0usize, 2, 5];
    let before = psi.entanglement().von_neumann(&a, LogBase::E).unwrap();
    // Arbitrary unitaries inside A (including an entangling gate within A) and inside B.
    let local = Circuit::new(6)
        .u(0.4, 1.2, -0.3, 0)
        .u(2.1, -0.8, 0.9, 2)
        .cx(0, 5)
        .rzz(0.7, 2, 5)
        .u(1.7, 0.2, 0.4, 1)
        .cy(3, 4)
        .crx(1.1, 1, 3);
    let program = local.compile().unwrap();
    let mut moved = psi.clone();
    program.apply(&[], &[], &mut moved, Par::Seq).unwrap();
    assert!((moved.amplitudes()[0] - psi.amplitudes()[0]).norm() > 1e-3);
    let after = moved.entanglement().von_neumann(&a, LogBase::E).unwrap();
    assert!((before - after).abs() < 1e-12, "{before} vs {after}");
    // A gate across the cut changes it.
    let mut across = psi.clone();
    Circuit::new(6)
        .cx(0, 1)
        .compile()
        .unwrap()
        .apply(&[], &[], &mut across, Par::Seq)
        .unwrap();
    let changed = across.entanglement().von_neumann(&a, LogBase::E).unwrap();
    assert!((changed - before).abs() > 1e-6);
}

/// Page: the mean entropy of Haar states across a 3 | 3 cut, within 5 standard errors.
#[test]
fn mean_entropy_of_haar_states_agrees_with_page_formula() {
    let samples = 400;
    let values: Vec<f64> = (0..samples)
        .map(|k| {
            haar(6, 1000 + k)
                .entanglement()
                .von_neumann(&[0, 1, 2], LogBase::E)
                .unwrap()
        })
        .collect();
    let mean = values.iter().sum::<f64>() / samples as f64;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (samples - 1) as f64;
    let stderr = (var / samples as f64).sqrt();
    let page = page_entropy(8, 8);
    assert!(
        (mean - page).abs() < 5.0 * stderr,
        "mean {mean} ± {stderr}, Page {page}"
    );
    // And the formula is not trivially satisfied: maximal entropy ln 8 is far.
    assert!((8f64.ln() - page) > 20.0 * stderr);
}

/// Meyer–Wallach: 1 for GHZ, and the Haar mean (d − 2)/(d + 1) within 5 standard errors.
#[test]
fn meyer_wallach_of_ghz_and_of_random_states() {
    assert!((ghz(4).entanglement().meyer_wallach().unwrap() - 1.0).abs() < 1e-12);
    let samples = 300;
    let values: Vec<f64> = (0..samples)
        .map(|k| haar(4, 5000 + k).entanglement().meyer_wallach().unwrap())
        .collect();
    let mean = values.iter().sum::<f64>() / samples as f64;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (samples - 1) as f64;
    let expected = (16.0 - 2.0) / (16.0 + 1.0);
    assert!((mean - expected).abs() < 5.0 * (var / samples as f64).sqrt());
}

#[test]
fn renyi_orders_are_consistent() {
    let psi = haar(6, 21);
    let e = psi.entanglement();
    let a = [1, 4];
    let spectrum = e.spectrum(&a).unwrap();
    let vn = e.von_neumann(&a, LogBase::E).unwrap();
    // α = 2 through the purity agrees with the spectrum.
    let r2 = e.renyi(&a, 2.0, LogBase::E).unwrap();
    assert!((r2 - spectrum.renyi(2.0, LogBase::E).unwrap()).abs() < 1e-12);
    assert!((r2 + spectrum.purity().ln()).abs() < 1e-12);
    // α → 1 tends to von Neumann; α = 1 is von Neumann.
    assert!((e.renyi(&a, 1.0, LogBase::E).unwrap() - vn).abs() < 1e-15);
    assert!((e.renyi(&a, 1.0 + 1e-6, LogBase::E).unwrap() - vn).abs() < 1e-5);
    // Rényi entropies do not increase with α; S_0 = ln rank, S_∞ = −ln λ_max.
    let orders = [0.0, 0.5, 1.0, 2.0, 3.0, f64::INFINITY];
    let values: Vec<f64> = orders
        .iter()
        .map(|&alpha| e.renyi(&a, alpha, LogBase::E).unwrap())
        .collect();
    assert!(
        values.windows(2).all(|w| w[0] >= w[1] - 1e-12),
        "{values:?}"
    );
    assert!((values[0] - 4f64.ln()).abs() < 1e-12);
    assert!((values[5] + spectrum.eigenvalues()[0].ln()).abs() < 1e-12);
    assert!(matches!(
        e.renyi(&a, -1.0, LogBase::E),
        Err(Error::RenyiOrder { .. })
    ));
    assert!(e.renyi(&a, f64::NAN, LogBase::E).is_err());
}

#[test]
fn mutual_information_of_ghz_and_subadditivity() {
    let psi = ghz(4);
    let e = psi.entanglement();
    let i = e.mutual_information(&[0], &[3], LogBase::E).unwrap();
    assert!((i - LN_2).abs() < 1e-12);
    let random = haar(6, 3);
    let e = random.entanglement();
    for (a, b) in [
        (vec![0], vec![1]),
        (vec![0, 5], vec![2, 3]),
        (vec![4], vec![0, 1, 2]),
    ] {
        let i = e.mutual_information(&a, &b, LogBase::E).unwrap();
        let bound = 2.0 * a.len().min(b.len()) as f64 * LN_2;
        assert!((0.0..=bound + 1e-12).contains(&i), "{a:?} {b:?}: {i}");
    }
    assert!(matches!(
        e.mutual_information(&[0, 1], &[1], LogBase::E),
        Err(Error::SubsetsOverlap { qubit: 1, .. })
    ));
}

#[test]
fn single_qubit_entropies_match_the_general_route() {
    let psi = haar(5, 77);
    let e = psi.entanglement();
    let singles = e.single_qubit_entropies(LogBase::Two).unwrap();
    for (q, s) in singles.iter().enumerate() {
        assert!((s - e.von_neumann(&[q], LogBase::Two).unwrap()).abs() < 1e-12);
    }
    let profile = e.profile(LogBase::E).unwrap();
    assert_eq!(profile.len(), 4);
    for (k, s) in profile.iter().enumerate() {
        let a: Vec<usize> = (0..=k).collect();
        assert!((s - reference_entropy(&psi, &a)).abs() < 1e-12);
    }
}

#[test]
fn bad_subsystems_and_states_are_refused_with_the_reason() {
    let psi = ghz(3);
    let e = psi.entanglement();
    assert!(matches!(
        e.von_neumann(&[], LogBase::E),
        Err(Error::SubsetEmpty { .. })
    ));
    assert!(matches!(
        e.von_neumann(&[0, 3], LogBase::E),
        Err(Error::SubsetOutOfRange {
            qubit: 3,
            num_qubits: 3,
            ..
        })
    ));
    assert!(matches!(
        e.von_neumann(&[1, 1], LogBase::E),
        Err(Error::SubsetRepeated { qubit: 1, .. })
    ));
    let unnormalized =
        StateVector::from_amplitudes(vec![C64::new(1.0, 0.0), C64::new(1.0, 0.0)]).unwrap();
    let err = unnormalized
        .entanglement()
        .von_neumann(&[0], LogBase::E)
        .unwrap_err();
    assert!(err.to_string().contains("not normalized"), "{err}");
    // The whole system is allowed: a pure state has zero entropy.
    assert!(e.von_neumann(&[2, 0, 1], LogBase::E).unwrap().abs() < 1e-12);
}

#[test]
fn parallel_and_serial_agree_at_twelve_qubits() {
    let psi = haar(12, 8);
    let a = [0, 3, 4, 7, 9, 11];
    let seq = psi
        .entanglement()
        .par(Par::Seq)
        .von_neumann(&a, LogBase::E)
        .unwrap();
    let par = psi
        .entanglement()
        .par(Par::Rayon)
        .von_neumann(&a, LogBase::E)
        .unwrap();
    assert!((seq - par).abs() < 1e-12);
    // A Haar state is close to maximally entangled across a balanced cut.
    assert!((seq - page_entropy(64, 64)).abs() < 0.05);
}

/// With the `lapack` feature, LAPACK and faer agree to 1e-12 on spectra and entropies.
#[cfg(feature = "lapack")]
#[test]
fn lapack_and_faer_agree() {
    for (n, seed) in [(4, 1), (8, 2), (11, 3), (12, 4)] {
        let psi = haar(n, seed);
        for a in [
            vec![0],
            (0..n / 2).collect(),
            vec![1, n - 1],
            (1..n).collect(),
        ] {
            for method in [Method::Svd, Method::Gram] {
                let f = psi
                    .entanglement()
                    .backend(Backend::Faer)
                    .method(method)
                    .spectrum(&a)
                    .unwrap();
                let l = psi
                    .entanglement()
                    .backend(Backend::Lapack)
                    .method(method)
                    .spectrum(&a)
                    .unwrap();
                for (x, y) in f.eigenvalues().iter().zip(l.eigenvalues()) {
                    assert!((x - y).abs() < 1e-12, "n={n} {a:?} {method:?}");
                }
                let (sf, sl) = (f.von_neumann(LogBase::E), l.von_neumann(LogBase::E));
                assert!((sf - sl).abs() < 1e-12, "n={n} {a:?}: {sf} vs {sl}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// For any state and subset: S(A) = S(complement), both routes agree, 0 ≤ S ≤ min(|A|,|B|) ln 2.
    #[test]
    fn entropy_invariants(seed in any::<u64>(), n in 2usize..8, mask in any::<u32>()) {
        let psi = haar(n, seed);
        let mask = (mask as usize % ((1 << n) - 2)) + 1;
        let a: Vec<usize> = (0..n).filter(|q| mask >> q & 1 == 1).collect();
        let b: Vec<usize> = (0..n).filter(|q| mask >> q & 1 == 0).collect();
        let e = psi.entanglement();
        let sa = e.von_neumann(&a, LogBase::E).unwrap();
        let sb = e.method(Method::Svd).von_neumann(&b, LogBase::E).unwrap();
        prop_assert!((sa - sb).abs() < 1e-12);
        prop_assert!(sa >= 0.0 && sa <= a.len().min(b.len()) as f64 * LN_2 + 1e-12);
    }
}
