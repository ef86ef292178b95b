//! The AVX2 + FMA loops: two amplitudes per 256-bit register. A complex product `d·x` is
//! `fmaddsub(Re d, x, Im d · swap(x))` (`swap` exchanges re and im within each amplitude), so
//! the dense update `x' = m₀·a + m₁·b` costs two multiplies and four fused operations per two
//! amplitudes, with no horizontal shuffles. Every function is `unsafe`: the caller holds a
//! [`super::Cpu`] that reports AVX2 and FMA.

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
