//! Eigenvalues of a Hermitian matrix by a two-stage reduction, bound by matrix products rather
//! than by memory.
//!
//! 1. **Dense → band** (bandwidth `b`). For each panel of `b` columns, the part below the band
//!    is factored `P = Q R` by Householder reflectors `Hᵢ = I − τᵢ vᵢ vᵢ†` (LAPACK's `zlarfg`
//!    convention: `Hᵢ† x = β e₁`, `β` real), accumulated as `Q = H₁ ⋯ H_b = I − V T V†` with
//!    `T` upper triangular (`zlarft`: `Tᵢᵢ = τᵢ`, `T[:i, i] = −τᵢ T[:i, :i] V[:, :i]† vᵢ`).
//!    The trailing matrix becomes `Q† A Q = A − V W† − W V†` with `Y = A V T` and
//!    `W = Y − ½ V (T† V† Y)`: one Hermitian product `A V` per panel, and one rank-`2pb`
//!    update of the lower triangle per `p` panels (the panels in between see the pending
//!    update through narrow products), all faer matrix products (`16/3 · d³` real flops).
//! 2. **Band → tridiagonal** by bulge chasing, one column per sweep: a reflector on rows
//!    `j+1 … j+b` clears column `j` below its subdiagonal and is applied from both sides to
//!    the diagonal block; applied from the right to the block below, it fills that block, whose
//!    first column the next reflector clears (applied from the left to the block and from both
//!    sides to the next diagonal block), and so on to the end of the matrix. What a sweep
//!    leaves outside the band lies in the first columns of the next sweep's blocks, which clear
//!    it (`O(b d²)` flops, the band only). Sweeps overlap on several threads, each a few
//!    blocks behind the one before.
//! 3. The tridiagonal matrix's off-diagonal `eᵢ` is made real (`|eᵢ|`, a diagonal unitary
//!    similarity), and its eigenvalues come from the implicit QL iteration with Wilkinson's
//!    shift in root-free form (eigenvalues only, `O(d²)`).
//!
//! Every reflector is unitary, so the eigenvalues are those of `A` to `O(d ε ‖A‖)`, as for any
//! backward-stable reduction; `entropy::tests` and `benches/peers/entropy.py` compare them with
//! faer's one-stage route and with singular values.

use super::hermitian_times::hermitian_times;
use crate::error::{Error, Result};
use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, Mat, MatMut, MatRef};
use num_complex::Complex64 as C64;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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
/// `a[i + j·s − base]`, `s = d` for the dense matrix, `s = 2b` for the band (column `j` holds
/// rows `j … j + 2b`: the band and the bulge below it, with an odd distance between columns,
/// so that a block's columns do not all fall in the same cache sets). `a` may be a window of
/// the whole array starting at `base` (one step of a sweep, see [`band_to_tridiagonal`]).
struct Lower<'a> {
    a: &'a mut [C64],
    s: usize,
    base: usize,
}

