//! The compiled step IR: what [`super::compile`] produces, [`super::bind`] turns into kernels
//! and [`super::execute`] applies.
//!
//! A program is a list of [`Step`]s. Each is fixed (its [`Kernel`] known at compile time) or
//! carries what binding needs: the gate and its compiled angles `c₀ + Σ cₖ·vₖ` ([`AngleExpr`],
//! terms in one flat [`Slot`] list), a fused run of one-qubit [`Factor`]s, or an [`Affine`]
//! form `C + A·cos(kθ) + B·sin(kθ)` multiplied out at compile time. The flat parameter vectors
//! are described by [`ParameterLayout`] (see `docs/conventions.md`).

use super::kernels::{one_target_kernel, Kernel, Subspace};
use super::mat2::Mat2;
use crate::circuit::Circuit;
use crate::error::{Error, ParamKind, Result};
use crate::gate::{Gate, Structure};
use num_complex::Complex64 as C64;
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

    /// `circuit` (whose layout this is) with every parameter replaced by its value, after
    /// the same checks as [`ParameterLayout::check`] on both vectors.
    pub fn bind(&self, circuit: &Circuit, weights: &[f64], inputs: &[f64]) -> Result<Circuit> {
        self.check(ParamKind::Weight, weights)?;
        self.check(ParamKind::Input, inputs)?;
        let find = |names: &[String], values: &[f64], name: &str| {
            names.iter().position(|n| n == name).map(|i| values[i])
        };
        Ok(circuit.bind(|p| match p.kind {
            ParamKind::Weight => find(&self.weights, weights, &p.name),
            ParamKind::Input => find(&self.inputs, inputs, &p.name),
        }))
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
pub(crate) struct AngleExpr {
    pub(crate) constant: f64,
    /// Range into the program's term list ([`Slot`]s).
    pub(crate) first_term: u32,
    pub(crate) num_terms: u32,
}

/// One term: coefficient, kind and index into that kind's vector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Slot {
    pub(crate) coeff: f64,
    pub(crate) kind: ParamKind,
    pub(crate) index: u32,
}

/// What a step applies: its kernel when fixed, or what binding needs to form it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StepKernel {
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
    /// before it, at least one parameterized: `|0⟩⟨0| ⊗ F + |1⟩⟨1| ⊗ U·F`.
    Select {
        c: usize,
        t: usize,
        factors: Vec<Factor>,
        controlled: Factor,
    },
    /// A run on `t` whose one parameterized factor has a [`TrigForm`](crate::gate::TrigForm): its product, affine in
    /// the sine and cosine of one angle, was multiplied out here. `structure` holds for every
    /// angle value.
    AffineRun {
        t: usize,
        structure: Structure,
        form: Affine<4>,
    },
    /// A [`StepKernel::Select`] with a single parameterized factor that has a [`TrigForm`](crate::gate::TrigForm):
    /// both matrices `[F, U·F]` (8 entries) affine in one sine and cosine.
    AffineSelect { c: usize, t: usize, form: Affine<8> },
}

/// `c + a·cos(kθ) + b·sin(kθ)` entry-wise for the angle expression θ: a run's matrix (or a
/// select step's pair) with its fixed factors multiplied in at compile time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Affine<const N: usize> {
    pub(crate) angle: AngleExpr,
    pub(crate) k: f64,
    pub(crate) c: [C64; N],
    pub(crate) a: [C64; N],
    pub(crate) b: [C64; N],
}

impl<const N: usize> Affine<N> {
    /// The entries for `(sin, cos)` of `kθ`.
    #[inline(always)]
    pub(crate) fn at(&self, (sin, cos): (f64, f64)) -> [C64; N] {
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
    pub(crate) fn affine_angle(&self) -> Option<(&AngleExpr, f64)> {
        match self {
            StepKernel::AffineRun { form, .. } => Some((&form.angle, form.k)),
            StepKernel::AffineSelect { form, .. } => Some((&form.angle, form.k)),
            _ => None,
        }
    }

    /// The kernel of an affine step for `(sin, cos)` of its angle times `k`.
    #[inline(always)]
    pub(crate) fn affine_kernel(&self, sin_cos: (f64, f64)) -> Kernel {
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

/// One gate of a fused single-qubit run (the base matrix, for a controlled gate).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Factor {
    /// A constant matrix.
    Fixed(Mat2),
    /// A gate with compiled angles.
    Bound { gate: Gate, angles: [AngleExpr; 3] },
}

/// One pass of a program over the state: what it applies and where.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Step {
    pub(crate) kernel: StepKernel,
    pub(crate) subspace: Subspace,
}

impl Step {
    /// Whether the step's kernel is an uncontrolled one-qubit diagonal for every parameter
    /// value (`Diagonal`, `Phase` or `Identity`).
    pub(crate) fn is_one_qubit_diagonal(&self) -> bool {
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

/// The state after the program's leading fixed steps, applied to `|0…0⟩` once at compile time:
/// those steps read no parameter, so every run from `|0…0⟩` starts from this state instead
/// (for example the Hadamard layer that opens most ansätze). Kept for states of at most
/// 16 qubits (`compile::PREFIX_QUBITS`) and used by unblocked runs.
#[derive(Clone, PartialEq)]
pub(crate) struct Prefix {
    /// Number of leading steps it covers.
    pub(crate) steps: usize,
    pub(crate) amplitudes: Vec<C64>,
}

impl std::fmt::Debug for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Prefix({} steps)", self.steps)
    }
}
