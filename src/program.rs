//! A compiled circuit: checked once, run many times with new parameter values.
//!
//! [`Circuit::compile`] validates the circuit and turns every gate into a step whose kernel is
//! chosen from the gate's matrix [`Structure`]. Gates with constant angles get their matrix
//! once, here; for parameterized gates only the angles `c₀ + Σ cₖ·vₖ` are evaluated at run
//! time (into a fixed-size array: the hot path allocates nothing).
//!
//! Runs of uncontrolled single-qubit gates on the same qubit (with no other gate on that qubit
//! between them) become one step: constant runs are multiplied out here, runs with parameters
//! form their 2×2 product on every run (first gate rightmost) and sweep the state once. A run
//! on the target of a controlled one-target gate `U` with a non-diagonal base (CX, CY, CH,
//! CRX, …) joins that gate: `|0⟩⟨0| ⊗ F + |1⟩⟨1| ⊗ U·F` costs one dense pass, not two.
//!
//! A run of a state that fits one cache block starts from the state its leading fixed steps
//! prepare (computed here, once), computes the sines and cosines of its rotation steps in
//! vectorized batches, and applies two or more consecutive one-qubit diagonal steps as one
//! merged layer. From 11 qubits, runs give up leading diagonal factors to such layers when
//! the rest is real, and steps on qubits 0–10 run in groups, block by block in L1; states of
//! at most 16 amplitudes update in registers (see `docs/architecture.md`, "An unblocked run").
//!
//! States larger than a cache block run in stages planned here, once ([`crate::blocking`]):
//! each stage applies many steps per pass over memory. [`Program::with_blocking`] changes or
//! switches off the plan.
//!
//! ```
//! use qloop::{Circuit, Par, Param, StateVector};
//! let theta = Param::weight("theta");
//! let program = Circuit::new(1).ry(theta, 0).compile().unwrap();
//! let mut psi = StateVector::zero(1).unwrap();
//! program.run(&[0.5], &[], &mut psi, Par::Seq).unwrap();
//! assert!((psi.amplitudes()[1].re - 0.25f64.sin()).abs() < 1e-15);
//! ```

use crate::blocking::{Blocking, Plan};
use crate::circuit::{Circuit, Instruction};
use crate::error::{Error, ParamKind, Result};
use crate::gate::{BaseMatrix, Gate, Structure, TrigForm};
use crate::kernels::{self, Kernel, Subspace};
use crate::mat2::Mat2;
use crate::par::Par;
use crate::param::Angle;
use crate::simd;
use crate::state::StateVector;
use crate::trig::{sin_cos, sin_cos_batch};
use num_complex::Complex64 as C64;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The order of the values in the two flat parameter vectors of a program: weights and inputs,
/// each in order of first appearance in the circuit (see `docs/conventions.md`).
///
/// ```
/// use qloop::{Circuit, Param};
/// let c = Circuit::new(1).rx(Param::input("x"), 0).rz(Param::weight("b"), 0).ry(Param::weight("a"), 0);
/// let layout = c.compile().unwrap().layout().clone();
/// assert_eq!(layout.weights, ["b", "a"]);
/// assert_eq!(layout.inputs, ["x"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ParameterLayout {
    /// Names of the trainable weights, in vector order.
    pub weights: Vec<String>,
    /// Names of the data inputs, in vector order.
    pub inputs: Vec<String>,
}

impl ParameterLayout {
    /// The layout of a circuit's parameters.
    pub fn of(circuit: &Circuit) -> Self {
        let mut layout = ParameterLayout::default();
        for p in circuit.parameters() {
            match p.kind {
                ParamKind::Weight => layout.weights.push(p.name),
                ParamKind::Input => layout.inputs.push(p.name),
            }
        }
        layout
    }

    /// The names of one kind.
    pub fn names(&self, kind: ParamKind) -> &[String] {
        match kind {
            ParamKind::Weight => &self.weights,
            ParamKind::Input => &self.inputs,
        }
    }

    /// Checks a value vector of one kind: right length, every value finite.
    pub fn check(&self, kind: ParamKind, values: &[f64]) -> Result<()> {
        let names = self.names(kind);
        if values.len() != names.len() {
            return Err(Error::ParameterLength {
                kind,
                expected: names.len(),
                got: values.len(),
            });
        }
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFiniteParameter {
                kind,
                index,
                name: names[index].clone(),
                value: values[index],
            });
        }
        Ok(())
    }
}

/// An angle compiled against the layout: `constant + Σ coeff · value[slot]`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct AngleExpr {
    constant: f64,
    /// Range into [`Program::terms`].
    first_term: u32,
    num_terms: u32,
}

/// One term: coefficient, kind and index into that kind's vector.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Slot {
    coeff: f64,
    kind: ParamKind,
    index: u32,
}

