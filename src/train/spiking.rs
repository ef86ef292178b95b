//! Spiking layers: leaky integrate-and-fire neurons ([`Lif`]) and the entangled neuron pairs
//! of qloop's founding document ([`QLifPair`]).
//!
//! **Membrane.** Each neuron obeys `dV/dt = −(V − V_rest)/τ + I(t)/C` with `V_rest = 0` and
//! `C = 1` (a shift of `V` and a scale of `I` absorb both). The input current is constant over
//! an input step, `I = U x + b`, and the equation is integrated *exactly* over each of the
//! step's `K` sub-steps of `δ = Δt/K` ([`Membrane::substeps`]):
//!
//! ```text
//! V ← V∞ + (V − V∞) · e^{−δ/τ},      V∞ = τ · I
//! ```
//!
//! After each sub-step a neuron with `V ≥ θ` ([`Membrane::threshold`]) spikes and resets,
//! by subtraction (`V ← V − θ`) or to `V_reset` ([`Reset`]), and then holds (no integration,
//! no spike) for [`Membrane::refractory`] sub-steps. From rest, a constant current with
//! `V∞ > θ` first crosses threshold at `t* = τ ln(V∞ / (V∞ − θ))`, so the first spike falls
//! in sub-step `⌈t*/δ⌉` (`tests/spiking.rs`).
//!
//! **Decoding** ([`Decode`]): the layer's output per neuron is its *rate* (spikes per sub-step
//! since the sequence began), its *first-spike latency* `(T − t_f)/T` (`t_f` the time the
//! sub-step of its first spike began, `T` the time elapsed; 0 if it never spiked), or this
//! input step's *spikes* (spikes per sub-step of this step, the input of a stacked spiking
//! layer). Outside a sequence a layer runs one input step of `Δt = 1` from rest, which is a
//! rate (or latency) code of a static input.
//!
//! **Training.** Spikes are a step function of the parameters, so there is no gradient to
//! follow; SPSA needs none (it differences two loss values), so no surrogate gradient is
//! defined. Parameters, in order: `U` (N × inputs, row-major), `b` (N), `ρ` (N) with
//! `τ = e^ρ` (positive whatever the optimizer does), then, for a pair layer, `φ` (one per
//! pair). Initialisation: `U` Glorot-uniform, `b = θ/τ₀` (every neuron at threshold at rest,
//! so the input decides), `ρ = ln τ₀`, `φ ~ U(0, π/2)`.
//!
//! **Pairs.** [`QLifPair`] groups neurons `2p` (A, qubit 0) and `2p + 1` (B, qubit 1) into
//! pairs. After each sub-step each neuron's membrane sets a qubit angle,
//! `ϑ = π · clamp(V/θ, 0, 1)`, the pair's state is
//!
//! ```text
//! |Ψ⟩ = RXX(φ) · (RY(ϑ_A) ⊗ RY(ϑ_B)) |00⟩
//! ```
//!
//! (qloop's gate matrices, see `docs/conventions.md`), and the pair's spikes are one seeded
//! draw of both qubits in the computational basis: `P(s_A, s_B) = |⟨s_B s_A|Ψ⟩|²`. With
//! `φ = 0` each neuron fires independently with probability `sin²(ϑ/2)` (0 at rest, 1 at
//! threshold: escape noise); with `φ ≠ 0` the pair fires together, even from rest
//! (`RXX(φ)|00⟩ = cos(φ/2)|00⟩ − i sin(φ/2)|11⟩`). The membranes drive the qubits (rather
//! than the currents directly) so that the document's membrane dynamics stay the neuron's
//! state and the qubit is its firing propensity; a measured qubit collapses to the spike
//! outcome, so nothing quantum is carried between sub-steps and the state is prepared afresh
//! from the membranes each time. The von Neumann entropy of `ρ_A = Tr_B |Ψ⟩⟨Ψ|` (nats) at
//! each step's last sub-step is kept in the layer's state ([`QLifPair::entropy_columns`]).
//!
//! *What is quantum here.* RY leaves real amplitudes and `RXX(φ) = cos(φ/2) 𝟙 − i sin(φ/2)
//! X⊗X`, so the cross terms vanish and `P(s_A, s_B) = cos²(φ/2) q(s_A, s_B) + sin²(φ/2)
//! q(s̄_A, s̄_B)` with `q` the independent product distribution: exactly two independent
//! coins whose outcomes a shared third coin flips together with probability `sin²(φ/2)`.
//! [`Coupling::Classical`] samples that classical process (three coins, no amplitudes) and is
//! the control: same marginals, same correlation, same parameters. Any two-qubit state
//! measured in one basis gives a joint distribution of two bits that a classical table with
//! the same marginals and correlation reproduces; `docs/claims.md` reports what that means for
//! the document's claims.
//!
//! Draws: inside a sequence, sample `r` of a step draws from `draws.child(r)` (see
//! [`TimeStep`]); outside one, from a stream keyed by the sample's input values, so the same
//! input spikes the same way in any batch.

use crate::error::{Error, Result};
use crate::gate::{BaseMatrix, Gate};
use crate::rng::Stream;
use crate::sim::exp::exp_batch;
use crate::sim::simd::Cpu;
use crate::sim::trig::sin_cos;
use crate::train::layer::{check_widths, Layer, TimeStep};
use crate::train::liquid::{affine, glorot, with_state};
use crate::train::ops;
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use num_complex::Complex64 as C64;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::f64::consts::FRAC_PI_2;

