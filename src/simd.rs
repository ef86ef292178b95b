//! The innermost loops of the kernels, on contiguous runs of amplitudes, with an AVX2 + FMA
//! version chosen at run time and a portable one.
//!
//! Amplitudes are stored interleaved (re, im). One 256-bit register holds two of them; a
//! complex product `d·x` is `fmaddsub(Re d, x, Im d · swap(x))`, where `swap` exchanges re and
//! im within each amplitude and `fmaddsub` subtracts in even lanes and adds in odd ones. So
//! the dense update `x' = m₀·a + m₁·b` costs two multiplies and four fused operations per
//! two amplitudes, with no horizontal shuffles.
//!
//! The crate is built for portable x86-64 (no `target-cpu=native`); the AVX2 functions are
//! compiled with `#[target_feature]` and taken when the CPU reports AVX2 and FMA (the check is
//! a cached flag). Each function returns the same values as its portable twin up to the
//! rounding of fused multiply-adds (tested below to 4 ε).

use num_complex::Complex64 as C64;

/// Whether the AVX2 + FMA paths may run on this CPU.
#[inline(always)]
fn avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether the AVX-512 paths may run on this CPU (AVX-512F and DQ, and AVX2 + FMA for the rest).
#[inline(always)]
fn avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && avx2()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether a slice of `len` amplitudes takes the AVX-512 path (whole registers only). Below 64
/// amplitudes building the wide coefficients costs about what the wider loop saves (the
/// training benchmark, 4 qubits: 2.25 M evaluations/s with AVX-512 there, 2.32 M/s without).
#[inline(always)]
fn wide(len: usize) -> bool {
    len >= 64 && len.is_multiple_of(4) && avx512()
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
pub(crate) fn scale(x: &mut [C64], d: C64) {
    #[cfg(target_arch = "x86_64")]
    if x.len() >= 2 && avx2() {
        // SAFETY: AVX2 and FMA are present.
        return unsafe { avx::scale(x, d) };
    }
    x.iter_mut().for_each(|a| *a *= d);
}

/// `x[j] ← (table[j]·f)·x[j]` for every `j` (a diagonal given entry by entry, times `f`).
#[inline]
pub(crate) fn scale_by_table(x: &mut [C64], table: &[C64], f: C64) {
    debug_assert_eq!(x.len(), table.len());
    #[cfg(target_arch = "x86_64")]
    if wide(x.len()) {
        // SAFETY: AVX-512F is present; the slices hold whole registers.
        return unsafe { avx512::scale_by_table(x, table, f) };
    }
    #[cfg(target_arch = "x86_64")]
    if x.len() >= 2 && avx2() {
        // SAFETY: AVX2 and FMA are present.
        return unsafe { avx::scale_by_table(x, table, f) };
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
pub(crate) fn z_sum(x: &[C64], q: usize) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if avx512() {
        // SAFETY: AVX-512F is present.
        return unsafe { z_sum_avx512(x, q) };
    }
    #[cfg(target_arch = "x86_64")]
    if avx2() {
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
pub(crate) fn diagonal_blocks(x: &mut [C64], t: usize, d: [C64; 2]) {
    debug_assert!(x.len().is_multiple_of(2 << t));
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: AVX2 and FMA are present.
        return unsafe { avx::diagonal_blocks(x, t, d) };
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
pub(crate) fn dense(lo: &mut [C64], hi: &mut [C64], m: &[C64; 4]) {
    debug_assert_eq!(lo.len(), hi.len());
    #[cfg(target_arch = "x86_64")]
    if wide(lo.len()) {
        // SAFETY: AVX-512F is present; the runs hold whole registers.
        return unsafe {
            match is_real(&[*m]) {
                true => avx512::dense::<avx512::Real>(lo, hi, m),
                false => avx512::dense::<avx512::Complex>(lo, hi, m),
            }
        };
    }
    #[cfg(target_arch = "x86_64")]
    if lo.len() >= 2 && avx2() {
        // SAFETY: AVX2 and FMA are present.
        return unsafe { avx::dense(lo, hi, m) };
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
pub(crate) fn dense_blocks(x: &mut [C64], t: usize, m: &[C64; 4]) {
    debug_assert!(x.len().is_multiple_of(2 << t));
    #[cfg(target_arch = "x86_64")]
    if wide(x.len()) {
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
    if avx2() {
        // SAFETY: AVX2 and FMA are present.
        return unsafe { avx::dense_blocks(x, t, m) };
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
pub(crate) fn select_dense_blocks(x: &mut [C64], c: usize, t: usize, m: &[[C64; 4]; 2]) {
    debug_assert!(x.len().is_multiple_of(2 << c.max(t)) && c != t);
    #[cfg(target_arch = "x86_64")]
    if wide(x.len()) {
        // SAFETY: AVX-512F is present; the state holds whole registers.
        return unsafe {
            match is_real(m) {
                true => avx512::select_blocks::<avx512::Real>(x, Some(c), t, m),
                false => avx512::select_blocks::<avx512::Complex>(x, Some(c), t, m),
            }
        };
    }
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: AVX2 and FMA are present.
        return unsafe { avx::select_dense_blocks(x, c, t, m) };
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
pub(crate) fn tiny_select(x: &mut [C64], c: Option<usize>, t: usize, m: &[[C64; 4]; 2]) -> bool {
    debug_assert!(x.len() <= TINY_LEN && c != Some(t) && c.max(Some(t)) < Some(4));
    #[cfg(target_arch = "x86_64")]
    if tiny_shape(x.len(), c, t) && avx512() {
        // SAFETY: AVX-512F/DQ, AVX2 and FMA are present; the state holds whole registers.
        unsafe { avx512::tiny_select(x, c, t, m) };
        return true;
    }
    false
}

/// Proof that this CPU runs the AVX-512 paths, made once by [`Avx512::detect`] so that a loop
/// of tiny updates does not ask again per step (about 10 ns of W2's 0.31 µs at 4 qubits).
#[derive(Clone, Copy)]
pub(crate) struct Avx512(());

impl Avx512 {
    pub(crate) fn detect() -> Option<Avx512> {
        avx512().then_some(Avx512(()))
    }
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
    _cpu: Avx512,
) -> bool {
    debug_assert!(parts
        .iter()
        .all(|p| p.len() == 4 * (1 + c.is_some() as usize)));
    #[cfg(target_arch = "x86_64")]
    if tiny_shape(x.len(), c, t) {
        // SAFETY: `_cpu` proves AVX-512F/DQ, AVX2 and FMA; the state holds whole registers.
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
pub(crate) fn select_dense_pairs(lo: &mut [C64], hi: &mut [C64], c: usize, m: &[[C64; 4]; 2]) {
    debug_assert!(lo.len() == hi.len() && lo.len().is_multiple_of(2 << c));
    #[cfg(target_arch = "x86_64")]
    if wide(lo.len()) {
        // SAFETY: AVX-512F is present; the runs hold whole registers.
        return unsafe {
            match is_real(m) {
                true => avx512::select_pairs::<avx512::Real>(lo, hi, c, m),
                false => avx512::select_pairs::<avx512::Complex>(lo, hi, c, m),
            }
        };
    }
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: AVX2 and FMA are present.
        return unsafe { avx::select_dense_pairs(lo, hi, c, m) };
    }
    for (j, (x, y)) in lo.iter_mut().zip(hi).enumerate() {
        let k = j >> c & 1;
        let (a, b) = (*x, *y);
        *x = m[k][0] * a + m[k][1] * b;
        *y = m[k][2] * a + m[k][3] * b;
    }
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use num_complex::Complex64 as C64;
    use std::arch::x86_64::*;

    /// `[re, re, re', re']` and `[im, im, im', im']` of two complex numbers.
    #[inline(always)]
    unsafe fn split(a: C64, b: C64) -> (__m256d, __m256d) {
        (
            _mm256_setr_pd(a.re, a.re, b.re, b.re),
            _mm256_setr_pd(a.im, a.im, b.im, b.im),
        )
    }

    /// `d·x` lane-wise for two amplitudes, `d` given by [`split`].
    #[inline(always)]
    unsafe fn mul(dr: __m256d, di: __m256d, x: __m256d) -> __m256d {
        _mm256_fmaddsub_pd(dr, x, _mm256_mul_pd(di, _mm256_permute_pd(x, 0b0101)))
    }

    /// `p·a + q·b` lane-wise.
    #[inline(always)]
    unsafe fn mul_add(
        (pr, pi): (__m256d, __m256d),
        a: __m256d,
        (qr, qi): (__m256d, __m256d),
        b: __m256d,
    ) -> __m256d {
        let swapped = _mm256_fmadd_pd(
            qi,
            _mm256_permute_pd(b, 0b0101),
            _mm256_mul_pd(pi, _mm256_permute_pd(a, 0b0101)),
        );
        _mm256_fmadd_pd(pr, a, _mm256_fmaddsub_pd(qr, b, swapped))
    }

    /// `x ← d·x` on a run (an odd last amplitude included).
    #[inline(always)]
    unsafe fn scale_run(x: &mut [C64], (dr, di): (__m256d, __m256d), d: C64) {
        let mut pairs = x.chunks_exact_mut(2);
        for pair in &mut pairs {
            let p = pair.as_mut_ptr() as *mut f64;
            _mm256_storeu_pd(p, mul(dr, di, _mm256_loadu_pd(p)));
        }
        if let [last] = pairs.into_remainder() {
            *last *= d;
        }
    }

    /// The dense update on two runs of equal length, `splits` being `m` by [`split`].
    #[inline(always)]
    unsafe fn dense_run(
        lo: &mut [C64],
        hi: &mut [C64],
        m: &[C64; 4],
        splits: &[(__m256d, __m256d); 4],
    ) {
        let [m0, m1, m2, m3] = *splits;
        let mut lo_pairs = lo.chunks_exact_mut(2);
        let mut hi_pairs = hi.chunks_exact_mut(2);
        for (x, y) in (&mut lo_pairs).zip(&mut hi_pairs) {
            let (px, py) = (x.as_mut_ptr() as *mut f64, y.as_mut_ptr() as *mut f64);
            let (a, b) = (_mm256_loadu_pd(px), _mm256_loadu_pd(py));
            _mm256_storeu_pd(px, mul_add(m0, a, m1, b));
            _mm256_storeu_pd(py, mul_add(m2, a, m3, b));
        }
        super::dense_portable(lo_pairs.into_remainder(), hi_pairs.into_remainder(), m);
    }

    /// The four entries of `m` by [`split`] (written out: a closure returning vectors would be
    /// compiled without AVX and pass them through memory).
    #[inline(always)]
    unsafe fn splits(m: &[C64; 4]) -> [(__m256d, __m256d); 4] {
        [
            split(m[0], m[0]),
            split(m[1], m[1]),
            split(m[2], m[2]),
            split(m[3], m[3]),
        ]
    }

    /// Entry `k` of `m[0]` in the even lanes and of `m[1]` in the odd ones, for every `k`.
    #[inline(always)]
    unsafe fn lane_splits(m: &[[C64; 4]; 2]) -> [(__m256d, __m256d); 4] {
        [
            split(m[0][0], m[1][0]),
            split(m[0][1], m[1][1]),
            split(m[0][2], m[1][2]),
            split(m[0][3], m[1][3]),
        ]
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn scale(x: &mut [C64], d: C64) {
        scale_run(x, split(d, d), d);
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn scale_by_table(x: &mut [C64], table: &[C64], f: C64) {
        let (fr, fi) = split(f, f);
        let mut pairs = x.chunks_exact_mut(2);
        let mut entries = table.chunks_exact(2);
        for (pair, entry) in (&mut pairs).zip(&mut entries) {
            let p = pair.as_mut_ptr() as *mut f64;
            // d = t·f, then d·x with d's real and imaginary parts duplicated per amplitude.
            let d = mul(fr, fi, _mm256_loadu_pd(entry.as_ptr() as *const f64));
            let (dr, di) = (_mm256_movedup_pd(d), _mm256_permute_pd(d, 0b1111));
            _mm256_storeu_pd(p, mul(dr, di, _mm256_loadu_pd(p)));
        }
        super::scale_by_table_portable(pairs.into_remainder(), entries.remainder(), f);
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn dense(lo: &mut [C64], hi: &mut [C64], m: &[C64; 4]) {
        dense_run(lo, hi, m, &splits(m));
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn diagonal_blocks(x: &mut [C64], t: usize, d: [C64; 2]) {
        if t == 0 {
            // The pair (x[2k], x[2k+1]) shares a register: lanes scaled by [d₀, d₁].
            let (dr, di) = split(d[0], d[1]);
            for pair in x.chunks_exact_mut(2) {
                let p = pair.as_mut_ptr() as *mut f64;
                _mm256_storeu_pd(p, mul(dr, di, _mm256_loadu_pd(p)));
            }
            return;
        }
        let one = C64::new(1.0, 0.0);
        let stride = 1 << t;
        let (s0, s1) = (split(d[0], d[0]), split(d[1], d[1]));
        for block in x.chunks_exact_mut(2 * stride) {
            let (lo, hi) = block.split_at_mut(stride);
            if d[0] != one {
                scale_run(lo, s0, d[0]);
            }
            scale_run(hi, s1, d[1]);
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn dense_blocks(x: &mut [C64], t: usize, m: &[C64; 4]) {
        let columns = (split(m[0], m[2]), split(m[1], m[3]));
        dense_blocks_body(x, t, m, &splits(m), columns);
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn select_dense_pairs(
        lo: &mut [C64],
        hi: &mut [C64],
        c: usize,
        m: &[[C64; 4]; 2],
    ) {
        select_pairs_body(lo, hi, c, m);
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn select_dense_blocks(x: &mut [C64], c: usize, t: usize, m: &[[C64; 4]; 2]) {
        if c < t {
            for block in x.chunks_exact_mut(2 << t) {
                let (lo, hi) = block.split_at_mut(1 << t);
                select_pairs_body(lo, hi, c, m);
            }
        } else if t == 0 {
            // The pair (x[2k], x[2k+1]) shares a register; bit c of 2k picks the columns.
            let columns = [
                (split(m[0][0], m[0][2]), split(m[0][1], m[0][3])),
                (split(m[1][0], m[1][2]), split(m[1][1], m[1][3])),
            ];
            for (k, pair) in x.chunks_exact_mut(2).enumerate() {
                let (col0, col1) = columns[(k >> (c - 1)) & 1];
                let p = pair.as_mut_ptr() as *mut f64;
                let v = _mm256_loadu_pd(p);
                let a = _mm256_permute2f128_pd(v, v, 0x00);
                let b = _mm256_permute2f128_pd(v, v, 0x11);
                _mm256_storeu_pd(p, mul_add(col0, a, col1, b));
            }
        } else {
            // Block k of 2^{t+1} starts at k·2^{t+1}: its bit c picks the matrix.
            let split_m = [splits(&m[0]), splits(&m[1])];
            for (k, block) in x.chunks_exact_mut(2 << t).enumerate() {
                let (lo, hi) = block.split_at_mut(1 << t);
                let select = (k >> (c - t - 1)) & 1;
                dense_run(lo, hi, &m[select], &split_m[select]);
            }
        }
    }

    /// Element `j` of the runs uses `m[bit c of j]` (`c < t`, runs aligned to `2^{c+1}` and of
    /// even length). Only the vectors the case needs are built: short states pay for them.
    #[inline(always)]
    unsafe fn select_pairs_body(lo: &mut [C64], hi: &mut [C64], c: usize, m: &[[C64; 4]; 2]) {
        if c == 0 {
            // Register j holds elements 2j (control 0) and 2j + 1 (control 1): lane-wise matrices.
            let [s0, s1, s2, s3] = lane_splits(m);
            for (x, y) in lo.chunks_exact_mut(2).zip(hi.chunks_exact_mut(2)) {
                let (px, py) = (x.as_mut_ptr() as *mut f64, y.as_mut_ptr() as *mut f64);
                let (a, b) = (_mm256_loadu_pd(px), _mm256_loadu_pd(py));
                _mm256_storeu_pd(px, mul_add(s0, a, s1, b));
                _mm256_storeu_pd(py, mul_add(s2, a, s3, b));
            }
            return;
        }
        let split_m = [splits(&m[0]), splits(&m[1])];
        if c == 1 {
            // Register j holds elements 2j and 2j + 1, both with control bit j & 1.
            for (j, (x, y)) in lo
                .chunks_exact_mut(2)
                .zip(hi.chunks_exact_mut(2))
                .enumerate()
            {
                let [s0, s1, s2, s3] = split_m[j & 1];
                let (px, py) = (x.as_mut_ptr() as *mut f64, y.as_mut_ptr() as *mut f64);
                let (a, b) = (_mm256_loadu_pd(px), _mm256_loadu_pd(py));
                _mm256_storeu_pd(px, mul_add(s0, a, s1, b));
                _mm256_storeu_pd(py, mul_add(s2, a, s3, b));
            }
            return;
        }
        // Runs of 2^c amplitudes share the control value; runs alternate 0, 1, 0, …
        let run = 1 << c;
        for (k, (x, y)) in lo
            .chunks_exact_mut(run)
            .zip(hi.chunks_exact_mut(run))
            .enumerate()
        {
            let [m0, m1, m2, m3] = split_m[k & 1];
            for (x, y) in x.chunks_exact_mut(2).zip(y.chunks_exact_mut(2)) {
                let (px, py) = (x.as_mut_ptr() as *mut f64, y.as_mut_ptr() as *mut f64);
                let (a, b) = (_mm256_loadu_pd(px), _mm256_loadu_pd(py));
                _mm256_storeu_pd(px, mul_add(m0, a, m1, b));
                _mm256_storeu_pd(py, mul_add(m2, a, m3, b));
            }
        }
    }

    /// The dense update on qubit `t`; `split_m` is `m` by [`splits`] and `columns` holds its
    /// columns `([m00, m10], [m01, m11])` by [`split`] (used when `t = 0`).
    #[inline(always)]
    unsafe fn dense_blocks_body(
        x: &mut [C64],
        t: usize,
        m: &[C64; 4],
        split_m: &[(__m256d, __m256d); 4],
        (col0, col1): ((__m256d, __m256d), (__m256d, __m256d)),
    ) {
        if t == 0 {
            // Lanes [a, a] and [b, b] against the columns.
            for pair in x.chunks_exact_mut(2) {
                let p = pair.as_mut_ptr() as *mut f64;
                let v = _mm256_loadu_pd(p);
                let a = _mm256_permute2f128_pd(v, v, 0x00);
                let b = _mm256_permute2f128_pd(v, v, 0x11);
                _mm256_storeu_pd(p, mul_add(col0, a, col1, b));
            }
            return;
        }
        let stride = 1 << t;
        for block in x.chunks_exact_mut(2 * stride) {
            let (lo, hi) = block.split_at_mut(stride);
            dense_run(lo, hi, m, split_m);
        }
    }
}

/// The dense and select updates with four amplitudes per 512-bit register. The arithmetic is
/// [`avx`]'s, lane for lane (the same fused operations in the same order), so both paths give
/// the same bits; only the shuffles differ. Registers start at multiples of four amplitudes:
/// a gate on qubit 0 or 1 has whole blocks in one register (the halves are exchanged by a
/// shuffle), a gate on a higher qubit pairs registers `2^t` apart. A control on qubit 0 or 1
/// varies within a register (lane-wise coefficients); a higher one is constant over runs of
/// registers (two coefficient sets).
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use num_complex::Complex64 as C64;
    use std::arch::x86_64::*;

    /// A complex coefficient per amplitude slot (four per register): real and imaginary parts,
    /// each over both lanes of its slot.
    #[derive(Clone, Copy)]
    pub(super) struct Coeff {
        re: __m512d,
        im: __m512d,
    }

    /// Slot `s` of the register gets `z[s]`'s real part in both its lanes.
    #[inline(always)]
    unsafe fn real_lanes(z: [C64; 4]) -> __m512d {
        _mm512_setr_pd(
            z[0].re, z[0].re, z[1].re, z[1].re, z[2].re, z[2].re, z[3].re, z[3].re,
        )
    }

    #[inline(always)]
    unsafe fn coeff(z: [C64; 4]) -> Coeff {
        Coeff {
            re: real_lanes(z),
            im: _mm512_setr_pd(
                z[0].im, z[0].im, z[1].im, z[1].im, z[2].im, z[2].im, z[3].im, z[3].im,
            ),
        }
    }

    /// How an update's coefficients multiply the amplitudes: [`Complex`] in general, [`Real`]
    /// when every imaginary part is zero (H, X, CX and their products): two fused operations
    /// per register instead of four, and no swaps. Both give the same values (a zero imaginary
    /// part contributes exact zeros), so the choice never changes a result.
    pub(super) trait Arith {
        type C: Copy;
        unsafe fn coeff(z: [C64; 4]) -> Self::C;
        /// `p·a + q·b` slot-wise.
        unsafe fn mul_add(p: Self::C, a: __m512d, q: Self::C, b: __m512d) -> __m512d;
    }

    pub(super) struct Complex;
    pub(super) struct Real;

    impl Arith for Complex {
        type C = Coeff;
        #[inline(always)]
        unsafe fn coeff(z: [C64; 4]) -> Coeff {
            coeff(z)
        }
        /// As `avx::mul_add`, lane for lane.
        #[inline(always)]
        unsafe fn mul_add(p: Coeff, a: __m512d, q: Coeff, b: __m512d) -> __m512d {
            let swapped = _mm512_fmadd_pd(
                q.im,
                _mm512_permute_pd::<0b0101_0101>(b),
                _mm512_mul_pd(p.im, _mm512_permute_pd::<0b0101_0101>(a)),
            );
            _mm512_fmadd_pd(p.re, a, _mm512_fmaddsub_pd(q.re, b, swapped))
        }
    }

    impl Arith for Real {
        type C = __m512d;
        #[inline(always)]
        unsafe fn coeff(z: [C64; 4]) -> __m512d {
            real_lanes(z)
        }
        /// [`Complex::mul_add`] with its (zero) imaginary terms left out: the same rounding.
        #[inline(always)]
        unsafe fn mul_add(p: __m512d, a: __m512d, q: __m512d, b: __m512d) -> __m512d {
            _mm512_fmadd_pd(p, a, _mm512_mul_pd(q, b))
        }
    }

    /// The entries `[m00, m01, m10, m11]` as coefficients, slot `s` taking its matrix from
    /// `m[select[s]]`.
    #[inline(always)]
    unsafe fn entries<A: Arith>(m: &[[C64; 4]; 2], [a, b, c, d]: [usize; 4]) -> [A::C; 4] {
        // Written out: closures here would be compiled without the target features.
        [
            A::coeff([m[a][0], m[b][0], m[c][0], m[d][0]]),
            A::coeff([m[a][1], m[b][1], m[c][1], m[d][1]]),
            A::coeff([m[a][2], m[b][2], m[c][2], m[d][2]]),
            A::coeff([m[a][3], m[b][3], m[c][3], m[d][3]]),
        ]
    }

    /// The coefficient sets of a select update on pair runs with control `c` below the
    /// target: for `c` < 2 one lane-wise set (used for every register), else one set per
    /// control value.
    #[inline(always)]
    unsafe fn pair_sets<A: Arith>(m: &[[C64; 4]; 2], c: usize) -> [[A::C; 4]; 2] {
        match c {
            0 => {
                let set = entries::<A>(m, [0, 1, 0, 1]);
                [set, set]
            }
            1 => {
                let set = entries::<A>(m, [0, 0, 1, 1]);
                [set, set]
            }
            _ => [entries::<A>(m, [0; 4]), entries::<A>(m, [1; 4])],
        }
    }

    /// The select update on runs `lo`, `hi` (aligned to `2^{c+1}`) with [`pair_sets`].
    #[inline(always)]
    unsafe fn select_pairs_with<A: Arith>(
        lo: &mut [C64],
        hi: &mut [C64],
        c: usize,
        sets: &[[A::C; 4]; 2],
    ) {
        if c < 2 {
            return pairs_run::<A>(lo, hi, &sets[0]);
        }
        for (k, (x, y)) in lo
            .chunks_exact_mut(1 << c)
            .zip(hi.chunks_exact_mut(1 << c))
            .enumerate()
        {
            pairs_run::<A>(x, y, &sets[k & 1]);
        }
    }

    /// The two coefficients `(C₀, C₁)` of an in-register update (`t` = 0 or 1): slot `s`
    /// computes row `row(s)` of `m[select[s]]` from the shuffled inputs `A` and `B`.
    #[inline(always)]
    unsafe fn in_register<A: Arith>(m: &[[C64; 4]; 2], t: usize, select: [usize; 4]) -> [A::C; 2] {
        // t = 0: slots (lo, hi, lo, hi) of two pairs; t = 1: (lo, lo, hi, hi) of one block.
        let [r0, r1, r2, r3] = if t == 0 { [0, 2, 0, 2] } else { [0, 0, 2, 2] };
        let [a, b, c, d] = select;
        [
            A::coeff([m[a][r0], m[b][r1], m[c][r2], m[d][r3]]),
            A::coeff([m[a][r0 + 1], m[b][r1 + 1], m[c][r2 + 1], m[d][r3 + 1]]),
        ]
    }

    /// `lo ← c₀·lo + c₁·hi`, `hi ← c₂·lo + c₃·hi` over runs of whole registers.
    #[inline(always)]
    unsafe fn pairs_run<A: Arith>(lo: &mut [C64], hi: &mut [C64], c: &[A::C; 4]) {
        for (x, y) in lo.chunks_exact_mut(4).zip(hi.chunks_exact_mut(4)) {
            let (px, py) = (x.as_mut_ptr() as *mut f64, y.as_mut_ptr() as *mut f64);
            let (a, b) = (_mm512_loadu_pd(px), _mm512_loadu_pd(py));
            _mm512_storeu_pd(px, A::mul_add(c[0], a, c[1], b));
            _mm512_storeu_pd(py, A::mul_add(c[2], a, c[3], b));
        }
    }

    /// The update of a gate on qubit `t` ∈ {0, 1} over whole registers: `A`, `B` hold each
    /// slot's pair partners (lo and hi), the result is `C₀·A + C₁·B`.
    #[inline(always)]
    unsafe fn in_register_run<A: Arith>(x: &mut [C64], t: usize, [c0, c1]: [A::C; 2]) {
        for r in x.chunks_exact_mut(4) {
            let p = r.as_mut_ptr() as *mut f64;
            let v = _mm512_loadu_pd(p);
            let (a, b) = if t == 0 {
                (_mm512_permutex_pd::<0x44>(v), _mm512_permutex_pd::<0xEE>(v))
            } else {
                (
                    _mm512_shuffle_f64x2::<0x44>(v, v),
                    _mm512_shuffle_f64x2::<0xEE>(v, v),
                )
            };
            _mm512_storeu_pd(p, A::mul_add(c0, a, c1, b));
        }
    }

    /// [`TINY_INDICES`] for control `c` (4: none), target `t`, register `r`, coefficient `k`.
    const fn tiny_indices() -> [[[[i64; 8]; 4]; 4]; 20] {
        let mut table = [[[[0; 8]; 4]; 4]; 20];
        let mut entry = 0;
        while entry < 20 {
            let (c, t) = (entry / 4, entry % 4);
            let mut r = 0;
            while r < 4 {
                let mut lane = 0;
                while lane < 8 {
                    // Lane pair (2j, 2j + 1) holds amplitude i = 4r + j: row b = bit t of i of
                    // the matrix m[s], s = bit c of i, whose entries (m_b0, m_b1) start at
                    // double 8s + 4b of [m[0], m[1]].
                    let i = 4 * r + lane / 2;
                    let b = (i >> t) & 1;
                    let s = if c == 4 { 0 } else { (i >> c) & 1 };
                    let mut k = 0;
                    while k < 4 {
                        table[entry][r][k][lane] = (8 * s + 4 * b + k) as i64;
                        k += 1;
                    }
                    lane += 1;
                }
                r += 1;
            }
            entry += 1;
        }
        table
    }

    /// For each (control or none, target) below 4 and each register, the index vectors that
    /// pick `(Re P, Im P, Re Q, Im Q)` from `[m[0], m[1]]` (16 doubles), both lanes of a slot
    /// alike: amplitude `i` becomes `P·ψ_{i with bit t clear} + Q·ψ_{i with bit t set}`.
    static TINY_INDICES: [[[[i64; 8]; 4]; 4]; 20] = tiny_indices();

    /// The eight complex entries `z[0..4]`, `z[4..8]` as two registers, loaded 128 bits at a
    /// time: a matrix just written entry by entry (a kernel built on the way here) forwards
    /// from those stores, where one 512-bit load would wait for them to retire.
    #[inline(always)]
    unsafe fn load_entries(z: *const C64) -> __m512d {
        // Written out: closures here would be compiled without the target features.
        let low = _mm512_castpd128_pd512(_mm_loadu_pd(z as *const f64));
        let low = _mm512_insertf64x2::<1>(low, _mm_loadu_pd(z.add(1) as *const f64));
        let low = _mm512_insertf64x2::<2>(low, _mm_loadu_pd(z.add(2) as *const f64));
        _mm512_insertf64x2::<3>(low, _mm_loadu_pd(z.add(3) as *const f64))
    }

    /// [`super::tiny_select`]: `x` holds 4, 8 or 16 amplitudes and qubits `c`, `t`.
    #[target_feature(enable = "avx512f,avx512dq,avx2,fma")]
    pub(super) unsafe fn tiny_select(x: &mut [C64], c: Option<usize>, t: usize, m: &[[C64; 4]; 2]) {
        let (m0, m1) = (load_entries(m[0].as_ptr()), load_entries(m[1].as_ptr()));
        tiny_update(x, c, t, m0, m1);
    }

    /// [`super::tiny_affine`]: `parts` are `[c, a, b]` of 4 (uncontrolled) or 8 entries.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) unsafe fn tiny_affine(
        x: &mut [C64],
        c: Option<usize>,
        t: usize,
        parts: [&[C64]; 3],
        (sin, cos): (f64, f64),
    ) {
        let (sin, cos) = (_mm512_set1_pd(sin), _mm512_set1_pd(cos));
        let m0 = affine_half(parts, 0, sin, cos);
        let m1 = match parts[0].len() {
            8 => affine_half(parts, 4, sin, cos),
            _ => m0,
        };
        tiny_update(x, c, t, m0, m1);
    }

    /// Entries `k..k + 4` of `(c + a·cos) + b·sin`, `parts = [c, a, b]`, rounded as the
    /// program's scalar `Affine::at` rounds them (no fused operations): the same matrix.
    #[inline(always)]
    unsafe fn affine_half(parts: [&[C64]; 3], k: usize, sin: __m512d, cos: __m512d) -> __m512d {
        let [c, a, b] = parts.map(|part| part[k..k + 4].as_ptr() as *const f64);
        let (c, a, b) = (_mm512_loadu_pd(c), _mm512_loadu_pd(a), _mm512_loadu_pd(b));
        _mm512_add_pd(
            _mm512_add_pd(c, _mm512_mul_pd(a, cos)),
            _mm512_mul_pd(b, sin),
        )
    }

    /// The tiny select update with the matrices `m[0]`, `m[1]` in registers.
    #[inline(always)]
    unsafe fn tiny_update(x: &mut [C64], c: Option<usize>, t: usize, m0: __m512d, m1: __m512d) {
        let p = x.as_mut_ptr() as *mut f64;
        let indices = &TINY_INDICES[4 * c.unwrap_or(4) + t];
        // Register count and target as constants, so that the state stays in registers.
        match (x.len() / 4, t) {
            (1, 0) => tiny_registers::<1, 0>(p, indices, m0, m1),
            (1, _) => tiny_registers::<1, 1>(p, indices, m0, m1),
            (2, 0) => tiny_registers::<2, 0>(p, indices, m0, m1),
            (2, 1) => tiny_registers::<2, 1>(p, indices, m0, m1),
            (2, _) => tiny_registers::<2, 2>(p, indices, m0, m1),
            (_, 0) => tiny_registers::<4, 0>(p, indices, m0, m1),
            (_, 1) => tiny_registers::<4, 1>(p, indices, m0, m1),
            (_, 2) => tiny_registers::<4, 2>(p, indices, m0, m1),
            (_, _) => tiny_registers::<4, 3>(p, indices, m0, m1),
        }
    }

    /// [`tiny_update`] on `R` registers at `p`, target `T`.
    #[inline(always)]
    unsafe fn tiny_registers<const R: usize, const T: usize>(
        p: *mut f64,
        indices: &[[[i64; 8]; 4]; 4],
        m0: __m512d,
        m1: __m512d,
    ) {
        let mut v = [_mm512_setzero_pd(); R];
        for (r, reg) in v.iter_mut().enumerate() {
            *reg = _mm512_loadu_pd(p.add(8 * r));
        }
        let mut out = [_mm512_setzero_pd(); R];
        for (r, reg) in out.iter_mut().enumerate() {
            let (a, b) = match T {
                0 => (
                    _mm512_permutex_pd::<0x44>(v[r]),
                    _mm512_permutex_pd::<0xEE>(v[r]),
                ),
                1 => (
                    _mm512_shuffle_f64x2::<0x44>(v[r], v[r]),
                    _mm512_shuffle_f64x2::<0xEE>(v[r], v[r]),
                ),
                _ => (v[r & !(1 << (T - 2))], v[r | 1 << (T - 2)]),
            };
            let [pr, pi, qr, qi] = &indices[r];
            let (pr, pi) = (
                _mm512_loadu_epi64(pr.as_ptr()),
                _mm512_loadu_epi64(pi.as_ptr()),
            );
            let (qr, qi) = (
                _mm512_loadu_epi64(qr.as_ptr()),
                _mm512_loadu_epi64(qi.as_ptr()),
            );
            let coeff_p = Coeff {
                re: _mm512_permutex2var_pd(m0, pr, m1),
                im: _mm512_permutex2var_pd(m0, pi, m1),
            };
            let coeff_q = Coeff {
                re: _mm512_permutex2var_pd(m0, qr, m1),
                im: _mm512_permutex2var_pd(m0, qi, m1),
            };
            *reg = Complex::mul_add(coeff_p, a, coeff_q, b);
        }
        for (r, reg) in out.iter().enumerate() {
            _mm512_storeu_pd(p.add(8 * r), *reg);
        }
    }

    /// `d·x` slot-wise, `d` given as a [`Coeff`].
    #[inline(always)]
    unsafe fn mul(d: Coeff, x: __m512d) -> __m512d {
        _mm512_fmaddsub_pd(
            d.re,
            x,
            _mm512_mul_pd(d.im, _mm512_permute_pd::<0b0101_0101>(x)),
        )
    }

    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) unsafe fn scale_by_table(x: &mut [C64], table: &[C64], f: C64) {
        let f = coeff([f; 4]);
        for (r, entry) in x.chunks_exact_mut(4).zip(table.chunks_exact(4)) {
            let p = r.as_mut_ptr() as *mut f64;
            // d = t·f, then d·x with d's parts duplicated over each slot (as `avx`).
            let d = mul(f, _mm512_loadu_pd(entry.as_ptr() as *const f64));
            let d = Coeff {
                re: _mm512_movedup_pd(d),
                im: _mm512_permute_pd::<0b1111_1111>(d),
            };
            _mm512_storeu_pd(p, mul(d, _mm512_loadu_pd(p)));
        }
    }

    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) unsafe fn dense<A: Arith>(lo: &mut [C64], hi: &mut [C64], m: &[C64; 4]) {
        pairs_run::<A>(lo, hi, &entries::<A>(&[*m, *m], [0; 4]));
    }

    /// [`super::select_dense_pairs`] on runs of whole registers.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) unsafe fn select_pairs<A: Arith>(
        lo: &mut [C64],
        hi: &mut [C64],
        c: usize,
        m: &[[C64; 4]; 2],
    ) {
        select_pairs_with::<A>(lo, hi, c, &pair_sets::<A>(m, c));
    }

    /// `|0⟩⟨0|_c ⊗ m[0] + |1⟩⟨1|_c ⊗ m[1]` on target `t` of `x` (`c = None`: `m[0]`
    /// everywhere), whose length is a multiple of 4 and of `2^{max(c,t)+1}`.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) unsafe fn select_blocks<A: Arith>(
        x: &mut [C64],
        c: Option<usize>,
        t: usize,
        m: &[[C64; 4]; 2],
    ) {
        if t >= 2 {
            let stride = 1 << t;
            match c {
                None => {
                    let set = entries::<A>(m, [0; 4]);
                    for block in x.chunks_exact_mut(2 * stride) {
                        let (lo, hi) = block.split_at_mut(stride);
                        pairs_run::<A>(lo, hi, &set);
                    }
                }
                Some(c) if c < t => {
                    let sets = pair_sets::<A>(m, c);
                    for block in x.chunks_exact_mut(2 * stride) {
                        let (lo, hi) = block.split_at_mut(stride);
                        select_pairs_with::<A>(lo, hi, c, &sets);
                    }
                }
                Some(c) => {
                    // Block k starts at k·2^{t+1}: its bit c picks the matrix.
                    let sets = [entries::<A>(m, [0; 4]), entries::<A>(m, [1; 4])];
                    for (k, block) in x.chunks_exact_mut(2 * stride).enumerate() {
                        let (lo, hi) = block.split_at_mut(stride);
                        pairs_run::<A>(lo, hi, &sets[(k >> (c - t - 1)) & 1]);
                    }
                }
            }
            return;
        }
        match c {
            None => in_register_run::<A>(x, t, in_register::<A>(m, t, [0; 4])),
            // The control is the other of qubits 0 and 1: it varies within each register.
            Some(c) if c < 2 => {
                let select = if t == 0 { [0, 0, 1, 1] } else { [0, 1, 0, 1] };
                in_register_run::<A>(x, t, in_register::<A>(m, t, select));
            }
            Some(c) => {
                let sets = [
                    in_register::<A>(m, t, [0; 4]),
                    in_register::<A>(m, t, [1; 4]),
                ];
                for (k, run) in x.chunks_exact_mut(1 << c).enumerate() {
                    in_register_run::<A>(run, t, sets[k & 1]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(len: usize, seed: u64) -> Vec<C64> {
        // A small LCG keeps this test independent of the rand streams used elsewhere.
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        (0..len).map(|_| C64::new(next(), next())).collect()
    }

    fn assert_close(a: &[C64], b: &[C64]) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).norm() <= 4.0 * f64::EPSILON, "{x} vs {y}");
        }
    }

    /// On a CPU with AVX-512, its paths give the AVX2 paths' bits for every placement.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn avx512_paths_equal_avx2_bit_for_bit() {
        if !avx512() {
            return;
        }
        let m2 = [M, [M[3], M[0], M[1], M[2]]];
        let bits = |x: &[C64]| -> Vec<(u64, u64)> {
            x.iter().map(|a| (a.re.to_bits(), a.im.to_bits())).collect()
        };
        for len in [4usize, 8, 64] {
            for t in (0..len.trailing_zeros() as usize).take(5) {
                let x = random(len, (len + t) as u64);
                let (mut wide, mut narrow) = (x.clone(), x.clone());
                // SAFETY: both feature sets are present (checked above).
                unsafe {
                    avx512::select_blocks::<avx512::Complex>(&mut wide, None, t, &[M, M]);
                    avx::dense_blocks(&mut narrow, t, &M);
                }
                assert_eq!(bits(&wide), bits(&narrow), "dense on {t}, {len} amplitudes");
                for c in (0..len.trailing_zeros() as usize).filter(|&c| c != t) {
                    let (mut wide, mut narrow) = (x.clone(), x.clone());
                    unsafe {
                        avx512::select_blocks::<avx512::Complex>(&mut wide, Some(c), t, &m2);
                        avx::select_dense_blocks(&mut narrow, c, t, &m2);
                    }
                    assert_eq!(bits(&wide), bits(&narrow), "select {c} → {t}, {len}");
                }
            }
            let (lo, hi) = (random(len, 5), random(len, 6));
            for c in (0..len.trailing_zeros() as usize).take(4) {
                let (mut wl, mut wh, mut nl, mut nh) =
                    (lo.clone(), hi.clone(), lo.clone(), hi.clone());
                unsafe {
                    avx512::select_pairs::<avx512::Complex>(&mut wl, &mut wh, c, &m2);
                    avx::select_dense_pairs(&mut nl, &mut nh, c, &m2);
                }
                assert_eq!(
                    (bits(&wl), bits(&wh)),
                    (bits(&nl), bits(&nh)),
                    "pairs, control {c}"
                );
            }
            let (mut wl, mut wh, mut nl, mut nh) = (lo.clone(), hi.clone(), lo.clone(), hi.clone());
            unsafe {
                avx512::dense::<avx512::Complex>(&mut wl, &mut wh, &M);
                avx::dense(&mut nl, &mut nh, &M);
            }
            assert_eq!((bits(&wl), bits(&wh)), (bits(&nl), bits(&nh)), "dense runs");
            let (mut wide, mut narrow) = (lo.clone(), lo.clone());
            unsafe {
                avx512::scale_by_table(&mut wide, &hi, M[1]);
                avx::scale_by_table(&mut narrow, &hi, M[1]);
            }
            assert_eq!(bits(&wide), bits(&narrow), "table");
        }
    }

    /// On real matrices the real arithmetic gives the complex arithmetic's values (equal as
    /// numbers: only the sign of an exact zero may differ), for every placement.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn real_arithmetic_equals_complex_on_real_matrices() {
        if !avx512() {
            return;
        }
        let h = std::f64::consts::FRAC_1_SQRT_2;
        let r = |x: f64| C64::new(x, 0.0);
        let m2 = [[r(h), r(h), r(h), r(-h)], [r(h), r(-h), r(h), r(h)]];
        let len = 64;
        let x = random(len, 11);
        for t in 0..6 {
            for c in (0..6).map(Some).chain([None]).filter(|&c| c != Some(t)) {
                let (mut real, mut complex) = (x.clone(), x.clone());
                // SAFETY: AVX-512F, AVX2 and FMA are present (checked above).
                unsafe {
                    avx512::select_blocks::<avx512::Real>(&mut real, c, t, &m2);
                    avx512::select_blocks::<avx512::Complex>(&mut complex, c, t, &m2);
                }
                assert_eq!(real, complex, "control {c:?}, target {t}");
                // The dispatcher takes the real path for these matrices.
                let mut dispatched = x.clone();
                match c {
                    Some(c) => select_dense_blocks(&mut dispatched, c, t, &m2),
                    None => dense_blocks(&mut dispatched, t, &m2[0]),
                }
                assert_eq!(dispatched, real, "dispatched, control {c:?}, target {t}");
            }
        }
        let (lo, hi) = (random(len, 12), random(len, 13));
        for c in 0..5 {
            let (mut rl, mut rh, mut cl, mut ch) = (lo.clone(), hi.clone(), lo.clone(), hi.clone());
            unsafe {
                avx512::select_pairs::<avx512::Real>(&mut rl, &mut rh, c, &m2);
                avx512::select_pairs::<avx512::Complex>(&mut cl, &mut ch, c, &m2);
            }
            assert_eq!((rl, rh), (cl, ch), "pairs, control {c}");
        }
        let (mut rl, mut rh, mut cl, mut ch) = (lo.clone(), hi.clone(), lo.clone(), hi.clone());
        unsafe {
            avx512::dense::<avx512::Real>(&mut rl, &mut rh, &m2[1]);
            avx512::dense::<avx512::Complex>(&mut cl, &mut ch, &m2[1]);
        }
        assert_eq!((rl, rh), (cl, ch), "dense runs");
    }

    /// The tiny path gives the general AVX2 paths' bits on every placement of 4–16 amplitudes,
    /// from a matrix in memory and from an affine form.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn tiny_paths_equal_the_general_paths_bit_for_bit() {
        if !avx512() {
            return;
        }
        let m2 = [M, [M[3], M[0], M[1], M[2]]];
        let bits = |x: &[C64]| -> Vec<(u64, u64)> {
            x.iter().map(|a| (a.re.to_bits(), a.im.to_bits())).collect()
        };
        for len in [4usize, 8, 16] {
            let n = len.trailing_zeros() as usize;
            for t in 0..n {
                for c in (0..n).map(Some).chain([None]).filter(|&c| c != Some(t)) {
                    let x = random(len, (7 * len + t) as u64);
                    let (mut tiny, mut general) = (x.clone(), x.clone());
                    assert!(tiny_select(&mut tiny, c, t, &m2));
                    // SAFETY: AVX2 and FMA are present (AVX-512 was checked above).
                    unsafe {
                        match c {
                            Some(c) => avx::select_dense_blocks(&mut general, c, t, &m2),
                            None => avx::dense_blocks(&mut general, t, &m2[0]),
                        }
                    }
                    assert_eq!(
                        bits(&tiny),
                        bits(&general),
                        "{len}: control {c:?}, target {t}"
                    );
                    // The affine form c + a·cos + b·sin with a = b = 0 is the matrix itself.
                    let zero = [C64::new(0.0, 0.0); 8];
                    let entries: Vec<C64> = match c {
                        Some(_) => m2.iter().flatten().copied().collect(),
                        None => m2[0].to_vec(),
                    };
                    let k = entries.len();
                    let mut affine = x.clone();
                    let parts = [&entries[..], &zero[..k], &zero[..k]];
                    let cpu = Avx512::detect().expect("checked above");
                    assert!(tiny_affine(&mut affine, c, t, parts, (0.3, 0.7), cpu));
                    assert_eq!(bits(&affine), bits(&general), "affine, {len}: {c:?}, {t}");
                }
            }
        }
    }

    const M: [C64; 4] = [
        C64::new(0.6, 0.1),
        C64::new(-0.3, 0.7),
        C64::new(0.2, -0.5),
        C64::new(0.8, 0.05),
    ];

    #[test]
    fn dispatched_loops_match_the_portable_formulas() {
        for len in [0, 1, 2, 3, 4, 7, 8, 33] {
            let (x, y) = (random(len, 1), random(len, 2));
            let (mut lo, mut hi) = (x.clone(), y.clone());
            dense(&mut lo, &mut hi, &M);
            let want_lo: Vec<C64> = x.iter().zip(&y).map(|(a, b)| M[0] * a + M[1] * b).collect();
            let want_hi: Vec<C64> = x.iter().zip(&y).map(|(a, b)| M[2] * a + M[3] * b).collect();
            assert_close(&lo, &want_lo);
            assert_close(&hi, &want_hi);

            let mut scaled = x.clone();
            scale(&mut scaled, M[1]);
            let want: Vec<C64> = x.iter().map(|a| M[1] * a).collect();
            assert_close(&scaled, &want);
        }
        let m2 = [M, [M[3], M[0], M[1], M[2]]];
        for (c, t) in [
            (0, 1),
            (1, 0),
            (0, 3),
            (3, 0),
            (1, 2),
            (2, 1),
            (1, 3),
            (3, 1),
            (2, 3),
        ] {
            let x = random(32, (10 * c + t) as u64);
            let want: Vec<C64> = (0..32usize)
                .map(|i| {
                    let (a, b) = (x[i & !(1 << t)], x[i | 1 << t]);
                    let m = &m2[i >> c & 1];
                    if i >> t & 1 == 0 {
                        m[0] * a + m[1] * b
                    } else {
                        m[2] * a + m[3] * b
                    }
                })
                .collect();
            let mut blocks = x.clone();
            select_dense_blocks(&mut blocks, c, t, &m2);
            assert_close(&blocks, &want);
            if c < t {
                let mut pairs = x.clone();
                for block in pairs.chunks_exact_mut(2 << t) {
                    let (lo, hi) = block.split_at_mut(1 << t);
                    select_dense_pairs(lo, hi, c, &m2);
                }
                assert_close(&pairs, &want);
            }
        }
        for len in [1, 2, 4, 8, 64, 256] {
            let x = random(len, 9);
            for q in 0..len.trailing_zeros() as usize {
                let want: f64 = x
                    .iter()
                    .enumerate()
                    .map(|(i, a)| {
                        if i >> q & 1 == 0 {
                            a.norm_sqr()
                        } else {
                            -a.norm_sqr()
                        }
                    })
                    .sum();
                assert!((z_sum(&x, q) - want).abs() <= 1e-14, "len {len}, qubit {q}");
            }
        }
        for len in [1, 2, 5, 64] {
            let (x, table) = (random(len, 7), random(len, 8));
            let mut scaled = x.clone();
            scale_by_table(&mut scaled, &table, M[2]);
            let want: Vec<C64> = x.iter().zip(&table).map(|(a, t)| t * M[2] * a).collect();
            assert_close(&scaled, &want);
        }
        for t in 0..4 {
            let x = random(32, t as u64 + 3);
            let bit = |i: usize| i >> t & 1;
            for d in [[M[0], M[3]], [C64::new(1.0, 0.0), M[2]]] {
                let mut diag = x.clone();
                diagonal_blocks(&mut diag, t, d);
                let want: Vec<C64> = x.iter().enumerate().map(|(i, a)| d[bit(i)] * a).collect();
                assert_close(&diag, &want);
            }
            let mut blocks = x.clone();
            dense_blocks(&mut blocks, t, &M);
            let want: Vec<C64> = (0..32)
                .map(|i| {
                    let (a, b) = (x[i & !(1 << t)], x[i | 1 << t]);
                    if bit(i) == 0 {
                        M[0] * a + M[1] * b
                    } else {
                        M[2] * a + M[3] * b
                    }
                })
                .collect();
            assert_close(&blocks, &want);
        }
    }
}
