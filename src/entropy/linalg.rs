//! The three dense operations the entropy module needs, behind one switch ([`Backend`]):
//!
//! - the Gram matrices `G = M M†` and `M† M` of a column-major `r × c` matrix (only their lower
//!   triangles are used afterwards),
//! - the eigenvalues of a Hermitian matrix (from its lower triangle),
//! - the singular values of a rectangular matrix.
//!
//! faer (pure Rust) is always there; the `lapack` cargo feature adds LAPACK through
//! `ndarray-linalg` (system OpenBLAS) and makes it the default, so that the same tests run
//! under both and can compare them.

use crate::error::{Error, Result};
use crate::Par;
use num_complex::Complex64 as C64;

/// Which linear-algebra library computes Gram matrices, eigenvalues and singular values.
///
/// ```
/// use qloop::entropy::Backend;
/// // faer is the default unless the `lapack` feature is on.
/// # #[cfg(not(feature = "lapack"))]
/// assert_eq!(Backend::default(), Backend::Faer);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// faer: pure Rust, SIMD, parallel over the current rayon pool when asked.
    #[cfg_attr(not(feature = "lapack"), default)]
    Faer,
    /// LAPACK (`zheevd`-family eigenvalues and `zgesdd`-family SVD) through `ndarray-linalg`.
    #[cfg(feature = "lapack")]
    #[cfg_attr(feature = "lapack", default)]
    Lapack,
}

impl Backend {
    /// Every backend compiled in (faer first).
    pub fn all() -> Vec<Backend> {
        vec![
            Backend::Faer,
            #[cfg(feature = "lapack")]
            Backend::Lapack,
        ]
    }

    /// `G = M M†` (`rows × rows`) for the column-major `rows × cols` matrix `m`; only the
    /// lower triangle of `G` is guaranteed to be filled.
    pub(crate) fn gram(self, m: &[C64], rows: usize, cols: usize, par: Par) -> Vec<C64> {
        debug_assert_eq!(m.len(), rows * cols);
        match self {
            Backend::Faer => faer_backend::gram(m, rows, cols, par),
            #[cfg(feature = "lapack")]
            Backend::Lapack => lapack_backend::gram(m, rows, cols),
        }
    }

    /// `G = M† M` (`cols × cols`) for the column-major `rows × cols` matrix `m`; only the
    /// lower triangle of `G` is guaranteed to be filled.
    pub(crate) fn adjoint_gram(self, m: &[C64], rows: usize, cols: usize, par: Par) -> Vec<C64> {
        debug_assert_eq!(m.len(), rows * cols);
        match self {
            Backend::Faer => faer_backend::adjoint_gram(m, rows, cols, par),
            #[cfg(feature = "lapack")]
            Backend::Lapack => lapack_backend::adjoint_gram(m, rows, cols),
        }
    }

    /// Eigenvalues (any order) of the Hermitian `d × d` column-major matrix whose lower
    /// triangle is `g`.
    pub(crate) fn hermitian_eigenvalues(self, g: &[C64], d: usize, par: Par) -> Result<Vec<f64>> {
        debug_assert_eq!(g.len(), d * d);
        match self {
            Backend::Faer => faer_backend::hermitian_eigenvalues(g, d, par),
            #[cfg(feature = "lapack")]
            Backend::Lapack => lapack_backend::hermitian_eigenvalues(g, d),
        }
    }

    /// Singular values (any order) of the column-major `rows × cols` matrix `m`.
    pub(crate) fn singular_values(
        self,
        m: &[C64],
        rows: usize,
        cols: usize,
        par: Par,
    ) -> Result<Vec<f64>> {
        debug_assert_eq!(m.len(), rows * cols);
        match self {
            Backend::Faer => faer_backend::singular_values(m, rows, cols, par),
            #[cfg(feature = "lapack")]
            Backend::Lapack => lapack_backend::singular_values(m, rows, cols),
        }
    }
}

fn not_converged(what: &str, detail: impl std::fmt::Debug) -> Error {
    Error::Linalg(format!("{what} did not converge ({detail:?})"))
}

mod faer_backend {
    use super::super::two_stage;
    use super::*;
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::matmul::triangular::{self, BlockStructure};
    use faer::{Accum, MatMut, MatRef};

    fn par_of(par: Par) -> faer::Par {
        match par {
            Par::Seq => faer::Par::Seq,
            Par::Rayon => faer::Par::rayon(0),
        }
    }

    /// The lower triangle of `lhs · rhs` (`d × d`).
    fn lower_product(lhs: MatRef<'_, C64>, rhs: MatRef<'_, C64>, d: usize, par: Par) -> Vec<C64> {
        let mut g = vec![C64::new(0.0, 0.0); d * d];
        triangular::matmul(
            MatMut::from_column_major_slice_mut(&mut g, d, d),
            BlockStructure::TriangularLower,
            Accum::Replace,
            lhs,
            BlockStructure::Rectangular,
            rhs,
            BlockStructure::Rectangular,
            C64::new(1.0, 0.0),
            par_of(par),
        );
        g
    }

    /// `M M†` with `M†` copied out column-major first: faer's kernels run about twice as fast
    /// on a column-major right operand as on the adjoint view of `M` (4 096², two threads:
    /// 3.9 s against 2.2 s plus 0.35 s for the copy; `docs/performance.md`).
    pub(super) fn gram(m: &[C64], rows: usize, cols: usize, par: Par) -> Vec<C64> {
        let m = MatRef::from_column_major_slice(m, rows, cols);
        let adjoint = m.adjoint().to_owned();
        lower_product(m, adjoint.as_ref(), rows, par)
    }