impl Lower<'_> {
    #[inline]
    fn at(&self, i: usize, j: usize) -> C64 {
        self.a[i + j * self.s - self.base]
    }
    /// Rows `rows` of column `j`.
    #[inline]
    fn col(&self, j: usize, rows: std::ops::Range<usize>) -> &[C64] {
        let at = j * self.s + rows.start - self.base;
        &self.a[at..at + rows.len()]
    }
    #[inline]
    fn col_mut(&mut self, j: usize, rows: std::ops::Range<usize>) -> &mut [C64] {
        let at = j * self.s + rows.start - self.base;
        &mut self.a[at..at + rows.len()]
    }

    /// `D ← H† D H` on the diagonal block at `start` (`v.len()` rows), with `H = I − τ v v†`:
    /// `D − w v† − v w†`, `w = τ D v − ½ |τ|² (v† D v) v`. `y` and `w` are scratch.
    #[inline(always)]
    fn two_sided(&mut self, start: usize, v: &[C64], tau: C64, y: &mut Vec<C64>, w: &mut Vec<C64>) {
        let n = v.len();
        y.clear();
        y.resize(n, ZERO);
        // y = D v from the lower triangle: column c gives y[c..] += D[c.., c] v[c] and
        // y[c] += D[c+1.., c]† v[c+1..].
        for c in 0..n {
            let column = self.col(start + c, start + c..start + n);
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
            let column = self.col_mut(start + c, start + c..start + n);
            for ((x, wr), vr) in column.iter_mut().zip(&w[c..]).zip(&v[c..]) {
                *x -= wr * vc + vr * wc;
            }
        }
    }

    /// `E ← E H` on rows `rows` of the columns `start .. start + v.len()`; `ev` is scratch.
    #[inline(always)]
    fn right(
        &mut self,
        rows: std::ops::Range<usize>,
        start: usize,
        v: &[C64],
        tau: C64,
        ev: &mut Vec<C64>,
    ) {
        ev.clear();
        ev.resize(rows.len(), ZERO);
        for (c, &vc) in v.iter().enumerate() {
            let column = self.col(start + c, rows.clone());
            ev.iter_mut().zip(column).for_each(|(e, x)| *e += x * vc);
        }
        for (c, &vc) in v.iter().enumerate() {
            let f = tau * vc.conj();
            self.col_mut(start + c, rows.clone())
                .iter_mut()
                .zip(ev.iter())
                .for_each(|(x, e)| *x -= e * f);
        }
    }

    /// `E ← H† E` on the rows `start .. start + v.len()` of the columns `cols`.
    #[inline(always)]
    fn left(&mut self, start: usize, cols: std::ops::Range<usize>, v: &[C64], tau: C64) {
        let t = tau.conj();
        for c in cols {
            let column = self.col_mut(c, start..start + v.len());
            let s: C64 = column.iter().zip(v).map(|(x, v)| v.conj() * x).sum::<C64>() * t;
            column.iter_mut().zip(v).for_each(|(x, v)| *x -= v * s);
        }
    }
}

/// Panels per trailing update of stage 1: the trailing matrix is brought up to date once per
/// `PANELS` panels by one rank-`2·PANELS·b` product; in between, a panel's columns and its
/// product with the trailing matrix are corrected by the pending reflectors (narrow products).
/// At d = 4 096 eight panels took 2.3 + 0.45 s for the updates and corrections, four 2.4 +
/// 0.4 s, one (no pending reflectors) 3.3 s (`docs/performance.md`).
const PANELS: usize = 8;

/// The reflectors of one panel, `Q = I − V T V†`, factored in place: the panel is the `b`
/// columns from `k`, rows `k + b ..`; `R` is left in the panel's first rows, zeros below.
fn factor_panel(a: &mut [C64], d: usize, k: usize, b: usize) -> (Mat<C64>, Mat<C64>) {
    let m = d - k - b;
    let r = b.min(m);
    let mut v = Mat::<C64>::zeros(m, r);
    let mut taus = Vec::with_capacity(r);
    let mut lower = Lower { a, s: d, base: 0 };
    let mut x = Vec::with_capacity(m);
    for i in 0..r {
        let (row, col) = (k + b + i, k + i);
        x.clear();
        x.extend_from_slice(lower.col(col, row..d));
        let (tau, beta) = reflector(&mut x);
        taus.push(tau);
        let column = lower.col_mut(col, row..d);
        column[0] = C64::new(beta, 0.0);
        column[1..].fill(ZERO);
        v.as_mut()
            .col_mut(i)
            .subrows_mut(i, m - i)
            .iter_mut()
            .zip(&x)
            .for_each(|(dst, &src)| *dst = src);
        // H† on the panel's remaining columns.
        lower.left(row, col + 1..k + b, &x, tau);
    }
    // T, from T[:i, i] = −τᵢ T[:i, :i] (V[:, :i]† vᵢ).
    let mut t = Mat::<C64>::zeros(r, r);
    let mut z = Mat::<C64>::zeros(r, r);
    matmul(
        z.as_mut(),
        Accum::Replace,
        v.adjoint(),
        v.as_ref(),
        ONE,
        faer::Par::Seq,
    );
    for (i, &tau) in taus.iter().enumerate() {
        t[(i, i)] = tau;
        for p in 0..i {
            let s: C64 = (p..i).map(|q| t[(p, q)] * z[(q, i)]).sum();
            t[(p, i)] = -tau * s;
        }
    }
    (v, t)
}

