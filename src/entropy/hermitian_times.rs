//! `A V` for a Hermitian `A` stored as its lower triangle and a narrow `V`: the product of
//! stage 1 of [`super::two_stage`] with each panel's reflectors, which reads the trailing
//! matrix once per panel.
//!
//! The triangle is taken in column slabs; a slab's block below the diagonal `B` gives
//! `B V[slab]` to the rows below and `B† V[below]` to the slab's rows (faer's products), and
//! its diagonal block, written out in full, `D V[slab]`. `tests` hold it to the dense product.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef};
use num_complex::Complex64 as C64;

const ONE: C64 = C64::new(1.0, 0.0);

/// Column slabs of [`hermitian_times`]: a slab of the trailing matrix (at most 4 096 rows of
/// 32 columns, 2 MiB) stays in L2 for both of its products.
const SLAB: usize = 32;

/// Slab groups of [`hermitian_times`], each summed on its own and the groups added in order:
/// the same bits whatever the number of threads.
const GROUPS: usize = 8;

/// `A V` for the Hermitian `A` (`m × m`) of which only the lower triangle is read, and a
/// narrow `V` (`m × r`). Slab by slab of `SLAB` columns, one pass over the triangle: the
/// slab's block below the diagonal `B` adds `B V[slab]` to the rows below and `B† V[below]`
/// to the slab's rows (the diagonal block both ways), so the triangle is read once while in
/// cache, rather than once per triangle by two triangular products.
pub(super) fn hermitian_times(a: MatRef<'_, C64>, v: MatRef<'_, C64>, par: faer::Par) -> Mat<C64> {
    use rayon::prelude::*;
    let (m, r) = (a.nrows(), v.ncols());
    let slabs: Vec<usize> = (0..m).step_by(SLAB).collect();
    // Contiguous groups of about equal work (a slab at column c costs m − c rows).
    let total: usize = slabs.iter().map(|c| m - c).sum();
    let mut bounds = vec![0];
    let mut acc = 0;
    for (i, c) in slabs.iter().enumerate() {
        acc += m - c;
        if acc * GROUPS >= total * bounds.len() && bounds.len() < GROUPS {
            bounds.push(i + 1);
        }
    }
    if *bounds.last().expect("starts at 0") != slabs.len() {
        bounds.push(slabs.len());
    }
    let group = |g: usize| {
        let mut x = Mat::<C64>::zeros(m, r);
        for &c0 in &slabs[bounds[g]..bounds[g + 1]] {
            let w = SLAB.min(m - c0);
            let (c1, below) = (c0 + w, m - c0 - w);
            // The diagonal block, both triangles written out (faer's triangular products
            // cost more per call than this whole block's arithmetic).
            let diag = a.submatrix(c0, c0, w, w);
            let full = Mat::<C64>::from_fn(w, w, |i, j| {
                if i >= j {
                    diag[(i, j)]
                } else {
                    diag[(j, i)].conj()
                }
            });
            matmul(
                x.as_mut().subrows_mut(c0, w),
                Accum::Add,
                full.as_ref(),
                v.subrows(c0, w),
                ONE,
                faer::Par::Seq,
            );
            if below > 0 {
                let block = a.submatrix(c1, c0, below, w);
                matmul(
                    x.as_mut().subrows_mut(c1, below),
                    Accum::Add,
                    block,
                    v.subrows(c0, w),
                    ONE,
                    faer::Par::Seq,
                );
                matmul(
                    x.as_mut().subrows_mut(c0, w),
                    Accum::Add,
                    block.adjoint(),
                    v.subrows(c1, below),
                    ONE,
                    faer::Par::Seq,
                );
            }
        }
        x
    };
    let groups = bounds.len() - 1;
    let parts: Vec<Mat<C64>> = match par {
        faer::Par::Seq => (0..groups).map(group).collect(),
        faer::Par::Rayon(_) => (0..groups).into_par_iter().map(group).collect(),
    };
    let mut x = Mat::<C64>::zeros(m, r);
    for part in &parts {
        x += part;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slab products (both kernels and their ragged edges) against the dense Hermitian
    /// product, for sizes that leave every kind of remainder.
    #[test]
    fn hermitian_times_matches_the_dense_product() {
        let entry = |i: usize, j: usize| {
            let (x, y) = ((i * 37 + j * 11) % 17, (i * 5 + j * 23) % 13);
            C64::new(x as f64 / 17.0 - 0.4, y as f64 / 13.0 - 0.5)
        };
        for (m, r) in [(1, 1), (9, 3), (37, 4), (70, 16), (133, 5), (200, 17)] {
            let full = Mat::<C64>::from_fn(m, m, |i, j| match i.cmp(&j) {
                std::cmp::Ordering::Greater => entry(i, j),
                std::cmp::Ordering::Equal => C64::new(entry(i, i).re, 0.0),
                std::cmp::Ordering::Less => entry(j, i).conj(),
            });
            let lower = Mat::<C64>::from_fn(m, m, |i, j| if i >= j { full[(i, j)] } else { ONE });
            let v = Mat::<C64>::from_fn(m, r, |i, c| entry(i + 3, c + 7));
            let mut want = Mat::<C64>::zeros(m, r);
            matmul(
                want.as_mut(),
                Accum::Replace,
                full.as_ref(),
                v.as_ref(),
                ONE,
                faer::Par::Seq,
            );
            for par in [faer::Par::Seq, faer::Par::rayon(2)] {
                let got = hermitian_times(lower.as_ref(), v.as_ref(), par);
                for i in 0..m {
                    for c in 0..r {
                        let e = (got[(i, c)] - want[(i, c)]).norm();
                        assert!(e < 1e-12, "m {m}, r {r}: ({i}, {c}) off by {e}");
                    }
                }
            }
        }
    }
}
