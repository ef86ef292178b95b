//! Gate fusion: fixed steps merged into dense or diagonal blocks of up to
//! [`MAX_DENSE_QUBITS`] (dense) or [`MAX_DIAGONAL_QUBITS`] (diagonal) qubits, chosen by a cost
//! model ([`super::block`] applies them).
//!
//! The pass walks the steps in program order and keeps *open blocks* on disjoint qubit sets,
//! each holding every step not yet emitted on its qubits. A fixed step that touches open
//! blocks joins all of them when the merged block costs no more than the parts
//! ([`block_cost`] against [`step_cost`], each block at the cheaper of its fused pass and its
//! steps one by one); otherwise it joins the one block where merging saves most, or starts a
//! block of its own; blocks it does not join are emitted first. A step with parameters emits
//! every open block and follows them, so no step moves past it (the fixed prefix and the
//! merged diagonal layers stay whole). A block is emitted fused only where that is cheaper
//! than its steps one by one (a lone `rxx` becomes a block: the block loop is faster than the
//! `Dense2` one). Its matrix is the product of its steps, formed by running their own kernels
//! on the columns of the identity, or on the all-ones vector for a diagonal block.
//!
//! Costs are nanoseconds per amplitude of one pass over a cache-resident state, one thread,
//! measured on the reference machine with `cargo run --release --example fusion_costs` (see
//! `docs/performance.md`, "General circuits"). A dense `k`-qubit block costs `2^k` complex
//! multiply-adds per amplitude, so two blocks on disjoint pairs never merge into four
//! qubits, while `u cx u cx u cx u` on a pair becomes one 4×4 update and overlapping pairs
//! merge into three qubits when the passes they save pay for the wider product.

use super::block::{Block, MAX_DENSE_QUBITS, MAX_DIAGONAL_QUBITS};
use super::ir::{Step, StepKernel};
use super::kernels::{self, Kernel, Subspace};
use super::simd::Cpu;
use crate::par::Par;
use num_complex::Complex64 as C64;

/// Smallest state whose steps are fused. Below it every pass already runs in L1 or in
/// registers and the unfused kernels are tuned for it (W2 in docs/performance.md).
pub(crate) const FUSE_MIN_QUBITS: usize = 12;

/// The cost of one step alone (nanoseconds per amplitude), `None` for a step with
/// parameters (never fused).
fn step_cost(step: &Step) -> Option<f64> {
    let StepKernel::Fixed(kernel) = &step.kernel else {
        return None;
    };
    let controlled = step.subspace.ctrl != 0;
    let cost = match kernel {
        Kernel::Identity => 0.0,
        Kernel::Flip { .. } => 0.6,
        Kernel::Swap { .. } => 0.45,
        Kernel::Phase { .. } if controlled => 0.7,
        Kernel::Phase { .. } => 0.42,
        Kernel::Diagonal { .. } | Kernel::Diagonal2 { .. } | Kernel::AntiDiagonal { .. } => 0.55,
        // Real matrices (H, X and their products) take real arithmetic: half the operations.
        Kernel::Dense { m, .. } if real(m) => 0.45,
        Kernel::Dense { .. } => 0.6,
        Kernel::SelectDense { m, .. } if m.iter().all(real) => 0.6,
        Kernel::SelectDense { .. } => 0.9,
        Kernel::Dense2 { .. } => 5.6,
        Kernel::Channel1 { .. } | Kernel::Depolarize2 { .. } => 1.5,
        Kernel::Block(b) => block_cost(mask_of(&step.subspace), b.is_diagonal()),
    };
    Some(cost)
}

fn real(m: &[C64; 4]) -> bool {
    m.iter().all(|z| z.im == 0.0)
}

