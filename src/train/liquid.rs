//! Liquid time-constant layers: [`Ltc`], [`Cfc`] and the superposition variant [`QsLtc`].
//!
//! **LTC** (Hasani et al., AAAI 2021). Each of `N` units has a state `x_i` obeying
//!
//! ```text
//! dx/dt = −[1/τ + f(x, I)] ∘ x + f(x, I) ∘ A,      f(x, I) = σ(W x + U I + b)
//! ```
//!
//! with `σ` the logistic function, so the synaptic drive `f ∈ (0, 1)` acts as a conductance
//! that shortens each unit's time constant. A step of elapsed time `Δt` is `L` unfolds
//! (default 6, as `ncps` does) of the paper's fused semi-implicit update with `δ = Δt / L`:
//!
//! ```text
//! x ← (x + δ · f(x, I) ∘ A) / (1 + δ · (1/τ + f(x, I)))
//! ```
//!
//! (`f` from the state before the unfold, every unit at once). The update is first-order
//! accurate in `δ` and stable for any `δ > 0`; `tests/liquid.rs` checks it against a fine RK4
//! solve and its convergence rate. Parameters, in order: `W` (N × N, row-major, `W[i][j]`
//! from unit `j` to unit `i`), `U` (N × inputs), `b` (N), `A` (N), `ρ` (N) with `τ = e^ρ`, so
//! that every time constant stays positive whatever the optimizer does. Initialisation:
//! `W`, `U` Glorot-uniform, `b = 0`, `A ~ U(−1, 1)`, `ρ = ln τ₀` (`τ₀ = 1` unless
//! [`Ltc::with_tau`] sets it).
//!
//! **CfC** (Hasani et al., Nature Machine Intelligence 2022), the gated closed form with a
//! one-layer backbone of `B` units (default `B = N`):
//!
//! ```text
//! z = tanh(W_z [I; h] + b_z)
//! h′ = ff₁ ∘ (1 − s) + ff₂ ∘ s,   s = σ(t_a ∘ Δt + t_b),
//! ff₁ = tanh(W₁ z + b₁),  ff₂ = tanh(W₂ z + b₂),  t_a = W_a z + b_a,  t_b = W_b z + b_b
//! ```
//!
//! One evaluation per step, no unfolds. Parameters, in order: `W_z` (B × (inputs + N)),
//! `b_z`, then `W₁, b₁, W₂, b₂, W_a, b_a, W_b, b_b` (each N × B and N), Glorot-uniform weights
//! and zero biases.
//!
//! **QS-LTC**, the design of qloop's founding document, made concrete: `S` copies `x_s` of an
//! LTC state share `W, U, b, A` and evolve with their own time constants `τ_s = e^{ρ_s}`
//! (the drive `U I + b` is computed once and shared); each copy has a trainable complex
//! amplitude `α_s = |α_s| e^{iφ_s}`. The layer's output ("collapse") is either the
//! expectation over the copies, `y = Σ_s p_s x_s` with `p_s = |α_s|² / Σ_r |α_r|²`, or
//! ([`Collapse::Sample`]) one copy per sample and step drawn with probability `p_s` from the
//! step's seeded stream. With interference on, after every input step the copies are mixed
//! through their relative phases, `x_s ← Σ_r K_sr x_r` with
//! `K_sr = |α_r| cos(φ_r − φ_s) / Σ_q |α_q|` ([`QsLtc::interference_matrix`]): copies in phase
//! reinforce each other, copies in antiphase cancel.
//!
//! *Quantum-inspired* means only this: complex amplitudes whose squared moduli weight the
//! copies, as a superposition's would weight measurement outcomes, and whose phases set the
//! sign of their mixing. No qubits and no quantum state are involved; every copy is an
//! ordinary real LTC state, and the cost grows linearly in `S` (quadratically with
//! interference). With `S = 1` the layer is [`Ltc`], bit for bit, in every mode. Parameters, in
//! order: `W, U, b, A` as for LTC, `ρ` (S × N, copy after copy), `α` (`re, im` per copy).
//! Initialisation: as LTC, `τ_s` log-spaced over `[τ₀/2, 4τ₀]` (τ₀ for `S = 1`),
//! `α_s = 1/√S` (all in phase).
//!
//! References: R. Hasani, M. Lechner, A. Amini, D. Rus, R. Grosu, "Liquid Time-constant
//! Networks", AAAI 2021; R. Hasani et al., "Closed-form continuous-time neural networks",
//! Nature Machine Intelligence 4, 992–1003 (2022).

