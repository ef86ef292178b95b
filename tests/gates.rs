//! Every gate on every qubit placement (n ≤ 5), against dense matrices built from Kronecker
//! products; the gate matrices against an independent table written from Qiskit's definitions.

mod common;
use common::*;
use num_complex::Complex64 as C;
use qloop::{Angle, Circuit, Gate, Par, Param, StateVector};
use std::f64::consts::{FRAC_1_SQRT_2, PI};

fn m2(a: C, b: C, cc: C, d: C) -> Mat {
    vec![vec![a, b], vec![cc, d]]
}

fn cis(x: f64) -> C {
    C::from_polar(1.0, x)
}

/// The reference matrix of each gate, written independently of `src/gate.rs`: single-qubit
/// matrices from Qiskit's documentation; two-qubit rotations as `cos(θ/2)·I − i·sin(θ/2)·P⊗P`;
/// controlled gates as `P0 ⊗ I + P1 ⊗ U` with the control the least-significant operand.
fn reference(gate: &Gate, v: &[f64]) -> Mat {
    let (o, l, i) = (c(0.0, 0.0), c(1.0, 0.0), c(0.0, 1.0));
    let h = FRAC_1_SQRT_2;
    let x = m2(o, l, l, o);
    let y = m2(o, -i, i, o);
    let z = m2(l, o, o, -l);
    let hm = m2(c(h, 0.0), c(h, 0.0), c(h, 0.0), c(-h, 0.0));
    let rx = |t: f64| {
        m2(
            c((t / 2.0).cos(), 0.0),
            c(0.0, -(t / 2.0).sin()),
            c(0.0, -(t / 2.0).sin()),
            c((t / 2.0).cos(), 0.0),
        )
    };
    let ry = |t: f64| {
        m2(
            c((t / 2.0).cos(), 0.0),
            c(-(t / 2.0).sin(), 0.0),
            c((t / 2.0).sin(), 0.0),
            c((t / 2.0).cos(), 0.0),
        )
    };
    let rz = |t: f64| m2(cis(-t / 2.0), o, o, cis(t / 2.0));
    let p = |t: f64| m2(l, o, o, cis(t));
    let u = |t: f64, ph: f64, la: f64| {
        m2(
            c((t / 2.0).cos(), 0.0),
            -cis(la) * (t / 2.0).sin(),
            cis(ph) * (t / 2.0).sin(),
            cis(ph + la) * (t / 2.0).cos(),
        )
    };
    let ctrl = |m: &Mat| {
        add(
            &kron(&identity(m.len()), &unit(0, 0)),
            &kron(m, &unit(1, 1)),
        )
    };
    let pp = |a: &Mat, t: f64| {
        add(
            &scale(&identity(4), c((t / 2.0).cos(), 0.0)),
            &scale(&kron(a, a), c(0.0, -(t / 2.0).sin())),
        )
    };
    let swap = {
        let mut s = identity(4);
        s[1] = vec![o, o, l, o];
        s[2] = vec![o, l, o, o];
        s
    };
    use Gate::*;
    match gate {
        I => identity(2),
        H => hm,
        X => x,
        Y => y,
        Z => z,
        S => m2(l, o, o, i),
        Sdg => m2(l, o, o, -i),
        T => m2(l, o, o, cis(PI / 4.0)),
        Tdg => m2(l, o, o, cis(-PI / 4.0)),
        SX => m2(c(0.5, 0.5), c(0.5, -0.5), c(0.5, -0.5), c(0.5, 0.5)),
        SXdg => m2(c(0.5, -0.5), c(0.5, 0.5), c(0.5, 0.5), c(0.5, -0.5)),
        RX(_) => rx(v[0]),
        RY(_) => ry(v[0]),
        RZ(_) => rz(v[0]),
        P(_) => p(v[0]),
        U(..) => u(v[0], v[1], v[2]),
        CX => ctrl(&x),
        CY => ctrl(&y),
        CZ => ctrl(&z),
        CH => ctrl(&hm),
        Swap => swap,
        CRX(_) => ctrl(&rx(v[0])),
        CRY(_) => ctrl(&ry(v[0])),
        CRZ(_) => ctrl(&rz(v[0])),
        CP(_) => ctrl(&p(v[0])),
        CU3(..) => ctrl(&u(v[0], v[1], v[2])),
        CCX => add(
            &kron(&x, &kron(&unit(1, 1), &unit(1, 1))),
            &add(
                &identity(8),
                &scale(
                    &kron(&identity(2), &kron(&unit(1, 1), &unit(1, 1))),
                    c(-1.0, 0.0),
                ),
            ),
        ),
        CSwap => ctrl(&swap),
        RXX(_) => pp(&x, v[0]),
        RYY(_) => pp(&y, v[0]),
        RZZ(_) => pp(&z, v[0]),
    }
}

