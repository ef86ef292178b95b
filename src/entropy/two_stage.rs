//! Eigenvalues of a Hermitian matrix by a two-stage reduction, bound by matrix products rather
//! than by memory.
//!
//! 1. **Dense → band** (bandwidth `b`). For each panel of `b` columns, the part below the band
//!    is factored `P = Q R` by Householder reflectors `Hᵢ = I − τᵢ vᵢ vᵢ†` (LAPACK's `zlarfg`
//!    convention: `Hᵢ† x = β e₁`, `β` real), accumulated as `Q = H₁ ⋯ H_b = I − V T V†` with
//!    `T` upper triangular (`zlarft`: `Tᵢᵢ = τᵢ`, `T[:i, i] = −τᵢ T[:i, :i] V[:, :i]† vᵢ`).
//!    The trailing matrix becomes `Q† A Q = A − V W† − W V†` with `Y = A V T` and
//!    `W = Y − ½ V (T† V† Y)`: one Hermitian product `A V` and one rank-`2b` update of the
//!    lower triangle, both faer matrix products (`16/3 · d³` real flops in all).
//! 2. **Band → tridiagonal** by bulge chasing, one column per sweep: a reflector on rows
//!    `j+1 … j+b` clears column `j` below its subdiagonal and is applied from both sides to
//!    the diagonal block; applied from the right to the block below, it fills that block, whose
//!    first column the next reflector clears (applied from the left to the block and from both
//!    sides to the next diagonal block), and so on to the end of the matrix. What a sweep
//!    leaves outside the band lies in the first columns of the next sweep's blocks, which clear
//!    it (`O(b d²)` flops, the band only).
//! 3. The tridiagonal matrix's off-diagonal `eᵢ` is made real (`|eᵢ|`, a diagonal unitary
//!    similarity), and its eigenvalues come from the implicit QL iteration with Wilkinson's
//!    shift (eigenvalues only, `O(d²)`).
//!
//! Every reflector is unitary, so the eigenvalues are those of `A` to `O(d ε ‖A‖)`, as for any
//! backward-stable reduction; `entropy::tests` and `benches/peers/entropy.py` compare them with
//! faer's one-stage route and with singular values.

use crate::error::{Error, Result};
use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, Mat, MatMut, MatRef};
use num_complex::Complex64 as C64;

const ZERO: C64 = C64::new(0.0, 0.0);
const ONE: C64 = C64::new(1.0, 0.0);

/// The bandwidth of the first stage: the bulge chasing grows with it (`O(b d²)`), faer's
/// products run faster with it; 16 is the fastest measured at d = 2048 and 4096 (16, 24, 32,
/// 64 tried; `docs/performance.md`).
pub(crate) const BANDWIDTH: usize = 16;

/// From this dimension on the faer backend's eigenvalues go through the two-stage reduction
/// (at 512 both routes take the same time, below it faer's one-stage route is faster).
pub(crate) const MIN_DIMENSION: usize = 1024;

/// Overwrites `x` with the reflector `v` (`v₀ = 1`) of `H = I − τ v v†`, `H† x = β e₁`, and
/// returns `(τ, β)`.
fn reflector(x: &mut [C64]) -> (C64, f64) {
    let alpha = x[0];
    let rest: f64 = x[1..].iter().map(C64::norm_sqr).sum();
    if rest == 0.0 && alpha.im == 0.0 {
        x[0] = ONE;
        return (ZERO, alpha.re);
    }
    let beta = -(alpha.norm_sqr() + rest).sqrt().copysign(alpha.re);
    let tau = C64::new((beta - alpha.re) / beta, -alpha.im / beta);
    let scale = (alpha - beta).inv();
    x[1..].iter_mut().for_each(|z| *z *= scale);
    x[0] = ONE;
    (tau, beta)
}