/// How a neuron's membrane resets after a spike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reset {
    /// `V ← V − θ` (keeps the excess, so rates track the current linearly).
    Subtract,
    /// `V ← V_reset` ([`Membrane::v_reset`]).
    To,
}

/// What a spiking layer outputs per neuron (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decode {
    /// Spikes per sub-step since the sequence began.
    Rate,
    /// `(T − t_f)/T` for a neuron whose first spike's sub-step began at `t_f`; 0 if none.
    FirstSpike,
    /// Spikes per sub-step of this input step (to feed another spiking layer).
    Spikes,
}

/// How the two neurons of a pair are coupled (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Coupling {
    /// Spikes measured from `RXX(φ)(RY(ϑ_A) ⊗ RY(ϑ_B))|00⟩`.
    Entangled,
    /// The classical control: independent coins `sin²(ϑ/2)`, both flipped together with
    /// probability `sin²(φ/2)` by a shared coin.
    Classical,
    /// Independent coins `sin²(ϑ/2)`; no `φ` parameters.
    Independent,
}

/// The neuron model shared by [`Lif`] and [`QLifPair`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Membrane {
    /// Firing threshold `θ` (positive).
    pub threshold: f64,
    /// Reset after a spike.
    pub reset: Reset,
    /// Membrane value after a spike with [`Reset::To`] (below the threshold).
    pub v_reset: f64,
    /// Sub-steps a neuron holds after a spike.
    pub refractory: usize,
    /// Sub-steps `K` per input step.
    pub substeps: usize,
    /// Initial time constant `τ₀` of every neuron (trained from there).
    pub tau: f64,
    /// What the layer outputs.
    pub decode: Decode,
}

impl Default for Membrane {
    fn default() -> Self {
        Membrane {
            threshold: 1.0,
            reset: Reset::Subtract,
            v_reset: 0.0,
            refractory: 0,
            substeps: 16,
            tau: 1.0,
            decode: Decode::Rate,
        }
    }
}

/// The most sub-steps per input step and refractory sub-steps.
pub const MAX_SUBSTEPS: usize = 10_000;

impl Membrane {
    /// Checks every field, naming the first that is out of range.
    pub fn check(&self) -> Result<()> {
        let bad = |message: String| {
            Err(Error::Shape {
                context: "spiking layer".into(),
                message,
            })
        };
        if !(self.threshold > 0.0 && self.threshold.is_finite()) {
            return bad(format!(
                "threshold must be positive and finite, got {}",
                self.threshold
            ));
        }
        if !(self.tau > 0.0 && self.tau.is_finite()) {
            return bad(format!("tau must be positive and finite, got {}", self.tau));
        }
        if !(self.v_reset.is_finite() && self.v_reset < self.threshold) {
            return bad(format!(
                "v_reset must be finite and below the threshold {}, got {}",
                self.threshold, self.v_reset
            ));
        }
        if !(1..=MAX_SUBSTEPS).contains(&self.substeps) {
            return bad(format!(
                "substeps must lie in 1..={MAX_SUBSTEPS}, got {}",
                self.substeps
            ));
        }
        if self.refractory > MAX_SUBSTEPS {
            return bad(format!(
                "refractory must lie in 0..={MAX_SUBSTEPS}, got {}",
                self.refractory
            ));
        }
        Ok(())
    }
}

/// Where a spiking layer of `n` neurons keeps what it carries, in its state row:
/// `V` (n), refractory sub-steps left (n), spikes so far (n), spikes this input step (n),
/// start time of the first spike's sub-step (n, valid where spikes so far > 0), time elapsed
/// `T` (1), sub-steps elapsed (1), then a pair layer's entropies (one per pair).
#[derive(Debug, Clone, Copy)]
struct Columns {
    n: usize,
}

impl Columns {
    const fn width(self) -> usize {
        5 * self.n + 2
    }
}

/// The per-row working values of a spiking layer, borrowed from its state row.
struct NeuronRow<'a> {
    v: &'a mut [f64],
    refractory: &'a mut [f64],
    count: &'a mut [f64],
    last: &'a mut [f64],
    first: &'a mut [f64],
    clock: &'a mut [f64],
}

impl<'a> NeuronRow<'a> {
    fn split(row: &'a mut [f64], n: usize) -> (NeuronRow<'a>, &'a mut [f64]) {
        let (v, rest) = row.split_at_mut(n);
        let (refractory, rest) = rest.split_at_mut(n);
        let (count, rest) = rest.split_at_mut(n);
        let (last, rest) = rest.split_at_mut(n);
        let (first, rest) = rest.split_at_mut(n);
        let (clock, rest) = rest.split_at_mut(2);
        (
            NeuronRow {
                v,
                refractory,
                count,
                last,
                first,
                clock,
            },
            rest,
        )
    }
}

/// The membrane parameters of one layer, split out of its parameter vector.
struct Resolved<'a> {
    u: &'a [f64],
    b: &'a [f64],
    /// `ρ = ln τ` per neuron.
    rho: &'a [f64],
}

impl<'a> Resolved<'a> {
    fn new(params: &'a [f64], n: usize, inputs: usize) -> (Resolved<'a>, &'a [f64]) {
        let (u, rest) = params.split_at(n * inputs);
        let (b, rest) = rest.split_at(n);
        let (rho, rest) = rest.split_at(n);
        (Resolved { u, b, rho }, rest)
    }
}

