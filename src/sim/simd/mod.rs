//! The innermost loops of the kernels, on contiguous runs of amplitudes, with an AVX2 + FMA
//! version chosen at run time and a portable one.
//!
//! Amplitudes are stored interleaved (re, im). One 256-bit register holds two of them; a
//! complex product `d·x` is `fmaddsub(Re d, x, Im d · swap(x))`, where `swap` exchanges re and
//! im within each amplitude and `fmaddsub` subtracts in even lanes and adds in odd ones. So
//! the dense update `x' = m₀·a + m₁·b` costs two multiplies and four fused operations per
//! two amplitudes, with no horizontal shuffles.
//!
//! The crate is built for portable x86-64 (no `target-cpu=native`); the AVX2 (`avx2.rs`) and
//! AVX-512 (`avx512.rs`) functions are compiled with `#[target_feature]` and taken when the
//! [`Cpu`] passed down from the executor reports them. Each function returns the same values
//! as its portable twin up to the rounding of fused multiply-adds (tested in `tests.rs` to
//! 4 ε, on every instruction set this CPU has).

use num_complex::Complex64 as C64;

/// What this CPU runs: detected once per process ([`Cpu::detect`]) and passed down from the
/// executor to every loop, so no loop asks the CPU again. A `Cpu` never claims a feature the
/// CPU lacks (the fields are private and only [`Cpu::detect`] sets them); that is what makes the
/// `unsafe` calls below sound. [`Cpu::portable`] runs the portable twins everywhere (tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cpu {
    avx2: bool,
    avx512: bool,
}

impl Cpu {
    /// The features of this CPU: AVX2 + FMA, and AVX-512F/DQ on top of them.
    pub(crate) fn detect() -> Cpu {
        static CPU: std::sync::OnceLock<Cpu> = std::sync::OnceLock::new();
        *CPU.get_or_init(|| {
            #[cfg(target_arch = "x86_64")]
            {
                use std::arch::is_x86_feature_detected as has;
                let avx2 = has!("avx2") && has!("fma");
                Cpu {
                    avx2,
                    avx512: avx2 && has!("avx512f") && has!("avx512dq"),
                }
            }
            #[cfg(not(target_arch = "x86_64"))]
            Cpu::portable()
        })
    }

    /// No vector extension: every loop takes its portable form.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) const fn portable() -> Cpu {
        Cpu {
            avx2: false,
            avx512: false,
        }
    }

    /// This CPU with AVX-512 turned off (the AVX2 paths), for tests.
    #[cfg(test)]
    pub(crate) fn without_avx512(self) -> Cpu {
        Cpu {
            avx512: false,
            ..self
        }
    }

    /// Whether the AVX2 + FMA paths may run.
    #[inline(always)]
    pub(crate) fn avx2(self) -> bool {
        self.avx2
    }

    /// Whether the AVX-512 paths may run (AVX-512F and DQ, and AVX2 + FMA for the rest).
    #[inline(always)]
    pub(crate) fn avx512(self) -> bool {
        self.avx512
    }

    /// Whether a slice of `len` amplitudes takes the AVX-512 path (whole registers only). Below
    /// 64 amplitudes building the wide coefficients costs about what the wider loop saves (the
    /// training benchmark, 4 qubits: 2.25 M evaluations/s with AVX-512 there, 2.32 M/s
    /// without).
    #[inline(always)]
    fn wide(self, len: usize) -> bool {
        len >= 64 && len.is_multiple_of(4) && self.avx512
    }
}

/// Whether every entry of the matrices is real, so that the wide paths may use
/// [`avx512::Real`] arithmetic (same values, fewer operations). Checked per call: eight
/// comparisons, against at least 64 amplitudes of work.
#[inline(always)]
fn is_real(m: &[[C64; 4]]) -> bool {
    m.iter().flatten().all(|z| z.im == 0.0)
}

/// `x ← d·x`.
#[inline]
pub(crate) fn scale(x: &mut [C64], d: C64, cpu: Cpu) {
    #[cfg(target_arch = "x86_64")]
    if x.len() >= 2 && cpu.avx2() {
        // SAFETY: AVX2 and FMA are present.
        return unsafe { avx2::scale(x, d) };
    }
    x.iter_mut().for_each(|a| *a *= d);
}

