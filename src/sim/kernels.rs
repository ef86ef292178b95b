//! Gate kernels on a slice of amplitudes.
//!
//! Index trick (qulacs): the amplitudes a gate couples share every bit outside its qubits.
//! *Base* indices enumerate one representative per coupled group: `k` ranges over `2^{n−z}`
//! values, zero bits are inserted at the `z` gate positions (sorted) and the control bits are
//! then set, so `base` enumerates exactly the subspace where every control is 1. Bits below the
//! lowest gate qubit `z₀` pass through unchanged, so base indices come in contiguous *runs* of
//! `2^{z₀}`; every walker hands whole runs to the update, which runs the vectorized loops of
//! [`super::simd`] on them. Uncontrolled one-target gates with small strides hand whole blocks
//! instead, so the short runs are looped over inside the vectorized code (on qubit 0 the pair
//! `(ψ_{2k}, ψ_{2k+1})` shares one 256-bit register).
//!
//! Each kernel's update is written once, as a closure; the walker chooses serial or rayon
//! iteration from [`Par`]. Kernels only `debug_assert!`: [`crate::Program`] validated operands.

use super::block::{self, Block};
use super::mat2::Mat2;
use super::simd::{self, Cpu};
use crate::gate::{BaseMatrix, Structure};
use crate::par::Par;
use num_complex::Complex64 as C64;
use rayon::prelude::*;
use std::sync::Arc;

/// Amplitudes per rayon task: 2^13 · 16 B = 128 KiB, a share of L2.
const TASK_LEN: usize = 1 << 13;

/// A kernel chosen from a gate's matrix structure. Targets are qubit indices.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kernel {
    /// Nothing to do (an exact identity).
    Identity,
    /// `|1⟩ ↦ d·|1⟩` on the target (P, S, T, CZ, CP): touches half the amplitudes.
    Phase { t: usize, d: C64 },
    /// `diag(d0, d1)` on the target (RZ, CRZ, Z with phase).
    Diagonal { t: usize, d: [C64; 2] },
    /// Exchange of the target's `|0⟩` and `|1⟩` amplitudes (X, CX, CCX).
    Flip { t: usize },
    /// `[[0, a0], [a1, 0]]` on the target (Y, CY).
    AntiDiagonal { t: usize, a: [C64; 2] },
    /// A dense 2×2 `[m00, m01, m10, m11]` (H, SX, RX, RY, U, CH, CRX, CRY, CU3).
    Dense { t: usize, m: [C64; 4] },
    /// `diag(d00, d01, d10, d11)` on two targets (RZZ), local index `b0 + 2·b1`.
    Diagonal2 { t: [usize; 2], d: [C64; 4] },
    /// Exchange of `|01⟩` and `|10⟩` (SWAP, CSWAP).
    Swap { t: [usize; 2] },
    /// A dense 4×4, row-major, local index `b0 + 2·b1` (RXX, RYY).
    Dense2 { t: [usize; 2], m: [C64; 16] },
    /// A one-qubit channel on a density matrix read as a vector, `t = [column bit, row bit]`:
    /// the real 2×2 `pop` on the populations (local indices 0, 3) and `coh` on the coherences
    /// (1, 2), row-major.
    Channel1 {
        t: [usize; 2],
        pop: [f64; 4],
        coh: [f64; 4],
    },
    /// Two-qubit depolarizing `ρ ↦ (1 − p)ρ + p·Tr_Q(ρ) ⊗ I/4` on a density matrix read as a
    /// vector: `t[0], t[1]` the two qubits' column bits, `t[2], t[3]` their row bits (local
    /// index `c + 4r`); every entry is scaled by `1 − p`, and the four with `r = c` gain
    /// `p/4` of their sum.
    Depolarize2 { t: [usize; 4], p: f64 },
    /// `|0⟩⟨0| ⊗ m[0] + |1⟩⟨1| ⊗ m[1]`: the 2×2 `m[b]` on target `t` where qubit `c` is `b`
    /// (a controlled gate fused with the one-qubit run before it on its target).
    SelectDense {
        c: usize,
        t: usize,
        m: [[C64; 4]; 2],
    },
    /// A fused block of fixed steps on the qubits of its subspace, dense or diagonal
    /// ([`super::block`]); shared, so that kernels stay cheap to pass around.
    Block(Arc<Block>),
}