use crate::error::{Error, Result};
use crate::rng::Stream;
use crate::train::layer::{check_widths, Layer, TimeStep};
use crate::train::ops;
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// The default number of fused-step unfolds per input step (as `ncps`).
pub const DEFAULT_UNFOLDS: usize = 6;

#[inline(always)]
pub(super) fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// `n` Glorot-uniform values for a `fan_in → fan_out` matrix.
pub(super) fn glorot(rng: &mut impl Rng, fan_in: usize, fan_out: usize, n: usize) -> Vec<f64> {
    let limit = (6.0 / (fan_in + fan_out) as f64).sqrt();
    (0..n).map(|_| rng.random_range(-limit..limit)).collect()
}

/// `Σ_j a[j] · b[j]` in eight independent partial sums (so the loop vectorizes instead of
/// waiting on one chain of adds), added pairwise. Partial sum `k` starts from the first
/// product it holds (not from `0 +` it, which differs only in the sign of a zero).
#[inline(always)]
pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let (mut ca, mut cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    let (Some(x0), Some(y0)) = (ca.next(), cb.next()) else {
        return tail;
    };
    let mut acc: [f64; 8] = std::array::from_fn(|k| x0[k] * y0[k]);
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let quad = [
        acc[0] + acc[4],
        acc[1] + acc[5],
        acc[2] + acc[6],
        acc[3] + acc[7],
    ];
    (quad[0] + quad[2]) + (quad[1] + quad[3]) + tail
}

/// `out[i] = b[i] + Σ_j m[i·cols + j] · v[j]`, each row summed as [`dot`] sums it. With
/// AVX-512, eight rows at a time ([`affine_avx512`]): the same additions in the same order,
/// so the same bits.
#[inline(always)]
pub(super) fn affine(m: &[f64], b: &[f64], v: &[f64], out: &mut [f64]) {
    let cols = v.len();
    ops::tally(out.len() * cols, out.len(), 0, 0);
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if out.len() >= 8 && crate::sim::simd::Cpu::detect().avx512() {
        // SAFETY: AVX-512F and DQ are present.
        done = unsafe { affine_avx512(m, b, v, out) };
    }
    for (i, o) in out.iter_mut().enumerate().skip(done) {
        *o = b[i] + dot(&m[i * cols..(i + 1) * cols], v);
    }
}