/// Neurons per chunk of a spiking step: every pass of a sub-step runs over one chunk at a
/// time, so the chunk's membranes, spikes and scratch stay in L1 between passes. Even, so a
/// chunk holds whole pairs.
const CHUNK: usize = 64;

/// Where a `fire` call of [`run_step`] is: the chunk's first neuron and whether this is the
/// input step's last sub-step.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    start: usize,
    last_substep: bool,
}

/// The per-neuron constants of a spiking step that depend only on the parameters and the
/// sub-step `δ`: `τ = e^ρ`, `1/τ` and the decay `e^{−δ/τ}`. A sequence runs every step with
/// the same parameters, so each thread keeps the last [`Decays::KEPT`] it computed and reuses
/// one whose `ρ` and `δ` are the same bits: the values are the ones a fresh computation gives.
struct Decays {
    rho: Vec<f64>,
    tau: Vec<f64>,
    inv_tau: Vec<f64>,
    /// The `δ` of `decay` (NaN before the first).
    delta: f64,
    decay: Vec<f64>,
    /// Room for the drive `V∞` of a row, kept so that a step allocates nothing of size `n`.
    drive: Vec<f64>,
}

thread_local! {
    /// The most recently used first.
    static DECAYS: std::cell::RefCell<Vec<Decays>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Decays {
    /// Sets of constants each thread keeps (one per spiking layer of a network, up to four).
    const KEPT: usize = 4;

    /// The constants of `rho`: a kept set if one matches, else computed. Inlined into
    /// [`run_step_body`], so the comparison runs in its vector lanes.
    #[inline(always)]
    fn take(rho: &[f64]) -> Decays {
        let same = |kept: &[f64]| {
            kept.len() == rho.len()
                && kept
                    .iter()
                    .zip(rho)
                    .fold(0, |acc, (a, b)| acc | (a.to_bits() ^ b.to_bits()))
                    == 0
        };
        let mut list = DECAYS.with(std::cell::RefCell::take);
        let kept = list
            .iter()
            .position(|d| same(&d.rho))
            .map(|at| list.remove(at));
        DECAYS.with(|cell| *cell.borrow_mut() = list);
        kept.unwrap_or_else(|| {
            let n = rho.len();
            let mut tau = vec![0.0; n];
            exp_batch(rho, &mut tau);
            let inv_tau = tau.iter().map(|t| 1.0 / t).collect();
            Decays {
                rho: rho.to_vec(),
                tau,
                inv_tau,
                delta: f64::NAN,
                decay: vec![0.0; n],
                drive: vec![0.0; n],
            }
        })
    }

    /// Makes `decay` that of the sub-step `delta`.
    fn at(&mut self, delta: f64) {
        if delta.to_bits() == self.delta.to_bits() {
            return;
        }
        self.delta = delta;
        let mut exponent = [0.0; CHUNK];
        for start in (0..self.rho.len()).step_by(CHUNK) {
            let end = (start + CHUNK).min(self.rho.len());
            let exponent = &mut exponent[..end - start];
            for (d, it) in exponent.iter_mut().zip(&self.inv_tau[start..end]) {
                *d = -delta * it;
            }
            exp_batch(exponent, &mut self.decay[start..end]);
        }
    }

    /// Keeps the constants for the next step on this thread.
    fn give_back(self) {
        DECAYS.with(|cell| {
            let mut list = cell.borrow_mut();
            list.insert(0, self);
            list.truncate(Self::KEPT);
        });
    }
}

/// How a spiking layer decides which of its neurons fire after a sub-step's integration.
enum Fire<F> {
    /// A neuron fires where it may and `V ≥ θ` (deterministic LIF): decided neuron by neuron,
    /// so integration, decision and reset run as one pass.
    Threshold,
    /// A decision over a whole [`Chunk`] at a time: the closure writes 1 or 0 into `spikes`,
    /// given the chunk's membranes, which of its neurons may fire (1 or 0), the row's extra
    /// columns and the row's rng. Chunks come in neuron order, so the draws are those of one
    /// call over the whole layer.
    Chunk(F),
}

/// The [`Fire::Chunk`] closure's type where the layer fires by [`Fire::Threshold`].
type NoChunk = fn(Chunk, &[f64], &[f64], &mut [f64], &mut [f64], &mut crate::rng::QloopRng);

/// A neuron's carried values, by value: the loops below load them once, compute in registers
/// and store them once (a store of some lanes only cannot forward to the next load).
#[derive(Clone, Copy)]
struct Neuron {
    v: f64,
    hold: f64,
    first: f64,
    count: f64,
    last: f64,
}

/// One sub-step of a neuron's membrane: integration unless it holds, one sub-step less to
/// hold. Returns the new `(V, hold)` and 1 if it may fire, else 0. Branch-free, so loops of
/// it run in vector lanes.
#[inline(always)]
fn integrate(v: f64, hold: f64, v_inf: f64, decay: f64) -> (f64, f64, f64) {
    let holding = hold > 0.0;
    let integrated = v_inf + (v - v_inf) * decay;
    (
        if holding { v } else { integrated },
        (hold - 1.0).max(0.0),
        if holding { 0.0 } else { 1.0 },
    )
}

/// What a spike (`spike` = 1) does to its neuron: reset, refractory hold, first-spike time
/// (the sub-step's start `clock`) and counts. Branch-free as well.
#[inline(always)]
fn settle(m: &Membrane, n: Neuron, spike: f64, clock: f64) -> Neuron {
    let fired = spike > 0.0;
    let reset = match m.reset {
        Reset::Subtract => n.v - m.threshold,
        Reset::To => m.v_reset,
    };
    Neuron {
        v: if fired { reset } else { n.v },
        hold: if fired { m.refractory as f64 } else { n.hold },
        first: if fired && n.count == 0.0 {
            clock
        } else {
            n.first
        },
        count: n.count + spike,
        last: n.last + spike,
    }
}

/// One input step of every row: `fire` decides, after each sub-step's integration, which
/// neurons spike ([`Fire`]); the rest (integration, reset, refractory hold, counts,
/// decoding) is shared by every spiking layer. Returns the decoded outputs.
///
/// Every loop here is element-wise over the neurons and has no fused multiply-adds, so the
/// AVX-512 and AVX2 compilations of it (chosen at run time, [`Cpu`]) give the portable
/// compilation's bits, only in wider lanes.
#[allow(clippy::too_many_arguments)]
fn run_step<F>(
    m: &Membrane,
    p: &Resolved,
    x: ArrayView2<f64>,
    state: ArrayViewMut2<f64>,
    dt: &[f64],
    draws: &dyn Fn(usize) -> Stream,
    extra: usize,
    fire: Fire<F>,
) -> Array2<f64>
where
    F: FnMut(Chunk, &[f64], &[f64], &mut [f64], &mut [f64], &mut crate::rng::QloopRng),
{
    #[cfg(target_arch = "x86_64")]
    {
        let cpu = Cpu::detect();
        if cpu.avx512() {
            // SAFETY: AVX-512F and DQ are present.
            return unsafe { run_step_avx512(m, p, x, state, dt, draws, extra, fire) };
        }
        if cpu.avx2() {
            // SAFETY: AVX2 and FMA are present.
            return unsafe { run_step_avx2(m, p, x, state, dt, draws, extra, fire) };
        }
    }
    run_step_body(m, p, x, state, dt, draws, extra, fire)
}

/// [`run_step_body`] compiled with the named target features.
macro_rules! run_step_with {
    ($name:ident, $features:literal) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn $name<F>(
            m: &Membrane,
            p: &Resolved,
            x: ArrayView2<f64>,
            state: ArrayViewMut2<f64>,
            dt: &[f64],
            draws: &dyn Fn(usize) -> Stream,
            extra: usize,
            fire: Fire<F>,
        ) -> Array2<f64>
        where
            F: FnMut(Chunk, &[f64], &[f64], &mut [f64], &mut [f64], &mut crate::rng::QloopRng),
        {
            run_step_body(m, p, x, state, dt, draws, extra, fire)
        }
    };
}