/// The gate with angles `values`, either as constants or as weights bound at run time.
fn with_angles(gate: &Gate, values: &[f64], symbolic: bool) -> Gate {
    let mut g = gate.clone();
    for (k, angle) in g.angles_mut().into_iter().enumerate() {
        *angle = if symbolic {
            Angle::from(Param::weight(format!("w{k}")))
        } else {
            Angle::constant(values[k])
        };
    }
    g
}

/// All ordered tuples of `k` distinct qubits out of `n`.
fn placements(n: usize, k: usize) -> Vec<Vec<usize>> {
    let mut out = vec![vec![]];
    for _ in 0..k {
        out = out
            .into_iter()
            .flat_map(|p: Vec<usize>| {
                (0..n)
                    .filter(|q| !p.contains(q))
                    .map(|q| [p.clone(), vec![q]].concat())
                    .collect::<Vec<_>>()
            })
            .collect();
    }
    out
}

const ANGLE_SETS: [[f64; 3]; 4] = [
    [0.37, -1.2, 2.1],
    [PI, PI / 2.0, -PI],
    [0.0, 0.0, 0.0],
    [2.0 * PI, 1e-9, 100.0],
];

#[test]
fn gate_matrices_match_the_independent_table() {
    for gate in Gate::all() {
        for values in ANGLE_SETS {
            let expected = reference(&gate, &values);
            let actual = gate.matrix(&values);
            let dim = expected.len();
            for r in 0..dim {
                for k in 0..dim {
                    let d = (actual[r * dim + k] - expected[r][k]).norm();
                    assert!(
                        d <= tol(dim),
                        "{} {values:?}: entry ({r},{k}) differs by {d:e}",
                        gate.name()
                    );
                }
            }
        }
    }
}