/// [`affine`] on the first `8⌊N/8⌋` rows, eight at a time; returns how many rows it did.
/// Row `r`'s eight partial sums of [`dot`] are one register `a_r`; the reduction tree
/// `((a₀+a₄)+(a₂+a₆)) + ((a₁+a₅)+(a₃+a₇))` of every row runs at once by transposing the
/// eight registers as it adds: 256-bit halves (`a_k + a_{k+4}`), then 128-bit quarters, then
/// lanes. The tails of the rows (the last `cols mod 8` entries) are summed left to right from
/// the empty sum, as [`dot`]'s iterator sum does, one row per lane (gathered).
///
/// With fewer than 8 columns the tree is skipped (as in [`dot`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq")]
unsafe fn affine_avx512(m: &[f64], b: &[f64], v: &[f64], out: &mut [f64]) -> usize {
    use std::arch::x86_64::*;
    let cols = v.len();
    let (chunks, rem) = (cols / 8, cols % 8);
    let rows = out.len() / 8 * 8;
    assert!(m.len() >= out.len() * cols && b.len() >= out.len());
    let empty: f64 = std::iter::empty::<f64>().sum();
    let empty_adds_nothing = empty == 0.0 && empty.is_sign_negative();
    let stride = cols as i64;
    let offsets = _mm512_setr_epi64(
        0,
        stride,
        2 * stride,
        3 * stride,
        4 * stride,
        5 * stride,
        6 * stride,
        7 * stride,
    );
    let (m, v) = (m.as_ptr(), v.as_ptr());
    for block in (0..rows).step_by(8) {
        // SAFETY: rows `block .. block + 8` of `m` (checked above) and `cols` entries of `v`.
        let (acc, tail) = unsafe {
            let base = m.add(block * cols);
            let mut acc = [_mm512_setzero_pd(); 8];
            for c in 0..chunks {
                let y = _mm512_loadu_pd(v.add(8 * c));
                for (r, a) in acc.iter_mut().enumerate() {
                    let x = _mm512_mul_pd(_mm512_loadu_pd(base.add(r * cols + 8 * c)), y);
                    *a = if c == 0 { x } else { _mm512_add_pd(*a, x) };
                }
            }
            let mut tail = _mm512_set1_pd(empty);
            for j in 8 * chunks..8 * chunks + rem {
                let column = _mm512_i64gather_pd::<8>(offsets, base.add(j));
                tail = _mm512_add_pd(tail, _mm512_mul_pd(column, _mm512_set1_pd(*v.add(j))));
            }
            (acc, tail)
        };
        // Halves: lanes 0–3 of q_{2i} and q_{2i+1} hold a_k + a_{k+4} of rows 2i, 2i+1.
        let half = |x: __m512d, y: __m512d| {
            _mm512_add_pd(
                _mm512_shuffle_f64x2::<0b01_00_01_00>(x, y),
                _mm512_shuffle_f64x2::<0b11_10_11_10>(x, y),
            )
        };
        let q = [
            half(acc[0], acc[1]),
            half(acc[2], acc[3]),
            half(acc[4], acc[5]),
            half(acc[6], acc[7]),
        ];
        // Quarters: (q₀ + q₂, q₁ + q₃) of four rows per register.
        let quarter = |x: __m512d, y: __m512d| {
            _mm512_add_pd(
                _mm512_shuffle_f64x2::<0b10_00_10_00>(x, y),
                _mm512_shuffle_f64x2::<0b11_01_11_01>(x, y),
            )
        };
        let (s_lo, s_hi) = (quarter(q[0], q[1]), quarter(q[2], q[3]));
        // Lanes: rows 0, 4, 1, 5, 2, 6, 3, 7.
        let sums = _mm512_add_pd(
            _mm512_unpacklo_pd(s_lo, s_hi),
            _mm512_unpackhi_pd(s_lo, s_hi),
        );
        let sums = _mm512_permutexvar_pd(_mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7), sums);
        // As `dot`: no partial sums, only the tail; no tail, the tree alone (the empty sum is
        // −0, which adds nothing to any value).
        let total = match (chunks, rem) {
            (0, _) => tail,
            (_, 0) if empty_adds_nothing => sums,
            _ => _mm512_add_pd(sums, tail),
        };
        // SAFETY: rows `block .. block + 8` lie in `b` and `out`.
        unsafe {
            let y = _mm512_add_pd(_mm512_loadu_pd(b.as_ptr().add(block)), total);
            _mm512_storeu_pd(out.as_mut_ptr().add(block), y);
        }
    }
    rows
}

/// Runs `f` on a batch's states, elapsed times and the step's stream of draws: inside a
/// sequence the carried state, updated in place, `Δt` (checked positive and finite) and the
/// step's stream; outside one, zeros, `Δt = 1` and `Stream::new(0)`.
pub(super) fn with_state<R>(
    context: &str,
    batch: usize,
    width: usize,
    time: Option<TimeStep<'_>>,
    f: impl FnOnce(ArrayViewMut2<f64>, &[f64], Stream) -> R,
) -> Result<R> {
    let Some(step) = time else {
        let mut zeros = Array2::zeros((batch, width));
        return Ok(f(zeros.view_mut(), &vec![1.0; batch], Stream::new(0)));
    };
    let error = |message: String| Error::Shape {
        context: context.into(),
        message,
    };
    if let Some(r) = step.dt.iter().position(|&d| !(d > 0.0 && d.is_finite())) {
        return Err(error(format!(
            "the elapsed time dt of sample {r} is {}; it must be positive and finite",
            step.dt[r]
        )));
    }
    if step.state.dim() != (batch, width) || step.dt.len() != batch {
        return Err(error(format!(
            "the carried state is {:?} with {} elapsed times, expected {batch} × {width} and {batch}",
            step.state.dim(),
            step.dt.len()
        )));
    }
    Ok(f(step.state, &step.dt.to_vec(), step.draws))
}

