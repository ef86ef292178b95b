//! Binding: the one place that turns parameter values into kernels.
//!
//! A compiled angle is `θ = c₀ + Σ cₖ·v[sₖ]` over the weight and input vectors. A step's kernel
//! for given values is its fixed kernel, its gate's matrix at the angles, the 2×2 product of a
//! fused run (first factor rightmost), or an affine form at `(sin kθ, cos kθ)`. A [`Binder`]
//! hands the executor one kernel per step; [`Program::run`](super::Program::run),
//! [`Program::run_bound`](super::Program::run_bound) and `run_batch` all bind through it, so
//! they cannot round differently. Steps that read no input can be bound once for many inputs
//! ([`WeightBinding`]); a binder takes those kernels as they are.
//!
//! The sines and cosines of affine steps asked for in order are computed [`TRIG_BATCH`] at a
//! time with `sin_cos_batch`, whose lanes give the scalar `sin_cos` bit for bit.

use super::execute::Schedule;
use super::ir::{AngleExpr, Factor, Slot, Step, StepKernel};
use super::kernels::{kernel_for, one_target_kernel, Kernel};
use super::mat2::Mat2;
use super::trig::{sin_cos, sin_cos_batch};
use crate::error::ParamKind;

/// How many affine steps' sines and cosines a binder computes in one batch.
const TRIG_BATCH: usize = 32;

/// The values one run binds: the compiled angle terms and the two parameter vectors.
#[derive(Clone, Copy)]
pub(crate) struct Values<'a> {
    pub(crate) terms: &'a [Slot],
    pub(crate) weights: &'a [f64],
    pub(crate) inputs: &'a [f64],
}

impl Values<'_> {
    /// `c₀ + Σ cₖ·v[sₖ]`.
    #[inline(always)]
    fn eval(&self, expr: &AngleExpr) -> f64 {
        let start = expr.first_term as usize;
        let slots = &self.terms[start..start + expr.num_terms as usize];
        slots.iter().fold(expr.constant, |acc, s| {
            let v = match s.kind {
                ParamKind::Weight => self.weights[s.index as usize],
                ParamKind::Input => self.inputs[s.index as usize],
            };
            acc + s.coeff * v
        })
    }

    /// The values of a gate's (up to three) angles.
    #[inline(always)]
    fn angle_values(&self, angles: &[AngleExpr; 3]) -> [f64; 3] {
        [
            self.eval(&angles[0]),
            self.eval(&angles[1]),
            self.eval(&angles[2]),
        ]
    }

    /// The 2×2 matrix of one factor of a run.
    #[inline(always)]
    fn factor_matrix(&self, factor: &Factor) -> Mat2 {
        match factor {
            Factor::Fixed(g) => *g,
            Factor::Bound { gate, angles } => {
                let values = self.angle_values(angles);
                let m = gate.one_target_matrix(&values).expect("one target");
                Mat2::new(gate.structure(), m)
            }
        }
    }

    /// The product of a non-empty run of factors, first factor rightmost.
    #[inline(always)]
    fn run_matrix(&self, factors: &[Factor]) -> Mat2 {
        let (first, rest) = factors.split_first().expect("runs are not empty");
        rest.iter().fold(self.factor_matrix(first), |acc, f| {
            self.factor_matrix(f).mul(&acc)
        })
    }

    /// The kernel of `step` for these values, with `sin_cos` for an affine step's `kθ`.
    #[inline(always)]
    fn kernel_with(&self, step: &Step, sin_cos: impl FnOnce(f64) -> (f64, f64)) -> Kernel {
        match &step.kernel {
            StepKernel::Fixed(kernel) => kernel.clone(),
            StepKernel::Bound {
                gate,
                targets,
                angles,
            } => {
                let values = self.angle_values(angles);
                match gate.one_target_matrix(&values) {
                    Some(m) => one_target_kernel(targets[0], Mat2::new(gate.structure(), m)),
                    None => kernel_for(gate.structure(), *targets, &gate.base_matrix(&values)),
                }
            }
            StepKernel::Fused { t, factors } => one_target_kernel(*t, self.run_matrix(factors)),
            StepKernel::AffineRun { .. } | StepKernel::AffineSelect { .. } => {
                let (angle, k) = step.kernel.affine_angle().expect("affine");
                step.kernel.affine_kernel(sin_cos(k * self.eval(angle)))
            }
            StepKernel::Select {
                c,
                t,
                factors,
                controlled,
            } => {
                let f = self.run_matrix(factors);
                let u = self.factor_matrix(controlled);
                Kernel::SelectDense {
                    c: *c,
                    t: *t,
                    m: [f.dense(), u.mul(&f).dense()],
                }
            }
        }
    }

    /// The kernel of `step` for these values (the scalar `sin_cos`).
    #[inline]
    pub(crate) fn kernel(&self, step: &Step) -> Kernel {
        self.kernel_with(step, sin_cos)
    }
}