/// `dst −= V W† + W V†` for the pending reflectors: `V`, `W` of the rows of `dst` and `Vc`,
/// `Wc` of its columns.
fn subtract_pending(
    dst: MatMut<'_, C64>,
    (v, w): (MatRef<'_, C64>, MatRef<'_, C64>),
    (vc, wc): (MatRef<'_, C64>, MatRef<'_, C64>),
    par: faer::Par,
) {
    let mut dst = dst;
    matmul(dst.as_mut(), Accum::Add, v, wc.adjoint(), -ONE, par);
    matmul(dst, Accum::Add, w, vc.adjoint(), -ONE, par);
}

/// Stage 1: reduces the lower triangle of the `d × d` Hermitian `a` to bandwidth `b` in
/// place (entries below the band become zero).
///
/// Panels are taken `PANELS` at a time. Within a group the stored trailing matrix `S` is
/// stale: the current one is `S − Ṽ W̃† − W̃ Ṽ†`, with `Ṽ`, `W̃` the group's reflectors so
/// far (each zero above its panel's rows). A panel's columns are corrected before they are
/// factored, its product `A V` is `S V − Ṽ (W̃† V) − W̃ (Ṽ† V)`, and `S` is updated once at
/// the end of the group.
fn to_band(a: &mut [C64], d: usize, b: usize, par: faer::Par) {
    let mut k = 0;
    while k + b + 1 < d {
        // The group's pending reflectors, rows from `origin`.
        let origin = k + b;
        let rows = d - origin;
        let mut pend_v = Mat::<C64>::zeros(rows, PANELS * b);
        let mut pend_w = Mat::<C64>::zeros(rows, PANELS * b);
        let mut s = 0;
        for _ in 0..PANELS {
            if k + b + 1 >= d {
                break;
            }
            let m = d - k - b;
            if s > 0 {
                // Bring the panel's columns (rows k ..) up to date.
                let full = MatMut::from_column_major_slice_mut(&mut *a, d, d);
                let (pv, pw) = (pend_v.subcols(0, s), pend_w.subcols(0, s));
                subtract_pending(
                    full.submatrix_mut(k, k, d - k, b),
                    (pv.subrows(k - origin, d - k), pw.subrows(k - origin, d - k)),
                    (pv.subrows(k - origin, b), pw.subrows(k - origin, b)),
                    par,
                );
            }
            let (v, t) = factor_panel(a, d, k, b);
            let r = v.ncols();
            // X = A₂₂ V, with the pending reflectors' share taken off.
            let start = k + b;
            let full = MatRef::from_column_major_slice(&*a, d, d);
            let mut x = hermitian_times(full.submatrix(start, start, m, m), v.as_ref(), par);
            if s > 0 {
                let (pv, pw) = (
                    pend_v.subcols(0, s).subrows(start - origin, m),
                    pend_w.subcols(0, s).subrows(start - origin, m),
                );
                let mut wv = Mat::<C64>::zeros(s, r);
                let mut vv = Mat::<C64>::zeros(s, r);
                matmul(
                    wv.as_mut(),
                    Accum::Replace,
                    pw.adjoint(),
                    v.as_ref(),
                    ONE,
                    par,
                );
                matmul(
                    vv.as_mut(),
                    Accum::Replace,
                    pv.adjoint(),
                    v.as_ref(),
                    ONE,
                    par,
                );
                matmul(x.as_mut(), Accum::Add, pv, wv.as_ref(), -ONE, par);
                matmul(x.as_mut(), Accum::Add, pw, vv.as_ref(), -ONE, par);
            }
            // Y = X T, W = Y − ½ V (T† (V† Y)).
            let mut y = Mat::<C64>::zeros(m, r);
            matmul(y.as_mut(), Accum::Replace, x.as_ref(), t.as_ref(), ONE, par);
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
            matmul(
                y.as_mut(),
                Accum::Add,
                v.as_ref(),
                tvy.as_ref(),
                C64::new(-0.5, 0.0),
                par,
            );
            pend_v
                .as_mut()
                .submatrix_mut(start - origin, s, m, r)
                .copy_from(v.as_ref());
            pend_w
                .as_mut()
                .submatrix_mut(start - origin, s, m, r)
                .copy_from(y.as_ref());
            s += r;
            k += b;
        }
        // S ← S − Ṽ W̃† − W̃ Ṽ† on the lower triangle from row and column k.
        let m = d - k;
        let (pv, pw) = (
            pend_v.subcols(0, s).subrows(k - origin, m),
            pend_w.subcols(0, s).subrows(k - origin, m),
        );
        let mut left = Mat::<C64>::zeros(m, 2 * s);
        left.as_mut().subcols_mut(0, s).copy_from(pv);
        left.as_mut().subcols_mut(s, s).copy_from(pw);
        // [W̃† ; Ṽ†], column-major, so that faer's kernels take both operands unstrided.
        let mut right = Mat::<C64>::zeros(2 * s, m);
        right.as_mut().subrows_mut(0, s).copy_from(pw.adjoint());
        right.as_mut().subrows_mut(s, s).copy_from(pv.adjoint());
        let full = MatMut::from_column_major_slice_mut(&mut *a, d, d);
        triangular::matmul(
            full.submatrix_mut(k, k, m, m),
            BlockStructure::TriangularLower,
            Accum::Add,
            left.as_ref(),
            BlockStructure::Rectangular,
            right.as_ref(),
            BlockStructure::Rectangular,
            -ONE,
            par,
        );
    }
}