/// The LTC parameters of one layer, borrowed from the flat vector.
struct LtcParams<'a> {
    w: &'a [f64],
    u: &'a [f64],
    b: &'a [f64],
    a: &'a [f64],
}

impl<'a> LtcParams<'a> {
    /// Splits `params` (`W, U, b, A`, then the rest) for `units` units and `inputs` inputs.
    fn split(params: &'a [f64], units: usize, inputs: usize) -> (LtcParams<'a>, &'a [f64]) {
        let (w, rest) = params.split_at(units * units);
        let (u, rest) = rest.split_at(units * inputs);
        let (b, rest) = rest.split_at(units);
        let (a, rest) = rest.split_at(units);
        (LtcParams { w, u, b, a }, rest)
    }

    fn len(units: usize, inputs: usize) -> usize {
        units * units + units * inputs + 2 * units
    }

    /// One input step of elapsed time `dt`: `unfolds` fused updates of `x` with the constant
    /// drive `drive = U I + b` and `1/τ` per unit. `f` is scratch of `units` values.
    #[inline]
    fn step(
        &self,
        drive: &[f64],
        inv_tau: &[f64],
        x: &mut [f64],
        f: &mut [f64],
        dt: f64,
        unfolds: usize,
    ) {
        let delta = dt / unfolds as f64;
        let n = x.len();
        for _ in 0..unfolds {
            affine(self.w, drive, x, f);
            // The sigmoids (an exp, an add, a divide each), then per unit the numerator
            // (3 operations), the denominator (3) and the divide.
            ops::tally(0, 7 * n, 2 * n, n);
            for fi in f.iter_mut() {
                *fi = sigmoid(*fi);
            }
            for i in 0..x.len() {
                x[i] = (x[i] + delta * f[i] * self.a[i]) / (1.0 + delta * (inv_tau[i] + f[i]));
            }
        }
    }
}

/// Initial `W, U, b, A` of an LTC-type layer.
fn ltc_init(rng: &mut impl Rng, units: usize, inputs: usize) -> Vec<f64> {
    let mut p = glorot(rng, units, units, units * units);
    p.extend(glorot(rng, inputs, units, units * inputs));
    p.extend(std::iter::repeat_n(0.0, units));
    p.extend((0..units).map(|_| rng.random_range(-1.0..1.0)));
    p
}

/// One input step of every row of a batch for `copies` LTC states per row, side by side in
/// `state` (rows × copies·N), copy `c` with the inverse time constants
/// `inv_tau[c·N..(c+1)·N]`; the drive `U I + b` is computed once per row and shared.
fn evolve(
    ltc: &LtcParams,
    inv_tau: &[f64],
    unfolds: usize,
    x: ArrayView2<f64>,
    mut state: ArrayViewMut2<f64>,
    dt: &[f64],
) {
    let n = ltc.b.len();
    let (mut input, mut drive, mut f) = (vec![0.0; x.ncols()], vec![0.0; n], vec![0.0; n]);
    for (r, mut h) in state.rows_mut().into_iter().enumerate() {
        input.iter_mut().zip(x.row(r)).for_each(|(i, v)| *i = *v);
        affine(ltc.u, ltc.b, &input, &mut drive);
        let h = h.as_slice_mut().expect("state rows are contiguous");
        for (copy, tau) in h.chunks_mut(n).zip(inv_tau.chunks(n)) {
            ltc.step(&drive, tau, copy, &mut f, dt[r], unfolds);
        }
    }
}

/// The liquid time-constant cell. See the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ltc {
    /// Input width.
    pub inputs: usize,
    /// Number of units (the state and output width).
    pub units: usize,
    /// Fused-step unfolds per input step.
    pub unfolds: usize,
    /// Initial time constant of every unit (trained from there).
    #[serde(default = "unit_tau")]
    pub tau: f64,
}

fn unit_tau() -> f64 {
    1.0
}