#[test]
fn every_gate_on_every_placement_matches_the_dense_reference() {
    let mut checked = 0;
    for n in 1..=5 {
        for gate in Gate::all() {
            let k = gate.num_qubits();
            if k > n {
                continue;
            }
            for values in ANGLE_SETS {
                let local = reference(&gate, &values);
                for qubits in placements(n, k) {
                    let full = embed(&local, &qubits, n);
                    let psi = random_state(n, (n * 1000 + qubits.iter().sum::<usize>()) as u64);
                    let expected = apply(&full, psi.amplitudes());
                    for symbolic in [false, true] {
                        let g = with_angles(&gate, &values, symbolic);
                        let program = Circuit::new(n).gate(g, &qubits).compile().unwrap();
                        let weights: &[f64] = if symbolic {
                            &values[..gate.angles().len()]
                        } else {
                            &[]
                        };
                        for par in [Par::Seq, Par::Rayon] {
                            let mut state = psi.clone();
                            program.apply(weights, &[], &mut state, par).unwrap();
                            let what = format!("{} on {qubits:?} of {n}, angles {values:?}, symbolic {symbolic}, {par:?}", gate.name());
                            assert_close(state.amplitudes(), &expected, tol(1 << n), &what);
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 10_000, "only {checked} cases checked");
}

#[test]
fn parallel_kernels_match_serial_on_large_strides() {
    // 14 qubits: strides up to 2^13 exercise the split-halves branch of the parallel walker.
    let n = 14;
    let psi = random_state(n, 99);
    let mut circuit = Circuit::new(n);
    for q in [0, 5, 12, 13] {
        circuit = circuit.h(q).rz(0.3 * q as f64 + 0.1, q).sx(q).y(q).t(q);
    }
    circuit = circuit
        .cx(13, 0)
        .cx(0, 13)
        .crx(0.4, 12, 3)
        .ccx(13, 12, 1)
        .cswap(0, 13, 7)
        .rzz(0.9, 13, 2)
        .rxx(0.2, 12, 13)
        .swap(1, 13);
    let program = circuit.compile().unwrap();
    let (mut seq, mut par) = (psi.clone(), psi);
    program.apply(&[], &[], &mut seq, Par::Seq).unwrap();
    program.apply(&[], &[], &mut par, Par::Rayon).unwrap();
    assert_eq!(seq.amplitudes(), par.amplitudes());
}

#[test]
fn controlled_gates_fused_with_their_target_run_match_separate_passes() {
    // 14 qubits: control or target at 13 reaches the large-stride walkers of the select kernel.
    let n = 14;
    let psi = random_state(n, 123);
    let pairs = [
        (13, 0),
        (0, 13),
        (13, 1),
        (1, 13),
        (12, 13),
        (13, 12),
        (2, 13),
        (0, 1),
        (3, 1),
    ];
    for (c, t) in pairs {
        for par in [Par::Seq, Par::Rayon] {
            let run = Circuit::new(n).h(t).rz(0.7, t).sx(t);
            let fused = (run.clone().cy(c, t)).compile().unwrap();
            assert_eq!(fused.num_steps(), 1, "the run joins the controlled gate");
            let mut expected = psi.clone();
            run.compile()
                .unwrap()
                .apply(&[], &[], &mut expected, par)
                .unwrap();
            let controlled = Circuit::new(n).cy(c, t).compile().unwrap();
            controlled.apply(&[], &[], &mut expected, par).unwrap();
            let mut state = psi.clone();
            fused.apply(&[], &[], &mut state, par).unwrap();
            let what = format!("run on {t} fused into cy({c}, {t}), {par:?}");
            assert_close(
                state.amplitudes(),
                expected.amplitudes(),
                tol(1 << n),
                &what,
            );
        }
    }
}

/// Runs whose one parameterized gate is a rotation or phase are multiplied out at compile
/// time, as `C + A·cos + B·sin` (alone, or with the controlled gate after them): against every
/// gate applied as its own pass with the angle as a constant.
#[test]
fn parameterized_runs_multiplied_out_at_compile_time_match_separate_passes() {
    use qloop::Param;
    let n = 14;
    let psi = random_state(n, 321);
    let theta = 0.37;
    let w = || Param::weight("w");
    // (the circuit with the weight, the same with the constant, steps after compilation)
    type Build = fn(Circuit, Param, f64, usize, usize) -> (Circuit, Circuit);
    let cases: [(&str, Build); 6] = [
        ("h rz(w) sx", |c, w, v, _, t| {
            (c.clone().h(t).rz(w, t).sx(t), c.h(t).rz(v, t).sx(t))
        }),
        ("t p(w) s (diagonal)", |c, w, v, _, t| {
            (c.clone().t(t).p(w, t).s(t), c.t(t).p(v, t).s(t))
        }),
        ("x ry(w) y (with anti-diagonals)", |c, w, v, _, t| {
            (c.clone().x(t).ry(w, t).y(t), c.x(t).ry(v, t).y(t))
        }),
        ("h rz(w) then cx", |c, w, v, ctl, t| {
            (
                c.clone().h(t).rz(w, t).cx(ctl, t),
                c.h(t).rz(v, t).cx(ctl, t),
            )
        }),
        ("sx rx(w) then ch", |c, w, v, ctl, t| {
            (
                c.clone().sx(t).rx(w, t).ch(ctl, t),
                c.sx(t).rx(v, t).ch(ctl, t),
            )
        }),
        ("h sx then crx(w)", |c, w, v, ctl, t| {
            (
                c.clone().h(t).sx(t).crx(w, ctl, t),
                c.h(t).sx(t).crx(v, ctl, t),
            )
        }),
    ];
    for (name, build) in cases {
        for (ctl, t) in [(0, 1), (13, 0), (1, 13), (5, 2)] {
            let (symbolic, constant) = build(Circuit::new(n), w(), theta, ctl, t);
            let program = symbolic.compile().unwrap();
            assert_eq!(program.num_steps(), 1, "{name}: one step");
            let mut state = psi.clone();
            program.apply(&[theta], &[], &mut state, Par::Seq).unwrap();
            let mut expected = psi.clone();
            for inst in constant.instructions() {
                let mut single = Circuit::new(n);
                single.push(inst.clone());
                single
                    .compile()
                    .unwrap()
                    .apply(&[], &[], &mut expected, Par::Seq)
                    .unwrap();
            }
            let what = format!("{name} on target {t} (control {ctl})");
            assert_close(
                state.amplitudes(),
                expected.amplitudes(),
                tol(1 << n),
                &what,
            );
        }
    }
}

/// A run computes the sines and cosines of many steps in vectorized batches; with more
/// rotation steps than one batch holds, it still equals, bit for bit, the path that computes
/// each step's matrix on its own (`run_bound` with nothing bound: every step reads an input).
#[test]
fn batched_rotation_angles_equal_one_at_a_time_across_batches() {
    let n = 3;
    let mut c = Circuit::new(n);
    let mut inputs = Vec::new();
    for k in 0..100 {
        let x = Param::input(format!("x{k}"));
        let (q, r) = (k % n, (k + 1) % n);
        c = match k % 3 {
            0 => c.h(q).rz(x, q).cx(q, r),
            1 => c.ry(x, q).sx(q).cz(q, r),
            _ => c.crx(x, q, r),
        };
        // Angles far apart, including ones beyond the fast reduction range.
        inputs.push(if k == 50 {
            1e7
        } else {
            (k as f64 * 1.7).sin() * 40.0
        });
    }
    let program = c.compile().unwrap();
    assert!(program.num_steps() > 64, "{} steps", program.num_steps());
    let mut a = StateVector::zero(n).unwrap();
    let mut b = a.clone();
    program.run(&[], &inputs, &mut a, Par::Seq).unwrap();
    let binding = program.bind_weights(&[]).unwrap();
    program
        .run_bound(&binding, &inputs, &mut b, Par::Seq)
        .unwrap();
    assert_eq!(a.amplitudes(), b.amplitudes());
}

/// `run` starts from the state after the leading fixed steps, computed once at compile time;
/// applying every step to `|0…0⟩` gives the same amplitudes bit for bit.
#[test]
fn runs_from_the_cached_fixed_prefix_equal_full_runs() {
    let n = 5;
    let w = |k: usize| Param::weight(format!("w{k}"));
    let mut c = Circuit::new(n);
    for q in 0..n {
        c = c.h(q).t(q);
    }
    c = c.cx(0, 1).cx(1, 2).ccx(2, 3, 4);
    for q in 0..n {
        c = c.ry(w(q), q).cx(q, (q + 1) % n).rz(w(q + n), q);
    }
    let fixed_only = Circuit::new(n).h(0).cx(0, 1).s(1).swap(1, 4);
    for (circuit, weights) in [
        (c, (0..2 * n).map(|k| 0.3 + k as f64).collect::<Vec<f64>>()),
        (fixed_only, vec![]),
    ] {
        let program = circuit.compile().unwrap();
        let mut from_prefix = StateVector::zero(n).unwrap();
        program
            .run(&weights, &[], &mut from_prefix, Par::Seq)
            .unwrap();
        let mut full = StateVector::zero(n).unwrap();
        program.apply(&weights, &[], &mut full, Par::Seq).unwrap();
        let bits = |s: &StateVector| -> Vec<(u64, u64)> {
            s.amplitudes()
                .iter()
                .map(|a| (a.re.to_bits(), a.im.to_bits()))
                .collect()
        };
        assert_eq!(bits(&from_prefix), bits(&full));
        // A run after another run starts from the prefix again, not from the last state.
        program
            .run(&weights, &[], &mut from_prefix, Par::Seq)
            .unwrap();
        assert_eq!(bits(&from_prefix), bits(&full));
    }
}

/// Consecutive one-qubit diagonal steps run as one merged layer (tables over groups of
/// qubits) on unblocked states of 7 qubits or more; they agree with the steps applied one at a
/// time (the blocked path never merges) for states below, at and above the 6- and 12-qubit
/// group boundaries, and serial and parallel layers agree bit for bit.
#[test]
fn merged_diagonal_layers_match_separate_passes() {
    use qloop::Blocking;
    for n in [7, 12, 13, 14] {
        let w = |k: usize| Param::weight(format!("w{k}"));
        let mut c = Circuit::new(n);
        for q in 0..n {
            c = c.h(q);
        }
        for q in 0..n - 1 {
            c = c.cx(q, q + 1);
        }
        // A layer in the middle (ended by the CZ and the CX) and one at the end.
        for q in 0..n {
            c = match q % 4 {
                0 => c.rz(w(q), q).t(q),
                1 => c.p(w(q), q),
                2 => c.s(q).z(q),
                _ => c.rz(w(q), q),
            };
        }
        c = c.cz(0, n - 1).cx(n - 1, 0);
        for q in (0..n).rev() {
            c = c.rz(w(n + q), q).tdg(q);
        }
        let merged = c.compile().unwrap().with_blocking(Blocking::Off);
        let weights: Vec<f64> = (0..merged.layout().weights.len())
            .map(|k| 0.7 * k as f64 - 3.0)
            .collect();
        let separate = c.compile().unwrap().with_blocking(Blocking::Qubits(7));
        let mut a = StateVector::zero(n).unwrap();
        let mut b = a.clone();
        let mut p = a.clone();
        merged.run(&weights, &[], &mut a, Par::Seq).unwrap();
        merged.run(&weights, &[], &mut p, Par::Rayon).unwrap();
        separate.run(&weights, &[], &mut b, Par::Seq).unwrap();
        assert_close(a.amplitudes(), b.amplitudes(), 1e-12, &format!("n = {n}"));
        assert_eq!(
            a.amplitudes(),
            p.amplitudes(),
            "n = {n}: serial vs parallel"
        );
    }
}

/// The planner's unblocked schedule for 7–14 qubits: leading diagonal factors split from runs
/// whose rest is real, diagonal steps gathered across gates on other qubits into merged
/// layers, real arithmetic, and groups of steps on low qubits applied block by block. Random
/// circuits rich in that pattern (and in ways to break it: a diagonal next to a gate on its
/// own qubit) against the same circuit applied gate by gate, each gate its own program.
#[test]
fn planned_unblocked_runs_match_gate_by_gate() {
    use rand::{Rng, SeedableRng};
    for (n, seed) in [(7, 1), (11, 2), (12, 3), (12, 4), (13, 5), (14, 6)] {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut c = qloop::train::ansatz::seed_layers(n, 2);
        for k in 0..160 {
            let q = rng.random_range(0..n);
            // Mostly low qubits, so that groups form; sometimes any other qubit.
            let other = match rng.random_bool(0.7) {
                true => (q + 1 + rng.random_range(0..3)) % n,
                false => (q + 1 + rng.random_range(0..n - 1)) % n,
            };
            let w = Param::weight(format!("w{k}"));
            c = match rng.random_range(0..12) {
                0 | 1 => c.rz(w, q),
                2 => c.p(w, q),
                3 => c.t(q).rz(0.3, q),
                4 | 5 => c.h(q),
                6 => c.x(q),
                7 => c.ry(w, q),
                8 | 9 => c.cx(q, other),
                10 => c.cz(q, other),
                _ => c.s(q).sx(q),
            };
        }
        let program = c.compile().unwrap();
        let weights: Vec<f64> = (0..program.layout().weights.len())
            .map(|_| rng.random_range(-PI..PI))
            .collect();
        let mut planned = StateVector::zero(n).unwrap();
        program.run(&weights, &[], &mut planned, Par::Seq).unwrap();
        let mut parallel = planned.clone();
        program
            .run(&weights, &[], &mut parallel, Par::Rayon)
            .unwrap();
        assert_eq!(
            planned.amplitudes(),
            parallel.amplitudes(),
            "n = {n}: serial vs rayon"
        );

        let layout = program.layout().clone();
        let bound = c.bind(|p| {
            let k = layout.weights.iter().position(|name| *name == p.name)?;
            Some(weights[k])
        });
        let mut expected = StateVector::zero(n).unwrap();
        for inst in bound.instructions() {
            let mut one = Circuit::new(n);
            one.push(inst.clone());
            let gate = one.compile().unwrap();
            assert!(gate.num_steps() <= 1);
            gate.apply(&[], &[], &mut expected, Par::Seq).unwrap();
        }
        let what = format!("n = {n}, seed {seed}: planned run vs gate by gate");
        assert_close(planned.amplitudes(), expected.amplitudes(), 1e-12, &what);
    }
}

/// States of up to 16 amplitudes form the matrices of affine steps in registers; `run` (that
/// path) and `run_bound` with nothing bound (each step's kernel built in memory) agree bit for
/// bit. The fixed gates have angles whose products with sines and cosines round.
#[test]
fn tiny_states_form_affine_matrices_as_kernels_do() {
    for n in [2, 3, 4, 5] {
        let mut c = Circuit::new(n);
        for k in 0..12 {
            let x = Param::input(format!("x{k}"));
            let (q, r) = (k % n, (k % n + 1 + (k / n) % (n - 1)) % n);
            c = match k % 3 {
                0 => c.rx(0.37, q).ry(x, q).u(0.3, 0.7, 1.1, q).cx(r, q),
                1 => c.ry(1.234, q).rz(x, q).cx(q, r),
                _ => c.u(0.9, 0.2, 0.4, q).rz(x, q).h(q),
            };
        }
        let program = c.compile().unwrap();
        let inputs: Vec<f64> = (0..12).map(|k| 0.37 * k as f64 - 1.9).collect();
        let mut a = StateVector::zero(n).unwrap();
        let mut b = a.clone();
        program.run(&[], &inputs, &mut a, Par::Seq).unwrap();
        let binding = program.bind_weights(&[]).unwrap();
        program
            .run_bound(&binding, &inputs, &mut b, Par::Seq)
            .unwrap();
        assert_eq!(a.amplitudes(), b.amplitudes(), "n = {n}");
    }
}

/// The frequencies of an expectation value in each angle, from the independent matrices: the
/// entries sampled over `a ∈ [0, 4π)` and Fourier-transformed give the frequencies `F` of the
/// matrix (multiples of ½); `⟨A⟩(a)` has the positive differences of `F`.
#[test]
fn angle_spectra_are_the_differences_of_the_matrix_frequencies() {
    const M: usize = 16;
    let others = [0.7, -1.3, 2.1];
    for gate in Gate::all() {
        for j in 0..gate.angles().len() {
            let samples: Vec<Mat> = (0..M)
                .map(|m| {
                    let mut v = others;
                    v[j] = 4.0 * PI * m as f64 / M as f64;
                    reference(&gate, &v)
                })
                .collect();
            let dim = samples[0].len();
            // Frequency k/2 for k in −M/2..M/2 (entries have |k| ≤ 2, so nothing aliases).
            let mut present = Vec::new();
            for k in -(M as i64 / 2)..(M as i64 / 2) {
                let mut strength: f64 = 0.0;
                for (r, col) in (0..dim).flat_map(|r| (0..dim).map(move |col| (r, col))) {
                    let coef: C = samples
                        .iter()
                        .enumerate()
                        .map(|(m, s)| s[r][col] * cis(-2.0 * PI * (k as f64) * m as f64 / M as f64))
                        .sum();
                    strength = strength.max(coef.norm() / M as f64);
                }
                if strength > 1e-9 {
                    present.push(k as f64 / 2.0);
                }
            }
            let mut diffs: Vec<f64> = Vec::new();
            for f in &present {
                for g in &present {
                    if f - g > 0.0 && !diffs.contains(&(f - g)) {
                        diffs.push(f - g);
                    }
                }
            }
            diffs.sort_by(f64::total_cmp);
            assert_eq!(
                gate.angle_spectrum(j),
                Some(&diffs[..]),
                "{} angle {j}: matrix frequencies {present:?}",
                gate.name()
            );
        }
        assert_eq!(gate.angle_spectrum(gate.angles().len()), None);
    }
}

/// SWAPs move no amplitude where they stand: a circuit whose SWAPs compose to the identity
/// compiles to the steps of the same circuit without them, and any other permutation costs at
/// most `n − 1` SWAP steps at the end, however many the circuit has.
#[test]
fn swaps_relabel_qubits_and_only_the_residual_permutation_moves_data() {
    let n = 6;
    let layer = |mut c: Circuit, shift: usize| {
        for q in 0..n {
            c = c.ry(0.3 + q as f64, q).cx(q, (q + 1) % n);
        }
        for _ in 0..shift {
            // One cyclic shift of the qubits as n − 1 adjacent SWAPs.
            for q in 0..n - 1 {
                c = c.swap(q, q + 1);
            }
        }
        c
    };
    let without = (0..3).fold(Circuit::new(n), |c, _| layer(c, 0));
    let returning = (0..3).fold(Circuit::new(n), |c, _| layer(c, 2));
    let shifted = (0..3).fold(Circuit::new(n), |c, _| layer(c, 1));
    let steps = |c: &Circuit| c.compile().unwrap().num_steps();
    // Three layers of two shifts each: six shifts of six qubits, the identity.
    assert_eq!(steps(&returning), steps(&without));
    assert!(steps(&shifted) < steps(&without) + n);
    for c in [&returning, &shifted] {
        let mut expected = StateVector::zero(n).unwrap().amplitudes().to_vec();
        for inst in c.instructions() {
            if let qloop::Instruction::Gate { gate, qubits } = inst {
                let values: Vec<f64> = gate.angles().iter().map(|a| a.constant_part()).collect();
                let m = gate.matrix(&values);
                let dim = 1 << qubits.len();
                let local: Mat = (0..dim)
                    .map(|r| m[r * dim..(r + 1) * dim].to_vec())
                    .collect();
                expected = apply(&embed(&local, qubits, n), &expected);
            }
        }
        let got = c.compile().unwrap().statevector(&[], &[]).unwrap();
        assert_close(got.amplitudes(), &expected, 1e-12, "relabelled swaps");
    }
}
