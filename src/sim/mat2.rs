//! 2×2 complex matrices that remember their sparsity, for the products of fused one-qubit runs.
//!
//! A run `g_k ⋯ g₂ g₁` on one qubit is multiplied out on every evaluation when it carries
//! parameters. Most factors are diagonal (RZ, P, S, T) or anti-diagonal (X, Y), and a product
//! with one of them only scales (and for anti-diagonals swaps) rows or columns: 2 complex
//! products per entry pair instead of the 8 of a dense product. The product's sparsity also
//! picks the cheaper kernel (a diagonal run needs no dense pass).
//!
//! Row-major throughout: `[m00, m01, m10, m11]`.

use crate::gate::{BaseMatrix, Structure};
use num_complex::Complex64 as C64;

const ZERO: C64 = C64::new(0.0, 0.0);

/// A 2×2 matrix with its sparsity pattern.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Mat2 {
    /// `diag(d0, d1)`.
    Diagonal([C64; 2]),
    /// `[[0, a0], [a1, 0]]`.
    AntiDiagonal([C64; 2]),
    /// Any matrix.
    Dense([C64; 4]),
}

impl Mat2 {
    /// The matrix `m`, stored with the sparsity `structure` promises (entries it rules out are
    /// dropped, so `structure` must be the matrix's own).
    #[inline(always)]
    pub(crate) fn new(structure: Structure, m: [C64; 4]) -> Mat2 {
        match structure {
            Structure::Diagonal => Mat2::Diagonal([m[0], m[3]]),
            Structure::Permutation => Mat2::AntiDiagonal([m[1], m[2]]),
            Structure::Dense => Mat2::Dense(m),
        }
    }

    /// The matrix `m` with the sparsity read from its exact zeros.
    pub(crate) fn detect(m: [C64; 4]) -> Mat2 {
        Mat2::new(Structure::of_exact(&BaseMatrix::One(m)), m)
    }

    /// The four entries, row-major.
    #[inline(always)]
    pub(crate) fn dense(&self) -> [C64; 4] {
        match *self {
            Mat2::Diagonal([d0, d1]) => [d0, ZERO, ZERO, d1],
            Mat2::AntiDiagonal([a0, a1]) => [ZERO, a0, a1, ZERO],
            Mat2::Dense(m) => m,
        }
    }

    /// `self · rhs`, skipping the products with structural zeros.
    #[inline(always)]
    pub(crate) fn mul(&self, rhs: &Mat2) -> Mat2 {
        use Mat2::*;
        match (*self, *rhs) {
            (Diagonal([p, q]), Diagonal([r, s])) => Diagonal([p * r, q * s]),
            (Diagonal([p, q]), AntiDiagonal([r, s])) => AntiDiagonal([p * r, q * s]),
            (AntiDiagonal([p, q]), Diagonal([r, s])) => AntiDiagonal([p * s, q * r]),
            (AntiDiagonal([p, q]), AntiDiagonal([r, s])) => Diagonal([p * s, q * r]),
            // Row scaling, row swap and scaling, column scaling, column swap and scaling.
            (Diagonal([p, q]), Dense(m)) => Dense([p * m[0], p * m[1], q * m[2], q * m[3]]),
            (AntiDiagonal([p, q]), Dense(m)) => Dense([p * m[2], p * m[3], q * m[0], q * m[1]]),
            (Dense(m), Diagonal([r, s])) => Dense([m[0] * r, m[1] * s, m[2] * r, m[3] * s]),
            (Dense(m), AntiDiagonal([r, s])) => Dense([m[1] * s, m[0] * r, m[3] * s, m[2] * r]),
            (Dense(a), Dense(b)) => Dense([
                a[0] * b[0] + a[1] * b[2],
                a[0] * b[1] + a[1] * b[3],
                a[2] * b[0] + a[3] * b[2],
                a[2] * b[1] + a[3] * b[3],
            ]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense_product(a: &[C64; 4], b: &[C64; 4]) -> [C64; 4] {
        std::array::from_fn(|k| {
            let (r, c) = (k / 2, k % 2);
            a[2 * r] * b[c] + a[2 * r + 1] * b[2 + c]
        })
    }

    #[test]
    fn structured_products_equal_dense_products() {
        let z = |re: f64, im: f64| C64::new(re, im);
        let samples = [
            Mat2::Diagonal([z(0.3, -0.7), z(-1.1, 0.2)]),
            Mat2::AntiDiagonal([z(0.5, 0.4), z(-0.2, 0.9)]),
            Mat2::Dense([z(0.1, 0.2), z(-0.3, 0.4), z(0.5, -0.6), z(0.7, 0.8)]),
        ];
        for a in &samples {
            for b in &samples {
                let product = a.mul(b);
                assert_eq!(product.dense(), dense_product(&a.dense(), &b.dense()));
                // The product keeps the sparsity that the structures imply.
                let both_sparse = !matches!(a, Mat2::Dense(_)) && !matches!(b, Mat2::Dense(_));
                assert_eq!(both_sparse, !matches!(product, Mat2::Dense(_)));
            }
        }
    }

    #[test]
    fn detect_reads_exact_zeros() {
        let one = C64::new(1.0, 0.0);
        assert!(matches!(
            Mat2::detect([one, ZERO, ZERO, -one]),
            Mat2::Diagonal(_)
        ));
        assert!(matches!(
            Mat2::detect([ZERO, one, one, ZERO]),
            Mat2::AntiDiagonal(_)
        ));
        assert!(matches!(Mat2::detect([one; 4]), Mat2::Dense(_)));
    }
}