/// Checks an initial time constant.
fn check_tau(context: &str, tau: f64) -> Result<()> {
    match tau > 0.0 && tau.is_finite() {
        true => Ok(()),
        false => Err(Error::Shape {
            context: context.into(),
            message: format!(
                "the initial time constant tau must be positive and finite, got {tau}"
            ),
        }),
    }
}

impl Ltc {
    /// An LTC cell from `inputs` values to `units` units, `unfolds` fused steps per input step
    /// (all at least 1).
    ///
    /// ```
    /// use qloop::train::{Layer, Ltc};
    /// let cell = Ltc::new(3, 8, 6).unwrap();
    /// assert_eq!((cell.state_width(), cell.output_width()), (8, 8));
    /// assert_eq!(cell.num_params(), 8 * 8 + 8 * 3 + 3 * 8);
    /// assert!(Ltc::new(3, 8, 0).is_err());
    /// ```
    pub fn new(inputs: usize, units: usize, unfolds: usize) -> Result<Self> {
        check_widths(
            "LTC layer",
            &[("inputs", inputs), ("units", units), ("unfolds", unfolds)],
        )?;
        Ok(Ltc {
            inputs,
            units,
            unfolds,
            tau: 1.0,
        })
    }

    /// The same cell with every unit's time constant starting at `tau` (positive).
    pub fn with_tau(self, tau: f64) -> Result<Self> {
        check_tau("LTC layer", tau)?;
        Ok(Ltc { tau, ..self })
    }
}

impl Layer for Ltc {
    fn input_width(&self) -> usize {
        self.inputs
    }
    fn output_width(&self) -> usize {
        self.units
    }
    fn num_params(&self) -> usize {
        LtcParams::len(self.units, self.inputs) + self.units
    }
    fn state_width(&self) -> usize {
        self.units
    }
    fn init(&self, stream: Stream) -> Vec<f64> {
        let mut p = ltc_init(&mut stream.rng(), self.units, self.inputs);
        p.extend(std::iter::repeat_n(self.tau.ln(), self.units));
        p
    }
    fn forward(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        time: Option<TimeStep<'_>>,
    ) -> Result<Array2<f64>> {
        let (ltc, rho) = LtcParams::split(params, self.units, self.inputs);
        let inv_tau: Vec<f64> = rho.iter().map(|r| (-r).exp()).collect();
        with_state(
            "LTC layer",
            x.nrows(),
            self.units,
            time,
            |mut state, dt, _| {
                evolve(&ltc, &inv_tau, self.unfolds, x, state.view_mut(), dt);
                state.to_owned()
            },
        )
    }
    fn check(&self) -> Result<()> {
        Ltc::new(self.inputs, self.units, self.unfolds)?
            .with_tau(self.tau)
            .map(|_| ())
    }
    fn describe_params(&self) -> &'static str {
        "LTC W, U, b, A, log τ"
    }
}

/// The closed-form continuous-time cell. See the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cfc {
    /// Input width.
    pub inputs: usize,
    /// Number of units (the state and output width).
    pub units: usize,
    /// Width of the backbone layer.
    pub backbone: usize,
}

impl Cfc {
    /// A CfC cell from `inputs` values to `units` units through a backbone of `backbone`
    /// units (all at least 1).
    ///
    /// ```
    /// use qloop::train::{Cfc, Layer};
    /// let cell = Cfc::new(2, 4, 4).unwrap();
    /// assert_eq!(cell.num_params(), 4 * (2 + 4) + 4 + 4 * (4 * 4 + 4));
    /// ```
    pub fn new(inputs: usize, units: usize, backbone: usize) -> Result<Self> {
        check_widths(
            "CfC layer",
            &[("inputs", inputs), ("units", units), ("backbone", backbone)],
        )?;
        Ok(Cfc {
            inputs,
            units,
            backbone,
        })
    }
}