#[derive(Debug, Clone, PartialEq)]
enum StepKernel {
    /// Matrix known at compile time.
    Fixed(Kernel),
    /// Matrix rebuilt from the angles on every run.
    Bound {
        gate: Gate,
        targets: [usize; 2],
        angles: [AngleExpr; 3],
    },
    /// A run of uncontrolled single-qubit gates on qubit `t`, at least one parameterized: the
    /// 2×2 product (first gate rightmost) is formed on every run and applied in one pass.
    Fused { t: usize, factors: Vec<Factor> },
    /// A controlled one-target gate (control `c`) with the run `factors` on its target `t`
    /// before it, at least one parameterized: see [`select_step`].
    Select {
        c: usize,
        t: usize,
        factors: Vec<Factor>,
        controlled: Factor,
    },
    /// A run on `t` whose one parameterized factor has a [`TrigForm`]: its product, affine in
    /// the sine and cosine of one angle, was multiplied out here. `structure` holds for every
    /// angle value.
    AffineRun {
        t: usize,
        structure: Structure,
        form: Affine<4>,
    },
    /// A [`StepKernel::Select`] with a single parameterized factor that has a [`TrigForm`]:
    /// both matrices `[F, U·F]` (8 entries) affine in one sine and cosine.
    AffineSelect { c: usize, t: usize, form: Affine<8> },
}

/// `c + a·cos(kθ) + b·sin(kθ)` entry-wise for the angle expression θ: a run's matrix (or a
/// select step's pair) with its fixed factors multiplied in at compile time.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Affine<const N: usize> {
    angle: AngleExpr,
    k: f64,
    c: [C64; N],
    a: [C64; N],
    b: [C64; N],
}

impl<const N: usize> Affine<N> {
    /// The entries for `(sin, cos)` of `kθ`.
    #[inline(always)]
    fn at(&self, (sin, cos): (f64, f64)) -> [C64; N] {
        // A plain loop: `array::from_fn` is not always inlined, and this is on the hot path.
        let mut m = self.c;
        for (i, entry) in m.iter_mut().enumerate() {
            *entry = self.c[i] + self.a[i] * cos + self.b[i] * sin;
        }
        m
    }
}

impl StepKernel {
    /// The angle and frequency `k` of an affine step, whose matrix needs `sin_cos(kθ)`.
    #[inline(always)]
    fn affine_angle(&self) -> Option<(&AngleExpr, f64)> {
        match self {
            StepKernel::AffineRun { form, .. } => Some((&form.angle, form.k)),
            StepKernel::AffineSelect { form, .. } => Some((&form.angle, form.k)),
            _ => None,
        }
    }

    /// The kernel of an affine step for `(sin, cos)` of its angle times `k`.
    #[inline(always)]
    fn affine_kernel(&self, sin_cos: (f64, f64)) -> Kernel {
        match self {
            StepKernel::AffineRun { t, structure, form } => {
                one_target_kernel(*t, Mat2::new(*structure, form.at(sin_cos)))
            }
            StepKernel::AffineSelect { c, t, form } => {
                let m = form.at(sin_cos);
                Kernel::SelectDense {
                    c: *c,
                    t: *t,
                    m: [[m[0], m[1], m[2], m[3]], [m[4], m[5], m[6], m[7]]],
                }
            }
            _ => unreachable!("only affine steps"),
        }
    }
}

/// How many affine steps' sines and cosines an unblocked run computes in one batch.
const TRIG_BATCH: usize = 32;

/// Qubits of the blocks in which an unblocked run applies groups of steps on low qubits:
/// 2^11 · 16 B = 32 KiB, within the 48 KiB L1 of the reference machine (W2 at 12 qubits:
/// 29 µs with 11, 31 µs with 10).
const L1_BLOCK_QUBITS: usize = 11;

/// Smallest state whose runs give up their leading diagonal factors ([`split_diagonal_lead`]).
/// W2 (`seed_layers`, 3 layers) with the `workloads` example, split against not: 2.7 against
/// 2.4 µs at 8 qubits (below L1 size the complex updates cost little, the extra layer more),
/// even at 10, 17 against 20 µs at 11, 29 against 45 µs at 12, 0.76 against 0.91 ms at 16.
const SPLIT_MIN_QUBITS: usize = 11;

/// Most steps applied per block in one group (their kernels sit in an array on the stack).
const GROUP_MAX: usize = 16;

/// Smallest state whose diagonal runs are merged into one layer: below it, separate passes
/// over at most 64 amplitudes cost less than the layer's tables (W2 with the `workloads`
/// example at n = 4–8: break-even at 7 qubits).
const LAYER_MIN_QUBITS: usize = 7;

/// The sines and cosines of a run's affine steps, computed [`TRIG_BATCH`] steps ahead with
/// [`sin_cos_batch`] (one vectorized call instead of one polynomial per step).
#[derive(Default)]
struct TrigBatch {
    sin: [f64; TRIG_BATCH],
    cos: [f64; TRIG_BATCH],
    next: usize,
    len: usize,
}

