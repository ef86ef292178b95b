//! Gate kernels on a slice of amplitudes.
//!
//! Index trick (qulacs): the amplitudes a gate couples share every bit outside its qubits.
//! Uncontrolled one-target gates walk *pairs* `(i, i | 2^t)` as two contiguous halves of each
//! `2^{t+1}` block, which vectorizes. Everything else walks *base* indices: `k` ranges over
//! `2^{n−z}` values, zero bits are inserted at the `z` gate positions (sorted) and the control
//! bits are then set, so `base` enumerates exactly the subspace where every control is 1.
//!
//! Each kernel's update is written once, as a closure; the walker chooses serial or rayon
//! iteration from [`Par`]. Kernels only `debug_assert!`: [`crate::Program`] validated operands.

use crate::par::Par;
use num_complex::Complex64 as C64;
use rayon::prelude::*;

/// Amplitudes per rayon task: 2^13 · 16 B = 128 KiB, a share of L2.
const TASK_LEN: usize = 1 << 13;

/// A kernel chosen from a gate's matrix structure. Targets are qubit indices.
#[derive(Debug, Clone, Copy, PartialEq)]
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
}

/// Raw access to amplitudes shared by threads that touch disjoint indices.
#[derive(Clone, Copy)]
struct SharedAmps(*mut C64);
// SAFETY: every walker below hands each index to exactly one closure call, so no two threads
// ever access the same amplitude.
unsafe impl Send for SharedAmps {}
unsafe impl Sync for SharedAmps {}

impl SharedAmps {
    /// # Safety
    /// `i` is in bounds and no other live reference points at amplitude `i`.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    unsafe fn at(&self, i: usize) -> &mut C64 {
        &mut *self.0.add(i)
    }
}

/// The positions (sorted, ascending) where base indices have a zero bit inserted, and the
/// mask of control bits set in each base index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Subspace {
    zeros: [u8; 4],
    num_zeros: u8,
    /// Bits of the control qubits.
    pub ctrl: usize,
}