impl Layer for Cfc {
    fn input_width(&self) -> usize {
        self.inputs
    }
    fn output_width(&self) -> usize {
        self.units
    }
    fn num_params(&self) -> usize {
        let (b, n) = (self.backbone, self.units);
        b * (self.inputs + n) + b + 4 * (n * b + n)
    }
    fn state_width(&self) -> usize {
        self.units
    }
    fn init(&self, stream: Stream) -> Vec<f64> {
        let mut rng = stream.rng();
        let (b, n) = (self.backbone, self.units);
        let mut p = glorot(&mut rng, self.inputs + n, b, b * (self.inputs + n));
        p.extend(std::iter::repeat_n(0.0, b));
        for _ in 0..4 {
            p.extend(glorot(&mut rng, b, n, n * b));
            p.extend(std::iter::repeat_n(0.0, n));
        }
        p
    }
    fn forward(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        time: Option<TimeStep<'_>>,
    ) -> Result<Array2<f64>> {
        let (nb, n, m) = (self.backbone, self.units, self.inputs);
        let (wz, rest) = params.split_at(nb * (m + n));
        let (bz, rest) = rest.split_at(nb);
        let heads: Vec<(&[f64], &[f64])> = rest
            .chunks(n * nb + n)
            .map(|c| c.split_at(n * nb))
            .collect();
        with_state("CfC layer", x.nrows(), n, time, |mut state, dt, _| {
            let mut joined = vec![0.0; m + n];
            let mut z = vec![0.0; nb];
            let mut out = [vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]];
            for (r, mut h) in state.rows_mut().into_iter().enumerate() {
                let h = h.as_slice_mut().expect("state rows are contiguous");
                joined[..m]
                    .iter_mut()
                    .zip(x.row(r))
                    .for_each(|(j, v)| *j = *v);
                joined[m..].copy_from_slice(h);
                affine(wz, bz, &joined, &mut z);
                z.iter_mut().for_each(|v| *v = v.tanh());
                ops::tally(0, 0, 0, nb);
                for ((w, b), o) in heads.iter().zip(out.iter_mut()) {
                    affine(w, b, &z, o);
                }
                let [ff1, ff2, ta, tb] = &out;
                ops::tally(n, 5 * n, n, 3 * n);
                for i in 0..n {
                    let s = sigmoid(ta[i] * dt[r] + tb[i]);
                    h[i] = ff1[i].tanh() * (1.0 - s) + ff2[i].tanh() * s;
                }
            }
            state.to_owned()
        })
    }
    fn check(&self) -> Result<()> {
        Cfc::new(self.inputs, self.units, self.backbone).map(|_| ())
    }
    fn describe_params(&self) -> &'static str {
        "CfC backbone and heads"
    }
}

/// How a [`QsLtc`] turns its copies into one output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Collapse {
    /// The expectation `Σ_s p_s x_s`.
    #[default]
    Expectation,
    /// One copy per sample and step, drawn with probability `p_s` from the step's stream.
    Sample,
}

/// The superposition LTC: `S` copies with their own time constants and amplitudes. See the
/// [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QsLtc {
    /// Input width.
    pub inputs: usize,
    /// Number of units of each copy (the output width).
    pub units: usize,
    /// Fused-step unfolds per input step.
    pub unfolds: usize,
    /// Number of copies `S`.
    pub copies: usize,
    /// How copies become the output.
    #[serde(default)]
    pub collapse: Collapse,
    /// Mix the copies after every step through their amplitudes' relative phases.
    #[serde(default)]
    pub interference: bool,
    /// Centre of the initial time constants: copies start log-spaced over
    /// `[tau/2, 4 tau]` (`tau` itself for `S = 1`).
    #[serde(default = "unit_tau")]
    pub tau: f64,
}

impl QsLtc {
    /// `copies` LTC copies from `inputs` values to `units` units (all at least 1), with
    /// expectation collapse and no interference.
    ///
    /// ```
    /// use qloop::train::{Layer, QsLtc};
    /// let cell = QsLtc::new(3, 8, 6, 4).unwrap();
    /// assert_eq!((cell.state_width(), cell.output_width()), (4 * 8, 8));
    /// assert!(QsLtc::new(3, 8, 6, 0).is_err());
    /// ```
    pub fn new(inputs: usize, units: usize, unfolds: usize, copies: usize) -> Result<Self> {
        check_widths(
            "QS-LTC layer",
            &[
                ("inputs", inputs),
                ("units", units),
                ("unfolds", unfolds),
                ("copies", copies),
            ],
        )?;
        Ok(QsLtc {
            inputs,
            units,
            unfolds,
            copies,
            collapse: Collapse::Expectation,
            interference: false,
            tau: 1.0,
        })
    }