/// The cost of a block on the qubits `mask` (nanoseconds per amplitude). A dense block
/// with qubits below 2 (lane qubits of the 512-bit loop, [`crate::sim::simd`]) permutes
/// registers and loads per-lane coefficients: dearer.
fn block_cost(mask: u64, diagonal: bool) -> f64 {
    let k = mask.count_ones() as usize;
    let lanes = (mask & 0b11).count_ones();
    let base = match (diagonal, k) {
        (true, _) => return 0.6,
        (false, 1) => 1.0,
        (false, 2) => 1.3,
        (false, 3) => 2.1,
        (false, 4) => 4.5,
        (false, _) => 11.0,
    };
    base * [1.0, 1.3, 1.9][lanes as usize]
}

/// Whether a fixed step's kernel is diagonal.
fn is_diagonal(step: &Step) -> bool {
    match &step.kernel {
        StepKernel::Fixed(k) => match k {
            Kernel::Identity
            | Kernel::Phase { .. }
            | Kernel::Diagonal { .. }
            | Kernel::Diagonal2 { .. } => true,
            Kernel::Block(b) => b.is_diagonal(),
            _ => false,
        },
        _ => false,
    }
}

fn mask_of(sub: &Subspace) -> u64 {
    sub.qubits().fold(0, |m, q| m | 1u64 << q)
}

fn fits(mask: u64, diagonal: bool) -> bool {
    let k = mask.count_ones() as usize;
    k <= if diagonal {
        MAX_DIAGONAL_QUBITS
    } else {
        MAX_DENSE_QUBITS
    }
}

/// An open block: its qubits, its steps in order, whether all are diagonal, and what its
/// steps cost one by one.
struct Open {
    mask: u64,
    steps: Vec<Step>,
    diagonal: bool,
    separate: f64,
}

impl Open {
    /// What emitting the block costs: the cheaper of one fused pass and its steps one by one.
    fn cost(&self) -> f64 {
        best_cost(self.mask, self.diagonal, self.separate)
    }
}

/// The cost of emitting steps on `mask` that cost `separate` one by one.
fn best_cost(mask: u64, diagonal: bool, separate: f64) -> f64 {
    separate.min(block_cost(mask, diagonal))
}

/// The fused steps of `steps` on `num_qubits` qubits (unchanged below [`FUSE_MIN_QUBITS`]).
pub(crate) fn fuse(steps: Vec<Step>, num_qubits: usize) -> Vec<Step> {
    if !(FUSE_MIN_QUBITS..=64).contains(&num_qubits) {
        return steps;
    }
    let mut out = Vec::with_capacity(steps.len());
    let mut open: Vec<Open> = Vec::new();
    for step in steps {
        let mask = mask_of(&step.subspace);
        let touched: Vec<usize> = (0..open.len())
            .filter(|&b| open[b].mask & mask != 0)
            .collect();
        let Some(cost) = step_cost(&step) else {
            // Every block is emitted, not only those on the step's qubits: the steps keep
            // their order around each step with parameters, so runs of such steps (merged
            // diagonal layers) and the leading fixed steps (the fixed prefix) stay whole.
            let all: Vec<usize> = (0..open.len()).collect();
            close(&mut open, &all, &mut out);
            out.push(step);
            continue;
        };
        let diagonal = is_diagonal(&step);
        // Joining the blocks `with`: whether it fits, and what it saves (≥ 0 when it pays).
        let join = |with: &[usize]| -> Option<f64> {
            let mask = with.iter().fold(mask, |m, &b| m | open[b].mask);
            let diagonal = diagonal && with.iter().all(|&b| open[b].diagonal);
            if !fits(mask, diagonal) {
                return None;
            }
            let separate = cost + with.iter().map(|&b| open[b].separate).sum::<f64>();
            let before = cost + with.iter().map(|&b| open[b].cost()).sum::<f64>();
            let saving = before - best_cost(mask, diagonal, separate);
            (saving >= 0.0).then_some(saving)
        };
        let chosen: Vec<usize> = match join(&touched) {
            Some(_) if !touched.is_empty() => touched.clone(),
            _ => touched
                .iter()
                .filter_map(|&b| join(&[b]).map(|saving| (b, saving)))
                .max_by(|x, y| x.1.total_cmp(&y.1))
                .map(|(b, _)| vec![b])
                .unwrap_or_default(),
        };
        let others: Vec<usize> = touched
            .iter()
            .copied()
            .filter(|b| !chosen.contains(b))
            .collect();
        let mut block = Open {
            mask,
            steps: Vec::new(),
            diagonal,
            separate: cost,
        };
        // The joined blocks are on disjoint qubits: their steps commute, any order will do.
        let mut taken: Vec<Open> = Vec::new();
        let mut all: Vec<usize> = chosen.iter().chain(&others).copied().collect();
        all.sort_unstable();
        for &b in all.iter().rev() {
            let removed = open.remove(b);
            match chosen.contains(&b) {
                true => taken.push(removed),
                // Blocks the step does not join precede it: emitted now.
                false => emit(removed, &mut out),
            }
        }
        for joined in taken.into_iter().rev() {
            block.mask |= joined.mask;
            block.diagonal &= joined.diagonal;
            block.separate += joined.separate;
            block.steps.extend(joined.steps);
        }
        block.steps.push(step);
        open.push(block);
    }
    let all: Vec<usize> = (0..open.len()).collect();
    close(&mut open, &all, &mut out);
    out
}