run_step_with!(run_step_avx512, "avx512f,avx512dq,avx2,fma");
run_step_with!(run_step_avx2, "avx2,fma");

#[inline(always)]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
fn run_step_body<F>(
    m: &Membrane,
    p: &Resolved,
    x: ArrayView2<f64>,
    mut state: ArrayViewMut2<f64>,
    dt: &[f64],
    draws: &dyn Fn(usize) -> Stream,
    extra: usize,
    mut fire: Fire<F>,
) -> Array2<f64>
where
    F: FnMut(Chunk, &[f64], &[f64], &mut [f64], &mut [f64], &mut crate::rng::QloopRng),
{
    let n = p.b.len();
    let mut out = Vec::with_capacity(x.nrows() * n);
    let mut input = vec![0.0; x.ncols()];
    // `τ` and `e^{−δ/τ}` of every neuron, counted every step as the layer's model computes
    // them (the memo only saves the time).
    let mut decays = Decays::take(p.rho);
    let mut v_inf = std::mem::take(&mut decays.drive);
    ops::tally(0, n, n, n);
    // Per-chunk scratch, in registers and L1: which neurons may fire and which did.
    let (mut may_fire, mut spikes) = ([1.0; CHUNK], [0.0; CHUNK]);
    let k = m.substeps;
    for (r, mut row) in state.rows_mut().into_iter().enumerate() {
        let row = row.as_slice_mut().expect("state rows are contiguous");
        let (mut s, extra_cols) = NeuronRow::split(row, n);
        debug_assert_eq!(extra_cols.len(), extra);
        input.iter_mut().zip(x.row(r)).for_each(|(i, v)| *i = *v);
        let delta = dt[r] / k as f64;
        // The drive of every neuron: `V∞ = τ (U x + b)` (`affine` counts its own
        // operations), and the decay `e^{−δ/τ}` counted where `δ` changed since the last row.
        ops::tally(0, n, 0, 0);
        if r == 0 || delta.to_bits() != (dt[r - 1] / k as f64).to_bits() {
            ops::tally(0, n, 0, n);
        }
        decays.at(delta);
        let (tau, decay) = (&decays.tau[..], &decays.decay[..]);
        affine(p.u, p.b, &input, &mut v_inf);
        v_inf.iter_mut().zip(tau).for_each(|(vi, t)| *vi *= t);
        s.last.iter_mut().for_each(|l| *l = 0.0);
        let mut rng = draws(r).rng();
        for substep in 0..k {
            let clock = s.clock[0];
            ops::tally(0, 3 * n, 0, 0);
            let NeuronRow {
                v,
                refractory,
                count,
                last,
                first,
                ..
            } = &mut s;
            match &mut fire {
                Fire::Threshold => {
                    ops::tally(0, n, 0, 0);
                    for (((((v, hold), first), count), last), (vi, d)) in v
                        .iter_mut()
                        .zip(refractory.iter_mut())
                        .zip(first.iter_mut())
                        .zip(count.iter_mut())
                        .zip(last.iter_mut())
                        .zip(v_inf.iter().zip(decay))
                    {
                        let (v_new, hold_new, may) = integrate(*v, *hold, *vi, *d);
                        let spike = if v_new >= m.threshold { may } else { 0.0 };
                        let neuron = Neuron {
                            v: v_new,
                            hold: hold_new,
                            first: *first,
                            count: *count,
                            last: *last,
                        };
                        let after = settle(m, neuron, spike, clock);
                        (*v, *hold, *first, *count, *last) =
                            (after.v, after.hold, after.first, after.count, after.last);
                    }
                }
                Fire::Chunk(fire) => {
                    for start in (0..n).step_by(CHUNK) {
                        let end = (start + CHUNK).min(n);
                        let (may_fire, spikes) =
                            (&mut may_fire[..end - start], &mut spikes[..end - start]);
                        let v = &mut v[start..end];
                        let hold = &mut refractory[start..end];
                        for (((v, hold), may), (vi, d)) in v
                            .iter_mut()
                            .zip(hold.iter_mut())
                            .zip(may_fire.iter_mut())
                            .zip(v_inf[start..end].iter().zip(&decay[start..end]))
                        {
                            (*v, *hold, *may) = integrate(*v, *hold, *vi, *d);
                        }
                        let chunk = Chunk {
                            start,
                            last_substep: substep + 1 == k,
                        };
                        fire(chunk, v, may_fire, spikes, extra_cols, &mut rng);
                        for (((((v, hold), first), count), last), &spike) in v
                            .iter_mut()
                            .zip(hold.iter_mut())
                            .zip(first[start..end].iter_mut())
                            .zip(count[start..end].iter_mut())
                            .zip(last[start..end].iter_mut())
                            .zip(&*spikes)
                        {
                            let neuron = Neuron {
                                v: *v,
                                hold: *hold,
                                first: *first,
                                count: *count,
                                last: *last,
                            };
                            let after = settle(m, neuron, spike, clock);
                            (*v, *hold, *first, *count, *last) =
                                (after.v, after.hold, after.first, after.count, after.last);
                        }
                    }
                }
            }
            s.clock[0] += delta;
            s.clock[1] += 1.0;
        }
        let elapsed = s.clock[0];
        ops::tally(0, 2 * n, 1, 0);
        match m.decode {
            Decode::Rate => {
                let per = 1.0 / s.clock[1];
                out.extend(s.count.iter().map(|c| c * per));
            }
            Decode::Spikes => {
                let per = 1.0 / k as f64;
                out.extend(s.last.iter().map(|c| c * per));
            }
            Decode::FirstSpike => {
                let per = 1.0 / elapsed;
                out.extend(s.first.iter().zip(&*s.count).map(|(first, &count)| {
                    let latency = (elapsed - first) * per;
                    if count > 0.0 {
                        latency
                    } else {
                        0.0
                    }
                }));
            }
        }
    }
    decays.drive = v_inf;
    decays.give_back();
    Array2::from_shape_vec((x.nrows(), n), out).expect("one row of n outputs per sample")
}

