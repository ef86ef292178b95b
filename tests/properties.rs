//! Invariants over random circuits (proptest): norm preserved, `c + c⁻¹ = I`, exact QASM and
//! JSON round trips, and parsers that never panic on arbitrary text.

mod common;
use common::*;
use proptest::prelude::*;
use qloop::{qasm, Blocking, Circuit, Gate, Instruction, Par, PauliSum};

/// A random gate with angles drawn from a range that includes the edge values.
fn gate_strategy() -> impl Strategy<Value = Gate> {
    let angle = prop_oneof![
        Just(0.0),
        Just(std::f64::consts::PI),
        Just(-std::f64::consts::PI),
        Just(2.0 * std::f64::consts::PI),
        Just(1e-9),
        Just(100.0),
        -10.0..10.0f64,
    ];
    (0..Gate::all().len(), angle.clone(), angle.clone(), angle).prop_map(|(k, a, b, c)| {
        let mut g = Gate::all()[k].clone();
        for (slot, v) in g.angles_mut().into_iter().zip([a, b, c]) {
            *slot = v.into();
        }
        g
    })
}

/// A random measurement-free circuit on `n ≤ 5` qubits with barriers.
fn circuit_strategy() -> impl Strategy<Value = Circuit> {
    (1usize..=5).prop_flat_map(|n| {
        let inst = (
            gate_strategy(),
            Just(n).prop_shuffle_qubits(),
            any::<bool>(),
        );
        prop::collection::vec(inst, 0..25).prop_map(move |items| {
            let mut c = Circuit::new(n);
            for (gate, qubits, barrier) in items {
                let k = gate.num_qubits();
                if k <= n {
                    c = c.gate(gate, &qubits[..k]);
                }
                if barrier {
                    c = c.barrier(&qubits[..1]);
                }
            }
            c
        })
    })
}

/// A random circuit on 8 to 11 qubits, wider than the smallest cache block, with some gates
/// symbolic (weights), so blocked plans gather chunks of every shape.
fn wide_circuit_strategy() -> impl Strategy<Value = (Circuit, Vec<f64>)> {
    (8usize..=11).prop_flat_map(|n| {
        let inst = (
            gate_strategy(),
            Just(n).prop_shuffle_qubits(),
            any::<bool>(),
        );
        prop::collection::vec(inst, 0..60).prop_map(move |items| {
            let mut c = Circuit::new(n);
            let mut weights = Vec::new();
            for (mut gate, qubits, symbolic) in items {
                if symbolic {
                    for slot in gate.angles_mut() {
                        weights.push(slot.constant_part());
                        *slot = qloop::Param::weight(format!("w{}", weights.len())).into();
                    }
                }
                c = c.gate(gate.clone(), &qubits[..gate.num_qubits()]);
            }
            (c, weights)
        })
    })
}

/// A random circuit on 12 to 14 qubits (fused: `src/sim/fuse.rs`), drawn either from every
/// gate or from the diagonal ones only (so that diagonal blocks of many qubits form), with
/// gates on few qubits (so that dense blocks form) and some symbolic angles.
fn fusable_circuit_strategy() -> impl Strategy<Value = (Circuit, Vec<f64>)> {
    (12usize..=14, any::<bool>(), 0usize..4).prop_flat_map(|(n, diagonal, span)| {
        let inst = (
            gate_strategy(),
            Just(n).prop_shuffle_qubits(),
            0usize..n,
            prop::bool::weighted(0.1),
        );
        prop::collection::vec(inst, 0..80).prop_map(move |items| {
            let mut c = Circuit::new(n);
            let mut weights = Vec::new();
            for (mut gate, qubits, offset, symbolic) in items {
                if diagonal && gate.structure() != qloop::Structure::Diagonal {
                    continue;
                }
                if symbolic {
                    for slot in gate.angles_mut() {
                        weights.push(slot.constant_part());
                        *slot = qloop::Param::weight(format!("w{}", weights.len())).into();
                    }
                }
                // `span` > 0 keeps the gates within a window of span + 2 qubits.
                let on: Vec<usize> = match span {
                    0 => qubits[..gate.num_qubits()].to_vec(),
                    s => {
                        let window: Vec<usize> = qubits
                            .iter()
                            .copied()
                            .filter(|&q| (q + n - offset) % n < s + 2)
                            .collect();
                        if window.len() < gate.num_qubits() {
                            continue;
                        }
                        window[..gate.num_qubits()].to_vec()
                    }
                };
                c = c.gate(gate, &on);
            }
            (c, weights)
        })
    })
}

