//! `e^x` for many values at once, in vector lanes: the time constants and membrane decays of
//! the spiking layers take one per neuron per step, and the C library's call is most of such a
//! step's time.
//!
//! 1. Reduction: `k = round(x·log₂e)`, `r = x − k·ln 2` with ln 2 split in two parts (fdlibm's
//!    `ln2_hi` has 32 significant bits, so `k·ln2_hi` is exact), `|r| ≤ ln 2 / 2`.
//! 2. `e^r` by its Taylor polynomial of degree 13 (truncation below 10⁻¹⁷ relative on the
//!    reduced range), in Estrin's scheme.
//! 3. `e^x = 2^k e^r`, the power of two built from its exponent bits.
//!
//! The result is within 2 ulp of the standard library's (tested over `|x| ≤ 700`). Values
//! outside `[−708, 709]` (subnormal results, overflow) and NaN take the standard library path,
//! so every input gets the correctly handled value.

// The constants are written as published (fdlibm), digits beyond f64 included.
#![allow(clippy::excessive_precision)]

/// fdlibm's `ln2_hi` (32 significant bits) and `ln2_lo`: `ln 2 = LN2_HI + LN2_LO`.
const LN2_HI: f64 = 6.931_471_803_691_238_164_9e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;

/// 1.5·2⁵²: adding and removing it rounds to the nearest integer without a call (baseline
/// x86-64 has no rounding instruction), and the sum's low mantissa bits hold that integer.
const ROUNDER: f64 = 6_755_399_441_055_744.0;

const FAST_MIN: f64 = -708.0;
const FAST_MAX: f64 = 709.0;

/// `1/n!` for `n = 0, 1, …, 13`.
const INV_FACTORIALS: [f64; 14] = [
    1.0,
    1.0,
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5_040.0,
    1.0 / 40_320.0,
    1.0 / 362_880.0,
    1.0 / 3_628_800.0,
    1.0 / 39_916_800.0,
    1.0 / 479_001_600.0,
    1.0 / 6_227_020_800.0,
];

/// The fast path for `x ∈ [FAST_MIN, FAST_MAX]`, without a branch (clamped beyond it). The
/// polynomial is evaluated in Estrin's scheme (pairs, then powers `r², r⁴, r⁸`): a chain of
/// 8 dependent operations instead of Horner's 26, which is what bounds a vector loop here.
#[inline(always)]
fn reduced_exp(x: f64) -> f64 {
    let c = &INV_FACTORIALS;
    let x = x.clamp(FAST_MIN, FAST_MAX);
    let t = x * std::f64::consts::LOG2_E + ROUNDER;
    let k = t - ROUNDER;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let (r2, q) = (r * r, |i: usize| c[i] + c[i + 1] * r);
    let (r4, s) = (
        r2 * r2,
        [q(0) + q(2) * r2, q(4) + q(6) * r2, q(8) + q(10) * r2],
    );
    let r8 = r4 * r4;
    let low = s[0] + s[1] * r4;
    let high = s[2] + q(12) * r4;
    let e_r = low + high * r8;
    let k_int = t.to_bits().wrapping_sub(ROUNDER.to_bits()) as i64;
    e_r * f64::from_bits(((k_int + 1023) as u64) << 52)
}

/// `out[i] = e^{x[i]}` for every `i` (see the [module docs](self)).
pub(crate) fn exp_batch(x: &[f64], out: &mut [f64]) {
    debug_assert_eq!(x.len(), out.len());
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: AVX-512F is present.
            return unsafe { exp_batch_avx512(x, out) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 is present.
            return unsafe { exp_batch_avx2(x, out) };
        }
    }
    exp_batch_body(x, out);
}

/// The same operations in eight lanes (no fused multiply-adds on any path, so every path
/// gives the same bits).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn exp_batch_avx512(x: &[f64], out: &mut [f64]) {
    exp_batch_body(x, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn exp_batch_avx2(x: &[f64], out: &mut [f64]) {
    exp_batch_body(x, out);
}

#[inline(always)]
fn exp_batch_body(x: &[f64], out: &mut [f64]) {
    // Whether any value left the fast range, counted in the vector loop (no branch there).
    let mut outside = 0u64;
    for (o, &v) in out.iter_mut().zip(x) {
        *o = reduced_exp(v);
        outside |= u64::from(!(FAST_MIN..=FAST_MAX).contains(&v));
    }
    if outside != 0 {
        for (o, &v) in out.iter_mut().zip(x) {
            if !(FAST_MIN..=FAST_MAX).contains(&v) {
                *o = v.exp();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn within_two_ulp_of_the_standard_library() {
        let mut worst = 0;
        let n = 200_001;
        let xs: Vec<f64> = (0..n)
            .map(|i| -700.0 + 1400.0 * i as f64 / (n - 1) as f64)
            .chain((0..20_001).map(|i| -1.0 + 2.0 * i as f64 / 20_000.0))
            .chain([0.0, -0.0, 1e-300, -1e-300, 0.5 * LN2_HI, -0.5 * LN2_HI])
            .collect();
        let mut ys = vec![0.0; xs.len()];
        exp_batch(&xs, &mut ys);
        for (x, y) in xs.iter().zip(&ys) {
            worst = worst.max(ulps(*y, x.exp()));
        }
        assert!(worst <= 2, "worst {worst} ulp");
        assert_eq!(ys[ys.len() - 6], 1.0);
        let edges = [
            -1000.0,
            -745.0,
            -709.5,
            709.9,
            710.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut out = [0.0; 7];
        exp_batch(&edges, &mut out);
        for (x, y) in edges.iter().zip(out) {
            assert_eq!(y.to_bits(), x.exp().to_bits(), "{x}");
        }
        let mut nan = [0.0];
        exp_batch(&[f64::NAN], &mut nan);
        assert!(nan[0].is_nan());
    }
}