impl TrigBatch {
    /// `sin_cos(kθ)` for affine step `i`; affine steps must ask once each, in order.
    #[inline(always)]
    fn take(&mut self, program: &Program, i: usize, weights: &[f64], inputs: &[f64]) -> (f64, f64) {
        if self.next == self.len {
            let mut theta = [0.0; TRIG_BATCH];
            let angles = program.steps[i..]
                .iter()
                .filter_map(|s| s.kernel.affine_angle())
                .take(TRIG_BATCH);
            self.len = 0;
            for (slot, (angle, k)) in theta.iter_mut().zip(angles) {
                *slot = k * program.eval(angle, weights, inputs);
                self.len += 1;
            }
            let len = self.len;
            sin_cos_batch(&theta[..len], &mut self.sin[..len], &mut self.cos[..len]);
            self.next = 0;
        }
        self.next += 1;
        (self.sin[self.next - 1], self.cos[self.next - 1])
    }
}

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

/// The sparsity every matrix `c + a·cos + b·sin` shares.
fn affine_structure(parts: [&[C64; 4]; 3]) -> Structure {
    let zero = |k: usize| parts.iter().all(|m| m[k] == C64::new(0.0, 0.0));
    if zero(1) && zero(2) {
        Structure::Diagonal
    } else if zero(0) && zero(3) {
        Structure::Permutation
    } else {
        Structure::Dense
    }
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

/// One gate of a fused single-qubit run (the base matrix, for a controlled gate).
#[derive(Debug, Clone, PartialEq)]
enum Factor {
    Fixed(Mat2),
    Bound { gate: Gate, angles: [AngleExpr; 3] },
}

#[derive(Debug, Clone, PartialEq)]
struct Step {
    kernel: StepKernel,
    subspace: Subspace,
}

impl Step {
    /// Whether the step's kernel is an uncontrolled one-qubit diagonal for every parameter
    /// value (`Diagonal`, `Phase` or `Identity`).
    fn is_one_qubit_diagonal(&self) -> bool {
        let diagonal_gate = |gate: &Gate| gate.structure() == Structure::Diagonal;
        self.subspace.ctrl == 0
            && self.subspace.qubits().count() == 1
            && match &self.kernel {
                StepKernel::Fixed(kernel) => {
                    matches!(kernel, Kernel::Diagonal { .. } | Kernel::Phase { .. })
                }
                StepKernel::AffineRun { structure, .. } => *structure == Structure::Diagonal,
                StepKernel::Bound { gate, .. } => diagonal_gate(gate),
                StepKernel::Fused { factors, .. } => factors.iter().all(|f| match f {
                    Factor::Fixed(m) => matches!(m, Mat2::Diagonal(_)),
                    Factor::Bound { gate, .. } => diagonal_gate(gate),
                }),
                StepKernel::Select { .. } | StepKernel::AffineSelect { .. } => false,
            }
    }
}

/// A compiled circuit. See the [module docs](self).
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    num_qubits: usize,
    num_clbits: usize,
    steps: Vec<Step>,
    terms: Vec<Slot>,
    layout: ParameterLayout,
    measurements: Vec<(usize, usize)>,
    blocking: Blocking,
    plan: Option<Plan>,
    prefix: Option<Prefix>,
    /// For each step, how many consecutive steps from it on are uncontrolled one-qubit
    /// diagonals: an unblocked run of [`LAYER_MIN_QUBITS`] or more qubits applies two or more
    /// of them as one merged layer.
    diagonal_runs: Vec<u32>,
}

/// The state after the program's leading fixed steps, applied to `|0…0⟩` once at compile time:
/// those steps read no parameter, so every run from `|0…0⟩` starts from this state instead
/// (for example the Hadamard layer that opens most ansätze). Kept for states of at most
/// [`PREFIX_QUBITS`] qubits and used by unblocked runs.
#[derive(Clone, PartialEq)]
struct Prefix {
    /// Number of leading steps it covers.
    steps: usize,
    amplitudes: Vec<C64>,
}

impl std::fmt::Debug for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Prefix({} steps)", self.steps)
    }
}

/// Largest state whose fixed prefix a program keeps (2^16 · 16 B = 1 MiB).
const PREFIX_QUBITS: usize = 16;

/// Picks the kernel for a 2×2 matrix on target `t`.
#[inline(always)]
fn one_target_kernel(t: usize, m: Mat2) -> Kernel {
    let one = C64::new(1.0, 0.0);
    match m {
        Mat2::Diagonal([d0, d1]) => match (d0 == one, d1 == one) {
            (true, true) => Kernel::Identity,
            (true, false) => Kernel::Phase { t, d: d1 },
            _ => Kernel::Diagonal { t, d: [d0, d1] },
        },
        Mat2::AntiDiagonal([a0, a1]) if a0 == one && a1 == one => Kernel::Flip { t },
        Mat2::AntiDiagonal(a) => Kernel::AntiDiagonal { t, a },
        Mat2::Dense(m) => Kernel::Dense { t, m },
    }
}