/// Stage 2: reduces a lower band of width `b` (in the `d × d` array `a`) to tridiagonal
/// form by bulge chasing; returns the diagonal and the moduli of the subdiagonal.
///
/// Sweep `j` (clearing column `j`) is a chain of steps; step `k` touches only the columns
/// `j + 1 + (k − 1)b … j + 1 + (k + 1)b` (step 0: `j … j + 1 + b`), so sweep `j + 1` may run
/// its step `k` once sweep `j` has finished its step `k + 2`: then every step of sweep `j`
/// that shares an entry with it is done, and the steps it may still be running touch later
/// columns. With `threads > 1`, sweeps go round-robin to that many threads, each waiting on
/// its predecessor's progress: every entry sees the same operations in the same order as in
/// one thread, so the bits do not depend on the thread count.
fn band_to_tridiagonal(a: &[C64], d: usize, b: usize, threads: usize) -> (Vec<f64>, Vec<f64>) {
    let s = 2 * b;
    let mut band = vec![ZERO; d * (s + 1) + s];
    for j in 0..d {
        for i in j..(j + b + 1).min(d) {
            band[i + j * s] = a[i + j * d];
        }
    }
    let sweeps = d.saturating_sub(2);
    if threads <= 1 || sweeps < 8 {
        let mut whole = Whole { a: &mut band, s };
        let mut scratch = Scratch::new(b);
        for j in 0..sweeps {
            run_sweep(j, d, b, &mut whole, &mut scratch);
        }
    } else {
        let shared = Shared {
            ptr: band.as_mut_ptr(),
            s,
            done: (0..sweeps).map(|_| AtomicUsize::new(0)).collect(),
            failed: AtomicBool::new(false),
        };
        std::thread::scope(|scope| {
            for t in 0..threads {
                let shared = &shared;
                scope.spawn(move || {
                    let mut scratch = Scratch::new(b);
                    for j in (t..sweeps).step_by(threads) {
                        // Marks the sweep over when it ends, and a panic for every thread to
                        // see, so that none waits for ever (the scope then passes it on).
                        let _over = Over(shared, j);
                        let mut pipe = Pipelined { shared, j };
                        run_sweep(j, d, b, &mut pipe, &mut scratch);
                    }
                });
            }
        });
    }
    let lower = Lower {
        a: &mut band,
        s,
        base: 0,
    };
    let diagonal = (0..d).map(|i| lower.at(i, i).re).collect();
    let off = (0..d.saturating_sub(1))
        .map(|i| lower.at(i + 1, i).norm())
        .collect();
    (diagonal, off)
}

/// The scratch vectors of one thread's sweeps.
struct Scratch {
    v: Vec<C64>,
    next: Vec<C64>,
    y: Vec<C64>,
    w: Vec<C64>,
}

impl Scratch {
    fn new(b: usize) -> Scratch {
        Scratch {
            v: Vec::with_capacity(b),
            next: Vec::with_capacity(b),
            y: Vec::with_capacity(b),
            w: Vec::with_capacity(b),
        }
    }
}