/// Runs [`run_step`] on the carried state inside a sequence (checked by the liquid layers'
/// `with_state`), or on a zero state with `Δt = 1` and input-keyed draws outside one.
fn with_spiking_state<F>(
    context: &str,
    x: ArrayView2<f64>,
    width: usize,
    time: Option<TimeStep<'_>>,
    f: F,
) -> Result<Array2<f64>>
where
    F: FnOnce(ArrayViewMut2<f64>, &[f64], &dyn Fn(usize) -> Stream) -> Array2<f64>,
{
    let Some(step) = time else {
        let mut zeros = Array2::zeros((x.nrows(), width));
        let keyed = |r: usize| Stream::new(input_key(x.row(r).iter()));
        return Ok(f(zeros.view_mut(), &vec![1.0; x.nrows()], &keyed));
    };
    with_state(context, x.nrows(), width, Some(step), |state, dt, draws| {
        f(state, dt, &move |r| draws.child(r as u64))
    })
}

/// A 64-bit key of a sample's input values (FNV-1a over their bits).
fn input_key<'a>(values: impl Iterator<Item = &'a f64>) -> u64 {
    values.fold(0xcbf2_9ce4_8422_2325, |h, v| {
        (h ^ v.to_bits()).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn membrane_init(rng: &mut impl Rng, m: &Membrane, n: usize, inputs: usize) -> Vec<f64> {
    let mut p = glorot(rng, inputs, n, n * inputs);
    p.extend(std::iter::repeat_n(m.threshold / m.tau, n));
    p.extend(std::iter::repeat_n(m.tau.ln(), n));
    p
}

/// Leaky integrate-and-fire neurons. See the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Lif {
    /// Input width.
    pub inputs: usize,
    /// Number of neurons (the output width).
    pub neurons: usize,
    /// The neuron model.
    pub membrane: Membrane,
}

impl Lif {
    /// `neurons` LIF neurons reading `inputs` values, with the [`Membrane`] defaults
    /// (threshold 1, reset by subtraction, 16 sub-steps, `τ₀ = 1`, rate decoding).
    ///
    /// ```
    /// use qloop::train::{Layer, Lif};
    /// let lif = Lif::new(3, 10)?;
    /// assert_eq!(lif.num_params(), 10 * 3 + 10 + 10);
    /// # Ok::<(), qloop::Error>(())
    /// ```
    pub fn new(inputs: usize, neurons: usize) -> Result<Self> {
        check_widths("LIF layer", &[("inputs", inputs), ("neurons", neurons)])?;
        Ok(Lif {
            inputs,
            neurons,
            membrane: Membrane::default(),
        })
    }

    /// The same layer with the neuron model `membrane` (checked).
    pub fn with_membrane(mut self, membrane: Membrane) -> Result<Self> {
        membrane.check()?;
        self.membrane = membrane;
        Ok(self)
    }
}

impl Layer for Lif {
    fn input_width(&self) -> usize {
        self.inputs
    }
    fn output_width(&self) -> usize {
        self.neurons
    }
    fn num_params(&self) -> usize {
        self.neurons * (self.inputs + 2)
    }
    fn state_width(&self) -> usize {
        Columns { n: self.neurons }.width()
    }
    fn init(&self, stream: Stream) -> Vec<f64> {
        membrane_init(&mut stream.rng(), &self.membrane, self.neurons, self.inputs)
    }
    fn forward(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        time: Option<TimeStep<'_>>,
    ) -> Result<Array2<f64>> {
        let (p, _) = Resolved::new(params, self.neurons, self.inputs);
        let m = &self.membrane;
        with_spiking_state(
            "LIF layer",
            x,
            self.state_width(),
            time,
            |state, dt, draws| run_step(m, &p, x, state, dt, draws, 0, Fire::<NoChunk>::Threshold),
        )
    }
    fn check(&self) -> Result<()> {
        Lif::new(self.inputs, self.neurons)?.with_membrane(self.membrane)?;
        Ok(())
    }
    fn describe_params(&self) -> &'static str {
        "LIF U, b, ρ"
    }
}

/// Entangled LIF neuron pairs. See the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QLifPair {
    /// Input width.
    pub inputs: usize,
    /// Number of pairs (the output width is twice this).
    pub pairs: usize,
    /// The neuron model.
    pub membrane: Membrane,
    /// How the two neurons of a pair are coupled.
    pub coupling: Coupling,
}