/// `x[j] ← (table[j]·f)·x[j]` for every `j` (a diagonal given entry by entry, times `f`).
#[inline]
pub(crate) fn scale_by_table(x: &mut [C64], table: &[C64], f: C64, cpu: Cpu) {
    debug_assert_eq!(x.len(), table.len());
    #[cfg(target_arch = "x86_64")]
    if cpu.wide(x.len()) {
        // SAFETY: AVX-512F is present; the slices hold whole registers.
        return unsafe { avx512::scale_by_table(x, table, f) };
    }
    #[cfg(target_arch = "x86_64")]
    if x.len() >= 2 && cpu.avx2() {
        // SAFETY: AVX2 and FMA are present.
        return unsafe { avx2::scale_by_table(x, table, f) };
    }
    scale_by_table_portable(x, table, f);
}

fn scale_by_table_portable(x: &mut [C64], table: &[C64], f: C64) {
    for (a, t) in x.iter_mut().zip(table) {
        *a *= t * f;
    }
}

/// `Σᵢ (−1)^{bit q of i} |xᵢ|²`: ⟨Z_q⟩ of a state. Summed in 16 independent lanes (the
/// squares of the real and imaginary parts of 8 amplitudes), so the loop vectorizes; AVX-512
/// or AVX2 when the CPU has them.
pub(crate) fn z_sum(x: &[C64], q: usize, cpu: Cpu) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if cpu.avx512() {
        // SAFETY: AVX-512F is present.
        return unsafe { z_sum_avx512(x, q) };
    }
    #[cfg(target_arch = "x86_64")]
    if cpu.avx2() {
        // SAFETY: AVX2 is present.
        return unsafe { z_sum_avx2(x, q) };
    }
    z_sum_body(x, q)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn z_sum_avx512(x: &[C64], q: usize) -> f64 {
    z_sum_body(x, q)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn z_sum_avx2(x: &[C64], q: usize) -> f64 {
    z_sum_body(x, q)
}

#[inline(always)]
fn z_sum_body(x: &[C64], q: usize) -> f64 {
    const LANES: usize = 16;
    // Lane k of a chunk of 8 amplitudes holds a part of amplitude k / 2.
    let accumulate = |acc: &mut [f64; LANES], run: &[C64]| {
        for chunk in run.chunks_exact(LANES / 2) {
            for (k, a) in acc.iter_mut().enumerate() {
                let amp = chunk[k / 2];
                let part = if k % 2 == 0 { amp.re } else { amp.im };
                *a += part * part;
            }
        }
    };
    // Pairwise: a tree of adds, not one long chain (short states pay its latency).
    let tree = |acc: [f64; LANES]| -> f64 {
        let mut v = acc;
        let mut width = LANES;
        while width > 1 {
            width /= 2;
            for k in 0..width {
                v[k] += v[k + width];
            }
        }
        v[0]
    };
    let sign = |i: usize| if i >> q & 1 == 0 { 1.0 } else { -1.0 };
    if x.len() < LANES / 2 {
        return x
            .iter()
            .enumerate()
            .map(|(i, a)| sign(i) * a.norm_sqr())
            .sum();
    }
    if q < 3 {
        // The sign pattern repeats in every chunk of 8 amplitudes.
        let mut acc = [0.0; LANES];
        accumulate(&mut acc, x);
        for (k, a) in acc.iter_mut().enumerate() {
            *a *= sign(k / 2);
        }
        return tree(acc);
    }
    // Runs of 2^q ≥ 8 amplitudes share their sign.
    let (mut plus, mut minus) = ([0.0; LANES], [0.0; LANES]);
    for (k, run) in x.chunks_exact(1 << q).enumerate() {
        accumulate(if k % 2 == 0 { &mut plus } else { &mut minus }, run);
    }
    tree(plus) - tree(minus)
}

/// `diag(d₀, d₁)` on qubit `t` of `x`, whose length is a multiple of `2^{t+1}`: each block
/// of `2^{t+1}` amplitudes has its lower half scaled by `d₀` and its upper half by `d₁`.
#[inline]
pub(crate) fn diagonal_blocks(x: &mut [C64], t: usize, d: [C64; 2], cpu: Cpu) {
    debug_assert!(x.len().is_multiple_of(2 << t));
    #[cfg(target_arch = "x86_64")]
    if cpu.avx2() {
        // SAFETY: AVX2 and FMA are present.
        return unsafe { avx2::diagonal_blocks(x, t, d) };
    }
    let stride = 1 << t;
    for block in x.chunks_exact_mut(2 * stride) {
        let (lo, hi) = block.split_at_mut(stride);
        lo.iter_mut().for_each(|a| *a *= d[0]);
        hi.iter_mut().for_each(|a| *a *= d[1]);
    }
}

/// `(a, b) ← (m₀₀·a + m₀₁·b, m₁₀·a + m₁₁·b)` element-wise over two runs of equal length.
#[inline]
pub(crate) fn dense(lo: &mut [C64], hi: &mut [C64], m: &[C64; 4], cpu: Cpu) {
    debug_assert_eq!(lo.len(), hi.len());
    #[cfg(target_arch = "x86_64")]
    if cpu.wide(lo.len()) {
        // SAFETY: AVX-512F is present; the runs hold whole registers.
        return unsafe {
            match is_real(&[*m]) {
                true => avx512::dense::<avx512::Real>(lo, hi, m),
                false => avx512::dense::<avx512::Complex>(lo, hi, m),
            }
        };
    }
    #[cfg(target_arch = "x86_64")]
    if lo.len() >= 2 && cpu.avx2() {
        // SAFETY: AVX2 and FMA are present.
        return unsafe { avx2::dense(lo, hi, m) };
    }
    dense_portable(lo, hi, m);
}

fn dense_portable(lo: &mut [C64], hi: &mut [C64], m: &[C64; 4]) {
    for (x, y) in lo.iter_mut().zip(hi) {
        let (a, b) = (*x, *y);
        *x = m[0] * a + m[1] * b;
        *y = m[2] * a + m[3] * b;
    }
}

/// The dense update on qubit `t` of `x`, whose length is a multiple of `2^{t+1}`: on the two
/// halves of every block of `2^{t+1}` amplitudes, as [`dense`].
#[inline]
pub(crate) fn dense_blocks(x: &mut [C64], t: usize, m: &[C64; 4], cpu: Cpu) {
    debug_assert!(x.len().is_multiple_of(2 << t));
    #[cfg(target_arch = "x86_64")]
    if cpu.wide(x.len()) {
        // SAFETY: AVX-512F is present; the state holds whole registers.
        let m = [*m, *m];
        return unsafe {
            match is_real(&m) {
                true => avx512::select_blocks::<avx512::Real>(x, None, t, &m),
                false => avx512::select_blocks::<avx512::Complex>(x, None, t, &m),
            }
        };
    }
    #[cfg(target_arch = "x86_64")]
    if cpu.avx2() {
        // SAFETY: AVX2 and FMA are present.
        return unsafe { avx2::dense_blocks(x, t, m) };
    }
    let stride = 1 << t;
    for block in x.chunks_exact_mut(2 * stride) {
        let (lo, hi) = block.split_at_mut(stride);
        dense_portable(lo, hi, m);
    }
}

/// `|0⟩⟨0|_c ⊗ m[0] + |1⟩⟨1|_c ⊗ m[1]` on target `t` of `x`, whose length is a multiple of
/// `2^{max(c,t)+1}` and whose index bits are the low qubits of the state.
#[inline]
pub(crate) fn select_dense_blocks(x: &mut [C64], c: usize, t: usize, m: &[[C64; 4]; 2], cpu: Cpu) {
    debug_assert!(x.len().is_multiple_of(2 << c.max(t)) && c != t);
    #[cfg(target_arch = "x86_64")]
    if cpu.wide(x.len()) {
        // SAFETY: AVX-512F is present; the state holds whole registers.
        return unsafe {
            match is_real(m) {
                true => avx512::select_blocks::<avx512::Real>(x, Some(c), t, m),
                false => avx512::select_blocks::<avx512::Complex>(x, Some(c), t, m),
            }
        };
    }
    #[cfg(target_arch = "x86_64")]
    if cpu.avx2() {
        // SAFETY: AVX2 and FMA are present.
        return unsafe { avx2::select_dense_blocks(x, c, t, m) };
    }
    let st = 1 << t;
    for i in (0..x.len()).filter(|i| i & st == 0) {
        let k = i >> c & 1;
        let (a, b) = (x[i], x[i | st]);
        x[i] = m[k][0] * a + m[k][1] * b;
        x[i | st] = m[k][2] * a + m[k][3] * b;
    }
}

/// Most amplitudes [`tiny_select`] takes: four 512-bit registers.
pub(crate) const TINY_LEN: usize = 16;

/// `|0⟩⟨0|_c ⊗ m[0] + |1⟩⟨1|_c ⊗ m[1]` on target `t` (`c = None`: `m[0]` everywhere) of a
/// state of 4 to [`TINY_LEN`] amplitudes, if this CPU has AVX-512 (returns whether it ran).
///
/// The whole state sits in at most four registers, and each register's coefficients are
/// picked from the sixteen doubles of `m` by fixed index vectors: a few shuffles per register
/// in place of the per-block set-up of the general kernels, which dominates at this size.
#[inline]
pub(crate) fn tiny_select(
    x: &mut [C64],
    c: Option<usize>,
    t: usize,
    m: &[[C64; 4]; 2],
    cpu: Cpu,
) -> bool {
    debug_assert!(x.len() <= TINY_LEN && c != Some(t) && c.max(Some(t)) < Some(4));
    #[cfg(target_arch = "x86_64")]
    if tiny_shape(x.len(), c, t) && cpu.avx512() {
        // SAFETY: AVX-512F/DQ, AVX2 and FMA are present; the state holds whole registers.
        unsafe { avx512::tiny_select(x, c, t, m) };
        return true;
    }
    false
}

/// [`tiny_select`] with the matrices `m = c + a·cos + b·sin` given by their parts
/// (`parts[k]` of 4 entries for `m[0] = m[1]`, uncontrolled, or of 8 for `[m[0], m[1]]`),
/// formed in registers (a [`crate::Program`]'s affine steps at this size). Returns whether
/// the state's size allowed it.
#[inline]
pub(crate) fn tiny_affine(
    x: &mut [C64],
    c: Option<usize>,
    t: usize,
    parts: [&[C64]; 3],
    sin_cos: (f64, f64),
    cpu: Cpu,
) -> bool {
    debug_assert!(parts
        .iter()
        .all(|p| p.len() == 4 * (1 + c.is_some() as usize)));
    #[cfg(target_arch = "x86_64")]
    if tiny_shape(x.len(), c, t) && cpu.avx512() {
        // SAFETY: AVX-512F/DQ, AVX2 and FMA are present; the state holds whole registers.
        unsafe { avx512::tiny_affine(x, c, t, parts, sin_cos) };
        return true;
    }
    false
}

/// Whether the tiny path takes a state of `len` amplitudes and qubits `c`, `t`.
#[inline(always)]
fn tiny_shape(len: usize, c: Option<usize>, t: usize) -> bool {
    (4..=TINY_LEN).contains(&len) && len > 1 << c.max(Some(t)).unwrap_or(0)
}

/// The select update on runs `lo`, `hi` (bit `t` clear and set) for `c < t`: element `j` uses
/// `m[bit c of j]`; the runs start at a multiple of `2^{c+1}` and their length is one too.
#[inline]
pub(crate) fn select_dense_pairs(
    lo: &mut [C64],
    hi: &mut [C64],
    c: usize,
    m: &[[C64; 4]; 2],
    cpu: Cpu,
) {
    debug_assert!(lo.len() == hi.len() && lo.len().is_multiple_of(2 << c));
    #[cfg(target_arch = "x86_64")]
    if cpu.wide(lo.len()) {
        // SAFETY: AVX-512F is present; the runs hold whole registers.
        return unsafe {
            match is_real(m) {
                true => avx512::select_pairs::<avx512::Real>(lo, hi, c, m),
                false => avx512::select_pairs::<avx512::Complex>(lo, hi, c, m),
            }
        };
    }
    #[cfg(target_arch = "x86_64")]
    if cpu.avx2() {
        // SAFETY: AVX2 and FMA are present.
        return unsafe { avx2::select_dense_pairs(lo, hi, c, m) };
    }
    for (j, (x, y)) in lo.iter_mut().zip(hi).enumerate() {
        let k = j >> c & 1;
        let (a, b) = (*x, *y);
        *x = m[k][0] * a + m[k][1] * b;
        *y = m[k][2] * a + m[k][3] * b;
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2;
mod blocks;
pub(crate) use blocks::{
    dense_block_wide, dense_block_wide_single, DenseLanes, DenseLanesSingle, DiagonalRows,
    DiagonalRowsSingle,
};
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(test)]
mod tests;