    /// The same layer with its initial time constants centred on `tau` (positive).
    pub fn with_tau(self, tau: f64) -> Result<Self> {
        check_tau("QS-LTC layer", tau)?;
        Ok(QsLtc { tau, ..self })
    }

    /// The same layer with another collapse.
    pub fn with_collapse(self, collapse: Collapse) -> Self {
        QsLtc { collapse, ..self }
    }

    /// The same layer with interference on or off.
    pub fn with_interference(self, interference: bool) -> Self {
        QsLtc {
            interference,
            ..self
        }
    }

    /// The collapse weights `p_s = |α_s|² / Σ_r |α_r|²` of the parameters (all zero
    /// amplitudes give equal weights).
    ///
    /// ```
    /// use qloop::train::{Layer, QsLtc};
    /// use qloop::rng::Stream;
    /// let cell = QsLtc::new(2, 3, 6, 4).unwrap();
    /// let p = cell.weights(&cell.init(Stream::new(1)));
    /// assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-15);
    /// ```
    pub fn weights(&self, params: &[f64]) -> Vec<f64> {
        let sq: Vec<f64> = self
            .amplitudes(params)
            .chunks(2)
            .map(|z| z[0] * z[0] + z[1] * z[1])
            .collect();
        let total: f64 = sq.iter().sum();
        match total > 0.0 && total.is_finite() {
            true => sq.iter().map(|s| s / total).collect(),
            false => vec![1.0 / self.copies as f64; self.copies],
        }
    }

    /// The interference matrix `K_sr = |α_r| cos(φ_r − φ_s) / Σ_q |α_q|` (row-major S × S):
    /// copies in phase add, copies in antiphase cancel, and every row has `Σ_r |K_sr| ≤ 1`,
    /// so mixing never amplifies a state. `S = 1` gives `K = [1]`; all-zero amplitudes give
    /// the identity.
    pub fn interference_matrix(&self, params: &[f64]) -> Vec<f64> {
        let s = self.copies;
        let alpha = self.amplitudes(params);
        let modulus: Vec<f64> = alpha.chunks(2).map(|z| z[0].hypot(z[1])).collect();
        let total: f64 = modulus.iter().sum();
        if !(total > 0.0 && total.is_finite()) {
            return (0..s * s).map(|k| (k / s == k % s) as u8 as f64).collect();
        }
        let phase: Vec<f64> = alpha.chunks(2).map(|z| z[1].atan2(z[0])).collect();
        (0..s * s)
            .map(|k| {
                let (row, col) = (k / s, k % s);
                match row == col {
                    true => modulus[col] / total,
                    false => modulus[col] * (phase[col] - phase[row]).cos() / total,
                }
            })
            .collect()
    }

    fn amplitudes<'a>(&self, params: &'a [f64]) -> &'a [f64] {
        &params[params.len() - 2 * self.copies..]
    }
}

/// `x_s ← Σ_r K_sr x_r` for the `S` copies of `n` units side by side in `h`; `mixed` is
/// scratch of the same length.
fn interfere(k: &[f64], h: &mut [f64], mixed: &mut [f64], n: usize) {
    let s = h.len() / n;
    ops::tally(s * s * n, 0, 0, 0);
    for (row, out) in mixed.chunks_mut(n).enumerate() {
        let weights = &k[row * s..(row + 1) * s];
        for (i, o) in out.iter_mut().enumerate() {
            *o = (1..s).fold(weights[0] * h[i], |acc, c| acc + weights[c] * h[c * n + i]);
        }
    }
    h.copy_from_slice(mixed);
}