/// The amplitudes of `RXX(φ)(RY(ϑ_A) ⊗ RY(ϑ_B))|00⟩` (index `s_A + 2 s_B`) for the pair's
/// entangler `rxx` ([`Gate::RXX`]'s base matrix) and the halves' `(sin, cos)` of `ϑ/2`.
#[inline]
fn pair_amplitudes(rxx: &[C64; 16], a: (f64, f64), b: (f64, f64)) -> [C64; 4] {
    let product = [a.1 * b.1, a.0 * b.1, a.1 * b.0, a.0 * b.0];
    std::array::from_fn(|i| {
        (0..4).fold(C64::new(0.0, 0.0), |acc, j| {
            acc + rxx[4 * i + j] * product[j]
        })
    })
}

/// The von Neumann entropy (nats) of either qubit of the pure two-qubit state `psi`
/// (index `s_A + 2 s_B`): with concurrence `C = 2|ψ₀₀ψ₁₁ − ψ₀₁ψ₁₀|`, the reduced state's
/// eigenvalues are `(1 ± √(1 − C²))/2`.
pub fn pair_entropy(psi: &[C64; 4]) -> f64 {
    let c = 2.0 * (psi[0] * psi[3] - psi[1] * psi[2]).norm();
    let root = (1.0 - c * c).max(0.0).sqrt();
    [(1.0 + root) / 2.0, (1.0 - root) / 2.0]
        .iter()
        .filter(|&&l| l > 0.0)
        .map(|l| -l * l.ln())
        .sum()
}

impl QLifPair {
    /// `pairs` entangled neuron pairs reading `inputs` values, [`Coupling::Entangled`], with
    /// the [`Membrane`] defaults.
    ///
    /// ```
    /// use qloop::train::{Coupling, Layer, QLifPair};
    /// let layer = QLifPair::new(3, 4)?;
    /// assert_eq!(layer.output_width(), 8);
    /// assert_eq!(layer.num_params(), 8 * 3 + 8 + 8 + 4);
    /// assert_eq!(layer.with_coupling(Coupling::Independent).num_params(), 8 * 3 + 8 + 8);
    /// # Ok::<(), qloop::Error>(())
    /// ```
    pub fn new(inputs: usize, pairs: usize) -> Result<Self> {
        check_widths("qLIF pair layer", &[("inputs", inputs), ("pairs", pairs)])?;
        check_widths("qLIF pair layer", &[("neurons", 2 * pairs)])?;
        Ok(QLifPair {
            inputs,
            pairs,
            membrane: Membrane::default(),
            coupling: Coupling::Entangled,
        })
    }

    /// The same layer with the neuron model `membrane` (checked).
    pub fn with_membrane(mut self, membrane: Membrane) -> Result<Self> {
        membrane.check()?;
        self.membrane = membrane;
        Ok(self)
    }

