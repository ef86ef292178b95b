//! `sin` and `cos` of one angle together, inlined into the gate-matrix code.
//!
//! Every parameterized gate needs `sin` and `cos` of an angle on every evaluation; for small
//! circuits the call into the C library is a quarter of the run. This evaluates both in about
//! a dozen multiply-adds with no call and no branch on the common path:
//!
//! 1. Reduction: `n = round(x·2/π)`, `r = x − n·π/2` with π/2 split in three parts (the first
//!    two of 33 significant bits, so `n·part` is exact for `|n| < 2²⁰`), `|r| ≤ π/4`.
//! 2. Kernels on `[−π/4, π/4]`: the minimax polynomials of fdlibm's `__kernel_sin` and
//!    `__kernel_cos` (degree 13 and 14, published coefficients).
//! 3. Quadrant `n mod 4` swaps and negates the pair.
//!
//! The error is within 2⁻⁵² absolute of the correctly rounded values (tested against the
//! standard library over `|x| ≤ 10⁴`); `sin_cos(0) = (0, 1)` exactly, so zero angles still give
//! exact identities. Angles beyond `|x| = 2¹⁹` (never a rotation a circuit means) take the
//! standard library path.
//!
//! [`sin_cos_batch`] computes the same values, bit for bit, for many angles at once: the fast
//! path has no branch, so its loop runs in vector lanes (a run computes the angles of all its
//! rotation steps this way before applying them).

// The constants are written as published (fdlibm), digits beyond f64 included.
#![allow(clippy::excessive_precision)]

/// π/2 = `PIO2_1 + PIO2_2 + PIO2_3` to about 2⁻¹¹⁸; the first two have 33 significant bits.
const PIO2_1: f64 = 1.570_796_326_734_125_614_17;
const PIO2_2: f64 = 6.077_100_506_303_965_976_6e-11;
const PIO2_3: f64 = 2.022_266_248_795_950_631_54e-21;

const S1: f64 = -1.666_666_666_666_663_243_48e-1;
const S2: f64 = 8.333_333_333_322_489_461_24e-3;
const S3: f64 = -1.984_126_982_985_794_931_34e-4;
const S4: f64 = 2.755_731_370_707_006_767_89e-6;
const S5: f64 = -2.505_076_025_340_686_341_95e-8;
const S6: f64 = 1.589_690_995_211_550_102_21e-10;

const C1: f64 = 4.166_666_666_666_660_190_37e-2;
const C2: f64 = -1.388_888_888_887_410_957_49e-3;
const C3: f64 = 2.480_158_728_947_672_941_78e-5;
const C4: f64 = -2.755_731_435_139_066_330_35e-7;
const C5: f64 = 2.087_572_321_298_174_827_90e-9;
const C6: f64 = -1.135_964_755_778_819_482_65e-11;

/// Above this the three-part reduction is no longer exact enough.
const REDUCTION_LIMIT: f64 = 524_288.0;

const ROUNDER: f64 = 6_755_399_441_055_744.0;

/// `(sin x, cos x)`.
#[inline(always)]
pub(crate) fn sin_cos(x: f64) -> (f64, f64) {
    if in_range(x) {
        reduced_sin_cos(x)
    } else {
        x.sin_cos()
    }
}

/// Whether the fast path covers `x` (finite and within [`REDUCTION_LIMIT`]).
#[inline(always)]
fn in_range(x: f64) -> bool {
    x.abs() <= REDUCTION_LIMIT
}

/// `sin_cos(x[i])` into `(sin[i], cos[i])` for every `i`, bit for bit, several lanes at a time
/// (the fast path has no branch, so the loop vectorizes; AVX2 when the CPU has it). For the
/// angles of a whole circuit at once: one batch costs about what two scalar calls do.
pub(crate) fn sin_cos_batch(x: &[f64], sin: &mut [f64], cos: &mut [f64]) {
    debug_assert!(x.len() == sin.len() && x.len() == cos.len());
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is present.
        return unsafe { sin_cos_batch_avx2(x, sin, cos) };
    }
    sin_cos_batch_body(x, sin, cos);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sin_cos_batch_avx2(x: &[f64], sin: &mut [f64], cos: &mut [f64]) {
    sin_cos_batch_body(x, sin, cos);
}

