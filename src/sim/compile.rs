//! The compiler: [`Circuit::compile`] checks a circuit once and turns it into [`Step`]s.
//!
//! Every gate becomes a step whose kernel is chosen from its matrix [`Structure`] (constant
//! gates: from the exact zeros of the matrix, so `u(0, 0, λ)` runs as a phase and `rz(0)` is
//! dropped). Passes, in order:
//! - **relabel**: a SWAP exchanges which physical qubits hold two logical ones, later gates
//!   act where their qubits are held, and the residual permutation ends the program as at
//!   most `n − 1` SWAP steps ([`restore_order`]);
//! - **runs**: uncontrolled one-qubit gates on one qubit with no other gate between them fuse
//!   into one step; consecutive fixed factors multiply out; a run whose one parameterized gate
//!   has a [`TrigForm`] becomes `C + A·cos(kθ) + B·sin(kθ)` ([`Affine`]);
//! - **select**: a run on the target of a controlled one-target gate `U` with a non-diagonal
//!   base joins it: `|0⟩⟨0| ⊗ F + |1⟩⟨1| ⊗ U·F`, one pass;
//! - **diagonal split** (11–16 qubits): a run `G·D` with leading diagonal factors `D` and a
//!   real rest gives `D` up to a merged layer ([`split_diagonal_lead`]);
//! - **gather**: one-qubit diagonal steps move back past steps on other qubits to join the
//!   diagonal step before them ([`gather_diagonals`]);
//! - **fuse** (12 qubits and up): fixed steps merge into dense or diagonal blocks where a
//!   block's one pass costs less than its steps ([`super::fuse`]);
//! - **prefix**: the leading fixed steps are applied to `|0…0⟩` once ([`Prefix`]);
//! - **plan**: states above one cache block get their stages ([`super::blocking`]).

use super::blocking::Blocking;
use super::execute::Schedule;
use super::ir::{Affine, AngleExpr, Factor, ParameterLayout, Prefix, Slot, Step, StepKernel};
use super::kernels::{kernel_for, one_target_kernel, Kernel, Subspace};
use super::mat2::Mat2;
use super::program::Program;
use crate::circuit::{Circuit, Instruction};
use crate::error::{Error, Result};
use crate::gate::{BaseMatrix, Gate, Structure, TrigForm};
use crate::par::Par;
use crate::param::Angle;
use crate::state::StateVector;
use num_complex::Complex64 as C64;

/// Smallest state whose runs give up their leading diagonal factors ([`split_diagonal_lead`]).
/// W2 (`seed_layers`, 3 layers) with the `workloads` example, split against not: 2.7 against
/// 2.4 µs at 8 qubits (below L1 size the complex updates cost little, the extra layer more),
/// even at 10, 17 against 20 µs at 11, 29 against 45 µs at 12, 0.76 against 0.91 ms at 16.
const SPLIT_MIN_QUBITS: usize = 11;

/// Largest state whose fixed prefix a program keeps (2^16 · 16 B = 1 MiB).
const PREFIX_QUBITS: usize = 16;

/// The run `factors` (first rightmost) as `after · G(θ) · before` when exactly one factor
/// `G` is parameterized and has a [`TrigForm`]: the angle, the form, and the fixed products
/// on either side (`None` for an empty side).
fn single_trig_factor(
    factors: &[Factor],
) -> Option<(AngleExpr, TrigForm, Option<Mat2>, Option<Mat2>)> {
    let bound: Vec<usize> = (0..factors.len())
        .filter(|&i| matches!(factors[i], Factor::Bound { .. }))
        .collect();
    let [i] = bound.as_slice() else { return None };
    let Factor::Bound { gate, angles } = &factors[*i] else {
        unreachable!("filtered")
    };
    let form = gate.trig_form()?;
    Some((
        angles[0],
        form,
        fixed_product(&factors[i + 1..]),
        fixed_product(&factors[..*i]),
    ))
}

/// The product of fixed factors (first rightmost), `None` when there are none.
fn fixed_product(factors: &[Factor]) -> Option<Mat2> {
    factors
        .iter()
        .map(|f| match f {
            Factor::Fixed(m) => *m,
            Factor::Bound { .. } => unreachable!("only fixed factors"),
        })
        .reduce(|acc, g| g.mul(&acc))
}