    /// The same layer with another coupling.
    pub fn with_coupling(mut self, coupling: Coupling) -> Self {
        self.coupling = coupling;
        self
    }

    /// The columns of the layer's state that hold each pair's entanglement entropy (nats) at
    /// the last sub-step of the latest step (0 for the classical couplings).
    pub fn entropy_columns(&self) -> std::ops::Range<usize> {
        let start = Columns { n: 2 * self.pairs }.width();
        start..start + self.pairs
    }

    /// The state of pair `p`'s qubits for membranes `v_a`, `v_b` and entangling angle `phi`
    /// (index `s_A + 2 s_B`).
    pub fn pair_state(&self, v_a: f64, v_b: f64, phi: f64) -> [C64; 4] {
        let half = |v: f64| sin_cos(FRAC_PI_2 * (v / self.membrane.threshold).clamp(0.0, 1.0));
        pair_amplitudes(&rxx(phi), half(v_a), half(v_b))
    }

    fn phi_len(&self) -> usize {
        match self.coupling {
            Coupling::Independent => 0,
            Coupling::Entangled | Coupling::Classical => self.pairs,
        }
    }
}

/// [`Gate::RXX`]'s base matrix at `phi`.
fn rxx(phi: f64) -> [C64; 16] {
    match Gate::RXX(phi.into()).base_matrix(&[phi]) {
        BaseMatrix::Two(m) => m,
        BaseMatrix::One(_) => unreachable!("RXX acts on two qubits"),
    }
}

impl Layer for QLifPair {
    fn input_width(&self) -> usize {
        self.inputs
    }
    fn output_width(&self) -> usize {
        2 * self.pairs
    }
    fn num_params(&self) -> usize {
        2 * self.pairs * (self.inputs + 2) + self.phi_len()
    }
    fn state_width(&self) -> usize {
        Columns { n: 2 * self.pairs }.width() + self.pairs
    }
    fn init(&self, stream: Stream) -> Vec<f64> {
        let mut rng = stream.rng();
        let mut p = membrane_init(&mut rng, &self.membrane, 2 * self.pairs, self.inputs);
        p.extend((0..self.phi_len()).map(|_| rng.random_range(0.0..FRAC_PI_2)));
        p
    }
    fn forward(
        &self,
        params: &[f64],
        x: ArrayView2<f64>,
        time: Option<TimeStep<'_>>,
    ) -> Result<Array2<f64>> {
        let (p, phi) = Resolved::new(params, 2 * self.pairs, self.inputs);
        let m = &self.membrane;
        let coupling = self.coupling;
        // Per pair: the entangler's matrix, or the classical flip probability sin²(φ/2).
        let matrices: Vec<[C64; 16]> = match coupling {
            Coupling::Entangled => phi.iter().map(|&f| rxx(f)).collect(),
            _ => Vec::new(),
        };
        let flips: Vec<f64> = phi.iter().map(|f| (f / 2.0).sin().powi(2)).collect();
        ops::tally(0, 0, 0, 2 * phi.len());
        let width = self.state_width();
        let inv_theta = 1.0 / m.threshold;
        with_spiking_state("qLIF pair layer", x, width, time, |state, dt, draws| {
            run_step(
                m,
                &p,
                x,
                state,
                dt,
                draws,
                self.pairs,
                Fire::Chunk(
                    |chunk: Chunk,
                     v: &[f64],
                     may: &[f64],
                     spikes: &mut [f64],
                     entropy: &mut [f64],
                     rng: &mut crate::rng::QloopRng| {
                        for local in 0..v.len() / 2 {
                            let (a, b) = (2 * local, 2 * local + 1);
                            let pair = chunk.start / 2 + local;
                            let half =
                                |v: f64| sin_cos(FRAC_PI_2 * (v * inv_theta).clamp(0.0, 1.0));
                            let (ha, hb) = (half(v[a]), half(v[b]));
                            let (sa, sb) = match coupling {
                                Coupling::Entangled => {
                                    let psi = pair_amplitudes(&matrices[pair], ha, hb);
                                    if chunk.last_substep {
                                        entropy[pair] = pair_entropy(&psi);
                                    }
                                    let u: f64 = rng.random();
                                    let mut acc = 0.0;
                                    let mut outcome = 3;
                                    for (s, amp) in psi.iter().enumerate() {
                                        acc += amp.norm_sqr();
                                        if u < acc {
                                            outcome = s;
                                            break;
                                        }
                                    }
                                    (outcome & 1 == 1, outcome & 2 == 2)
                                }
                                Coupling::Classical | Coupling::Independent => {
                                    let sa = rng.random::<f64>() < ha.0 * ha.0;
                                    let sb = rng.random::<f64>() < hb.0 * hb.0;
                                    let flip = coupling == Coupling::Classical
                                        && rng.random::<f64>() < flips[pair];
                                    (sa ^ flip, sb ^ flip)
                                }
                            };
                            spikes[a] = if sa { may[a] } else { 0.0 };
                            spikes[b] = if sb { may[b] } else { 0.0 };
                        }
                        let pairs = v.len() / 2;
                        match coupling {
                            // Two sin/cos (a dozen multiply-adds each), the 4 × 4 complex product
                            // (64 real multiply-adds), 4 norms and the draw's compares.
                            Coupling::Entangled => {
                                ops::tally(pairs * (24 + 64 + 8), pairs * 10, 0, 0)
                            }
                            _ => ops::tally(pairs * 24, pairs * 6, 0, 0),
                        }
                    },
                ),
            )
        })
    }
    fn check(&self) -> Result<()> {
        QLifPair::new(self.inputs, self.pairs)?.with_membrane(self.membrane)?;
        Ok(())
    }
    fn describe_params(&self) -> &'static str {
        "qLIF U, b, ρ, φ"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;

