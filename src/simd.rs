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

/// `diag(d₀, d₁)` on qubit `t` of `x`, whose length is a multiple of `2^{t+1}`: each block
/// of `2^{t+1}` amplitudes has its lower half scaled by `d₀` and its upper half by `d₁`.
#[inline]
pub(crate) fn diagonal_blocks(x: &mut [C64], t: usize, d: [C64; 2]) {
    debug_assert!(x.len() % (2 << t) == 0);
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
    debug_assert!(x.len() % (2 << t) == 0);
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
    debug_assert!(x.len() % (2 << c.max(t)) == 0 && c != t);
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

/// The select update on runs `lo`, `hi` (bit `t` clear and set) for `c < t`: element `j` uses
/// `m[bit c of j]`; the runs start at a multiple of `2^{c+1}` and their length is one too.
#[inline]
pub(crate) fn select_dense_pairs(lo: &mut [C64], hi: &mut [C64], c: usize, m: &[[C64; 4]; 2]) {
    debug_assert!(lo.len() == hi.len() && lo.len() % (2 << c) == 0);
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