/// Whether any angle of a step reads an input value.
fn reads_inputs(terms: &[Slot], step: &Step) -> bool {
    let reads = |angles: &[AngleExpr]| {
        angles.iter().any(|a| {
            let start = a.first_term as usize;
            terms[start..start + a.num_terms as usize]
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

/// A program's weight-only kernels, computed once by
/// [`Program::bind_weights`](super::Program::bind_weights).
#[derive(Debug, Clone)]
pub struct WeightBinding {
    pub(crate) weights: Vec<f64>,
    pub(crate) kernels: Vec<Option<Kernel>>,
}

impl WeightBinding {
    /// Binds every step of `steps` that reads no input (checked values).
    pub(crate) fn new(steps: &[Step], terms: &[Slot], weights: &[f64]) -> WeightBinding {
        let values = Values {
            terms,
            weights,
            inputs: &[],
        };
        let kernels = steps
            .iter()
            .map(|step| (!reads_inputs(terms, step)).then(|| values.kernel(step)))
            .collect();
        WeightBinding {
            weights: weights.to_vec(),
            kernels,
        }
    }
}

/// Kernels bound ahead of a run: none (`()`, a plain run; the checks compile away) or a
/// [`WeightBinding`]'s, one per step.
pub(crate) trait Prebound: Copy {
    /// Step `i`'s kernel, if it was bound ahead.
    fn get(self, i: usize) -> Option<Kernel>;
}

impl Prebound for () {
    #[inline(always)]
    fn get(self, _: usize) -> Option<Kernel> {
        None
    }
}

impl Prebound for &[Option<Kernel>] {
    #[inline(always)]
    fn get(self, i: usize) -> Option<Kernel> {
        self[i].clone()
    }
}

/// Hands an executor the kernels of one run's steps (see the [module docs](self)).
pub(crate) struct Binder<'a, B: Prebound> {
    steps: &'a [Step],
    values: Values<'a>,
    /// Kernels bound ahead, taken as they are.
    bound: B,
    trig: TrigBatch,
}

impl<'a, B: Prebound> Binder<'a, B> {
    /// A binder for `values`, with the kernels of `bound` taken as they are.
    pub(crate) fn new(schedule: &'a Schedule, values: Values<'a>, bound: B) -> Binder<'a, B> {
        Binder {
            steps: &schedule.steps,
            values,
            bound,
            trig: TrigBatch::default(),
        }
    }

    #[inline(always)]
    fn bound(&self, i: usize) -> Option<Kernel> {
        self.bound.get(i)
    }

    /// Step `i`'s kernel; steps must be asked for in increasing order (the sines of affine
    /// steps are batched ahead).
    #[inline(always)]
    pub(crate) fn next(&mut self, i: usize) -> Kernel {
        if let Some(kernel) = self.bound(i) {
            return kernel;
        }
        let step = &self.steps[i];
        match step.kernel.affine_angle() {
            Some(_) => step.kernel.affine_kernel(self.sin_cos(i)),
            None => self.values.kernel(step),
        }
    }

    /// Step `i`'s kernel, in any order (the scalar `sin_cos`: the same bits as [`Binder::next`]).
    #[inline]
    pub(crate) fn at(&self, i: usize) -> Kernel {
        match self.bound(i) {
            Some(kernel) => kernel,
            None => self.values.kernel(&self.steps[i]),
        }
    }

    /// Whether step `i`'s kernel was bound ahead.
    #[inline(always)]
    pub(crate) fn is_bound(&self, i: usize) -> bool {
        self.bound(i).is_some()
    }

    /// `sin_cos(kθ)` of affine step `i` (not bound ahead), in increasing order as
    /// [`Binder::next`]: from the current batch, or a new one over the next [`TRIG_BATCH`]
    /// affine steps that are not bound ahead.
    #[inline(always)]
    pub(crate) fn sin_cos(&mut self, i: usize) -> (f64, f64) {
        let trig = &mut self.trig;
        if trig.next == trig.len {
            let mut theta = [0.0; TRIG_BATCH];
            let bound = self.bound;
            let angles = self.steps[i..]
                .iter()
                .enumerate()
                .filter(|(j, _)| bound.get(i + j).is_none())
                .filter_map(|(_, s)| s.kernel.affine_angle())
                .take(TRIG_BATCH);
            trig.len = 0;
            for (slot, (angle, k)) in theta.iter_mut().zip(angles) {
                *slot = k * self.values.eval(angle);
                trig.len += 1;
            }
            let len = trig.len;
            sin_cos_batch(&theta[..len], &mut trig.sin[..len], &mut trig.cos[..len]);
            trig.next = 0;
        }
        trig.next += 1;
        (trig.sin[trig.next - 1], trig.cos[trig.next - 1])
    }
}

/// The sines and cosines of the next affine steps of a run.
#[derive(Default)]
struct TrigBatch {
    sin: [f64; TRIG_BATCH],
    cos: [f64; TRIG_BATCH],
    next: usize,
    len: usize,
}