/// `after · m · before` (absent sides are identities).
fn sandwich(after: Option<Mat2>, m: [C64; 4], before: Option<Mat2>) -> [C64; 4] {
    let mut x = Mat2::Dense(m);
    if let Some(b) = before {
        x = x.mul(&b);
    }
    if let Some(a) = after {
        x = a.mul(&x);
    }
    x.dense()
}

/// The sparsity every matrix `c + a·cos + b·sin` shares: that of the entries nonzero in any
/// part.
fn affine_structure(parts: [&[C64; 4]; 3]) -> Structure {
    let zero = C64::new(0.0, 0.0);
    let pattern = std::array::from_fn(|k| match parts.iter().all(|m| m[k] == zero) {
        true => zero,
        false => C64::new(1.0, 0.0),
    });
    Structure::of_exact(&BaseMatrix::One(pattern))
}

/// The step of a controlled one-target gate `U` (control `c`) that absorbs the pending run `F`
/// on its target `t`: `|0⟩⟨0| ⊗ F + |1⟩⟨1| ⊗ U·F`, fixed when every factor is.
fn select_step(c: usize, t: usize, run: Vec<Factor>, controlled: Factor) -> StepKernel {
    let factors = merge_fixed(run);
    let concat = |x: [C64; 4], y: [C64; 4]| -> [C64; 8] {
        std::array::from_fn(|i| if i < 4 { x[i] } else { y[i - 4] })
    };
    let affine = match (single_trig_factor(&factors), &controlled) {
        // F(θ) on the target, then U fixed: [F, U·F].
        (Some((angle, form, after, before)), Factor::Fixed(u)) => {
            let part = |m: [C64; 4]| {
                let f = sandwich(after, m, before);
                concat(f, u.mul(&Mat2::Dense(f)).dense())
            };
            Some(Affine {
                angle,
                k: form.k,
                c: part(form.c),
                a: part(form.a),
                b: part(form.b),
            })
        }
        // A fixed run F, then U(θ): [F, U(θ)·F].
        (None, Factor::Bound { gate, angles })
            if factors.iter().all(|f| matches!(f, Factor::Fixed(_))) =>
        {
            gate.trig_form().map(|form| {
                let f = fixed_product(&factors);
                let zero = [C64::new(0.0, 0.0); 4];
                let base = f.map_or(
                    [C64::new(1.0, 0.0), zero[0], zero[0], C64::new(1.0, 0.0)],
                    |f| f.dense(),
                );
                let part = |m: [C64; 4], fixed: [C64; 4]| concat(fixed, sandwich(None, m, f));
                Affine {
                    angle: angles[0],
                    k: form.k,
                    c: part(form.c, base),
                    a: part(form.a, zero),
                    b: part(form.b, zero),
                }
            })
        }
        _ => None,
    };
    if let Some(form) = affine {
        return StepKernel::AffineSelect { c, t, form };
    }
    match (factors.as_slice(), &controlled) {
        ([Factor::Fixed(f)], Factor::Fixed(u)) => StepKernel::Fixed(Kernel::SelectDense {
            c,
            t,
            m: [f.dense(), u.mul(f).dense()],
        }),
        _ => StepKernel::Select {
            c,
            t,
            factors,
            controlled,
        },
    }
}

/// The run with every stretch of consecutive fixed factors multiplied out (first rightmost).
fn merge_fixed(run: Vec<Factor>) -> Vec<Factor> {
    let mut merged: Vec<Factor> = Vec::with_capacity(run.len());
    for factor in run {
        match (merged.last_mut(), factor) {
            (Some(Factor::Fixed(acc)), Factor::Fixed(g)) => *acc = g.mul(acc),
            (_, factor) => merged.push(factor),
        }
    }
    merged
}

/// The structure of a concrete matrix, read from its exact zeros (for constant-angle gates,
/// so that e.g. `u(0, 0, λ)` runs as a phase and `rx(π)` as an anti-diagonal).
fn detect_structure(declared: Structure, matrix: &BaseMatrix) -> Structure {
    match (matrix, Structure::of_exact(matrix)) {
        // Two-qubit permutations other than SWAP are not read off the zeros: keep the gate's.
        (BaseMatrix::Two(_), Structure::Permutation | Structure::Dense) => declared,
        (_, found) => found,
    }
}