impl Kernel {
    /// The same kernel with every qubit `q` it names renamed `map(q)` (for cache blocks, whose
    /// local qubit `j` stands for a global qubit).
    pub(crate) fn remap(self, map: impl Fn(usize) -> usize) -> Kernel {
        match self {
            Kernel::Identity => Kernel::Identity,
            Kernel::Phase { t, d } => Kernel::Phase { t: map(t), d },
            Kernel::Diagonal { t, d } => Kernel::Diagonal { t: map(t), d },
            Kernel::Flip { t } => Kernel::Flip { t: map(t) },
            Kernel::AntiDiagonal { t, a } => Kernel::AntiDiagonal { t: map(t), a },
            Kernel::Dense { t, m } => Kernel::Dense { t: map(t), m },
            Kernel::Diagonal2 { t, d } => Kernel::Diagonal2 { t: t.map(map), d },
            Kernel::Swap { t } => Kernel::Swap { t: t.map(map) },
            Kernel::Dense2 { t, m } => Kernel::Dense2 { t: t.map(map), m },
            Kernel::Depolarize2 { t, p } => Kernel::Depolarize2 { t: t.map(map), p },
            Kernel::Channel1 { t, pop, coh } => Kernel::Channel1 {
                t: t.map(map),
                pop,
                coh,
            },
            Kernel::SelectDense { c, t, m } => Kernel::SelectDense {
                c: map(c),
                t: map(t),
                m,
            },
            // Its qubits are its subspace's (renamed with it); `map` must keep their order.
            Kernel::Block(b) => Kernel::Block(b),
        }
    }
}

/// Raw access to amplitudes shared by threads that touch disjoint indices.
#[derive(Clone, Copy)]
pub(crate) struct SharedAmps(pub(crate) *mut C64);
// SAFETY: every walker below hands each index to exactly one closure call, so no two threads
// ever access the same amplitude.
unsafe impl Send for SharedAmps {}
unsafe impl Sync for SharedAmps {}

impl SharedAmps {
    /// The raw pointer to amplitude `i` (in bounds by the caller's contract).
    #[inline(always)]
    pub(crate) fn ptr(&self, i: usize) -> *mut C64 {
        self.0.wrapping_add(i)
    }

    /// # Safety
    /// `i` is in bounds and no other live reference points at amplitude `i`.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn at(&self, i: usize) -> &mut C64 {
        &mut *self.0.add(i)
    }
}

/// Most qubits (controls and targets) a subspace holds: the largest fused block.
pub(crate) const MAX_SUBSPACE_QUBITS: usize = block::MAX_DIAGONAL_QUBITS;

/// The positions (sorted, ascending) where base indices have a zero bit inserted, and the
/// mask of control bits set in each base index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Subspace {
    zeros: [u8; MAX_SUBSPACE_QUBITS],
    num_zeros: u8,
    /// Bits of the control qubits.
    pub ctrl: usize,
}

impl Subspace {
    /// The subspace of a gate with the given controls and targets.
    pub fn new(controls: &[usize], targets: &[usize]) -> Self {
        let mut zeros = [0u8; MAX_SUBSPACE_QUBITS];
        let all = controls.iter().chain(targets);
        let mut num_zeros = 0;
        for &q in all {
            zeros[num_zeros] = q as u8;
            num_zeros += 1;
        }
        zeros[..num_zeros].sort_unstable();
        let ctrl = controls.iter().fold(0, |m, &c| m | (1usize << c));
        Subspace {
            zeros,
            num_zeros: num_zeros as u8,
            ctrl,
        }
    }