/// A random circuit on 2 to 13 qubits in which about every third gate is a SWAP (relabelled
/// at compile time, `src/sim/compile.rs`), with some symbolic angles.
fn swap_heavy_circuit_strategy() -> impl Strategy<Value = (Circuit, Vec<f64>)> {
    (2usize..=13).prop_flat_map(|n| {
        let inst = (
            gate_strategy(),
            Just(n).prop_shuffle_qubits(),
            prop::bool::weighted(0.35),
            prop::bool::weighted(0.2),
        );
        prop::collection::vec(inst, 0..50).prop_map(move |items| {
            let mut c = Circuit::new(n);
            let mut weights = Vec::new();
            for (mut gate, qubits, swap, symbolic) in items {
                if swap {
                    c = c.swap(qubits[0], qubits[1]);
                    continue;
                }
                if gate.num_qubits() > n {
                    continue;
                }
                if symbolic {
                    for slot in gate.angles_mut() {
                        weights.push(slot.constant_part());
                        *slot = qloop::Param::weight(format!("w{}", weights.len())).into();
                    }
                }
                c = c.gate(gate.clone(), &qubits[..gate.num_qubits()]);
            }
            (c, weights)
        })
    })
}

/// The state after `c` (angles bound to `weights` in order of appearance) by the definition:
/// each gate's matrix applied to the amplitudes, group by group.
fn gate_by_gate(
    c: &Circuit,
    weights: &[f64],
    psi: &[num_complex::Complex64],
) -> Vec<num_complex::Complex64> {
    let mut state = psi.to_vec();
    let mut next = 0;
    for inst in c.instructions() {
        let Instruction::Gate { gate, qubits } = inst else {
            continue;
        };
        let values: Vec<f64> = gate
            .angles()
            .iter()
            .map(|a| match a.is_constant() {
                true => a.constant_part(),
                false => {
                    next += 1;
                    weights[next - 1]
                }
            })
            .collect();
        let m = gate.matrix(&values);
        let dim = 1usize << qubits.len();
        let local = |i: usize| {
            qubits
                .iter()
                .enumerate()
                .fold(0, |r, (j, &q)| r | ((i >> q & 1) << j))
        };
        let clear: usize = qubits.iter().map(|q| 1usize << q).sum();
        let spread = |r: usize| -> usize {
            qubits
                .iter()
                .enumerate()
                .filter(|(j, _)| r >> j & 1 == 1)
                .map(|(_, q)| 1usize << q)
                .sum()
        };
        state = (0..state.len())
            .map(|i| {
                let r = local(i);
                (0..dim)
                    .map(|col| m[r * dim + col] * state[(i & !clear) | spread(col)])
                    .sum()
            })
            .collect();
    }
    state
}

trait ShuffleQubits {
    fn prop_shuffle_qubits(self) -> BoxedStrategy<Vec<usize>>;
}