/// Column-major access to the lower triangle of the working matrix: `A[i, j]` at
/// `a[i + j·s]`, `s = d` for the dense matrix, `s = 2b` for the band (column `j` holds rows
/// `j … j + 2b`: the band and the bulge below it, with an odd distance between columns, so
/// that a block's columns do not all fall in the same cache sets).
struct Lower<'a> {
    a: &'a mut [C64],
    s: usize,
}

impl Lower<'_> {
    #[inline]
    fn at(&self, i: usize, j: usize) -> C64 {
        self.a[i + j * self.s]
    }
    #[inline]
    fn at_mut(&mut self, i: usize, j: usize) -> &mut C64 {
        &mut self.a[i + j * self.s]
    }

    /// `D ← H† D H` on the diagonal block at `start` (`v.len()` rows), with `H = I − τ v v†`:
    /// `D − w v† − v w†`, `w = τ D v − ½ |τ|² (v† D v) v`. `y` and `w` are scratch.
    fn two_sided(&mut self, start: usize, v: &[C64], tau: C64, y: &mut Vec<C64>, w: &mut Vec<C64>) {
        let (n, d) = (v.len(), self.s);
        y.clear();
        y.resize(n, ZERO);
        // y = D v from the lower triangle: column c gives y[c..] += D[c.., c] v[c] and
        // y[c] += D[c+1.., c]† v[c+1..].
        for c in 0..n {
            let column = &self.a[(start + c) * d + start + c..(start + c) * d + start + n];
            let vc = v[c];
            let mut dot = ZERO;
            for ((yr, dr), vr) in y[c + 1..].iter_mut().zip(&column[1..]).zip(&v[c + 1..]) {
                *yr += dr * vc;
                dot += dr.conj() * vr;
            }
            y[c] += column[0] * vc + dot;
        }
        let vy: f64 = v.iter().zip(y.iter()).map(|(v, y)| (v.conj() * y).re).sum();
        let half = 0.5 * tau.norm_sqr() * vy;
        w.clear();
        w.extend(y.iter().zip(v).map(|(y, v)| tau * y - v * half));
        for c in 0..n {
            let (wc, vc) = (w[c].conj(), v[c].conj());
            let column = &mut self.a[(start + c) * d + start + c..(start + c) * d + start + n];
            for ((x, wr), vr) in column.iter_mut().zip(&w[c..]).zip(&v[c..]) {
                *x -= wr * vc + vr * wc;
            }
        }
    }

    /// `E ← E H` on rows `rows` of the columns `start .. start + v.len()`; `ev` is scratch.
    fn right(
        &mut self,
        rows: std::ops::Range<usize>,
        start: usize,
        v: &[C64],
        tau: C64,
        ev: &mut Vec<C64>,
    ) {
        let s = self.s;
        ev.clear();
        ev.resize(rows.len(), ZERO);
        for (c, &vc) in v.iter().enumerate() {
            let col = (start + c) * s;
            let column = &self.a[col + rows.start..col + rows.end];
            ev.iter_mut().zip(column).for_each(|(e, x)| *e += x * vc);
        }
        for (c, &vc) in v.iter().enumerate() {
            let (col, f) = ((start + c) * s, tau * vc.conj());
            let column = &mut self.a[col + rows.start..col + rows.end];
            column
                .iter_mut()
                .zip(ev.iter())
                .for_each(|(x, e)| *x -= e * f);
        }
    }

    /// `E ← H† E` on the rows `start .. start + v.len()` of the columns `cols`.
    fn left(&mut self, start: usize, cols: std::ops::Range<usize>, v: &[C64], tau: C64) {
        let t = tau.conj();
        for c in cols {
            let column = &mut self.a[c * self.s + start..c * self.s + start + v.len()];
            let s: C64 = column.iter().zip(v).map(|(x, v)| v.conj() * x).sum::<C64>() * t;
            column.iter_mut().zip(v).for_each(|(x, v)| *x -= v * s);
        }
    }
}

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
fn hermitian_times(a: MatRef<'_, C64>, v: MatRef<'_, C64>, par: faer::Par) -> Mat<C64> {
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
            let diag = a.submatrix(c0, c0, w, w);
            triangular::matmul(
                x.as_mut().subrows_mut(c0, w),
                BlockStructure::Rectangular,
                Accum::Add,
                diag,
                BlockStructure::TriangularLower,
                v.subrows(c0, w),
                BlockStructure::Rectangular,
                ONE,
                faer::Par::Seq,
            );
            triangular::matmul(
                x.as_mut().subrows_mut(c0, w),
                BlockStructure::Rectangular,
                Accum::Add,
                diag.adjoint(),
                BlockStructure::StrictTriangularUpper,
                v.subrows(c0, w),
                BlockStructure::Rectangular,
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

/// Stage 1: reduces the lower triangle of the `d × d` Hermitian `a` to bandwidth `b` in
/// place (entries below the band become zero).
fn to_band(a: &mut [C64], d: usize, b: usize, par: faer::Par) {
    let mut k = 0;
    while k + b + 1 < d {
        let m = d - k - b;
        let r = b.min(m);
        // The panel below the band, factored in place into V (returned) and R (kept).
        let mut v = Mat::<C64>::zeros(m, r);
        let mut taus = vec![ZERO; r];
        {
            let mut lower = Lower { a: &mut *a, s: d };
            for i in 0..r {
                let (row, col) = (k + b + i, k + i);
                let mut x: Vec<C64> = (row..d).map(|q| lower.at(q, col)).collect();
                let (tau, beta) = reflector(&mut x);
                taus[i] = tau;
                *lower.at_mut(row, col) = C64::new(beta, 0.0);
                for q in row + 1..d {
                    *lower.at_mut(q, col) = ZERO;
                }
                for (q, &xq) in x.iter().enumerate() {
                    v[(i + q, i)] = xq;
                }
                // H† on the panel's remaining columns.
                lower.left(row, col + 1..k + b, &x, tau);
            }
        }
        // T of Q = I − V T V†.
        let mut t = Mat::<C64>::zeros(r, r);
        for i in 0..r {
            t[(i, i)] = taus[i];
            let z: Vec<C64> = (0..i)
                .map(|p| (i..m).map(|q| v[(q, p)].conj() * v[(q, i)]).sum())
                .collect();
            for p in 0..i {
                let s: C64 = (p..i).map(|q| t[(p, q)] * z[q]).sum();
                t[(p, i)] = -taus[i] * s;
            }
        }
        // Y = A₂₂ V T.
        let start = k + b;
        let full = MatRef::from_column_major_slice(&*a, d, d);
        let x = hermitian_times(full.submatrix(start, start, m, m), v.as_ref(), par);
        let mut y = Mat::<C64>::zeros(m, r);
        matmul(y.as_mut(), Accum::Replace, x.as_ref(), t.as_ref(), ONE, par);
        // W = Y − ½ V (T† (V† Y)).
        let mut vy = Mat::<C64>::zeros(r, r);
        matmul(
            vy.as_mut(),
            Accum::Replace,
            v.adjoint(),
            y.as_ref(),
            ONE,
            par,
        );
        let mut tvy = Mat::<C64>::zeros(r, r);
        matmul(
            tvy.as_mut(),
            Accum::Replace,
            t.adjoint(),
            vy.as_ref(),
            ONE,
            par,
        );
        let mut left = Mat::<C64>::zeros(m, 2 * r);
        left.as_mut().subcols_mut(0, r).copy_from(v.as_ref());
        {
            let mut w = left.as_mut().subcols_mut(r, r);
            w.copy_from(y.as_ref());
            matmul(
                w,
                Accum::Add,
                v.as_ref(),
                tvy.as_ref(),
                C64::new(-0.5, 0.0),
                par,
            );
        }
        // [W† ; V†], column-major, so that faer's kernels take both operands unstrided.
        let mut right = Mat::<C64>::zeros(2 * r, m);
        right
            .as_mut()
            .subrows_mut(0, r)
            .copy_from(left.as_ref().subcols(r, r).adjoint());
        right
            .as_mut()
            .subrows_mut(r, r)
            .copy_from(v.as_ref().adjoint());
        let full = MatMut::from_column_major_slice_mut(&mut *a, d, d);
        triangular::matmul(
            full.submatrix_mut(start, start, m, m),
            BlockStructure::TriangularLower,
            Accum::Add,
            left.as_ref(),
            BlockStructure::Rectangular,
            right.as_ref(),
            BlockStructure::Rectangular,
            -ONE,
            par,
        );
        k += b;
    }
}

/// Stage 2: reduces a lower band of width `b` (in the `d × d` array) to tridiagonal form by
/// bulge chasing; returns the diagonal and the moduli of the subdiagonal.
fn band_to_tridiagonal(a: &mut [C64], d: usize, b: usize) -> (Vec<f64>, Vec<f64>) {
    let s = 2 * b;
    let mut band = vec![ZERO; d * (s + 1) + s];
    for j in 0..d {
        for i in j..(j + b + 1).min(d) {
            band[i + j * s] = a[i + j * d];
        }
    }
    let mut lower = Lower { a: &mut band, s };
    let mut v = Vec::with_capacity(b);
    let mut next = Vec::with_capacity(b);
    let (mut y, mut w) = (Vec::with_capacity(b), Vec::with_capacity(b));
    for j in 0..d.saturating_sub(2) {
        // Clear column j below its subdiagonal.
        let mut st = j + 1;
        let mut len = b.min(d - st);
        if len < 2 {
            continue;
        }
        v.clear();
        v.extend((st..st + len).map(|r| lower.at(r, j)));
        let (mut tau, beta) = reflector(&mut v);
        *lower.at_mut(st, j) = C64::new(beta, 0.0);
        for r in st + 1..st + len {
            *lower.at_mut(r, j) = ZERO;
        }
        lower.two_sided(st, &v, tau, &mut y, &mut w);
        loop {
            let below = st + len;
            if below >= d {
                break;
            }
            let end = (below + b).min(d);
            // The block below: H from the right fills it; its first column is cleared next.
            lower.right(below..end, st, &v, tau, &mut y);
            if end - below < 2 {
                break;
            }
            next.clear();
            next.extend_from_slice(&lower.a[st * s + below..st * s + end]);
            let (t, beta) = reflector(&mut next);
            *lower.at_mut(below, st) = C64::new(beta, 0.0);
            for r in below + 1..end {
                *lower.at_mut(r, st) = ZERO;
            }
            lower.left(below, st + 1..st + len, &next, t);
            lower.two_sided(below, &next, t, &mut y, &mut w);
            (st, len, tau) = (below, end - below, t);
            std::mem::swap(&mut v, &mut next);
        }
    }
    let diagonal = (0..d).map(|i| lower.at(i, i).re).collect();
    let off = (0..d.saturating_sub(1))
        .map(|i| lower.at(i + 1, i).norm())
        .collect();
    (diagonal, off)
}

/// Eigenvalues of the real symmetric tridiagonal matrix with diagonal `diag` and
/// off-diagonal `off` (`off[i]` couples `i` and `i + 1`), by the implicit QL iteration with
/// Wilkinson's shift.
fn tridiagonal_eigenvalues(mut diag: Vec<f64>, off: &[f64]) -> Result<Vec<f64>> {
    let n = diag.len();
    let mut e: Vec<f64> = off.iter().copied().chain(std::iter::once(0.0)).collect();
    // Below this an off-diagonal counts as zero whatever its neighbours (a perturbation of
    // the eigenvalues by at most as much, Weyl).
    let norm = diag.iter().chain(off).fold(0.0f64, |m, x| m.max(x.abs()));
    let floor = 1e-3 * f64::EPSILON * norm;
    for l in 0..n {
        let mut iterations = 0;
        loop {
            let mut m = l;
            while m + 1 < n {
                let scale = diag[m].abs() + diag[m + 1].abs();
                if e[m].abs() <= f64::EPSILON * scale || e[m].abs() <= floor {
                    break;
                }
                m += 1;
            }
            if m == l {
                break;
            }
            iterations += 1;
            if iterations > 60 {
                return Err(Error::Linalg(
                    "tridiagonal QL iteration did not converge in 60 steps".into(),
                ));
            }
            let mut g = (diag[l + 1] - diag[l]) / (2.0 * e[l]);
            let mut r = (g * g + 1.0).sqrt();
            g = diag[m] - diag[l] + e[l] / (g + r.copysign(g));
            let (mut s, mut c, mut p) = (1.0, 1.0, 0.0);
            let mut deflated = false;
            for i in (l..m).rev() {
                let f = s * e[i];
                let bb = c * e[i];
                r = (f * f + g * g).sqrt();
                e[i + 1] = r;
                if r == 0.0 {
                    diag[i + 1] -= p;
                    e[m] = 0.0;
                    deflated = true;
                    break;
                }
                s = f / r;
                c = g / r;
                g = diag[i + 1] - p;
                r = (diag[i] - g) * s + 2.0 * c * bb;
                p = s * r;
                diag[i + 1] = g + p;
                g = c * r - bb;
            }
            if deflated {
                continue;
            }
            diag[l] -= p;
            e[l] = g;
            e[m] = 0.0;
        }
    }
    Ok(diag)
}

/// The eigenvalues (any order) of the Hermitian `d × d` column-major matrix whose lower
/// triangle is `g`, by the two-stage reduction with bandwidth `b` (see the module docs).
pub(crate) fn hermitian_eigenvalues(
    g: &[C64],
    d: usize,
    b: usize,
    par: faer::Par,
) -> Result<Vec<f64>> {
    let mut a = g.to_vec();
    let b = b.clamp(1, d.max(1));
    to_band(&mut a, d, b, par);
    let (diag, off) = band_to_tridiagonal(&mut a, d, b);
    tridiagonal_eigenvalues(diag, &off)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Hermitian matrix with a known spectrum: `U diag(λ) U†` for a unitary `U` made of
    /// reflectors, lower triangle filled.
    fn with_spectrum(values: &[f64]) -> Vec<C64> {
        let d = values.len();
        let mut m = Mat::<C64>::from_fn(d, d, |i, j| {
            if i == j {
                C64::new(values[i], 0.0)
            } else {
                ZERO
            }
        });
        for k in 0..3 {
            let mut v: Vec<C64> = (0..d)
                .map(|i| C64::new(((i * 7 + k * 3) as f64).sin(), ((i + 5 * k) as f64).cos()))
                .collect();
            let (tau, _) = reflector(&mut v);
            // m ← H† m H.
            let h = Mat::<C64>::from_fn(d, d, |i, j| {
                let id = if i == j { ONE } else { ZERO };
                id - tau * v[i] * v[j].conj()
            });
            let mut t = Mat::<C64>::zeros(d, d);
            matmul(
                t.as_mut(),
                Accum::Replace,
                h.adjoint(),
                m.as_ref(),
                ONE,
                faer::Par::Seq,
            );
            matmul(
                m.as_mut(),
                Accum::Replace,
                t.as_ref(),
                h.as_ref(),
                ONE,
                faer::Par::Seq,
            );
        }
        let mut g = vec![ZERO; d * d];
        for j in 0..d {
            for i in j..d {
                g[i + d * j] = m[(i, j)];
            }
        }
        g
    }

    fn sorted(mut v: Vec<f64>) -> Vec<f64> {
        v.sort_by(f64::total_cmp);
        v
    }

    #[test]
    fn a_reflector_maps_its_vector_to_a_real_multiple_of_e1() {
        let x0 = vec![C64::new(0.3, -0.4), C64::new(1.0, 2.0), C64::new(-0.5, 0.1)];
        let mut v = x0.clone();
        let (tau, beta) = reflector(&mut v);
        // H† x = x − τ̄ v (v† x).
        let s: C64 = v.iter().zip(&x0).map(|(v, x)| v.conj() * x).sum();
        let hx: Vec<C64> = x0
            .iter()
            .zip(&v)
            .map(|(x, v)| x - tau.conj() * v * s)
            .collect();
        assert!((hx[0] - C64::new(beta, 0.0)).norm() < 1e-14);
        assert!(hx[1].norm() < 1e-14 && hx[2].norm() < 1e-14);
    }

    #[test]
    fn known_spectra_come_back_for_every_bandwidth_and_size() {
        for d in [1, 2, 3, 7, 16, 40, 97] {
            let values: Vec<f64> = (0..d)
                .map(|i| (i as f64 * 0.37).sin() + 0.1 * i as f64)
                .collect();
            let g = with_spectrum(&values);
            for b in [1, 2, 3, 8, 32, 200] {
                for par in [faer::Par::Seq, faer::Par::rayon(2)] {
                    let got = sorted(hermitian_eigenvalues(&g, d, b, par).unwrap());
                    let want = sorted(values.clone());
                    for (x, y) in got.iter().zip(&want) {
                        assert!((x - y).abs() < 1e-12, "d {d}, b {b}: {x} vs {y}");
                    }
                }
            }
        }
    }

    #[test]
    fn degenerate_and_zero_spectra_converge() {
        for values in [
            vec![0.0; 20],
            vec![1.0; 33],
            [vec![0.5; 10], vec![0.0; 30]].concat(),
        ] {
            let d = values.len();
            let g = with_spectrum(&values);
            let got = sorted(hermitian_eigenvalues(&g, d, 4, faer::Par::Seq).unwrap());
            for (x, y) in got.iter().zip(&sorted(values.clone())) {
                assert!((x - y).abs() < 1e-13, "{x} vs {y}");
            }
        }
    }

    /// A reduced state of a Haar-random state (the entropy module's case) against faer's
    /// one-stage eigenvalues.
    #[test]
    fn reduced_states_match_the_one_stage_route() {
        use faer::linalg::evd::{self, ComputeEigenvectors};
        let psi = crate::entropy::haar_state(14, &mut crate::measure::rng_from_seed(3)).unwrap();
        let d = 128;
        let m = MatRef::from_column_major_slice(psi.amplitudes(), d, d);
        let mut g = Mat::<C64>::zeros(d, d);
        matmul(
            g.as_mut(),
            Accum::Replace,
            m,
            m.adjoint(),
            ONE,
            faer::Par::Seq,
        );
        let lower: Vec<C64> = (0..d * d)
            .map(|k| {
                if k % d >= k / d {
                    g[(k % d, k / d)]
                } else {
                    ZERO
                }
            })
            .collect();
        let mut s = faer::diag::Diag::<C64>::zeros(d);
        let scratch = evd::self_adjoint_evd_scratch::<C64>(
            d,
            ComputeEigenvectors::No,
            faer::Par::Seq,
            Default::default(),
        );
        evd::self_adjoint_evd(
            g.as_ref(),
            s.as_mut(),
            None,
            faer::Par::Seq,
            faer::dyn_stack::MemStack::new(&mut faer::dyn_stack::MemBuffer::new(scratch)),
            Default::default(),
        )
        .unwrap();
        let want = sorted(s.column_vector().iter().map(|x| x.re).collect());
        for b in [5, BANDWIDTH] {
            let got = sorted(hermitian_eigenvalues(&lower, d, b, faer::Par::rayon(2)).unwrap());
            for (x, y) in got.iter().zip(&want) {
                assert!((x - y).abs() < 1e-15, "b {b}: {x} vs {y}");
            }
        }
    }
}
