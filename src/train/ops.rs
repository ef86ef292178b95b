//! Arithmetic counted as the classical layers execute it, and an energy model built on the
//! counts.
//!
//! Every layer kernel adds what it is about to compute to a per-thread tally, once per loop
//! (a dot product of length `k` adds `k` multiply-adds), so the counts are those of the code
//! that ran — branches, skipped copies and all — and cost a few integer adds per loop.
//! [`counted`] runs a closure and returns what it did:
//!
//! ```
//! use qloop::train::{ops, Layer, Ltc, Network};
//! let net = Network::new(vec![Ltc::new(2, 4, 6).unwrap().into()]).unwrap();
//! let p = net.init(qloop::train::Stream::new(1));
//! let (_, ops) = ops::counted(|| net.forward(&p, ndarray::array![[0.1, 0.2]].view()));
//! // Drive U·I (4 × 2), then 6 unfolds of W·x (4 × 4) with one sigmoid per unit.
//! assert_eq!(ops.mul_add, 4 * 2 + 6 * 4 * 4);
//! assert_eq!(ops.transcendental, 6 * 4);
//! ```
//!
//! **Energy model.** This machine has no power counters, so energy is modelled: counted
//! operations × per-operation energies published by M. Horowitz, "Computing's energy problem
//! (and what we can do about it)", ISSCC 2014, for a 45 nm process at 0.9 V, 32-bit floating
//! point: add 0.9 pJ, multiply 3.7 pJ (so a multiply-add 4.6 pJ). The table has no divide or
//! transcendental function; the model charges a divide as 4 multiplies (a Newton–Raphson
//! reciprocal) and an `exp`/`tanh` as 10 multiply-adds (range reduction and a degree-8
//! polynomial), both stated assumptions. Memory traffic is left out (the same table puts a
//! 64-bit read from an 8 KB SRAM at 10 pJ, more than any arithmetic here), so the model ranks
//! layers by arithmetic only.

use std::cell::Cell;

/// Operations counted by the layer kernels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpCount {
    /// Multiply-adds (a dot product of length `k` is `k`).
    pub mul_add: u64,
    /// Element-wise adds, subtracts and multiplies outside dot products.
    pub elementwise: u64,
    /// Divisions.
    pub div: u64,
    /// `exp`, `tanh` and `sigmoid` evaluations (a sigmoid is one `exp`).
    pub transcendental: u64,
}

/// Horowitz (ISSCC 2014), 45 nm, 32-bit float add, in picojoules.
pub const PJ_FP32_ADD: f64 = 0.9;
/// Horowitz (ISSCC 2014), 45 nm, 32-bit float multiply, in picojoules.
pub const PJ_FP32_MUL: f64 = 3.7;
/// Modelled divide: 4 multiplies (assumption, see the module docs).
pub const PJ_FP32_DIV: f64 = 4.0 * PJ_FP32_MUL;
/// Modelled `exp`/`tanh`: 10 multiply-adds (assumption, see the module docs).
pub const PJ_FP32_TRANSCENDENTAL: f64 = 10.0 * (PJ_FP32_ADD + PJ_FP32_MUL);

impl OpCount {
    /// Modelled energy in picojoules (see the module docs).
    pub fn energy_pj(&self) -> f64 {
        self.mul_add as f64 * (PJ_FP32_ADD + PJ_FP32_MUL)
            + self.elementwise as f64 * PJ_FP32_ADD.max(PJ_FP32_MUL)
            + self.div as f64 * PJ_FP32_DIV
            + self.transcendental as f64 * PJ_FP32_TRANSCENDENTAL
    }

    /// Every count divided by `n` (rounded down), e.g. per step of a sequence.
    pub fn per(&self, n: u64) -> OpCount {
        let n = n.max(1);
        OpCount {
            mul_add: self.mul_add / n,
            elementwise: self.elementwise / n,
            div: self.div / n,
            transcendental: self.transcendental / n,
        }
    }
}

impl std::ops::Add for OpCount {
    type Output = OpCount;
    fn add(self, o: OpCount) -> OpCount {
        OpCount {
            mul_add: self.mul_add + o.mul_add,
            elementwise: self.elementwise + o.elementwise,
            div: self.div + o.div,
            transcendental: self.transcendental + o.transcendental,
        }
    }
}

thread_local! {
    static TALLY: Cell<OpCount> = const { Cell::new(OpCount { mul_add: 0, elementwise: 0, div: 0, transcendental: 0 }) };
}

/// Adds `ops` to this thread's tally (called by the kernels, once per loop).
#[inline(always)]
pub(crate) fn add(ops: OpCount) {
    TALLY.with(|t| t.set(t.get() + ops));
}

/// Shorthand for [`add`]: `mul_add` multiply-adds, `elementwise` other arithmetic, `div`
/// divisions, `transcendental` function calls.
#[inline(always)]
pub(crate) fn tally(mul_add: usize, elementwise: usize, div: usize, transcendental: usize) {
    add(OpCount {
        mul_add: mul_add as u64,
        elementwise: elementwise as u64,
        div: div as u64,
        transcendental: transcendental as u64,
    });
}

/// Runs `f` on this thread and returns its result with the operations the layer kernels
/// counted while it ran (work `f` hands to other threads is not seen).
pub fn counted<R>(f: impl FnOnce() -> R) -> (R, OpCount) {
    let before = TALLY.with(|t| t.replace(OpCount::default()));
    let r = f();
    let during = TALLY.with(|t| t.replace(before));
    TALLY.with(|t| t.set(t.get() + during));
    (r, during)
}