/// A uniform draw in `[0, 1)` from a stream's key.
fn uniform(stream: Stream) -> f64 {
    (stream.key() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

impl Layer for QsLtc {
    fn input_width(&self) -> usize {
        self.inputs
    }
    fn output_width(&self) -> usize {
        self.units
    }
    fn num_params(&self) -> usize {
        LtcParams::len(self.units, self.inputs) + self.copies * self.units + 2 * self.copies
    }
    fn state_width(&self) -> usize {
        self.copies * self.units
    }
    fn init(&self, stream: Stream) -> Vec<f64> {
        let mut p = ltc_init(&mut stream.rng(), self.units, self.inputs);
        let s = self.copies;
        for c in 0..s {
            let tau = match s {
                1 => self.tau,
                _ => self.tau * 0.5 * 8f64.powf(c as f64 / (s - 1) as f64),
            };
            p.extend(std::iter::repeat_n(tau.ln(), self.units));
        }
        for _ in 0..s {
            p.extend([1.0 / (s as f64).sqrt(), 0.0]);
        }
        p
    }
    fn forward(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        time: Option<TimeStep<'_>>,
    ) -> Result<Array2<f64>> {
        let (n, s) = (self.units, self.copies);
        let (ltc, rest) = LtcParams::split(params, n, self.inputs);
        let inv_tau: Vec<f64> = rest[..s * n].iter().map(|r| (-r).exp()).collect();
        let p = self.weights(params);
        let mixing = self.interference.then(|| self.interference_matrix(params));
        let collapse = self.collapse;
        with_state(
            "QS-LTC layer",
            x.nrows(),
            s * n,
            time,
            |mut state, dt, draws| {
                evolve(&ltc, &inv_tau, self.unfolds, x, state.view_mut(), dt);
                if let Some(k) = &mixing {
                    let mut mixed = vec![0.0; s * n];
                    for mut h in state.rows_mut() {
                        let h = h.as_slice_mut().expect("state rows are contiguous");
                        interfere(k, h, &mut mixed, n);
                    }
                }
                match collapse {
                    // Σ_s p_s x_s, starting from the first copy's term (so that S = 1 is the LTC
                    // output exactly, signed zeros included).
                    Collapse::Expectation => {
                        ops::tally(x.nrows() * s * n, 0, 0, 0);
                        Array2::from_shape_fn((x.nrows(), n), |(r, i)| {
                            (1..s).fold(p[0] * state[[r, i]], |acc, c| {
                                acc + p[c] * state[[r, c * n + i]]
                            })
                        })
                    }
                    Collapse::Sample => {
                        ops::tally(0, x.nrows() * s, 0, 0);
                        let mut out = Array2::zeros((x.nrows(), n));
                        for (r, mut row) in out.rows_mut().into_iter().enumerate() {
                            let u = uniform(draws.child(r as u64));
                            let mut cumulative = 0.0;
                            let copy = (0..s)
                                .find(|&c| {
                                    cumulative += p[c];
                                    u < cumulative
                                })
                                .unwrap_or(s - 1);
                            row.assign(&state.slice(ndarray::s![r, copy * n..(copy + 1) * n]));
                        }
                        out
                    }
                }
            },
        )
    }
    fn check(&self) -> Result<()> {
        QsLtc::new(self.inputs, self.units, self.unfolds, self.copies)?
            .with_tau(self.tau)
            .map(|_| ())
    }
    fn describe_params(&self) -> &'static str {
        "QS-LTC W, U, b, A, log τ per copy, amplitudes"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The row-blocked AVX-512 path gives [`dot`]'s bits for every width and row count,
    /// tails and leftover rows included, and signs of zeros (a third of the entries are ±0).
    #[test]
    fn affine_equals_the_row_by_row_dot_bit_for_bit() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        for cols in [1, 3, 7, 8, 9, 15, 16, 21, 40] {
            for rows in [1, 7, 8, 9, 16, 23, 64, 70] {
                let mut entry = |range: f64| match rng.random_range(0..6) {
                    0 => 0.0,
                    1 => -0.0,
                    _ => rng.random_range(-range..range),
                };
                let m: Vec<f64> = (0..rows * cols).map(|_| entry(2.0)).collect();
                let b: Vec<f64> = (0..rows).map(|_| entry(1.0)).collect();
                let v: Vec<f64> = (0..cols).map(|_| rng.random_range(-3.0..3.0)).collect();
                let mut fast = vec![0.0; rows];
                affine(&m, &b, &v, &mut fast);
                for (i, f) in fast.iter().enumerate() {
                    let reference = b[i] + dot(&m[i * cols..(i + 1) * cols], &v);
                    assert_eq!(f.to_bits(), reference.to_bits(), "{rows} × {cols}, row {i}");
                }
            }
        }
    }
}