/// Picks the kernel for a base matrix of the given structure on `targets`.
fn kernel_for(structure: Structure, targets: [usize; 2], matrix: &BaseMatrix) -> Kernel {
    let one = C64::new(1.0, 0.0);
    let [t, u] = targets;
    match (structure, matrix) {
        (_, BaseMatrix::One(m)) => one_target_kernel(t, Mat2::new(structure, *m)),
        (Structure::Diagonal, BaseMatrix::Two(m)) => {
            let d = [m[0], m[5], m[10], m[15]];
            if d.iter().all(|&x| x == one) {
                Kernel::Identity
            } else {
                Kernel::Diagonal2 { t: [t, u], d }
            }
        }
        (Structure::Permutation, BaseMatrix::Two(_)) => Kernel::Swap { t: [t, u] },
        (Structure::Dense, BaseMatrix::Two(m)) => Kernel::Dense2 { t: [t, u], m: *m },
    }
}

/// The structure of a concrete matrix, read from its exact zeros (for constant-angle gates,
/// so that e.g. `u(0, 0, λ)` runs as a phase and `rx(π)` as an anti-diagonal).
fn detect_structure(declared: Structure, matrix: &BaseMatrix) -> Structure {
    let zero = C64::new(0.0, 0.0);
    match matrix {
        BaseMatrix::One(m) if m[1] == zero && m[2] == zero => Structure::Diagonal,
        BaseMatrix::One(m) if m[0] == zero && m[3] == zero => Structure::Permutation,
        BaseMatrix::One(_) => Structure::Dense,
        BaseMatrix::Two(m) if (0..16).all(|k| k % 5 == 0 || m[k] == zero) => Structure::Diagonal,
        BaseMatrix::Two(_) => declared,
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
        self.validate()?;
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
        for inst in self.instructions() {
            let (gate, qubits) = match inst {
                Instruction::Gate { gate, qubits } => (gate, qubits),
                Instruction::Measure { qubit, clbit } => {
                    measurements.push((*qubit, *clbit));
                    continue;
                }
                Instruction::Barrier { .. } => continue,
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
            for &q in qubits {
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
        for (q, run) in pending.iter_mut().enumerate() {
            flush(q, run, &mut steps, split);
        }
        gather_diagonals(&mut steps);
        Ok(Program {
            num_qubits: self.num_qubits(),
            num_clbits: self.num_clbits(),
            steps,
            terms,
            layout,
            measurements,
            blocking: Blocking::Off,
            plan: None,
            prefix: None,
            diagonal_runs: Vec::new(),
        }
        .with_diagonal_runs()
        .with_fixed_prefix()
        .with_blocking(Blocking::default()))
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
    for i in 0..steps.len() {
        if !steps[i].is_one_qubit_diagonal() {
            continue;
        }
        let q = steps[i].subspace.qubits().next().expect("one qubit");
        let floor = match steps[i].kernel {
            StepKernel::Fixed(_) => 1,
            _ => lead.max(1),
        };
        let mut j = i;
        while j > floor.max(i.saturating_sub(GATHER_WINDOW))
            && !steps[j - 1].is_one_qubit_diagonal()
            && steps[j - 1].subspace.qubits().all(|p| p != q)
        {
            j -= 1;
        }
        if j < i && steps[j - 1].is_one_qubit_diagonal() {
            let step = steps.remove(i);
            steps.insert(j, step);
        }
    }
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

impl Program {
    /// Number of qubits.
    pub fn num_qubits(&self) -> usize {
        self.num_qubits
    }

    /// Number of classical bits.
    pub fn num_clbits(&self) -> usize {
        self.num_clbits
    }

    /// The parameter layout: which name each position of `weights` and `inputs` carries.
    pub fn layout(&self) -> &ParameterLayout {
        &self.layout
    }

    /// The terminal measurements `(qubit, clbit)`, in circuit order.
    pub fn measurements(&self) -> &[(usize, usize)] {
        &self.measurements
    }

    /// Number of kernel steps (gates after fusion, exact identities dropped).
    pub fn num_steps(&self) -> usize {
        self.steps.len()
    }

    /// Number of passes over the state one run makes: the stages of the cache-blocking plan,
    /// or one per step when the program runs unblocked.
    pub fn num_passes(&self) -> usize {
        self.plan
            .as_ref()
            .map_or(self.steps.len(), |plan| plan.num_stages())
    }

    /// The program with its steps planned for `blocking` (compiled programs use
    /// [`Blocking::default`]). Results agree with [`Blocking::Off`] to rounding.
    pub fn with_blocking(mut self, blocking: Blocking) -> Program {
        self.blocking = blocking;
        self.plan = match blocking {
            Blocking::Off => None,
            Blocking::Qubits(k) => {
                let subspaces: Vec<Subspace> = self.steps.iter().map(|s| s.subspace).collect();
                Plan::new(self.num_qubits, &subspaces, k)
            }
        };
        self
    }

    /// The program with its [`Prefix`] computed (when it has leading fixed steps and is small
    /// enough).
    fn with_fixed_prefix(mut self) -> Program {
        let mut steps = self
            .steps
            .iter()
            .take_while(|s| matches!(s.kernel, StepKernel::Fixed(_)))
            .count();
        // A merged diagonal layer must not straddle the prefix's end: end it before the layer.
        while steps > 0 && self.diagonal_runs[steps - 1] > 1 {
            steps -= 1;
        }
        if steps == 0 || self.num_qubits > PREFIX_QUBITS {
            return self;
        }
        let mut state = StateVector::zero(self.num_qubits).expect("at most 2^16 amplitudes");
        let amps = state.amplitudes_mut();
        self.execute_unblocked(amps, Par::Seq, 0..steps, |i| {
            self.kernel_of(&self.steps[i], &[], &[])
        });
        self.prefix = Some(Prefix {
            steps,
            amplitudes: amps.to_vec(),
        });
        self
    }

    /// The program with `diagonal_runs` filled in.
    fn with_diagonal_runs(mut self) -> Program {
        let mut runs = vec![0u32; self.steps.len()];
        for i in (0..self.steps.len()).rev() {
            if self.steps[i].is_one_qubit_diagonal() {
                runs[i] = 1 + runs.get(i + 1).copied().unwrap_or(0);
            }
        }
        self.diagonal_runs = runs;
        self
    }

    /// Sets `state` to where a run from `|0…0⟩` starts: `|0…0⟩` itself, or for an unblocked
    /// program the [`Prefix`] state. Returns the index of the first step still to apply.
    fn start(&self, state: &mut StateVector) -> usize {
        match (&self.plan, &self.prefix) {
            (None, Some(prefix)) => {
                state.amplitudes_mut().copy_from_slice(&prefix.amplitudes);
                prefix.steps
            }
            _ => {
                state.reset();
                0
            }
        }
    }

    /// How this program blocks its steps for cache.
    pub fn blocking(&self) -> Blocking {
        self.blocking
    }

    /// Resets `state` to `|0…0⟩` and applies the program with the given parameter values.
    ///
    /// Checks the vector lengths, that every value is finite and the state size; then runs
    /// without allocating (a cache-blocked run, above 16 qubits, allocates one list for the
    /// kernels of a stage; the thread-local chunk buffers are reused).
    pub fn run(
        &self,
        weights: &[f64],
        inputs: &[f64],
        state: &mut StateVector,
        par: Par,
    ) -> Result<()> {
        self.check(weights, inputs, state)?;
        let first = self.start(state);
        self.apply_unchecked(weights, inputs, state, par, first);
        Ok(())
    }

    /// Applies the program to `state` as it is (no reset), with the same checks as [`Program::run`].
    pub fn apply(
        &self,
        weights: &[f64],
        inputs: &[f64],
        state: &mut StateVector,
        par: Par,
    ) -> Result<()> {
        self.check(weights, inputs, state)?;
        self.apply_unchecked(weights, inputs, state, par, 0);
        Ok(())
    }

    /// Allocates `|0…0⟩` (refusing states too large for memory), runs, and returns the state,
    /// with parallelism from [`Par::auto`].
    pub fn statevector(&self, weights: &[f64], inputs: &[f64]) -> Result<StateVector> {
        self.layout.check(ParamKind::Weight, weights)?;
        self.layout.check(ParamKind::Input, inputs)?;
        let mut state = StateVector::zero(self.num_qubits)?;
        let first = self.start(&mut state);
        self.apply_unchecked(
            weights,
            inputs,
            &mut state,
            Par::auto(self.num_qubits),
            first,
        );
        Ok(state)
    }

    fn check(&self, weights: &[f64], inputs: &[f64], state: &StateVector) -> Result<()> {
        self.layout.check(ParamKind::Weight, weights)?;
        self.layout.check(ParamKind::Input, inputs)?;
        if state.num_qubits() != self.num_qubits {
            return Err(Error::StateSize {
                expected: self.num_qubits,
                got: state.num_qubits(),
            });
        }
        Ok(())
    }

    fn eval(&self, expr: &AngleExpr, weights: &[f64], inputs: &[f64]) -> f64 {
        let start = expr.first_term as usize;
        let slots = &self.terms[start..start + expr.num_terms as usize];
        slots.iter().fold(expr.constant, |acc, s| {
            let v = match s.kind {
                ParamKind::Weight => weights[s.index as usize],
                ParamKind::Input => inputs[s.index as usize],
            };
            acc + s.coeff * v
        })
    }

    /// Applies the steps from `first` on (`first > 0` only for unblocked programs).
    fn apply_unchecked(
        &self,
        weights: &[f64],
        inputs: &[f64],
        state: &mut StateVector,
        par: Par,
        first: usize,
    ) {
        let amps = state.amplitudes_mut();
        if self.plan.is_some() {
            return self.execute(amps, par, first, |i| {
                self.kernel_of(&self.steps[i], weights, inputs)
            });
        }
        // Unblocked: the sines and cosines of the affine steps are computed in batches.
        let mut trig = TrigBatch::default();
        if amps.len() <= simd::TINY_LEN {
            return self.execute_tiny(amps, par, first, &mut trig, weights, inputs);
        }
        self.execute_unblocked(amps, par, first..self.steps.len(), |i| {
            self.batched_kernel_of(i, &mut trig, weights, inputs)
        });
    }

    /// Applies the steps from `first` on to a state of at most [`simd::TINY_LEN`] amplitudes:
    /// affine steps form their matrices in registers and update the state there
    /// ([`simd::tiny_affine`]; the same bits as their kernels), other steps run their kernels.
    fn execute_tiny(
        &self,
        amps: &mut [C64],
        par: Par,
        first: usize,
        trig: &mut TrigBatch,
        weights: &[f64],
        inputs: &[f64],
    ) {
        let cpu = simd::Avx512::detect();
        for (i, step) in self.steps.iter().enumerate().skip(first) {
            let (control, t, parts): (_, _, [&[C64]; 3]) = match &step.kernel {
                StepKernel::AffineRun { t, form, .. } => (None, *t, [&form.c, &form.a, &form.b]),
                StepKernel::AffineSelect { c, t, form } => {
                    (Some(*c), *t, [&form.c, &form.a, &form.b])
                }
                _ => {
                    let kernel = self.kernel_of(step, weights, inputs);
                    kernels::apply(amps, &kernel, &step.subspace, par);
                    continue;
                }
            };
            let sin_cos = trig.take(self, i, weights, inputs);
            let done =
                cpu.is_some_and(|cpu| simd::tiny_affine(amps, control, t, parts, sin_cos, cpu));
            if !done {
                let kernel = step.kernel.affine_kernel(sin_cos);
                kernels::apply(amps, &kernel, &step.subspace, par);
            }
        }
    }

    /// [`Program::kernel_of`] for step `i`, taking an affine step's sine and cosine from
    /// `trig` (the same values, bit for bit).
    #[inline(always)]
    fn batched_kernel_of(
        &self,
        i: usize,
        trig: &mut TrigBatch,
        weights: &[f64],
        inputs: &[f64],
    ) -> Kernel {
        let step = &self.steps[i];
        match step.kernel.affine_angle() {
            Some(_) => step
                .kernel
                .affine_kernel(trig.take(self, i, weights, inputs)),
            None => self.kernel_of(step, weights, inputs),
        }
    }

    /// Applies the steps in `range` (which splits no run of diagonal steps), `kernel(i)`
    /// giving step `i`'s kernel and called once per step in order: one pass per step, except
    /// that two or more consecutive one-qubit diagonal steps are applied as one merged layer
    /// ([`kernels::DiagonalLayer`]), and that above [`L1_BLOCK_QUBITS`] qubits consecutive
    /// steps on the low qubits (with at most one merged layer among them) are applied block by
    /// block, every block in L1 ([`Program::apply_group`]).
    #[inline(always)]
    fn execute_unblocked(
        &self,
        amps: &mut [C64],
        par: Par,
        range: std::ops::Range<usize>,
        mut kernel: impl FnMut(usize) -> Kernel,
    ) {
        let mut i = range.start;
        while i < range.end {
            if self.num_qubits > L1_BLOCK_QUBITS {
                let (end, items) = self.group_end(i, range.end);
                if items >= 2 {
                    self.apply_group(amps, par, i..end, items, &mut kernel);
                    i = end;
                    continue;
                }
            }
            let run = self.merged_run(i);
            if run == 1 {
                kernels::apply(amps, &kernel(i), &self.steps[i].subspace, par);
            } else {
                debug_assert!(i + run <= range.end, "a diagonal run straddles the range");
                let layer = self.layer_of(i..i + run, &mut kernel);
                kernels::apply_diagonal_layer(amps, &layer[..self.num_qubits], par);
            }
            i += run;
        }
    }

    /// How many steps from `i` on an unblocked run applies as one merged diagonal layer (1: the
    /// step alone).
    #[inline(always)]
    fn merged_run(&self, i: usize) -> usize {
        let run = self.diagonal_runs[i] as usize;
        match run >= 2 && (LAYER_MIN_QUBITS..=kernels::LAYER_MAX_QUBITS).contains(&self.num_qubits)
        {
            true => run,
            false => 1,
        }
    }

    /// The entries `diag(d₀, d₁)` per qubit of the merged layer of the steps `range`.
    #[inline(always)]
    fn layer_of(
        &self,
        range: std::ops::Range<usize>,
        kernel: &mut impl FnMut(usize) -> Kernel,
    ) -> [[C64; 2]; kernels::LAYER_MAX_QUBITS] {
        let one = C64::new(1.0, 0.0);
        let mut layer = [[one, one]; kernels::LAYER_MAX_QUBITS];
        for j in range {
            match kernel(j) {
                Kernel::Diagonal { t, d } => layer[t] = [layer[t][0] * d[0], layer[t][1] * d[1]],
                Kernel::Phase { t, d } => layer[t][1] *= d,
                Kernel::Identity => {}
                other => unreachable!("a diagonal step gave {other:?}"),
            }
        }
        layer
    }

    /// The end of the group that starts at step `i` and the number of its items: steps on
    /// qubits below [`L1_BLOCK_QUBITS`] and at most one merged layer, at most [`GROUP_MAX`]
    /// items, within `..end`.
    fn group_end(&self, i: usize, end: usize) -> (usize, usize) {
        let (mut j, mut items, mut layers) = (i, 0, 0);
        while j < end && items < GROUP_MAX {
            let run = self.merged_run(j);
            let low = || self.steps[j].subspace.qubits().all(|q| q < L1_BLOCK_QUBITS);
            match run {
                1 if low() => {}
                1 => break,
                _ if layers == 0 => layers = 1,
                _ => break,
            }
            j += run;
            items += 1;
        }
        (j, items)
    }

    /// Applies the group `range` of `items` items ([`Program::group_end`]) block by block:
    /// every step and the layer on one block of 2^[`L1_BLOCK_QUBITS`] amplitudes, then the
    /// next block. A step on the low qubits only never couples amplitudes of two blocks, and
    /// a diagonal layer scales each amplitude on its own.
    fn apply_group(
        &self,
        amps: &mut [C64],
        par: Par,
        range: std::ops::Range<usize>,
        items: usize,
        kernel: &mut impl FnMut(usize) -> Kernel,
    ) {
        let mut kernels = [Kernel::Identity; GROUP_MAX];
        let mut subspaces = [Subspace::default(); GROUP_MAX];
        let mut layer = None;
        let mut j = range.start;
        for item in 0..items {
            let run = self.merged_run(j);
            if run == 1 {
                kernels[item] = kernel(j);
                subspaces[item] = self.steps[j].subspace;
            } else {
                layer = Some((item, self.layer_of(j..j + run, kernel)));
            }
            j += run;
        }
        debug_assert_eq!(j, range.end);
        let tables = layer
            .as_ref()
            .map(|(item, d)| (*item, kernels::DiagonalLayer::new(&d[..self.num_qubits])));
        let block = |(k, x): (usize, &mut [C64])| {
            for item in 0..items {
                match &tables {
                    Some((at, layer)) if *at == item => layer.apply_at(k << L1_BLOCK_QUBITS, x),
                    _ => kernels::apply(x, &kernels[item], &subspaces[item], Par::Seq),
                }
            }
        };
        match par {
            Par::Seq => amps
                .chunks_mut(1 << L1_BLOCK_QUBITS)
                .enumerate()
                .for_each(block),
            Par::Rayon => amps
                .par_chunks_mut(1 << L1_BLOCK_QUBITS)
                .enumerate()
                .for_each(block),
        }
    }

    /// Applies the steps from `first` on, `kernel_of(i)` giving step `i`'s kernel: one pass
    /// per step, or the stages of the plan (whose local-kernel list is the one allocation of a
    /// blocked run, which always starts at step 0).
    fn execute(
        &self,
        amps: &mut [C64],
        par: Par,
        first: usize,
        kernel_of: impl Fn(usize) -> Kernel,
    ) {
        match &self.plan {
            None => self.execute_unblocked(amps, par, first..self.steps.len(), kernel_of),
            Some(plan) => {
                debug_assert_eq!(first, 0, "blocked runs start at step 0");
                plan.apply(amps, par, &mut Vec::new(), kernel_of)
            }
        }
    }

    /// The kernel a step applies for the given parameter values.
    #[inline]
    fn kernel_of(&self, step: &Step, weights: &[f64], inputs: &[f64]) -> Kernel {
        match &step.kernel {
            StepKernel::Fixed(kernel) => *kernel,
            StepKernel::Bound {
                gate,
                targets,
                angles,
            } => {
                let values = self.angle_values(angles, weights, inputs);
                match gate.one_target_matrix(&values) {
                    Some(m) => one_target_kernel(targets[0], Mat2::new(gate.structure(), m)),
                    None => kernel_for(gate.structure(), *targets, &gate.base_matrix(&values)),
                }
            }
            StepKernel::Fused { t, factors } => {
                one_target_kernel(*t, self.run_matrix(factors, weights, inputs))
            }
            StepKernel::AffineRun { .. } | StepKernel::AffineSelect { .. } => {
                let (angle, k) = step.kernel.affine_angle().expect("affine");
                step.kernel
                    .affine_kernel(sin_cos(k * self.eval(angle, weights, inputs)))
            }
            StepKernel::Select {
                c,
                t,
                factors,
                controlled,
            } => {
                let f = self.run_matrix(factors, weights, inputs);
                let u = self.factor_matrix(controlled, weights, inputs);
                Kernel::SelectDense {
                    c: *c,
                    t: *t,
                    m: [f.dense(), u.mul(&f).dense()],
                }
            }
        }
    }

    /// The values of a gate's (up to three) angles.
    #[inline(always)]
    fn angle_values(&self, angles: &[AngleExpr; 3], weights: &[f64], inputs: &[f64]) -> [f64; 3] {
        [
            self.eval(&angles[0], weights, inputs),
            self.eval(&angles[1], weights, inputs),
            self.eval(&angles[2], weights, inputs),
        ]
    }

    /// The 2×2 matrix of one factor of a run.
    #[inline(always)]
    fn factor_matrix(&self, factor: &Factor, weights: &[f64], inputs: &[f64]) -> Mat2 {
        match factor {
            Factor::Fixed(g) => *g,
            Factor::Bound { gate, angles } => {
                let values = self.angle_values(angles, weights, inputs);
                let m = gate.one_target_matrix(&values).expect("one target");
                Mat2::new(gate.structure(), m)
            }
        }
    }

    /// The product of a non-empty run of factors, first factor rightmost.
    #[inline(always)]
    fn run_matrix(&self, factors: &[Factor], weights: &[f64], inputs: &[f64]) -> Mat2 {
        let (first, rest) = factors.split_first().expect("runs are not empty");
        rest.iter()
            .fold(self.factor_matrix(first, weights, inputs), |acc, f| {
                self.factor_matrix(f, weights, inputs).mul(&acc)
            })
    }

    /// Whether any angle of a step reads an input value.
    fn reads_inputs(&self, step: &Step) -> bool {
        let reads = |angles: &[AngleExpr]| {
            angles.iter().any(|a| {
                let start = a.first_term as usize;
                self.terms[start..start + a.num_terms as usize]
                    .iter()
                    .any(|s| s.kind == ParamKind::Input)
            })
        };
        let factor_reads = |f: &Factor| match f {
            Factor::Fixed(_) => false,
            Factor::Bound { angles, .. } => reads(angles),
        };
        match &step.kernel {
            StepKernel::Fixed(_) => false,
            StepKernel::Bound { angles, .. } => reads(angles),
            StepKernel::AffineRun { form, .. } => reads(&[form.angle]),
            StepKernel::AffineSelect { form, .. } => reads(&[form.angle]),
            StepKernel::Fused { factors, .. } => factors.iter().any(factor_reads),
            StepKernel::Select {
                factors,
                controlled,
                ..
            } => factors.iter().chain([controlled]).any(factor_reads),
        }
    }

    /// Binds the weights once for a batch of inputs: every step that does not read an input
    /// gets its kernel now (its `sin_cos` and matrix products are not repeated per sample).
    /// Checks the weights as [`Program::run`] does.
    pub fn bind_weights(&self, weights: &[f64]) -> Result<WeightBinding> {
        self.layout.check(ParamKind::Weight, weights)?;
        let kernels = self
            .steps
            .iter()
            .map(|step| (!self.reads_inputs(step)).then(|| self.kernel_of(step, weights, &[])))
            .collect();
        Ok(WeightBinding {
            weights: weights.to_vec(),
            kernels,
        })
    }

    /// [`Program::run`] with weights bound by [`Program::bind_weights`]: resets `state` to
    /// `|0…0⟩` and applies the program for `inputs`. Same results, bit for bit.
    pub fn run_bound(
        &self,
        binding: &WeightBinding,
        inputs: &[f64],
        state: &mut StateVector,
        par: Par,
    ) -> Result<()> {
        if binding.kernels.len() != self.steps.len() {
            return Err(Error::Shape {
                context: "Program::run_bound".into(),
                message: "the weight binding was made for another program".into(),
            });
        }
        self.check(&binding.weights, inputs, state)?;
        let first = self.start(state);
        self.execute(state.amplitudes_mut(), par, first, |i| {
            match binding.kernels[i] {
                Some(kernel) => kernel,
                None => self.kernel_of(&self.steps[i], &binding.weights, inputs),
            }
        });
        Ok(())
    }
}

/// A program's weight-only kernels, computed once by [`Program::bind_weights`].
#[derive(Debug, Clone)]
pub struct WeightBinding {
    weights: Vec<f64>,
    kernels: Vec<Option<Kernel>>,
}