#[inline(always)]
fn sin_cos_batch_body(x: &[f64], sin: &mut [f64], cos: &mut [f64]) {
    for ((&x, s), c) in x.iter().zip(sin.iter_mut()).zip(cos.iter_mut()) {
        (*s, *c) = reduced_sin_cos(x);
    }
    for ((&x, s), c) in x.iter().zip(sin.iter_mut()).zip(cos.iter_mut()) {
        if !in_range(x) {
            (*s, *c) = x.sin_cos();
        }
    }
}

/// The fast path for `|x| ≤` [`REDUCTION_LIMIT`], without a branch (garbage beyond it).
#[inline(always)]
fn reduced_sin_cos(x: f64) -> (f64, f64) {
    // Adding and removing 1.5·2⁵² rounds to the nearest integer (ties to even) without a call:
    // baseline x86-64 has no rounding instruction. The sum's low mantissa bits are n mod 4.
    let shifted = x * std::f64::consts::FRAC_2_PI + ROUNDER;
    let quadrant = shifted.to_bits() & 3;
    let n = shifted - ROUNDER;
    let r = ((x - n * PIO2_1) - n * PIO2_2) - n * PIO2_3;
    let z = r * r;
    let sin = r + r * z * (S1 + z * (S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)))));
    let half_z = 0.5 * z;
    let w = 1.0 - half_z;
    // fdlibm's compensated form: 1 − z/2 + z²·p(z) with the rounding of 1 − z/2 added back.
    let cos = w
        + (((1.0 - w) - half_z)
            + z * z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6))))));
    // Quadrant q: (sin, cos) → (s, c), (c, −s), (−s, −c), (−c, s).
    let odd = quadrant & 1 == 1;
    let (s, c) = if odd { (cos, sin) } else { (sin, cos) };
    let sign_sin = (quadrant & 2) << 62;
    let sign_cos = ((quadrant + 1) & 2) << 62;
    (
        f64::from_bits(s.to_bits() ^ sign_sin),
        f64::from_bits(c.to_bits() ^ sign_cos),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_standard_library() {
        let mut worst = 0.0f64;
        let mut check = |x: f64| {
            let (s, c) = sin_cos(x);
            let (es, ec) = x.sin_cos();
            worst = worst.max((s - es).abs()).max((c - ec).abs());
        };
        for k in 0..2_000_000 {
            // A low-discrepancy sweep of [−10⁴, 10⁴] plus the multiples of π/4 and their
            // neighbours, where the reduction cancels most.
            check(((k as f64 * 0.618_033_988_749_894_9).fract() - 0.5) * 2e4);
        }
        for k in -4000..4000 {
            let x = k as f64 * std::f64::consts::FRAC_PI_4;
            for y in [x, x.next_up(), x.next_down()] {
                check(y);
            }
        }
        assert!(worst <= f64::EPSILON, "worst absolute error {worst:e}");
    }

    #[test]
    fn batches_equal_single_calls_bit_for_bit() {
        let mut x: Vec<f64> = (0..1000)
            .map(|k| ((k as f64 * 0.618_033_988_749_894_9).fract() - 0.5) * 40.0)
            .collect();
        x.extend([
            0.0,
            -0.0,
            1e9,
            -1e9,
            f64::NAN,
            f64::INFINITY,
            REDUCTION_LIMIT,
        ]);
        x.extend((-8..8).map(|k| k as f64 * std::f64::consts::FRAC_PI_4));
        for len in [0, 1, 3, 4, 5, 17, x.len()] {
            let (mut sin, mut cos) = (vec![0.0; len], vec![0.0; len]);
            sin_cos_batch(&x[..len], &mut sin, &mut cos);
            for i in 0..len {
                let (s, c) = sin_cos(x[i]);
                assert_eq!(
                    (sin[i].to_bits(), cos[i].to_bits()),
                    (s.to_bits(), c.to_bits()),
                    "x = {}",
                    x[i]
                );
            }
        }
    }

    #[test]
    fn exact_at_zero_and_falls_back_far_out() {
        assert_eq!(sin_cos(0.0), (0.0, 1.0));
        assert_eq!(sin_cos(1e9), 1e9f64.sin_cos());
        let (s, c) = sin_cos(f64::NAN);
        assert!(s.is_nan() && c.is_nan());
    }
}