impl ShuffleQubits for Just<usize> {
    fn prop_shuffle_qubits(self) -> BoxedStrategy<Vec<usize>> {
        Just((0..self.0).collect::<Vec<usize>>())
            .prop_shuffle()
            .boxed()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn norm_is_preserved(c in circuit_strategy()) {
        let psi = c.statevector().unwrap();
        prop_assert!((psi.norm_sqr() - 1.0).abs() < tol(psi.len()) * c.len().max(1) as f64);
    }

    #[test]
    fn circuit_followed_by_its_inverse_is_the_identity(c in circuit_strategy()) {
        let n = c.num_qubits();
        let psi = (c.clone() + c.inverse().unwrap()).statevector().unwrap();
        let mut zero = vec![qloop_c(0.0); 1 << n];
        zero[0] = qloop_c(1.0);
        assert_close(psi.amplitudes(), &zero, 1e-12, "c + c.inverse()");
    }

    #[test]
    fn qasm_round_trip_is_exact(c in circuit_strategy()) {
        let text = qasm::export(&c).unwrap();
        prop_assert_eq!(qasm::parse(&text, None).unwrap(), c);
    }

    #[test]
    fn json_round_trip_is_exact(c in circuit_strategy()) {
        prop_assert_eq!(Circuit::from_json(&c.to_json()).unwrap(), c);
    }

    #[test]
    fn serial_and_parallel_runs_agree(c in circuit_strategy()) {
        let program = c.compile().unwrap();
        let psi = random_state(c.num_qubits(), 5);
        let (mut a, mut b) = (psi.clone(), psi);
        program.apply(&[], &[], &mut a, Par::Seq).unwrap();
        program.apply(&[], &[], &mut b, Par::Rayon).unwrap();
        prop_assert_eq!(a.amplitudes(), b.amplitudes());
    }

    /// Fused single-qubit runs (constant and parameterized factors) against applying every
    /// gate's dense matrix one at a time.
    #[test]
    fn compiled_program_matches_gate_by_gate_dense_reference(c in circuit_strategy(), symbolic in any::<bool>()) {
        let n = c.num_qubits();
        let psi = random_state(n, 9);
        let mut expected = psi.amplitudes().to_vec();
        let mut weights = Vec::new();
        let mut compiled = Circuit::new(n);
        for inst in c.instructions() {
            if let Instruction::Gate { gate, qubits } = inst {
                let values: Vec<f64> = gate.angles().iter().map(|a| a.constant_part()).collect();
                let m = gate.matrix(&values);
                let dim = 1 << qubits.len();
                let local: Mat = (0..dim).map(|r| m[r * dim..(r + 1) * dim].to_vec()).collect();
                expected = apply(&embed(&local, qubits, n), &expected);
                let mut g = gate.clone();
                if symbolic {
                    for (slot, v) in g.angles_mut().into_iter().zip(&values) {
                        *slot = qloop::Param::weight(format!("w{}", weights.len())).into();
                        weights.push(*v);
                    }
                }
                compiled = compiled.gate(g, qubits);
            }
        }
        let program = compiled.compile().unwrap();
        let mut state = psi.clone();
        program.apply(&weights, &[], &mut state, Par::Seq).unwrap();
        assert_close(state.amplitudes(), &expected, 1e-12, "compiled vs dense");
    }

    /// Cache-blocked stages (small blocks, so every gather shape occurs) against one pass per
    /// step, serial and parallel: the planner changes no amplitude by more than 1e-12.
    #[test]
    fn blocked_plans_match_one_pass_per_step((c, weights) in wide_circuit_strategy(), block in 7usize..=10) {
        let n = c.num_qubits();
        let psi = random_state(n, 11);
        let reference = c.compile().unwrap().with_blocking(Blocking::Off);
        let mut expected = psi.clone();
        reference.apply(&weights, &[], &mut expected, Par::Seq).unwrap();
        let blocked = reference.clone().with_blocking(Blocking::Qubits(block));
        for par in [Par::Seq, Par::Rayon] {
            let mut state = psi.clone();
            blocked.apply(&weights, &[], &mut state, par).unwrap();
            assert_close(state.amplitudes(), expected.amplitudes(), 1e-12, "blocked vs unblocked");
        }
    }

    /// Weights bound once per batch give exactly what binding everything per run gives.
    #[test]
    fn run_bound_equals_run(c in circuit_strategy()) {
        let n = c.num_qubits();
        let (mut weights, mut inputs) = (Vec::new(), Vec::new());
        let mut symbolic = Circuit::new(n);
        for inst in c.instructions() {
            if let Instruction::Gate { gate, qubits } = inst {
                let mut g = gate.clone();
                for slot in g.angles_mut() {
                    let v = slot.constant_part();
                    let k = weights.len() + inputs.len();
                    *slot = if k % 2 == 0 {
                        weights.push(v);
                        qloop::Param::weight(format!("w{k}")).into()
                    } else {
                        inputs.push(v);
                        qloop::Param::input(format!("x{k}")).into()
                    };
                }
                symbolic = symbolic.gate(g, qubits);
            }
        }
        let program = symbolic.compile().unwrap();
        let mut a = qloop::StateVector::zero(n).unwrap();
        let mut b = a.clone();
        program.run(&weights, &inputs, &mut a, Par::Seq).unwrap();
        let binding = program.bind_weights(&weights).unwrap();
        program.run_bound(&binding, &inputs, &mut b, Par::Seq).unwrap();
        prop_assert_eq!(a.amplitudes(), b.amplitudes());
    }

    /// Fused programs (dense blocks up to 5 qubits, diagonal blocks up to 8) against the
    /// definition, gate by gate; serial and parallel runs bit for bit, unblocked and blocked.
    #[test]
    fn fused_programs_match_the_gate_by_gate_definition((c, weights) in fusable_circuit_strategy()) {
        let n = c.num_qubits();
        let psi = random_state(n, 13);
        let expected = gate_by_gate(&c, &weights, psi.amplitudes());
        let fused = c.compile().unwrap();
        for program in [fused.clone(), fused.with_blocking(Blocking::Qubits(9))] {
            let (mut a, mut b) = (psi.clone(), psi.clone());
            program.apply(&weights, &[], &mut a, Par::Seq).unwrap();
            program.apply(&weights, &[], &mut b, Par::Rayon).unwrap();
            prop_assert_eq!(a.amplitudes(), b.amplitudes());
            assert_close(a.amplitudes(), &expected, 1e-12, "fused vs gate by gate");
        }
    }

    /// SWAPs relabel qubits and the program restores the order at its end: the state equals
    /// the definition, gate by gate, unblocked and in small cache blocks, serial and parallel.
    #[test]
    fn relabelled_swaps_match_the_gate_by_gate_definition((c, weights) in swap_heavy_circuit_strategy()) {
        let n = c.num_qubits();
        let psi = random_state(n, 17);
        let expected = gate_by_gate(&c, &weights, psi.amplitudes());
        let program = c.compile().unwrap();
        let blocked = program.clone().with_blocking(Blocking::Qubits(n.saturating_sub(3).max(1)));
        for program in [program, blocked] {
            for par in [Par::Seq, Par::Rayon] {
                let mut state = psi.clone();
                program.apply(&weights, &[], &mut state, par).unwrap();
                assert_close(state.amplitudes(), &expected, 1e-12, "relabelled vs gate by gate");
            }
        }
    }

    #[test]
    fn qasm_parser_never_panics(text in "\\PC{0,200}") {
        let _ = qasm::parse(&text, None);
    }

    #[test]
    fn qasm_parser_never_panics_on_near_valid_input(body in "[a-z0-9_\\[\\]\\(\\),;+\\-*/^>. \\n]{0,120}") {
        let _ = qasm::parse(&format!("OPENQASM 2.0;\ninclude \"qelib1.inc\";\nqreg q[3];\ncreg c[3];\n{body}"), None);
    }

    #[test]
    fn observable_parser_never_panics(text in "[IXYZ0-9 .eE*+\\-]{0,40}") {
        let _ = text.parse::<PauliSum>();
    }
}

fn qloop_c(re: f64) -> num_complex::Complex64 {
    c(re, 0.0)
}

#[test]
fn composition_operators_and_macro() {
    let a = Circuit::new(2).h(0);
    let b = Circuit::new(3).cx(0, 2);
    let sum = a.clone() + &b;
    assert_eq!(sum.num_qubits(), 3);
    assert_eq!(sum.len(), 2);
    let mut acc = a.clone();
    acc += &b;
    assert_eq!(acc, sum);
    let mut ext = a.clone();
    ext.extend(b.iter().cloned());
    assert_eq!(ext.instructions(), sum.instructions());
    let collected: Circuit = sum.iter().cloned().collect();
    assert_eq!(collected, sum);
    assert_eq!(a.repeat(3), Circuit::new(2).h(0).h(0).h(0));
    assert!(a.repeat(0).is_empty());
    let theta = qloop::Param::weight("theta");
    let m = qloop::circuit!(3; h(0), cx(0, 1), ccx(0, 1, 2), rz(2.0 * &theta + 0.5, 2), u(0.1, 0.2, 0.3, 1), barrier(&[0, 1]), measure(2, 0));
    let built = Circuit::new(3)
        .h(0)
        .cx(0, 1)
        .ccx(0, 1, 2)
        .rz(2.0 * &theta + 0.5, 2)
        .u(0.1, 0.2, 0.3, 1)
        .barrier(&[0, 1])
        .measure(2, 0);
    assert_eq!(m, built);
    assert!(matches!(
        m[4],
        Instruction::Gate {
            gate: Gate::U(..),
            ..
        }
    ));
}
