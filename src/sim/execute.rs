//! Execution: a [`Schedule`] of steps applied to a slice of amplitudes, with kernels from a
//! [`Binder`], and nothing else of the program.
//!
//! An unblocked state (≤ 16 qubits) runs step by step, with these shortcuts: it starts from the
//! state the leading fixed steps prepare ([`Prefix`], computed at compile time); two or more
//! consecutive uncontrolled one-qubit diagonal steps run as one merged layer
//! ([`kernels::DiagonalLayer`], from [`LAYER_MIN_QUBITS`] qubits); above [`L1_BLOCK_QUBITS`]
//! qubits, consecutive steps on the low qubits run block by block, each block in L1; states of
//! at most 16 amplitudes update in registers. A larger state runs the stages of its cache-blocking
//! [`Plan`]. See `docs/architecture.md`, "An unblocked run".

use super::bind::{Binder, Prebound};
use super::blocking::Plan;
use super::ir::{Prefix, Step, StepKernel};
use super::kernels::{self, Kernel, Subspace};
use super::simd::{self, Cpu};
use super::single::KernelSingle;
use crate::aligned::Aligned;
use crate::par::Par;
use num_complex::{Complex32 as C32, Complex64 as C64};
use rayon::prelude::*;
use std::cell::RefCell;

/// Unblocked single-precision runs of at most this many qubits compute in double precision and
/// round once: such a state sits in the L2 cache, where `f32` saves no memory traffic, and
/// rounding every step's kernel costs more than the step (training Iris at 4–12 qubits ran
/// 1.7–5× slower that way; `docs/performance.md`, "Single precision").
pub(crate) const ROUNDED_MAX_QUBITS: usize = 16;

thread_local! {
    /// The double-precision state of a small single-precision run, per thread.
    static ROUNDED: RefCell<Aligned<C64>> = const { RefCell::new(Aligned::new()) };
}

/// Qubits of the blocks in which an unblocked run applies groups of steps on low qubits:
/// 2^11 · 16 B = 32 KiB, within the 48 KiB L1 of the reference machine (W2 at 12 qubits:
/// 29 µs with 11, 31 µs with 10).
pub(crate) const L1_BLOCK_QUBITS: usize = 11;

/// Most steps applied per block in one group (their kernels sit in an array on the stack).
const GROUP_MAX: usize = 16;

/// Smallest state whose diagonal runs are merged into one layer: below it, separate passes
/// over at most 64 amplitudes cost less than the layer's tables (W2 with the `workloads`
/// example at n = 4–8: break-even at 7 qubits).
const LAYER_MIN_QUBITS: usize = 7;

/// What execution sees of a compiled program: its steps in order, how they merge, the
/// cache-blocking plan, the fixed prefix and the CPU's features.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Schedule {
    pub(crate) num_qubits: usize,
    pub(crate) steps: Vec<Step>,
    /// For each step, how many consecutive steps from it on are uncontrolled one-qubit
    /// diagonals: an unblocked run of [`LAYER_MIN_QUBITS`] or more qubits applies two or more
    /// of them as one merged layer.
    pub(crate) diagonal_runs: Vec<u32>,
    pub(crate) plan: Option<Plan>,
    pub(crate) prefix: Option<Prefix>,
    pub(crate) cpu: Cpu,
}

impl Schedule {
    /// The schedule of `steps` on `num_qubits` qubits, unblocked and without a prefix.
    pub(crate) fn new(num_qubits: usize, steps: Vec<Step>) -> Schedule {
        let mut diagonal_runs = vec![0u32; steps.len()];
        for i in (0..steps.len()).rev() {
            if steps[i].is_one_qubit_diagonal() {
                diagonal_runs[i] = 1 + diagonal_runs.get(i + 1).copied().unwrap_or(0);
            }
        }
        Schedule {
            num_qubits,
            steps,
            diagonal_runs,
            plan: None,
            prefix: None,
            cpu: Cpu::detect(),
        }
    }

    /// The subspaces of the steps, in order (what the cache-blocking planner reads).
    pub(crate) fn subspaces(&self) -> Vec<Subspace> {
        self.steps.iter().map(|s| s.subspace).collect()
    }

    /// Sets `amps` to where a run from `|0…0⟩` starts: `|0…0⟩` itself, or for an unblocked
    /// schedule the [`Prefix`] state. Returns the index of the first step still to apply.
    pub(crate) fn start(&self, amps: &mut [C64]) -> usize {
        self.start_with(amps, |amps| {
            amps.fill(C64::new(0.0, 0.0));
            amps[0] = C64::new(1.0, 0.0);
        })
    }

    /// [`Schedule::start`] for `amps` that already hold `|0…0⟩` (a fresh state): nothing to
    /// write unless the [`Prefix`] state replaces them, which spares a large state a pass.
    pub(crate) fn start_fresh(&self, amps: &mut [C64]) -> usize {
        debug_assert!(amps[0] == C64::new(1.0, 0.0));
        self.start_with(amps, |_| ())
    }

    fn start_with(&self, amps: &mut [C64], zero: impl FnOnce(&mut [C64])) -> usize {
        match (&self.plan, &self.prefix) {
            (None, Some(prefix)) => {
                amps.copy_from_slice(&prefix.amplitudes);
                prefix.steps
            }
            _ => {
                zero(amps);
                0
            }
        }
    }