impl Circuit {
    /// Checks the circuit ([`Circuit::validate`]) and compiles it into a [`Program`].
    ///
    /// ```
    /// let err = qloop::Circuit::new(2).cx(0, 2).compile().unwrap_err();
    /// assert_eq!(err.to_string(), "instruction 0 (cx): qubit 2 is out of range for a circuit of 2 qubits");
    /// ```
    pub fn compile(&self) -> Result<Program> {
        self.compile_with(&[], true)
    }

    /// [`Circuit::compile`] without gate fusion into blocks (`src/sim/fuse.rs`): the
    /// reference the fused program is tested and measured against. Every other pass runs.
    pub fn compile_unfused(&self) -> Result<Program> {
        self.compile_with(&[], false)
    }

    /// [`Circuit::compile`] with fixed kernels inserted: `extra` holds `(k, kernel, subspace)`
    /// in increasing `k`, each applied after the first `k` instructions (the density-matrix
    /// executor's channel superoperators, which then fuse and block with the gates around
    /// them); `fuse` runs the fusion pass.
    pub(crate) fn compile_with(
        &self,
        extra: &[(usize, Kernel, Subspace)],
        fuse: bool,
    ) -> Result<Program> {
        self.validate()?;
        if let Some((instruction, reason)) = self.dynamic_instruction() {
            return Err(Error::Dynamic {
                instruction,
                name: self[instruction].name().into(),
                reason,
            });
        }
        let mut extra = extra.iter().peekable();
        let layout = ParameterLayout::of(self);
        let mut terms = Vec::new();
        let mut steps = Vec::new();
        let mut measurements = Vec::new();
        // Uncontrolled single-qubit gates wait here, per qubit, until a gate on more qubits
        // touches that qubit (or the circuit ends); each run becomes one step.
        let mut pending: Vec<Vec<Factor>> = vec![Vec::new(); self.num_qubits()];
        // Whether runs give up their leading diagonal factors to merged layers (see
        // [`split_diagonal_lead`]): for states that run unblocked and outgrow L1.
        let split = (SPLIT_MIN_QUBITS..=Blocking::DEFAULT_QUBITS).contains(&self.num_qubits());
        // SWAPs relabel qubits instead of moving amplitudes: logical qubit `q` is held by
        // physical qubit `physical[q]`, and later gates act where their qubits are held. Only
        // the residual permutation moves data, at the end ([`restore_order`]). Inserted
        // kernels name physical qubits, so a program with them keeps its SWAPs.
        let relabel = extra.peek().is_none();
        let mut physical: Vec<usize> = (0..self.num_qubits()).collect();
        for (index, inst) in self.instructions().iter().enumerate() {
            while let Some((_, kernel, subspace)) = extra.next_if(|e| e.0 <= index) {
                for q in subspace.qubits() {
                    flush(q, &mut pending[q], &mut steps, split);
                }
                steps.push(Step {
                    kernel: StepKernel::Fixed(kernel.clone()),
                    subspace: *subspace,
                });
            }
            let (gate, qubits) = match inst {
                Instruction::Gate {
                    gate: Gate::Swap,
                    qubits,
                } if relabel => {
                    let [a, b] = [qubits[0], qubits[1]];
                    physical.swap(a, b);
                    continue;
                }
                Instruction::Gate { gate, qubits } => (
                    gate,
                    qubits.iter().map(|&q| physical[q]).collect::<Vec<_>>(),
                ),
                Instruction::Measure { qubit, clbit } => {
                    measurements.push((*qubit, *clbit));
                    continue;
                }
                // Excluded by `dynamic_instruction` above.
                Instruction::Barrier { .. }
                | Instruction::Reset { .. }
                | Instruction::Conditional { .. } => continue,
            };
            let angles = gate.angles();
            let constant = angles.iter().all(|a| a.is_constant());
            // The one-qubit matrix of a gate with one target (its base matrix if controlled).
            let mut one_qubit_factor = || {
                if constant {
                    let values: Vec<f64> = angles.iter().map(|a| a.constant_part()).collect();
                    let m = gate.one_target_matrix(&values).expect("one target");
                    Factor::Fixed(Mat2::detect(m))
                } else {
                    Factor::Bound {
                        gate: gate.clone(),
                        angles: compile_angles(&angles, &layout, &mut terms),
                    }
                }
            };
            if qubits.len() == 1 {
                let factor = one_qubit_factor();
                pending[qubits[0]].push(factor);
                continue;
            }
            let nc = gate.num_controls();
            if let [c, t] = *qubits.as_slice() {
                if nc == 1 && !pending[t].is_empty() && gate.structure() != Structure::Diagonal {
                    // The target's pending run F joins the controlled gate: F where the
                    // control is 0, U·F where it is 1, in one pass.
                    flush(c, &mut pending[c], &mut steps, split);
                    let controlled = one_qubit_factor();
                    if split {
                        if let Some(lead) = split_diagonal_lead(&mut pending[t], Some(&controlled))
                        {
                            push_run(t, lead, &mut steps);
                        }
                    }
                    if !pending[t].is_empty() {
                        let run = std::mem::take(&mut pending[t]);
                        steps.push(Step {
                            kernel: select_step(c, t, run, controlled),
                            subspace: Subspace::new(&[], &[c, t]),
                        });
                        continue;
                    }
                    // The whole run was diagonal: the gate follows it as a step of its own.
                }
            }
            for &q in &qubits {
                flush(q, &mut pending[q], &mut steps, split);
            }
            let (controls, target_list) = qubits.split_at(nc);
            let targets = [
                target_list[0],
                *target_list.last().expect("validated arity"),
            ];
            let subspace = Subspace::new(controls, target_list);
            let kernel = if constant {
                let values: Vec<f64> = angles.iter().map(|a| a.constant_part()).collect();
                let matrix = gate.base_matrix(&values);
                StepKernel::Fixed(kernel_for(
                    detect_structure(gate.structure(), &matrix),
                    targets,
                    &matrix,
                ))
            } else {
                StepKernel::Bound {
                    gate: gate.clone(),
                    targets,
                    angles: compile_angles(&angles, &layout, &mut terms),
                }
            };
            if kernel != StepKernel::Fixed(Kernel::Identity) {
                steps.push(Step { kernel, subspace });
            }
        }
        for (_, kernel, subspace) in extra {
            for q in subspace.qubits() {
                flush(q, &mut pending[q], &mut steps, split);
            }
            steps.push(Step {
                kernel: StepKernel::Fixed(kernel.clone()),
                subspace: *subspace,
            });
        }
        restore_order(&mut physical, &mut pending, &mut steps, split);
        for (q, run) in pending.iter_mut().enumerate() {
            flush(q, run, &mut steps, split);
        }
        gather_diagonals(&mut steps);
        if fuse {
            steps = super::fuse::fuse(steps, self.num_qubits());
        }
        let mut schedule = Schedule::new(self.num_qubits(), steps);
        schedule.prefix = fixed_prefix(&schedule);
        Ok(
            Program::new(self.num_clbits(), layout, measurements, terms, schedule)
                .with_blocking(Blocking::default()),
        )
    }