    /// A LIF layer's parameters with currents and time constants spread over a range, so that
    /// some neurons fire every sub-step, some now and then and some never.
    fn spread(lif: &Lif, seed: u64) -> Vec<f64> {
        let mut p = lif.init(Stream::new(seed));
        let n = lif.neurons;
        let mut rng = Stream::new(seed + 1).rng();
        for (i, b) in p[n * lif.inputs..n * (lif.inputs + 1)]
            .iter_mut()
            .enumerate()
        {
            *b = 3.0 * (i as f64 / n as f64) - 0.5;
        }
        for rho in &mut p[n * (lif.inputs + 1)..] {
            *rho = rng.random_range(-2.0..1.0);
        }
        p
    }

    /// Runs `steps` input steps through `run_step` with the given decision, from rest.
    fn steps<F>(lif: &Lif, p: &[f64], steps: usize, mut fire: impl FnMut() -> Fire<F>) -> Vec<f64>
    where
        F: FnMut(Chunk, &[f64], &[f64], &mut [f64], &mut [f64], &mut crate::rng::QloopRng),
    {
        let (resolved, _) = Resolved::new(p, lif.neurons, lif.inputs);
        let rows = 3;
        let mut state = Array2::zeros((rows, lif.state_width()));
        let dt = [0.2, 0.2, 0.35];
        let mut all = Vec::new();
        for t in 0..steps {
            let x = Array2::from_shape_fn((rows, lif.inputs), |(r, c)| {
                ((t * 7 + r * 3 + c) as f64 * 0.37).sin()
            });
            let draws = |r: usize| Stream::new(r as u64);
            let out = run_step(
                &lif.membrane,
                &resolved,
                x.view(),
                state.view_mut(),
                &dt,
                &draws,
                0,
                fire(),
            );
            all.extend(out);
        }
        all.extend(state.iter().copied());
        all
    }

    #[test]
    fn the_fused_threshold_pass_equals_separate_passes_bit_for_bit() {
        for (reset, refractory, substeps) in [
            (Reset::Subtract, 0, 1),
            (Reset::To, 2, 5),
            (Reset::Subtract, 3, 16),
        ] {
            for decode in [Decode::Rate, Decode::FirstSpike, Decode::Spikes] {
                let membrane = Membrane {
                    reset,
                    refractory,
                    substeps,
                    decode,
                    v_reset: -0.2,
                    ..Membrane::default()
                };
                // 150 neurons: two whole chunks and a part.
                let lif = Lif::new(5, 150).unwrap().with_membrane(membrane).unwrap();
                let p = spread(&lif, 3);
                let fused = steps(&lif, &p, 6, || Fire::<NoChunk>::Threshold);
                let theta = membrane.threshold;
                let separate = steps(&lif, &p, 6, || {
                    Fire::Chunk(
                        move |_: Chunk,
                              v: &[f64],
                              may: &[f64],
                              spikes: &mut [f64],
                              _: &mut [f64],
                              _: &mut crate::rng::QloopRng| {
                            for ((s, &may), &v) in spikes.iter_mut().zip(may).zip(v) {
                                *s = if may > 0.0 && v >= theta { 1.0 } else { 0.0 };
                            }
                        },
                    )
                });
                assert!(fused.iter().any(|&v| v != 0.0));
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&fused), bits(&separate), "{reset:?} {decode:?}");
            }
        }
    }

    #[test]
    fn kept_decays_are_the_ones_a_fresh_computation_gives() {
        let membrane = Membrane {
            substeps: 3,
            ..Membrane::default()
        };
        let lif = Lif::new(4, 70).unwrap().with_membrane(membrane).unwrap();
        let net = crate::train::Network::new(vec![lif.into()]).unwrap();
        let mut p = spread(&lif, 5);
        let x = Array2::from_elem((2, 4), 0.3);
        let dt = Array1::from_vec(vec![0.5, 0.25]);
        let run = |p: &[f64]| {
            let mut state = Array2::zeros((2, net.state_width()));
            let mut seen: Vec<f64> = (0..4)
                .flat_map(|_| {
                    net.step(p, x.view(), &mut state, dt.view(), Stream::new(0))
                        .unwrap()
                })
                .collect();
            // The membranes as well as the rates.
            seen.extend(state.iter().copied());
            seen
        };
        let fresh = |p: &[f64]| {
            DECAYS.with(|cell| cell.borrow_mut().clear());
            run(p)
        };
        let first = fresh(&p);
        // Kept from the run before, then from this one's first step: the same bits.
        assert_eq!(run(&p), first);
        // A parameter vector changed in place gets its own constants.
        let rho = p.len() - 1;
        p[rho] += 0.75;
        let changed = run(&p);
        assert_eq!(changed, fresh(&p));
        assert_ne!(changed, first);
        // More layers than the memo keeps: each still gets its own.
        for shift in 0..2 * Decays::KEPT {
            let mut q = p.clone();
            q[rho] += shift as f64 * 0.1;
            let kept = run(&q);
            assert_eq!(kept, fresh(&q));
        }
    }
}