impl Subspace {
    /// The subspace of a gate with the given controls and targets.
    pub fn new(controls: &[usize], targets: &[usize]) -> Self {
        let mut zeros = [0u8; 4];
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

    /// The `k`-th base index: zero bits inserted at every gate position, control bits set.
    #[inline(always)]
    fn base(&self, mut k: usize) -> usize {
        for &z in &self.zeros[..self.num_zeros as usize] {
            let low = k & ((1usize << z) - 1);
            k = ((k >> z) << (z + 1)) | low;
        }
        k | self.ctrl
    }

    /// Calls `f(base)` for every base index of a state of `len` amplitudes.
    #[inline(always)]
    fn for_each_base(&self, len: usize, par: Par, f: impl Fn(usize) + Sync + Send) {
        let count = len >> self.num_zeros;
        match par {
            Par::Seq => (0..count).for_each(|k| f(self.base(k))),
            Par::Rayon => {
                let tasks = count.div_ceil(TASK_LEN);
                (0..tasks).into_par_iter().for_each(|task| {
                    let end = ((task + 1) * TASK_LEN).min(count);
                    (task * TASK_LEN..end).for_each(|k| f(self.base(k)))
                })
            }
        }
    }
}

/// Calls `f(a, b)` for every pair `(ψ_i, ψ_{i | 2^t})` with bit `t` of `i` clear and every
/// control bit of `i` set.
#[inline(always)]
fn walk_pairs(
    amps: &mut [C64],
    t: usize,
    sub: &Subspace,
    par: Par,
    f: impl Fn(&mut C64, &mut C64) + Sync + Send,
) {
    let stride = 1usize << t;
    debug_assert!(2 * stride <= amps.len());
    if sub.ctrl != 0 {
        let len = amps.len();
        let shared = SharedAmps(amps.as_mut_ptr());
        // SAFETY: base indices are distinct and have bit t clear, so the pairs
        // (base, base | stride) are disjoint across calls and in bounds.
        sub.for_each_base(len, par, |base| unsafe {
            f(shared.at(base), shared.at(base | stride))
        });
        return;
    }
    let walk_block = |block: &mut [C64]| {
        for pair in block.chunks_exact_mut(2 * stride) {
            let (lo, hi) = pair.split_at_mut(stride);
            lo.iter_mut().zip(hi).for_each(|(a, b)| f(a, b));
        }
    };
    match par {
        Par::Seq => walk_block(amps),
        Par::Rayon if 2 * stride <= TASK_LEN => amps.par_chunks_mut(TASK_LEN).for_each(walk_block),
        Par::Rayon => amps.par_chunks_exact_mut(2 * stride).for_each(|pair| {
            let (lo, hi) = pair.split_at_mut(stride);
            lo.par_chunks_mut(TASK_LEN / 2)
                .zip(hi.par_chunks_mut(TASK_LEN / 2))
                .for_each(|(l, h)| l.iter_mut().zip(h).for_each(|(a, b)| f(a, b)))
        }),
    }
}

/// Calls `f([ψ_b, ψ_{b+2^{t0}}, ψ_{b+2^{t1}}, ψ_{b+2^{t0}+2^{t1}}])` for every base `b` and
/// stores the four values it returns.
#[inline(always)]
fn walk_quads(
    amps: &mut [C64],
    t: [usize; 2],
    sub: &Subspace,
    par: Par,
    f: impl Fn([C64; 4]) -> [C64; 4] + Sync + Send,
) {
    let (m0, m1) = (1usize << t[0], 1usize << t[1]);
    let len = amps.len();
    let shared = SharedAmps(amps.as_mut_ptr());
    // SAFETY: base indices are distinct with bits t0 and t1 clear, so the four indices of one
    // call are in bounds and disjoint from those of every other call.
    sub.for_each_base(len, par, |b| unsafe {
        let idx = [b, b | m0, b | m1, b | m0 | m1];
        let out = f(idx.map(|i| *shared.at(i)));
        for (i, v) in idx.into_iter().zip(out) {
            *shared.at(i) = v;
        }
    });
}

/// Applies `kernel` restricted to the subspace `sub` (controls set) to the amplitudes.
pub(crate) fn apply(amps: &mut [C64], kernel: &Kernel, sub: &Subspace, par: Par) {
    match *kernel {
        Kernel::Identity => {}
        Kernel::Phase { t, d } => walk_pairs(amps, t, sub, par, |_, b| *b *= d),
        Kernel::Diagonal { t, d } => walk_pairs(amps, t, sub, par, |a, b| {
            *a *= d[0];
            *b *= d[1];
        }),
        Kernel::Flip { t } => walk_pairs(amps, t, sub, par, std::mem::swap),
        Kernel::AntiDiagonal { t, a } => walk_pairs(amps, t, sub, par, |x, y| {
            let (lo, hi) = (*x, *y);
            *x = a[0] * hi;
            *y = a[1] * lo;
        }),
        Kernel::Dense { t, m } => walk_pairs(amps, t, sub, par, |x, y| {
            let (lo, hi) = (*x, *y);
            *x = m[0] * lo + m[1] * hi;
            *y = m[2] * lo + m[3] * hi;
        }),
        Kernel::Diagonal2 { t, d } => walk_quads(amps, t, sub, par, |v| {
            [v[0] * d[0], v[1] * d[1], v[2] * d[2], v[3] * d[3]]
        }),
        Kernel::Swap { t } => walk_quads(amps, t, sub, par, |v| [v[0], v[2], v[1], v[3]]),
        Kernel::Dense2 { t, m } => walk_quads(amps, t, sub, par, |v| {
            std::array::from_fn(|r| (0..4).map(|c| m[4 * r + c] * v[c]).sum())
        }),
    }
}