    /// The state this circuit prepares from `|0…0⟩` (before any terminal measurement), for a
    /// circuit without free parameters.
    ///
    /// ```
    /// let psi = qloop::Circuit::new(2).h(0).cx(0, 1).statevector().unwrap();
    /// let h = std::f64::consts::FRAC_1_SQRT_2;
    /// assert!((psi.amplitudes()[0].re - h).abs() < 1e-15 && (psi.amplitudes()[3].re - h).abs() < 1e-15);
    /// ```
    pub fn statevector(&self) -> Result<StateVector> {
        if let Some(p) = self.parameters().into_iter().next() {
            return Err(Error::UnboundParameter {
                name: p.name,
                kind: p.kind,
            });
        }
        self.compile()?.statevector(&[], &[])
    }
}

/// Moves every logical qubit `q` back from `physical[q]` to `q` with at most `n − 1` SWAP
/// steps (position by position: the qubit that belongs at `p` is exchanged with the one
/// there), flushing the pending runs of the qubits they touch first.
fn restore_order(
    physical: &mut [usize],
    pending: &mut [Vec<Factor>],
    steps: &mut Vec<Step>,
    split: bool,
) {
    for p in 0..physical.len() {
        let held = physical[p];
        if held == p {
            continue;
        }
        let other = physical
            .iter()
            .position(|&h| h == p)
            .expect("a permutation");
        for q in [p, held] {
            flush(q, &mut pending[q], steps, split);
        }
        steps.push(Step {
            kernel: StepKernel::Fixed(Kernel::Swap { t: [p, held] }),
            subspace: Subspace::new(&[], &[p, held]),
        });
        physical[other] = held;
        physical[p] = p;
    }
}