/// How a sweep reaches the band: step `k` of the sweep works on the columns `cols` only.
trait Steps {
    fn step(&mut self, k: usize, cols: std::ops::Range<usize>, f: impl FnOnce(&mut Lower<'_>));
}

/// One thread: every step sees the whole band.
struct Whole<'a> {
    a: &'a mut [C64],
    s: usize,
}

impl Steps for Whole<'_> {
    #[inline(always)]
    fn step(&mut self, _: usize, _: std::ops::Range<usize>, f: impl FnOnce(&mut Lower<'_>)) {
        f(&mut Lower {
            a: &mut *self.a,
            s: self.s,
            base: 0,
        })
    }
}

/// The band shared by the threads of a pipelined stage 2, each sweep's count of finished
/// steps (`usize::MAX` once the sweep is over), and whether a thread panicked.
struct Shared {
    ptr: *mut C64,
    s: usize,
    done: Vec<AtomicUsize>,
    failed: AtomicBool,
}

// SAFETY: the threads write through `ptr` only to the columns of their current step, which
// `Pipelined::step` keeps disjoint from every other thread's (see `band_to_tridiagonal`), and
// each step's writes are published by a release store that the next reader acquires.
unsafe impl Sync for Shared {}

/// Marks sweep `.1` of a pipelined stage 2 over when dropped, and the stage failed if that
/// happens in a panic.
struct Over<'a>(&'a Shared, usize);

impl Drop for Over<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.failed.store(true, Ordering::Release);
        }
        self.0.done[self.1].store(usize::MAX, Ordering::Release);
    }
}

/// Sweep `j` of a pipelined stage 2.
struct Pipelined<'a> {
    shared: &'a Shared,
    j: usize,
}