/// Emits the open blocks `which` (indices into `open`) and removes them.
fn close(open: &mut Vec<Open>, which: &[usize], out: &mut Vec<Step>) {
    let mut which = which.to_vec();
    which.sort_unstable();
    for &b in which.iter().rev() {
        let block = open.remove(b);
        emit(block, out);
    }
}

/// Emits one block: its steps one by one where that costs no more, else their block.
fn emit(block: Open, out: &mut Vec<Step>) {
    let fused = block_cost(block.mask, block.diagonal);
    // One step alone becomes a block too where the block kernel is faster (`Dense2`).
    if block.separate <= fused {
        out.extend(block.steps);
        return;
    }
    let qubits: Vec<usize> = (0..64).filter(|q| block.mask >> q & 1 == 1).collect();
    let kernel = if block.diagonal {
        // Diagonal steps only: their product on the all-ones vector is the diagonal.
        let mut d = vec![C64::new(1.0, 0.0); 1 << qubits.len()];
        run_locally(&mut d, &qubits, &block.steps);
        if d.iter().all(|&x| x == C64::new(1.0, 0.0)) {
            return;
        }
        Block::diagonal(&qubits, d)
    } else {
        Block::dense(&qubits, product(&qubits, &block.steps))
    };
    out.push(Step {
        kernel: StepKernel::Fixed(kernel),
        subspace: Subspace::new(&[], &qubits),
    });
}

/// Runs `steps` (fixed, on `qubits`) on `amps`, a vector whose low qubits are `qubits` in
/// ascending order, with their own kernels.
fn run_locally(amps: &mut [C64], qubits: &[usize], steps: &[Step]) {
    let local = |q: usize| qubits.iter().position(|&p| p == q).expect("block qubit");
    for step in steps {
        let StepKernel::Fixed(kernel) = &step.kernel else {
            unreachable!("blocks hold fixed steps")
        };
        let sub = step.subspace.remap(local);
        kernels::apply(
            amps,
            &kernel.clone().remap(local),
            &sub,
            Par::Seq,
            Cpu::portable(),
        );
    }
}

/// The matrix (row-major) of `steps` applied in order on `qubits` (at most
/// [`MAX_DENSE_QUBITS`]): their kernels run on the identity, laid out as a state whose low
/// `k` qubits are the row and high `k` the column.
fn product(qubits: &[usize], steps: &[Step]) -> Vec<C64> {
    let k = qubits.len();
    let dim = 1usize << k;
    let mut columns = vec![C64::new(0.0, 0.0); dim * dim];
    for c in 0..dim {
        columns[c << k | c] = C64::new(1.0, 0.0);
    }
    run_locally(&mut columns, qubits, steps);
    // columns[r + (c << k)] = M[r][c].
    let mut m = vec![C64::new(0.0, 0.0); dim * dim];
    for r in 0..dim {
        for c in 0..dim {
            m[r * dim + c] = columns[r | c << k];
        }
    }
    m
}