fn compile_angles(
    angles: &[&Angle],
    layout: &ParameterLayout,
    terms: &mut Vec<Slot>,
) -> [AngleExpr; 3] {
    let mut exprs = [AngleExpr {
        constant: 0.0,
        first_term: 0,
        num_terms: 0,
    }; 3];
    for (expr, angle) in exprs.iter_mut().zip(angles) {
        *expr = compile_angle(angle, layout, terms);
    }
    exprs
}

/// Emits the pending single-qubit run on qubit `t` as one step and empties it: constant runs
/// become one fixed kernel (dropped if exactly the identity), runs with parameters a
/// [`StepKernel::Fused`] (or a plain bound step when the run is a single gate).
fn flush(t: usize, run: &mut Vec<Factor>, steps: &mut Vec<Step>, split: bool) {
    if run.is_empty() {
        return;
    }
    if split {
        if let Some(lead) = split_diagonal_lead(run, None) {
            push_run(t, lead, steps);
        }
    }
    push_run(t, std::mem::take(run), steps);
}

/// Whether a run factor is diagonal for every parameter value.
fn is_diagonal_factor(factor: &Factor) -> bool {
    match factor {
        Factor::Fixed(m) => matches!(m, Mat2::Diagonal(_)),
        Factor::Bound { gate, .. } => gate.structure() == Structure::Diagonal,
    }
}

/// Splits a run `G·D` (its leading factors `D` diagonal, applied first) when the rest `G` is
/// fixed and real, and so is `U·G` for the controlled factor `U` of a select step: returns
/// `D` and leaves `G` in `run` (empty when the whole run was diagonal and `U` follows).
///
/// Applied as one matrix, a complex `D` makes the whole update complex: four fused operations
/// per register. Split, `D` joins the neighbouring diagonal steps in one merged layer
/// ([`gather_diagonals`]) and `G` (H, X, CX and their products) runs on real arithmetic, two
/// fused operations per register (`simd::is_real`). The `seed_layers` circuit at 12 qubits:
/// W2 in docs/performance.md.
fn split_diagonal_lead(run: &mut Vec<Factor>, controlled: Option<&Factor>) -> Option<Vec<Factor>> {
    let lead = run.iter().take_while(|f| is_diagonal_factor(f)).count();
    if lead == 0 || (lead == run.len() && controlled.is_none()) {
        return None;
    }
    let rest = run[lead..]
        .iter()
        .map(|f| match f {
            Factor::Fixed(m) => Some(*m),
            Factor::Bound { .. } => None,
        })
        .collect::<Option<Vec<Mat2>>>()?;
    let g = rest.into_iter().reduce(|acc, m| m.mul(&acc));
    let real = |m: Mat2| m.dense().iter().all(|z| z.im == 0.0);
    let pays = match (g, controlled) {
        (Some(g), None) => real(g),
        (g, Some(Factor::Fixed(u))) => g.is_none_or(real) && real(g.map_or(*u, |g| u.mul(&g))),
        (_, Some(Factor::Bound { .. })) => false,
        (None, None) => false,
    };
    if !pays {
        return None;
    }
    let rest = run.split_off(lead);
    Some(std::mem::replace(run, rest))
}