    /// Applies the steps from `first` on (`first > 0` only for unblocked schedules), with the
    /// kernels `binder` gives: the stages of the plan, the tiny path, or the unblocked path.
    pub(crate) fn run<B: Prebound>(
        &self,
        amps: &mut [C64],
        par: Par,
        first: usize,
        binder: &mut Binder<B>,
    ) {
        if let Some(plan) = &self.plan {
            debug_assert_eq!(first, 0, "blocked runs start at step 0");
            // The local-kernel list is the one allocation of a blocked run.
            return plan.apply(amps, par, &mut Vec::new(), self.cpu, |i| binder.at(i));
        }
        if amps.len() <= simd::TINY_LEN {
            return self.execute_tiny(amps, par, first, binder);
        }
        self.execute_unblocked(amps, par, first..self.steps.len(), |i| binder.next(i));
    }

    /// Runs every step on a single-precision state from `|0…0⟩`: the stages of the plan; an
    /// unblocked state of at most [`ROUNDED_MAX_QUBITS`] qubits in double precision, rounded
    /// to `f32` once at the end; a larger unblocked one from the [`Prefix`] state rounded to
    /// `f32`, one step after the other, each kernel rounded to `f32` as it is applied
    /// ([`super::single`]; the merged layers and L1 groups are shortcuts of the
    /// double-precision path).
    pub(crate) fn run_single<B: Prebound>(
        &self,
        amps: &mut [C32],
        par: Par,
        binder: &mut Binder<B>,
    ) {
        amps.fill(C32::new(0.0, 0.0));
        amps[0] = C32::new(1.0, 0.0);
        if let Some(plan) = &self.plan {
            return plan.apply(amps, par, &mut Vec::new(), self.cpu, |i| binder.at(i));
        }
        if amps.len() <= 1 << ROUNDED_MAX_QUBITS {
            return ROUNDED.with(|buffer| {
                let buffer = &mut *buffer.borrow_mut();
                buffer.resize(amps.len(), C64::new(0.0, 0.0));
                let first = self.start(buffer);
                self.run(buffer, par, first, binder);
                for (a, d) in amps.iter_mut().zip(buffer.iter()) {
                    *a = C32::new(d.re as f32, d.im as f32);
                }
            });
        }
        let mut first = 0;
        if let Some(prefix) = &self.prefix {
            for (a, p) in amps.iter_mut().zip(&prefix.amplitudes) {
                *a = C32::new(p.re as f32, p.im as f32);
            }
            first = prefix.steps;
        }
        for (i, step) in self.steps.iter().enumerate().skip(first) {
            let kernel = KernelSingle::new(binder.next(i), &step.subspace, self.cpu);
            kernel.apply(amps, &step.subspace, par, self.cpu);
        }
    }

    /// Applies the steps from `first` on to a state of at most [`simd::TINY_LEN`] amplitudes:
    /// affine steps form their matrices in registers and update the state there
    /// ([`simd::tiny_affine`]; the same bits as their kernels), other steps run their kernels.
    fn execute_tiny<B: Prebound>(
        &self,
        amps: &mut [C64],
        par: Par,
        first: usize,
        binder: &mut Binder<B>,
    ) {
        for (i, step) in self.steps.iter().enumerate().skip(first) {
            let (control, t, parts): (_, _, [&[C64]; 3]) = match &step.kernel {
                StepKernel::AffineRun { t, form, .. } if !binder.is_bound(i) => {
                    (None, *t, [&form.c, &form.a, &form.b])
                }
                StepKernel::AffineSelect { c, t, form } if !binder.is_bound(i) => {
                    (Some(*c), *t, [&form.c, &form.a, &form.b])
                }
                _ => {
                    let kernel = binder.next(i);
                    kernels::apply(amps, &kernel, &step.subspace, par, self.cpu);
                    continue;
                }
            };
            let sin_cos = binder.sin_cos(i);
            if !simd::tiny_affine(amps, control, t, parts, sin_cos, self.cpu) {
                let kernel = step.kernel.affine_kernel(sin_cos);
                kernels::apply(amps, &kernel, &step.subspace, par, self.cpu);
            }
        }
    }

    /// Applies the steps in `range` (which splits no run of diagonal steps), `kernel(i)`
    /// giving step `i`'s kernel and called once per step in order: one pass per step, except
    /// that two or more consecutive one-qubit diagonal steps are applied as one merged layer
    /// ([`kernels::DiagonalLayer`]), and that above [`L1_BLOCK_QUBITS`] qubits consecutive
    /// steps on the low qubits (with at most one merged layer among them) are applied block by
    /// block, every block in L1 ([`Schedule::apply_group`]).
    #[inline(always)]
    pub(crate) fn execute_unblocked(
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
                kernels::apply(amps, &kernel(i), &self.steps[i].subspace, par, self.cpu);
            } else {
                debug_assert!(i + run <= range.end, "a diagonal run straddles the range");
                let layer = self.layer_of(i..i + run, &mut kernel);
                kernels::apply_diagonal_layer(amps, &layer[..self.num_qubits], par, self.cpu);
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

    /// Applies the group `range` of `items` items ([`Schedule::group_end`]) block by block:
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
        let mut kernels: [Kernel; GROUP_MAX] = std::array::from_fn(|_| Kernel::Identity);
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
        let tables = layer.as_ref().map(|(item, d)| {
            (
                *item,
                kernels::DiagonalLayer::new(&d[..self.num_qubits], self.cpu),
            )
        });
        let block = |(k, x): (usize, &mut [C64])| {
            for item in 0..items {
                match &tables {
                    Some((at, layer)) if *at == item => layer.apply_at(k << L1_BLOCK_QUBITS, x),
                    _ => kernels::apply(x, &kernels[item], &subspaces[item], Par::Seq, self.cpu),
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
}