impl Steps for Pipelined<'_> {
    #[inline(always)]
    fn step(&mut self, k: usize, cols: std::ops::Range<usize>, f: impl FnOnce(&mut Lower<'_>)) {
        let shared = self.shared;
        if self.j > 0 {
            let before = &shared.done[self.j - 1];
            let mut spins = 0u32;
            while before.load(Ordering::Acquire) < k + 3 {
                assert!(
                    !shared.failed.load(Ordering::Acquire),
                    "another thread of the bulge chasing panicked"
                );
                spins += 1;
                if spins < 1 << 12 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
        // Column c occupies a[c (s + 1) .. (c + 1)(s + 1)].
        let (start, end) = (cols.start * (shared.s + 1), cols.end * (shared.s + 1));
        // SAFETY: the predecessor sweep has finished every step that touches these columns
        // and is now working on columns after `cols.end`; the successor sweep waits for this
        // step before touching them (module docs of `band_to_tridiagonal`), so no other
        // thread reads or writes `start..end` while this slice lives. `end` ≤ d (s + 1), within
        // the band's allocation.
        let a = unsafe { std::slice::from_raw_parts_mut(shared.ptr.add(start), end - start) };
        f(&mut Lower {
            a,
            s: shared.s,
            base: start,
        });
        shared.done[self.j].store(k + 1, Ordering::Release);
    }
}

/// Runs sweep `j` with the widest vector instructions this CPU has.
fn run_sweep(j: usize, d: usize, b: usize, band: &mut impl Steps, scratch: &mut Scratch) {
    #[cfg(target_arch = "x86_64")]
    {
        let cpu = crate::sim::simd::Cpu::detect();
        if cpu.avx512() {
            // SAFETY: the CPU has AVX-512F, AVX2 and FMA.
            return unsafe { sweep_avx512(j, d, b, band, scratch) };
        }
        if cpu.avx2() {
            // SAFETY: the CPU has AVX2 and FMA.
            return unsafe { sweep_avx2(j, d, b, band, scratch) };
        }
    }
    sweep(j, d, b, band, scratch)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn sweep_avx2(j: usize, d: usize, b: usize, band: &mut impl Steps, scratch: &mut Scratch) {
    sweep(j, d, b, band, scratch)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn sweep_avx512(j: usize, d: usize, b: usize, band: &mut impl Steps, scratch: &mut Scratch) {
    sweep(j, d, b, band, scratch)
}

/// Sweep `j`: clears column `j` below its subdiagonal and chases the bulge off the band.
#[inline(always)]
fn sweep(j: usize, d: usize, b: usize, band: &mut impl Steps, scratch: &mut Scratch) {
    let Scratch { v, next, y, w } = scratch;
    let mut st = j + 1;
    let mut len = b.min(d - st);
    if len < 2 {
        return;
    }
    let mut tau = ZERO;
    band.step(
        0,
        j..st + len,
        #[inline(always)]
        |lower| {
            v.clear();
            v.extend_from_slice(lower.col(j, st..st + len));
            let (t, beta) = reflector(v);
            tau = t;
            let column = lower.col_mut(j, st..st + len);
            column[0] = C64::new(beta, 0.0);
            column[1..].fill(ZERO);
            lower.two_sided(st, v, tau, y, w);
        },
    );
    for k in 1.. {
        let below = st + len;
        if below >= d {
            break;
        }
        let end = (below + b).min(d);
        let mut last = false;
        let mut t = ZERO;
        band.step(
            k,
            st..end,
            #[inline(always)]
            |lower| {
                // The block below: H from the right fills it; its first column is cleared next.
                lower.right(below..end, st, v, tau, y);
                if end - below < 2 {
                    last = true;
                    return;
                }
                next.clear();
                next.extend_from_slice(lower.col(st, below..end));
                let beta;
                (t, beta) = reflector(next);
                let column = lower.col_mut(st, below..end);
                column[0] = C64::new(beta, 0.0);
                column[1..].fill(ZERO);
                lower.left(below, st + 1..st + len, next, t);
                lower.two_sided(below, next, t, y, w);
            },
        );
        if last {
            break;
        }
        (st, len, tau) = (below, end - below, t);
        std::mem::swap(v, next);
    }
}

/// Eigenvalues of the real symmetric tridiagonal matrix with diagonal `diag` and
/// off-diagonal `off` (`off[i]` couples `i` and `i + 1`), by the implicit QL iteration with
/// Wilkinson's shift in Pal, Walker and Kahan's root-free form (as LAPACK's `dsterf`): the
/// iteration carries the squares `eᵢ²` and the rotations' `c²`, `s²`, so that a step costs
/// two divisions and no square root (the square roots formed one dependent chain through the
/// step, which bounded its speed). `tests` hold it to the textbook form.
fn tridiagonal_eigenvalues(mut diag: Vec<f64>, off: &[f64]) -> Result<Vec<f64>> {
    let n = diag.len();
    let mut e2: Vec<f64> = off.iter().map(|e| e * e).chain([0.0]).collect();
    // Below this an off-diagonal counts as zero whatever its neighbours (a perturbation of
    // the eigenvalues by at most as much, Weyl).
    let norm = diag.iter().chain(off).fold(0.0f64, |m, x| m.max(x.abs()));
    let floor2 = (1e-3 * f64::EPSILON * norm).powi(2);
    let eps2 = f64::EPSILON * f64::EPSILON;
    let mut l = 0;
    let mut iterations = 0;
    while l < n {
        // The first negligible coupling at or after l ends the block l ..= m.
        let mut m = l;
        while m + 1 < n {
            if e2[m] <= eps2 * (diag[m] * diag[m + 1]).abs() || e2[m] <= floor2 {
                e2[m] = 0.0;
                break;
            }
            m += 1;
        }
        if m == l {
            l += 1;
            iterations = 0;
            continue;
        }
        if m == l + 1 {
            (diag[l], diag[l + 1]) = two_by_two(diag[l], e2[l].sqrt(), diag[l + 1]);
            e2[l] = 0.0;
            l += 2;
            iterations = 0;
            continue;
        }
        iterations += 1;
        if iterations > 60 {
            return Err(Error::Linalg(
                "tridiagonal QL iteration did not converge in 60 steps".into(),
            ));
        }
        // Wilkinson's shift from the leading 2 × 2 block.
        let rte = e2[l].sqrt();
        let g = (diag[l + 1] - diag[l]) / (2.0 * rte);
        let r = g.hypot(1.0);
        let sigma = diag[l] - rte / (g + r.copysign(g));
        let (mut c, mut s) = (1.0, 0.0);
        let mut gamma = diag[m] - sigma;
        let mut p = gamma * gamma;
        for i in (l..m).rev() {
            let bb = e2[i];
            let r = p + bb;
            if i + 1 != m {
                e2[i + 1] = s * r;
            }
            let old_c = c;
            c = p / r;
            s = bb / r;
            let old_gamma = gamma;
            let alpha = diag[i];
            gamma = c * (alpha - sigma) - s * old_gamma;
            diag[i + 1] = old_gamma + (alpha - gamma);
            p = if c != 0.0 {
                gamma * gamma / c
            } else {
                old_c * bb
            };
        }
        e2[l] = s * p;
        diag[l] = sigma + gamma;
    }
    Ok(diag)
}

/// The eigenvalues of the symmetric `[[a, b], [b, c]]`.
fn two_by_two(a: f64, b: f64, c: f64) -> (f64, f64) {
    let (sum, half_gap) = (a + c, 0.5 * (a - c));
    let radius = half_gap.hypot(b);
    // The one of larger modulus without cancellation, the other from the determinant.
    let big = 0.5 * sum + radius.copysign(sum);
    let small = if big != 0.0 {
        (a * c - b * b) / big
    } else {
        0.0
    };
    (big, small)
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
    let (diag, off) = band_to_tridiagonal(&a, d, b, par.degree());
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

    /// The eigenvalues, ascending, of the Hermitian `m` by faer's one-stage route.
    fn dense_eigenvalues(m: MatRef<'_, C64>) -> Vec<f64> {
        use faer::linalg::evd::{self, ComputeEigenvectors};
        let n = m.nrows();
        let mut s = faer::diag::Diag::<C64>::zeros(n);
        let scratch = evd::self_adjoint_evd_scratch::<C64>(
            n,
            ComputeEigenvectors::No,
            faer::Par::Seq,
            Default::default(),
        );
        evd::self_adjoint_evd(
            m,
            s.as_mut(),
            None,
            faer::Par::Seq,
            faer::dyn_stack::MemStack::new(&mut faer::dyn_stack::MemBuffer::new(scratch)),
            Default::default(),
        )
        .unwrap();
        sorted(s.column_vector().iter().map(|x| x.re).collect())
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

    /// The pipelined stage 2 gives the bits of one thread, for any thread count.
    #[test]
    fn pipelined_bulge_chasing_matches_one_thread_bit_for_bit() {
        let d = 150;
        let values: Vec<f64> = (0..d).map(|i| (i as f64 * 0.21).cos()).collect();
        let g = with_spectrum(&values);
        for b in [2, 3, 16] {
            let mut a = g.clone();
            to_band(&mut a, d, b, faer::Par::Seq);
            let one = band_to_tridiagonal(&a, d, b, 1);
            for threads in [2, 3, 5] {
                let many = band_to_tridiagonal(&a, d, b, threads);
                assert!(one == many, "b {b}, {threads} threads");
            }
            let got = sorted(tridiagonal_eigenvalues(one.0, &one.1).unwrap());
            for (x, y) in got.iter().zip(&sorted(values.clone())) {
                assert!((x - y).abs() < 1e-12, "b {b}: {x} vs {y}");
            }
        }
    }

    /// The root-free iteration against the eigenvalues of the dense tridiagonal matrix
    /// (faer's one-stage route), on spectra with clusters, zeros and wide ranges.
    #[test]
    fn root_free_ql_matches_dense_eigenvalues() {
        for (n, seed) in [(2usize, 1u64), (3, 2), (10, 3), (57, 4), (200, 5)] {
            let mut x = seed;
            let mut next = || {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 11) as f64 / (1u64 << 53) as f64
            };
            let diag: Vec<f64> = (0..n)
                .map(|i| if i % 7 == 3 { 0.0 } else { next() - 0.3 })
                .collect();
            let off: Vec<f64> = (0..n - 1)
                .map(|i| {
                    if i % 11 == 5 {
                        0.0
                    } else {
                        next() * 10f64.powi(-(i as i32 % 9))
                    }
                })
                .collect();
            let t = Mat::<C64>::from_fn(n, n, |i, j| {
                let x = if i == j {
                    diag[i]
                } else if i == j + 1 {
                    off[j]
                } else if j == i + 1 {
                    off[i]
                } else {
                    0.0
                };
                C64::new(x, 0.0)
            });
            let want = dense_eigenvalues(t.as_ref());
            let got = sorted(tridiagonal_eigenvalues(diag.clone(), &off).unwrap());
            for (x, y) in got.iter().zip(&want) {
                assert!((x - y).abs() < 1e-13, "n {n}: {x} vs {y}");
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
        let want = dense_eigenvalues(g.as_ref());
        for b in [5, BANDWIDTH] {
            let got = sorted(hermitian_eigenvalues(&lower, d, b, faer::Par::rayon(2)).unwrap());
            for (x, y) in got.iter().zip(&want) {
                assert!((x - y).abs() < 1e-15, "b {b}: {x} vs {y}");
            }
        }
    }
}