/// Moves each one-qubit diagonal step back to just after the nearest diagonal step before it
/// (at most [`GATHER_WINDOW`] steps back) when no step in between touches its qubit, with
/// which it commutes: diagonal steps that the circuit interleaves with gates on other qubits
/// become consecutive and merge into one layer. A step that reads parameters never moves into
/// the leading fixed steps (the fixed prefix).
fn gather_diagonals(steps: &mut Vec<Step>) {
    let lead = steps
        .iter()
        .take_while(|s| matches!(s.kernel, StepKernel::Fixed(_)))
        .count();
    // `out` is the processed prefix; a moved step is inserted at most GATHER_WINDOW places
    // from its end, so the pass is linear in the number of steps.
    let mut out: Vec<Step> = Vec::with_capacity(steps.len());
    for step in steps.drain(..) {
        let i = out.len();
        if step.is_one_qubit_diagonal() {
            let q = step.subspace.qubits().next().expect("one qubit");
            let floor = match step.kernel {
                StepKernel::Fixed(_) => 1,
                _ => lead.max(1),
            };
            let mut j = i;
            while j > floor.max(i.saturating_sub(GATHER_WINDOW))
                && !out[j - 1].is_one_qubit_diagonal()
                && out[j - 1].subspace.qubits().all(|p| p != q)
            {
                j -= 1;
            }
            if j < i && out[j - 1].is_one_qubit_diagonal() {
                out.insert(j, step);
                continue;
            }
        }
        out.push(step);
    }
    *steps = out;
}

/// How far back [`gather_diagonals`] looks for a diagonal step to join.
const GATHER_WINDOW: usize = 64;

/// Pushes the step of a run of single-qubit factors on `t` (first applied first).
fn push_run(t: usize, run: Vec<Factor>, steps: &mut Vec<Step>) {
    if run.is_empty() {
        return;
    }
    let factors = merge_fixed(run);
    let affine = single_trig_factor(&factors).map(|(angle, form, after, before)| {
        let [c, a, b] = [form.c, form.a, form.b].map(|m| sandwich(after, m, before));
        StepKernel::AffineRun {
            t,
            structure: affine_structure([&c, &a, &b]),
            form: Affine {
                angle,
                k: form.k,
                c,
                a,
                b,
            },
        }
    });
    let kernel = match factors.as_slice() {
        _ if affine.is_some() => affine.expect("checked"),
        [Factor::Fixed(m)] => StepKernel::Fixed(one_target_kernel(t, Mat2::detect(m.dense()))),
        [Factor::Bound { gate, angles }] => StepKernel::Bound {
            gate: gate.clone(),
            targets: [t, t],
            angles: *angles,
        },
        _ => StepKernel::Fused { t, factors },
    };
    if kernel != StepKernel::Fixed(Kernel::Identity) {
        steps.push(Step {
            kernel,
            subspace: Subspace::new(&[], &[t]),
        });
    }
}

fn compile_angle(angle: &Angle, layout: &ParameterLayout, terms: &mut Vec<Slot>) -> AngleExpr {
    let first_term = terms.len() as u32;
    for t in angle.terms() {
        let index = layout
            .names(t.param.kind)
            .iter()
            .position(|n| *n == t.param.name)
            .expect("the layout lists every parameter of the circuit");
        terms.push(Slot {
            coeff: t.coeff,
            kind: t.param.kind,
            index: index as u32,
        });
    }
    AngleExpr {
        constant: angle.constant_part(),
        first_term,
        num_terms: angle.terms().len() as u32,
    }
}

/// The [`Prefix`] of `schedule` (when it has leading fixed steps and is small enough): those
/// steps applied to `|0…0⟩`.
fn fixed_prefix(schedule: &Schedule) -> Option<Prefix> {
    let mut steps = schedule
        .steps
        .iter()
        .take_while(|s| matches!(s.kernel, StepKernel::Fixed(_)))
        .count();
    // A merged diagonal layer must not straddle the prefix's end: end it before the layer.
    while steps > 0 && schedule.diagonal_runs[steps - 1] > 1 {
        steps -= 1;
    }
    if steps == 0 || schedule.num_qubits > PREFIX_QUBITS {
        return None;
    }
    let mut state = StateVector::zero(schedule.num_qubits).ok()?;
    let amps = state.amplitudes_mut();
    schedule.execute_unblocked(amps, Par::Seq, 0..steps, |i| {
        match &schedule.steps[i].kernel {
            StepKernel::Fixed(kernel) => kernel.clone(),
            _ => unreachable!("prefix steps are fixed"),
        }
    });
    Some(Prefix {
        steps,
        amplitudes: amps.to_vec(),
    })
}