    /// Every qubit the gate touches (controls and targets), ascending.
    pub fn qubits(&self) -> impl Iterator<Item = usize> + '_ {
        self.zeros[..self.num_zeros as usize]
            .iter()
            .map(|&q| q as usize)
    }

    /// The same subspace with every qubit `q` renamed `map(q)`.
    pub fn remap(&self, map: impl Fn(usize) -> usize) -> Subspace {
        let mut zeros = self.zeros;
        for z in &mut zeros[..self.num_zeros as usize] {
            *z = map(*z as usize) as u8;
        }
        zeros[..self.num_zeros as usize].sort_unstable();
        let ctrl = (0..usize::BITS as usize)
            .filter(|&q| self.ctrl >> q & 1 == 1)
            .fold(0, |m, q| m | 1usize << map(q));
        Subspace {
            zeros,
            num_zeros: self.num_zeros,
            ctrl,
        }
    }

    /// The `k`-th base index: zero bits inserted at every gate position, control bits set.
    #[inline(always)]
    fn base(&self, mut k: usize) -> usize {
        for &z in &self.zeros[..self.num_zeros as usize] {
            let low = k & ((1usize << z) - 1);
            k = ((k >> z) << (z + 1)) | low;
        }
        k | self.ctrl
    }

    /// Calls `f(start, run)` for every maximal run `start..start + run` of consecutive base
    /// indices of a state of `len` amplitudes: `run = 2^{z₀}` for the lowest gate qubit `z₀`,
    /// since the bits below it are free.
    #[inline(always)]
    pub(crate) fn for_each_run(
        &self,
        len: usize,
        par: Par,
        f: impl Fn(usize, usize) + Sync + Send,
    ) {
        let z0 = self.zeros[0] as usize;
        let run = 1usize << z0;
        let count = (len >> self.num_zeros) >> z0;
        match par {
            Par::Seq => (0..count).for_each(|k| f(self.base(k << z0), run)),
            Par::Rayon => {
                let per_task = (TASK_LEN >> z0).max(1);
                let tasks = count.div_ceil(per_task);
                (0..tasks).into_par_iter().for_each(|task| {
                    let end = ((task + 1) * per_task).min(count);
                    (task * per_task..end).for_each(|k| f(self.base(k << z0), run))
                })
            }
        }
    }
}