    /// `M† M`: the adjoint view on the left runs at full speed, so nothing is copied.
    pub(super) fn adjoint_gram(m: &[C64], rows: usize, cols: usize, par: Par) -> Vec<C64> {
        let m = MatRef::from_column_major_slice(m, rows, cols);
        let adjoint = m.adjoint();
        let mut g = vec![C64::new(0.0, 0.0); cols * cols];
        triangular::matmul(
            MatMut::from_column_major_slice_mut(&mut g, cols, cols),
            BlockStructure::TriangularLower,
            Accum::Replace,
            adjoint,
            BlockStructure::Rectangular,
            m,
            BlockStructure::Rectangular,
            C64::new(1.0, 0.0),
            par_of(par),
        );
        g
    }

    pub(super) fn hermitian_eigenvalues(g: &[C64], d: usize, par: Par) -> Result<Vec<f64>> {
        use faer::linalg::evd::{self, ComputeEigenvectors};
        let par = par_of(par);
        if d >= two_stage::MIN_DIMENSION {
            return two_stage::hermitian_eigenvalues(g, d, two_stage::BANDWIDTH, par);
        }
        let g = MatRef::from_column_major_slice(g, d, d);
        let mut s = faer::diag::Diag::<C64>::zeros(d);
        let scratch = evd::self_adjoint_evd_scratch::<C64>(
            d,
            ComputeEigenvectors::No,
            par,
            Default::default(),
        );
        evd::self_adjoint_evd(
            g,
            s.as_mut(),
            None,
            par,
            MemStack::new(&mut MemBuffer::new(scratch)),
            Default::default(),
        )
        .map_err(|e| not_converged("Hermitian eigenvalue decomposition (faer)", e))?;
        Ok(s.column_vector().iter().map(|x| x.re).collect())
    }

    pub(super) fn singular_values(
        m: &[C64],
        rows: usize,
        cols: usize,
        par: Par,
    ) -> Result<Vec<f64>> {
        use faer::linalg::svd::{self, ComputeSvdVectors};
        let par = par_of(par);
        let m = MatRef::from_column_major_slice(m, rows, cols);
        let mut s = faer::diag::Diag::<C64>::zeros(rows.min(cols));
        let scratch = svd::svd_scratch::<C64>(
            rows,
            cols,
            ComputeSvdVectors::No,
            ComputeSvdVectors::No,
            par,
            Default::default(),
        );
        svd::svd(
            m,
            s.as_mut(),
            None,
            None,
            par,
            MemStack::new(&mut MemBuffer::new(scratch)),
            Default::default(),
        )
        .map_err(|e| not_converged("singular value decomposition (faer)", e))?;
        Ok(s.column_vector().iter().map(|x| x.re).collect())
    }
}

#[cfg(feature = "lapack")]
mod lapack_backend {
    use super::*;
    use ndarray::{ArrayView2, ShapeBuilder};
    use ndarray_linalg::{EigValsh, SVD, UPLO};

    fn view(m: &[C64], rows: usize, cols: usize) -> ArrayView2<'_, C64> {
        ArrayView2::from_shape((rows, cols).f(), m).expect("length checked by the caller")
    }

    pub(super) fn gram(m: &[C64], rows: usize, cols: usize) -> Vec<C64> {
        let m = view(m, rows, cols);
        let adjoint = m.t().mapv(|z| z.conj());
        let g = m.dot(&adjoint);
        // Column-major, as the rest of the module expects.
        g.t().iter().copied().collect()
    }

    pub(super) fn adjoint_gram(m: &[C64], rows: usize, cols: usize) -> Vec<C64> {
        let m = view(m, rows, cols);
        let adjoint = m.t().mapv(|z| z.conj());
        let g = adjoint.dot(&m);
        g.t().iter().copied().collect()
    }

    pub(super) fn hermitian_eigenvalues(g: &[C64], d: usize) -> Result<Vec<f64>> {
        let g = view(g, d, d).to_owned();
        let values = g
            .eigvalsh(UPLO::Lower)
            .map_err(|e| not_converged("Hermitian eigenvalue decomposition (LAPACK)", e))?;
        Ok(values.to_vec())
    }

    pub(super) fn singular_values(m: &[C64], rows: usize, cols: usize) -> Result<Vec<f64>> {
        let m = view(m, rows, cols).to_owned();
        let (_, s, _) = m
            .svd(false, false)
            .map_err(|e| not_converged("singular value decomposition (LAPACK)", e))?;
        Ok(s.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both Gram products against their definitions, on every backend, square and oblong,
    /// serial and parallel (lower triangles, where the products are guaranteed).
    #[test]
    fn gram_products_match_their_definitions() {
        for (rows, cols) in [(1, 1), (3, 5), (4, 4), (8, 2), (33, 70)] {
            let m: Vec<C64> = (0..rows * cols)
                .map(|k| C64::new((k as f64 * 0.7).sin(), (k as f64 * 1.3).cos()))
                .collect();
            let at = |i: usize, j: usize| m[i + rows * j];
            for backend in Backend::all() {
                for par in [Par::Seq, Par::Rayon] {
                    let g = backend.gram(&m, rows, cols, par);
                    let h = backend.adjoint_gram(&m, rows, cols, par);
                    for j in 0..rows {
                        for i in j..rows {
                            let want: C64 = (0..cols).map(|k| at(i, k) * at(j, k).conj()).sum();
                            assert!((g[i + rows * j] - want).norm() < 1e-12, "{rows}×{cols}");
                        }
                    }
                    for j in 0..cols {
                        for i in j..cols {
                            let want: C64 = (0..rows).map(|k| at(k, i).conj() * at(k, j)).sum();
                            assert!((h[i + cols * j] - want).norm() < 1e-12, "{rows}×{cols}");
                        }
                    }
                }
            }
        }
    }
}