/// Picks the kernel for a 2×2 matrix on target `t`.
#[inline(always)]
pub(crate) fn one_target_kernel(t: usize, m: Mat2) -> Kernel {
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
pub(crate) fn kernel_for(structure: Structure, targets: [usize; 2], matrix: &BaseMatrix) -> Kernel {
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

/// Calls `f(lo, hi)` on runs of amplitudes `lo = ψ[i..i+r]` with bit `t` of `i` clear and every
/// control bit set, and `hi = ψ[i+2^t..i+2^t+r]`: together they cover every coupled pair once.
#[inline(always)]
fn walk_pairs(
    amps: &mut [C64],
    t: usize,
    sub: &Subspace,
    par: Par,
    f: impl Fn(&mut [C64], &mut [C64]) + Sync + Send,
) {
    let stride = 1usize << t;
    debug_assert!(2 * stride <= amps.len());
    if sub.ctrl != 0 {
        let len = amps.len();
        let shared = SharedAmps(amps.as_mut_ptr());
        // SAFETY: runs of base indices are disjoint with bit t clear, so the runs
        // (start, start | stride) are disjoint across calls and in bounds.
        sub.for_each_run(len, par, |start, run| unsafe {
            f(
                std::slice::from_raw_parts_mut(shared.ptr(start), run),
                std::slice::from_raw_parts_mut(shared.ptr(start | stride), run),
            )
        });
        return;
    }
    let walk_block = |block: &mut [C64]| {
        for pair in block.chunks_exact_mut(2 * stride) {
            let (lo, hi) = pair.split_at_mut(stride);
            f(lo, hi);
        }
    };
    match par {
        Par::Seq => walk_block(amps),
        Par::Rayon if 2 * stride <= TASK_LEN => amps.par_chunks_mut(TASK_LEN).for_each(walk_block),
        Par::Rayon => amps.par_chunks_exact_mut(2 * stride).for_each(|pair| {
            let (lo, hi) = pair.split_at_mut(stride);
            lo.par_chunks_mut(TASK_LEN / 2)
                .zip(hi.par_chunks_mut(TASK_LEN / 2))
                .for_each(|(l, h)| f(l, h))
        }),
    }
}

/// Calls `f(slice)` on slices of the state that hold whole blocks of `2^{t+1}` amplitudes
/// (for an uncontrolled gate on `t` with `2^{t+1} ≤` [`TASK_LEN`]).
#[inline(always)]
fn walk_blocks(amps: &mut [C64], par: Par, f: impl Fn(&mut [C64]) + Sync + Send) {
    match par {
        Par::Seq => f(amps),
        Par::Rayon => amps.par_chunks_mut(TASK_LEN).for_each(f),
    }
}

/// Calls `f([ψ_b, ψ_{b+2^{t0}}, ψ_{b+2^{t1}}, ψ_{b+2^{t0}+2^{t1}}])` for every base `b` and
/// stores the four values it returns; base indices come in runs, so the four loads stream.
#[inline(always)]
fn walk_quads(
    amps: &mut [C64],
    t: [usize; 2],
    sub: &Subspace,
    par: Par,
    f: impl Fn([C64; 4]) -> [C64; 4] + Sync + Send,
) {
    let (m0, m1) = (1usize << t[0], 1usize << t[1]);
    if sub.ctrl == 0 && sub.num_zeros == 2 {
        // Uncontrolled: nested loops over blocks of 2^{hi+1}, half-blocks of 2^{lo+1} and
        // runs of 2^{lo}, with no base index to rebuild per run (short runs on a low qubit).
        let (lo, hi) = (m0.min(m1), m0.max(m1));
        let block = |x: &mut [C64]| {
            for mid in (0..hi).step_by(2 * lo) {
                for j in mid..mid + lo {
                    let idx = [j, j | m0, j | m1, j | m0 | m1];
                    let out = f(idx.map(|i| x[i]));
                    for (i, v) in idx.into_iter().zip(out) {
                        x[i] = v;
                    }
                }
            }
        };
        match par {
            Par::Seq => amps.chunks_exact_mut(2 * hi).for_each(block),
            Par::Rayon => amps.par_chunks_exact_mut(2 * hi).for_each(block),
        }
        return;
    }
    let len = amps.len();
    let shared = SharedAmps(amps.as_mut_ptr());
    // SAFETY: base indices are distinct with bits t0 and t1 clear, so the four indices of one
    // call are in bounds and disjoint from those of every other call.
    sub.for_each_run(len, par, |start, run| unsafe {
        for b in start..start + run {
            let idx = [b, b | m0, b | m1, b | m0 | m1];
            let out = f(idx.map(|i| *shared.at(i)));
            for (i, v) in idx.into_iter().zip(out) {
                *shared.at(i) = v;
            }
        }
    });
}

/// Calls `f(run)` on the runs of base indices `b` with `b | offset`, for a kernel that touches
/// one of the four quarter-subspaces of a two-target gate at a time.
#[inline(always)]
fn walk_quarter(
    amps: &mut [C64],
    sub: &Subspace,
    offset: usize,
    par: Par,
    f: impl Fn(&mut [C64]) + Sync + Send,
) {
    let len = amps.len();
    let shared = SharedAmps(amps.as_mut_ptr());
    // SAFETY: distinct base runs with a fixed offset are disjoint and in bounds.
    sub.for_each_run(len, par, |start, run| unsafe {
        f(std::slice::from_raw_parts_mut(
            shared.ptr(start | offset),
            run,
        ))
    });
}

/// Applies `kernel` restricted to the subspace `sub` (controls set) to the amplitudes.
pub(crate) fn apply(amps: &mut [C64], kernel: &Kernel, sub: &Subspace, par: Par, cpu: Cpu) {
    // Uncontrolled one-target gates whose blocks fit a task: the block loop runs inside the
    // vectorized function (short runs would pay a call each).
    if amps.len() <= simd::TINY_LEN && apply_tiny(amps, kernel, sub, cpu) {
        return;
    }
    let small_blocks =
        |t: usize| sub.ctrl == 0 && sub.num_zeros == 1 && (2usize << t) <= TASK_LEN.min(amps.len());
    match *kernel {
        Kernel::Identity => {}
        Kernel::Block(ref b) => block::apply(amps, b, sub, par, cpu),
        Kernel::Phase { t, d } if small_blocks(t) => walk_blocks(amps, par, |x| {
            simd::diagonal_blocks(x, t, [C64::new(1.0, 0.0), d], cpu)
        }),
        Kernel::Diagonal { t, d } if small_blocks(t) => {
            walk_blocks(amps, par, |x| simd::diagonal_blocks(x, t, d, cpu))
        }
        Kernel::Dense { t, m } if small_blocks(t) => {
            walk_blocks(amps, par, |x| simd::dense_blocks(x, t, &m, cpu))
        }
        Kernel::Phase { t, d } => walk_pairs(amps, t, sub, par, |_, hi| simd::scale(hi, d, cpu)),
        Kernel::Diagonal { t, d } => walk_pairs(amps, t, sub, par, |lo, hi| {
            simd::scale(lo, d[0], cpu);
            simd::scale(hi, d[1], cpu);
        }),
        Kernel::Flip { t } => walk_pairs(amps, t, sub, par, |lo, hi| lo.swap_with_slice(hi)),
        Kernel::AntiDiagonal { t, a } => walk_pairs(amps, t, sub, par, |lo, hi| {
            for (x, y) in lo.iter_mut().zip(hi) {
                let (l, h) = (*x, *y);
                *x = a[0] * h;
                *y = a[1] * l;
            }
        }),
        Kernel::Dense { t, m } => {
            walk_pairs(amps, t, sub, par, |lo, hi| simd::dense(lo, hi, &m, cpu))
        }
        Kernel::Diagonal2 { t, d } => {
            for (k, offset) in [0, 1 << t[0], 1 << t[1], (1 << t[0]) | (1 << t[1])]
                .into_iter()
                .enumerate()
            {
                if d[k] != C64::new(1.0, 0.0) {
                    walk_quarter(amps, sub, offset, par, |x| simd::scale(x, d[k], cpu));
                }
            }
        }
        Kernel::Swap { t } => {
            let (m0, m1) = (1usize << t[0], 1usize << t[1]);
            let len = amps.len();
            let shared = SharedAmps(amps.as_mut_ptr());
            // SAFETY: the runs at offsets 2^t0 and 2^t1 from distinct base runs are disjoint
            // from each other and across calls.
            sub.for_each_run(len, par, |start, run| unsafe {
                std::slice::from_raw_parts_mut(shared.ptr(start | m0), run)
                    .swap_with_slice(std::slice::from_raw_parts_mut(shared.ptr(start | m1), run))
            });
        }
        Kernel::SelectDense { c, t, m } if (2usize << c.max(t)) <= TASK_LEN.min(amps.len()) => {
            walk_blocks(amps, par, |x| simd::select_dense_blocks(x, c, t, &m, cpu))
        }
        Kernel::SelectDense { c, t, m } if c < t && (2usize << c) <= TASK_LEN / 2 => {
            // Long pair runs on t; the select bit c alternates inside them.
            let target = Subspace::new(&[], &[t]);
            walk_pairs(amps, t, &target, par, |lo, hi| {
                simd::select_dense_pairs(lo, hi, c, &m, cpu)
            })
        }
        Kernel::SelectDense { c, t, m }
            if c > t && (1usize << c) >= TASK_LEN && (2usize << t) <= TASK_LEN =>
        {
            // Every task-sized piece lies in one half of a 2^{c+1} block: one matrix each.
            let piece = |(k, x): (usize, &mut [C64])| {
                simd::dense_blocks(x, t, &m[(k * TASK_LEN) >> c & 1], cpu)
            };
            match par {
                Par::Seq => amps.chunks_mut(TASK_LEN).enumerate().for_each(piece),
                Par::Rayon => amps.par_chunks_mut(TASK_LEN).enumerate().for_each(piece),
            }
        }
        Kernel::SelectDense { c, t, m } => {
            // Runs of 2^{min(c,t)} with both bits clear; long unless t is small and c is not.
            let (mc, mt) = (1usize << c, 1usize << t);
            let len = amps.len();
            let shared = SharedAmps(amps.as_mut_ptr());
            // SAFETY: base runs have bits c and t clear; the four runs at offsets 0, 2^c, 2^t
            // and 2^c + 2^t are disjoint from each other and across calls.
            sub.for_each_run(len, par, |start, run| unsafe {
                for (offset, m) in [(0, &m[0]), (mc, &m[1])] {
                    simd::dense(
                        std::slice::from_raw_parts_mut(shared.ptr(start | offset), run),
                        std::slice::from_raw_parts_mut(shared.ptr(start | offset | mt), run),
                        m,
                        cpu,
                    );
                }
            });
        }
        Kernel::Dense2 { t, m } => walk_quads(amps, t, sub, par, |v| {
            std::array::from_fn(|r| {
                m[4 * r] * v[0] + m[4 * r + 1] * v[1] + m[4 * r + 2] * v[2] + m[4 * r + 3] * v[3]
            })
        }),
        Kernel::Channel1 { t, pop, coh } if t[0].min(t[1]) >= 2 => {
            // Runs of at least four: the populations (00, 11) and the coherences (01, 10) are
            // two 2×2 updates of run pairs, in vector lanes.
            let c = |m: [f64; 4]| m.map(|x| C64::new(x, 0.0));
            let (pm, cm) = (c(pop), c(coh));
            let (m0, m1) = (1usize << t[0], 1usize << t[1]);
            let len = amps.len();
            let shared = SharedAmps(amps.as_mut_ptr());
            // SAFETY: base runs have bits t0 and t1 clear; the four runs at offsets 0, 2^t0,
            // 2^t1 and both are disjoint from each other and across calls, and in bounds.
            sub.for_each_run(len, par, |start, run| unsafe {
                let at = |o: usize| std::slice::from_raw_parts_mut(shared.ptr(start | o), run);
                simd::dense(at(0), at(m0 | m1), &pm, cpu);
                simd::dense(at(m0), at(m1), &cm, cpu);
            });
        }
        Kernel::Channel1 { t, pop, coh } => walk_quads(amps, t, sub, par, |v| {
            [
                v[0] * pop[0] + v[3] * pop[1],
                v[1] * coh[0] + v[2] * coh[1],
                v[1] * coh[2] + v[2] * coh[3],
                v[0] * pop[2] + v[3] * pop[3],
            ]
        }),
        Kernel::Depolarize2 { t, p } => {
            let offsets: [usize; 16] = std::array::from_fn(|l| {
                (0..4)
                    .filter(|j| (l >> j) & 1 == 1)
                    .map(|j| 1usize << t[j])
                    .sum()
            });
            let (keep, share) = (1.0 - p, p / 4.0);
            let len = amps.len();
            let shared = SharedAmps(amps.as_mut_ptr());
            const DIAGONAL: [usize; 4] = [0, 5, 10, 15];
            // SAFETY: base indices are distinct with the four bits clear, so the sixteen
            // indices (or runs) of one base are in bounds and disjoint from every other base's.
            sub.for_each_run(len, par, |start, run| unsafe {
                if run >= 4 {
                    // Long runs: the twelve off-diagonal runs scaled in vector lanes, the four
                    // diagonal ones updated through a trace buffer.
                    let at = |l: usize| {
                        std::slice::from_raw_parts_mut(shared.ptr(start | offsets[l]), run)
                    };
                    for l in (0..16).filter(|l| !DIAGONAL.contains(l)) {
                        simd::scale(at(l), C64::new(keep, 0.0), cpu);
                    }
                    let mut d = DIAGONAL.map(at);
                    for j0 in (0..run).step_by(64) {
                        let m = (run - j0).min(64);
                        let mut trace = [C64::new(0.0, 0.0); 64];
                        for x in &d {
                            for (t, v) in trace[..m].iter_mut().zip(&x[j0..j0 + m]) {
                                *t += v;
                            }
                        }
                        for x in &mut d {
                            for (v, t) in x[j0..j0 + m].iter_mut().zip(&trace[..m]) {
                                *v = *v * keep + t * share;
                            }
                        }
                    }
                    return;
                }
                for b in start..start + run {
                    let mut trace = C64::new(0.0, 0.0);
                    for l in DIAGONAL {
                        trace += *shared.at(b | offsets[l]);
                    }
                    for &o in &offsets {
                        *shared.at(b | o) *= keep;
                    }
                    for l in DIAGONAL {
                        *shared.at(b | offsets[l]) += trace * share;
                    }
                }
            });
        }
    }
}

/// Applies a one-target kernel (dense, diagonal, phase or anti-diagonal, uncontrolled; or a
/// select) to a state of at most [`simd::TINY_LEN`] amplitudes with [`simd::tiny_select`];
/// returns whether it did (other kernels, or a CPU without AVX-512, take the general path).
#[inline(always)]
fn apply_tiny(amps: &mut [C64], kernel: &Kernel, sub: &Subspace, cpu: Cpu) -> bool {
    let (zero, one) = (C64::new(0.0, 0.0), C64::new(1.0, 0.0));
    let (c, t, m) = match *kernel {
        Kernel::SelectDense { c, t, m } => (Some(c), t, m),
        _ if sub.ctrl != 0 => return false,
        Kernel::Dense { t, m } => (None, t, [m, m]),
        Kernel::Diagonal { t, d } => (None, t, [[d[0], zero, zero, d[1]]; 2]),
        Kernel::Phase { t, d } => (None, t, [[one, zero, zero, d]; 2]),
        // Also these: a program's affine steps on such states always take the tiny update
        // (whatever structure their matrix has for the angle), and their kernels must round
        // alike (`run` and `run_bound` agree bit for bit).
        Kernel::AntiDiagonal { t, a } => (None, t, [[zero, a[0], a[1], zero]; 2]),
        Kernel::Flip { t } => (None, t, [[zero, one, one, zero]; 2]),
        _ => return false,
    };
    simd::tiny_select(amps, c, t, &m, cpu)
}

/// Qubits per table of [`apply_diagonal_layer`]: 2^6 entries, 1 KiB.
const LAYER_GROUP: usize = 6;

/// The most qubits [`apply_diagonal_layer`] takes (2^32 amplitudes are 64 GiB).
pub(crate) const LAYER_MAX_QUBITS: usize = 32;

/// The product `⊗_q diag(d[q][0], d[q][1])` over every qubit of the state in one pass (a layer
/// of one-qubit diagonal gates, merged).
///
/// Two tables hold, for each value of the bits 0–5 and 6–11 of an index, the product of those
/// qubits' entries (built by doubling, 2⁷ products each). Amplitude `i` is multiplied by
/// `T₀[i mod 64] · T₁[(i >> 6) mod 64] · R(i >> 12)`, where `R` is the product over the qubits
/// from 12 on, recomputed every 4096 amplitudes. The outer factor is constant over each block
/// of 64 amplitudes, so a pass costs two complex products per amplitude however many gates
/// the layer merged.
pub(crate) struct DiagonalLayer<'a> {
    t0: LayerTable,
    t1: LayerTable,
    /// The entries of the qubits from 12 on.
    high: &'a [[C64; 2]],
    num_qubits: usize,
    cpu: Cpu,
}

/// The entries of one group of qubits, from a cache line (a table row loads as whole lines,
/// as the state's amplitudes do: `crate::aligned`).
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct LayerTable([C64; 1 << LAYER_GROUP]);

impl<'a> DiagonalLayer<'a> {
    /// The tables of the layer `d` (one entry pair per qubit of the state).
    pub(crate) fn new(d: &'a [[C64; 2]], cpu: Cpu) -> Self {
        let n = d.len();
        debug_assert!(n <= LAYER_MAX_QUBITS);
        let one = C64::new(1.0, 0.0);
        let table = |qubits: &[[C64; 2]]| {
            let mut table = [one; 1 << LAYER_GROUP];
            for (b, q) in qubits.iter().enumerate() {
                let half = 1usize << b;
                for j in 0..half {
                    table[j | half] = table[j] * q[1];
                    table[j] *= q[0];
                }
            }
            LayerTable(table)
        };
        DiagonalLayer {
            t0: table(&d[..n.min(LAYER_GROUP)]),
            t1: table(&d[n.min(LAYER_GROUP)..n.min(2 * LAYER_GROUP)]),
            high: &d[n.min(2 * LAYER_GROUP)..],
            num_qubits: n,
            cpu,
        }
    }

    /// Applies the layer to `x`, the amplitudes from index `first` on: the whole state, or (for
    /// more than 6 qubits) a piece of whole 64-blocks that holds whole 4096-blocks or lies
    /// inside one.
    #[inline]
    pub(crate) fn apply_at(&self, first: usize, x: &mut [C64]) {
        let one = C64::new(1.0, 0.0);
        if self.num_qubits <= LAYER_GROUP {
            debug_assert_eq!((first, x.len()), (0, 1 << self.num_qubits));
            return simd::scale_by_table(x, &self.t0.0[..x.len()], one, self.cpu);
        }
        let mut rest = one;
        for (k, block) in x.chunks_exact_mut(1 << LAYER_GROUP).enumerate() {
            let h = (first >> LAYER_GROUP) + k;
            if k == 0 || h.is_multiple_of(1 << LAYER_GROUP) {
                let r = h >> LAYER_GROUP;
                rest = self
                    .high
                    .iter()
                    .enumerate()
                    .fold(one, |f, (b, q)| f * q[r >> b & 1]);
            }
            simd::scale_by_table(
                block,
                &self.t0.0,
                self.t1.0[h % (1 << LAYER_GROUP)] * rest,
                self.cpu,
            );
        }
    }
}

/// Applies the [`DiagonalLayer`] `d` to the whole state.
pub(crate) fn apply_diagonal_layer(amps: &mut [C64], d: &[[C64; 2]], par: Par, cpu: Cpu) {
    debug_assert!(amps.len().is_power_of_two() && d.len() == amps.len().trailing_zeros() as usize);
    let layer = DiagonalLayer::new(d, cpu);
    match par {
        Par::Rayon if d.len() > LAYER_GROUP => amps
            .par_chunks_mut(TASK_LEN)
            .enumerate()
            .for_each(|(k, x)| layer.apply_at(k * TASK_LEN, x)),
        _ => layer.apply_at(0, amps),
    }
}
