//! SPSA (simultaneous perturbation stochastic approximation, Spall 1992/1998) as an `argmin`
//! [`Solver`].
//!
//! Iteration `k` (0-based) with parameter blocks `b` (e.g. circuit angles and dense weights):
//!
//! ```text
//! a_k = a_b / (k + 1 + A)^α        c_k = c_b / (k + 1)^γ          (α = 0.602, γ = 0.101)
//! Δ_r ∈ {−1, +1}^d  (Rademacher, r = 1..R resamplings)
//! y±_r = L(θ ± c_k ∘ Δ_r)           (both with the same minibatch and shot-noise stream)
//! ĝ_i = (1/R) Σ_r (y+_r − y−_r) / (2 c_k Δ_{r,i})
//! θ ← bound(θ − a_k ∘ ĝ)
//! ```
//!
//! - **Calibration** (Spall's rule, as in Qiskit): for a block with [`StepSize::Calibrated`],
//!   `a_b = s₀ (A + 1)^α / mean|y+ − y−| / (2 c_b)` over a few perturbations of that block alone,
//!   so the first step moves each coordinate by about `s₀`. The values found are reported to the
//!   observers at `init` and kept in [`Spsa::gains`].
//! - `A` defaults to 0: calibration already sets the first step, and a large `A` keeps steps
//!   large for longer (measured worse on the Ising benchmark); Spall's 10% rule is an option.
//! - **Blocking** evaluates `L(θ)` and `L(θ_new)` on a common stream and rejects the step if
//!   the loss rises by more than a tolerance (by default twice the loss's noise level at `θ₀`).
//! - **Iterate averaging** (Polyak–Ruppert) from a chosen iteration on; periodic coordinates are
//!   averaged on the circle.
//! - **Bounds** per block: free, periodic (angles wrap into `[lo, hi)`), or clipped.
//! - All `2R` evaluations of an iteration (and the two of blocking) run in parallel on rayon.
//!
//! Every random number is addressed by `(seed, role, iteration, index)` ([`Stream`]), so a
//! seeded run is bit-identical at any thread count, and a run resumed from an argmin checkpoint
//! (the solver state is serializable) ends exactly as an uninterrupted one.
//!
//! The cost stored in argmin's state is an estimate of `L(θ_k)`: the mean of the `y±`, or, with
//! blocking, the loss of the accepted point.

use crate::rng::{role, Stream};
use crate::train::objective::{Objective, Probe};
use crate::train::optimize::{OptimState, Optimizer, OptimizerRecord};
use argmin::core::{
    Error as ArgminError, Problem, Solver, State, TerminationReason, TerminationStatus, KV,
};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// The argmin state SPSA works on: parameters `Vec<f64>`, cost `f64`.
pub type SpsaState = OptimState;

/// How the gain `a` of a block is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepSize {
    /// A fixed `a`.
    Fixed(f64),
    /// Calibrated so that the first step moves each coordinate by about this much.
    Calibrated(f64),
}

/// What happens to a block's coordinates after a step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bounds {
    /// Unbounded.
    Free,
    /// Wrapped into `[lo, hi)` (angles: `[−π, π)`).
    Periodic {
        /// Lower end (included).
        lo: f64,
        /// Upper end (excluded).
        hi: f64,
    },
    /// Clamped into `[lo, hi]`.
    Clip {
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
    },
}

impl Bounds {
    fn apply(self, x: f64) -> f64 {
        match self {
            Bounds::Free => x,
            Bounds::Periodic { lo, hi } => lo + (x - lo).rem_euclid(hi - lo),
            Bounds::Clip { lo, hi } => x.clamp(lo, hi),
        }
    }
}

/// A block of coordinates with its own gains and bounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    /// The coordinates.
    pub range: Range<usize>,
    /// The gain `a` or how to calibrate it.
    pub step: StepSize,
    /// The perturbation size `c`.
    pub c: f64,
    /// Bounds applied after each step.
    pub bounds: Bounds,
}

/// SPSA blocking: reject steps that raise the loss (Spall 1998; not cache blocking,
/// [`crate::Blocking`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepBlocking {
    /// Allowed rise; `None` = twice the noise level: the standard deviation of the loss at
    /// `θ₀` over independent streams (zero for an exact objective).
    pub tolerance: Option<f64>,
}

/// Stop when the best cost has not improved by more than `tolerance` in `window` iterations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stall {
    /// Iterations without improvement before stopping.
    pub window: u64,
    /// Minimum improvement that counts.
    pub tolerance: f64,
}

/// Running sums for iterate averaging.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Average {
    count: u64,
    sum: Vec<f64>,
    sin: Vec<f64>,
    cos: Vec<f64>,
}

/// The SPSA solver. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spsa {
    seed: u64,
    blocks: Vec<Block>,
    alpha: f64,
    gamma: f64,
    stability: Option<f64>,
    resamplings: usize,
    calibration_samples: usize,
    blocking: Option<StepBlocking>,
    averaging_from: Option<u64>,
    stall: Option<Stall>,
    // Run state (filled by `init`, carried through checkpoints).
    gains: Vec<f64>,
    insensitive: Vec<bool>,
    big_a: f64,
    blocking_tolerance: f64,
    average: Option<Average>,
    best: (f64, u64),
    rejected: u64,
    history: Vec<f64>,
}

/// The gains in force, as reported after calibration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gains {
    /// `a` of each block.
    pub a: Vec<f64>,
    /// Blocks whose calibration found no dependence of the loss on them (their `a` is then
    /// `s₀ (A + 1)^α`, a unit-gradient gain).
    pub insensitive: Vec<usize>,
    /// `c` of each block.
    pub c: Vec<f64>,
    /// The stability constant `A`.
    pub big_a: f64,
    /// `α`.
    pub alpha: f64,
    /// `γ`.
    pub gamma: f64,
}

const KEY_A: [&str; 4] = ["a_k", "a_k[1]", "a_k[2]", "a_k[3]"];
const KEY_C: [&str; 4] = ["c_k", "c_k[1]", "c_k[2]", "c_k[3]"];
const KEY_GAIN: [&str; 4] = ["a", "a[1]", "a[2]", "a[3]"];

impl Spsa {
    /// qloop's defaults: Spall's exponents (α = 0.602, γ = 0.101), `A = 0`, one block over every
    /// coordinate with `c = 0.2` and `a` calibrated for a first step of 1.0, two resamplings
    /// and blocking at the noise level. (Chosen on the 4-qubit Ising benchmark of the `vqe`
    /// example; see `docs/performance.md`.)
    pub fn new(seed: u64) -> Self {
        Spsa {
            seed,
            blocks: Vec::new(),
            alpha: 0.602,
            gamma: 0.101,
            stability: Some(0.0),
            resamplings: 2,
            calibration_samples: 25,
            blocking: Some(StepBlocking { tolerance: None }),
            averaging_from: None,
            stall: None,
            gains: Vec::new(),
            insensitive: Vec::new(),
            big_a: 0.0,
            blocking_tolerance: 0.0,
            average: None,
            best: (f64::INFINITY, 0),
            rejected: 0,
            history: Vec::new(),
        }
    }

    /// Settings for the lowest exact loss at a fixed budget of evaluations: one perturbation
    /// pair per iteration and no blocking (so every two evaluations buy an iteration), one
    /// block over all `dim` coordinates with `c = 0.15` and `a` calibrated for a first step
    /// of 2.5, Spall's exponents, `A = 0`. On TFIM-4 with the ansatz of `circuits/hea4.json`
    /// (`cargo run --release --example spsa_budget`, three sets of 40 random starts) the median
    /// final energy is −4.748 to −4.750 at 2,051 evaluations and −4.686 to −4.701 at 651,
    /// where [`Spsa::new`] reaches −4.697 to −4.731 and −4.574 to −4.642
    /// (`docs/performance.md`). `qloop minimize` uses these settings.
    pub fn budgeted(seed: u64, dim: usize) -> Self {
        Spsa::new(seed).resamplings(1).blocking(None).block(
            0..dim,
            StepSize::Calibrated(2.5),
            0.15,
            Bounds::Free,
        )
    }

    /// Adds a block; blocks must not overlap and together cover the parameter vector.
    #[must_use]
    pub fn block(mut self, range: Range<usize>, step: StepSize, c: f64, bounds: Bounds) -> Self {
        self.blocks.push(Block {
            range,
            step,
            c,
            bounds,
        });
        self
    }

    /// Sets the exponents `α` and `γ`.
    #[must_use]
    pub fn exponents(mut self, alpha: f64, gamma: f64) -> Self {
        self.alpha = alpha;
        self.gamma = gamma;
        self
    }

    /// Sets the stability constant `A` (default 0); `None` = 10% of the iteration budget
    /// (Spall's rule of thumb).
    #[must_use]
    pub fn stability(mut self, big_a: Option<f64>) -> Self {
        self.stability = big_a;
        self
    }

    /// Averages `R` gradient estimates per iteration.
    #[must_use]
    pub fn resamplings(mut self, r: usize) -> Self {
        self.resamplings = r.max(1);
        self
    }

    /// Number of perturbations used to calibrate each block's `a`.
    #[must_use]
    pub fn calibration_samples(mut self, n: usize) -> Self {
        self.calibration_samples = n.max(1);
        self
    }

    /// Blocking: `None` turns it off, `Some(b)` sets it.
    #[must_use]
    pub fn blocking(mut self, blocking: Option<StepBlocking>) -> Self {
        self.blocking = blocking;
        self
    }

    /// Averages iterates from iteration `from` on; see [`Spsa::final_param`].
    #[must_use]
    pub fn averaging(mut self, from: u64) -> Self {
        self.averaging_from = Some(from);
        self
    }

    /// Stops when the best cost stalls.
    #[must_use]
    pub fn stall(mut self, window: u64, tolerance: f64) -> Self {
        self.stall = Some(Stall { window, tolerance });
        self
    }

    /// The gains in force (after `init`: the calibrated values).
    pub fn gains(&self) -> Gains {
        Gains {
            a: self.gains.clone(),
            insensitive: self
                .insensitive
                .iter()
                .enumerate()
                .filter(|(_, &i)| i)
                .map(|(b, _)| b)
                .collect(),
            c: self.blocks.iter().map(|b| b.c).collect(),
            big_a: self.big_a,
            alpha: self.alpha,
            gamma: self.gamma,
        }
    }

    /// The cost estimate of every iteration so far (kept in checkpoints, so a resumed run has
    /// the whole curve).
    pub fn history(&self) -> &[f64] {
        &self.history
    }

    /// Steps rejected by blocking so far.
    pub fn rejected_steps(&self) -> u64 {
        self.rejected
    }

    /// The result: the averaged iterate when averaging has begun, else the state's parameters.
    pub fn final_param(&self, state: &SpsaState) -> Option<Vec<f64>> {
        match &self.average {
            Some(avg) if avg.count > 0 => Some(self.averaged(avg)),
            _ => state.get_param().cloned(),
        }
    }

    fn averaged(&self, avg: &Average) -> Vec<f64> {
        let mut out: Vec<f64> = avg.sum.iter().map(|s| s / avg.count as f64).collect();
        for b in &self.blocks {
            if let Bounds::Periodic { .. } = b.bounds {
                for i in b.range.clone() {
                    out[i] = b.bounds.apply(avg.sin[i].atan2(avg.cos[i]));
                }
            }
        }
        out
    }

    fn block_of(&self, dim: usize) -> Vec<usize> {
        let mut owner = vec![usize::MAX; dim];
        for (b, block) in self.blocks.iter().enumerate() {
            for i in block.range.clone() {
                owner[i] = b;
            }
        }
        owner
    }

    fn rademacher(stream: Stream, dim: usize) -> Vec<f64> {
        let mut rng = stream.rng();
        let mut out = Vec::with_capacity(dim);
        while out.len() < dim {
            let bits: u64 = rng.random();
            out.extend((0..64.min(dim - out.len())).map(|j| {
                if (bits >> j) & 1 == 1 {
                    1.0
                } else {
                    -1.0
                }
            }));
        }
        out
    }

    /// Evaluates the probes in parallel, in order (argmin's `bulk_cost`, counted).
    fn evaluate<O: Objective>(
        problem: &mut Problem<O>,
        jobs: &[Probe],
    ) -> Result<Vec<f64>, ArgminError> {
        problem.bulk_cost(jobs)
    }
}

/// `dim` Rademacher signs (±1) drawn from `stream`.
pub(crate) fn rademacher(stream: Stream, dim: usize) -> Vec<f64> {
    Spsa::rademacher(stream, dim)
}

/// One SPSA gradient estimate at `theta`: `ĝ_i = (L(θ + c∘Δ) − L(θ − c∘Δ)) / (2 c_i Δ_i)` with
/// Rademacher `Δ` drawn from `stream.child(role::PERTURB)` and both losses evaluated on
/// `stream.child(role::EVAL)` (the estimator each iteration of [`Spsa`] averages).
pub fn gradient_estimate<O: Objective>(
    objective: &O,
    theta: &[f64],
    c: &[f64],
    stream: Stream,
) -> crate::Result<Vec<f64>> {
    let delta = Spsa::rademacher(stream.child(role::PERTURB), theta.len());
    let eval = stream.child(role::EVAL);
    let shifted = |sign: f64| -> Vec<f64> {
        theta
            .iter()
            .zip(c)
            .zip(&delta)
            .map(|((t, c), d)| t + sign * c * d)
            .collect()
    };
    let (plus, minus) = rayon::join(
        || objective.cost(&Probe::new(shifted(1.0), eval)),
        || objective.cost(&Probe::new(shifted(-1.0), eval)),
    );
    let diff =
        plus.map_err(crate::Error::from_argmin)? - minus.map_err(crate::Error::from_argmin)?;
    Ok(c.iter()
        .zip(&delta)
        .map(|(c, d)| diff / (2.0 * c * d))
        .collect())
}

fn invalid(msg: String) -> ArgminError {
    argmin::core::ArgminError::InvalidParameter { text: msg }.into()
}

impl<O: Objective> Solver<O, SpsaState> for Spsa {
    fn name(&self) -> &str {
        "SPSA"
    }

    fn init(
        &mut self,
        problem: &mut Problem<O>,
        state: SpsaState,
    ) -> Result<(SpsaState, Option<KV>), ArgminError> {
        let theta = state.get_param().cloned().ok_or_else(|| {
            invalid("SPSA needs an initial parameter vector (configure `param`)".into())
        })?;
        let dim = problem
            .problem
            .as_ref()
            .map(O::num_params)
            .unwrap_or(theta.len());
        if theta.len() != dim {
            return Err(invalid(format!(
                "initial parameter vector has {} values, the objective takes {dim}",
                theta.len()
            )));
        }
        if self.blocks.is_empty() {
            self.blocks.push(Block {
                range: 0..dim,
                step: StepSize::Calibrated(1.0),
                c: 0.2,
                bounds: Bounds::Free,
            });
        }
        let owner = self.block_of(dim);
        if let Some(i) = owner.iter().position(|&b| b == usize::MAX) {
            return Err(invalid(format!("coordinate {i} belongs to no SPSA block")));
        }
        let covered: usize = self.blocks.iter().map(|b| b.range.len()).sum();
        if covered != dim || self.blocks.iter().any(|b| b.range.end > dim) {
            return Err(invalid(format!(
                "SPSA blocks {:?} do not partition 0..{dim}",
                self.blocks
                    .iter()
                    .map(|b| b.range.clone())
                    .collect::<Vec<_>>()
            )));
        }
        if let Some(b) = self.blocks.iter().find(|b| !(b.c > 0.0 && b.c.is_finite())) {
            return Err(invalid(format!(
                "perturbation c = {} of block {:?} must be positive",
                b.c, b.range
            )));
        }
        self.big_a = self
            .stability
            .unwrap_or(0.1 * state.get_max_iters().min(1 << 40) as f64);
        let root = Stream::new(self.seed).child(role::CALIBRATE);

        // Calibrate: perturb one block at a time; record |y+ − y−| / 2c and the losses' spread.
        let mut jobs = Vec::new();
        for (b, block) in self.blocks.iter().enumerate() {
            if matches!(block.step, StepSize::Fixed(_))
                && self.blocking.is_none_or(|bl| bl.tolerance.is_some())
            {
                continue;
            }
            for s in 0..self.calibration_samples {
                let stream = root.child(b as u64).child(s as u64);
                let delta = Self::rademacher(stream.child(role::PERTURB), dim);
                for sign in [1.0, -1.0] {
                    let mut p = theta.clone();
                    for i in block.range.clone() {
                        p[i] += sign * block.c * delta[i];
                    }
                    jobs.push((b, p, stream.child(role::EVAL)));
                }
            }
        }
        let mut pairs: Vec<Probe> = jobs
            .iter()
            .map(|(_, p, s)| Probe::new(p.clone(), *s))
            .collect();
        // The noise level at θ₀ (for blocking): the loss under independent streams.
        let noise_samples = if self.blocking.is_some_and(|b| b.tolerance.is_none()) {
            self.calibration_samples.max(2)
        } else {
            0
        };
        pairs.extend(
            (0..noise_samples)
                .map(|s| Probe::new(theta.clone(), root.child(u64::MAX).child(s as u64))),
        );
        let mut ys = Self::evaluate(problem, &pairs)?;
        let noise = ys.split_off(ys.len() - noise_samples);
        let mut kv = KV::new();
        self.gains.clear();
        self.insensitive.clear();
        for (b, block) in self.blocks.iter().enumerate() {
            let diffs: Vec<f64> = jobs
                .chunks(2)
                .zip(ys.chunks(2))
                .filter(|(j, _)| j[0].0 == b)
                .map(|(_, y)| (y[0] - y[1]).abs() / (2.0 * block.c))
                .collect();
            let a = match block.step {
                StepSize::Fixed(a) => a,
                StepSize::Calibrated(first) => {
                    let magnitude = diffs.iter().sum::<f64>() / diffs.len().max(1) as f64;
                    // Loss differences at rounding level (relative 1e-10 of the loss) mean the
                    // loss does not depend on this block; dividing by them would give an
                    // absurd gain, so such a block gets a unit-gradient gain and is reported.
                    let scale = ys.iter().map(|y| y.abs()).sum::<f64>() / ys.len().max(1) as f64;
                    let insensitive =
                        !(magnitude > 1e-10 * (scale + 1e-300) && magnitude.is_finite());
                    self.insensitive.push(insensitive);
                    if insensitive {
                        first * (self.big_a + 1.0).powf(self.alpha)
                    } else {
                        first * (self.big_a + 1.0).powf(self.alpha) / magnitude
                    }
                }
            };
            if b < KEY_GAIN.len() {
                kv.insert(KEY_GAIN[b], a.into());
            }
            self.gains.push(a);
        }
        self.blocking_tolerance = match self.blocking {
            Some(StepBlocking { tolerance: Some(t) }) => t,
            Some(StepBlocking { tolerance: None }) => {
                let mean = noise.iter().sum::<f64>() / noise.len() as f64;
                let var = noise.iter().map(|y| (y - mean).powi(2)).sum::<f64>()
                    / (noise.len() - 1) as f64;
                2.0 * var.sqrt()
            }
            _ => 0.0,
        };
        kv.insert("A", self.big_a.into());
        kv.insert("blocking_tolerance", self.blocking_tolerance.into());
        let dim_kv = dim as u64;
        kv.insert("dimension", dim_kv.into());
        Ok((state, Some(kv)))
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        mut state: SpsaState,
    ) -> Result<(SpsaState, Option<KV>), ArgminError> {
        let k = state.get_iter();
        let theta = state
            .take_param()
            .ok_or_else(|| invalid("SPSA state lost its parameters".into()))?;
        let dim = theta.len();
        let owner = self.block_of(dim);
        let kf = k as f64;
        let a_k: Vec<f64> = self
            .gains
            .iter()
            .map(|a| a / (kf + 1.0 + self.big_a).powf(self.alpha))
            .collect();
        let c_k: Vec<f64> = self
            .blocks
            .iter()
            .map(|b| b.c / (kf + 1.0).powf(self.gamma))
            .collect();
        let root = Stream::new(self.seed);

        let deltas: Vec<Vec<f64>> = (0..self.resamplings)
            .map(|r| Self::rademacher(root.child(role::PERTURB).child(k).child(r as u64), dim))
            .collect();
        let mut jobs = Vec::with_capacity(2 * self.resamplings);
        for (r, delta) in deltas.iter().enumerate() {
            let stream = root.child(role::EVAL).child(k).child(r as u64);
            for sign in [1.0, -1.0] {
                let p: Vec<f64> = (0..dim)
                    .map(|i| theta[i] + sign * c_k[owner[i]] * delta[i])
                    .collect();
                jobs.push(Probe::new(p, stream));
            }
        }
        let ys = Self::evaluate(problem, &jobs)?;
        if let Some(bad) = ys.iter().find(|y| !y.is_finite()) {
            return Err(invalid(format!("the loss is {bad} at iteration {k}")));
        }

        let r_count = self.resamplings as f64;
        let mut next = theta.clone();
        for i in 0..dim {
            let b = owner[i];
            let g: f64 = deltas
                .iter()
                .zip(ys.chunks(2))
                .map(|(d, y)| (y[0] - y[1]) / (2.0 * c_k[b] * d[i]))
                .sum::<f64>()
                / r_count;
            next[i] = self.blocks[b].bounds.apply(theta[i] - a_k[b] * g);
        }
        let y_plus = ys.iter().step_by(2).sum::<f64>() / r_count;
        let y_minus = ys.iter().skip(1).step_by(2).sum::<f64>() / r_count;
        let mut cost = 0.5 * (y_plus + y_minus);
        let mut accepted = true;
        if self.blocking.is_some() {
            let stream = root.child(role::BLOCK).child(k);
            let pair = Self::evaluate(
                problem,
                &[
                    Probe::new(theta.clone(), stream),
                    Probe::new(next.clone(), stream),
                ],
            )?;
            if pair[1] > pair[0] + self.blocking_tolerance {
                accepted = false;
                self.rejected += 1;
                next.clone_from(&theta);
                cost = pair[0];
            } else {
                cost = pair[1];
            }
        }
        let step_norm = theta
            .iter()
            .zip(&next)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt();

        if let Some(from) = self.averaging_from {
            if k >= from {
                let avg = self.average.get_or_insert_with(|| Average {
                    count: 0,
                    sum: vec![0.0; dim],
                    sin: vec![0.0; dim],
                    cos: vec![0.0; dim],
                });
                avg.count += 1;
                for (i, &x) in next.iter().enumerate() {
                    avg.sum[i] += x;
                    avg.sin[i] += x.sin();
                    avg.cos[i] += x.cos();
                }
            }
        }
        self.history.push(cost);
        if cost < self.best.0 - self.stall.map_or(0.0, |s| s.tolerance) {
            self.best = (cost, k);
        }

        let mut kv = KV::new();
        for b in 0..self.blocks.len().min(KEY_A.len()) {
            kv.insert(KEY_A[b], a_k[b].into());
            kv.insert(KEY_C[b], c_k[b].into());
        }
        kv.insert("y_plus", y_plus.into());
        kv.insert("y_minus", y_minus.into());
        kv.insert("step_norm", step_norm.into());
        kv.insert("accepted", accepted.into());
        Ok((state.param(next).cost(cost), Some(kv)))
    }

    fn terminate(&mut self, state: &SpsaState) -> TerminationStatus {
        if let Some(stall) = self.stall {
            let k = state.get_iter();
            if k > self.best.1 + stall.window {
                return TerminationStatus::Terminated(TerminationReason::SolverExit(format!(
                    "stalled: no improvement of the loss by more than {} in {} iterations",
                    stall.tolerance, stall.window
                )));
            }
        }
        TerminationStatus::NotTerminated
    }
}

impl Optimizer<SpsaState> for Spsa {
    fn final_param(&self, state: &SpsaState) -> Option<Vec<f64>> {
        Spsa::final_param(self, state)
    }

    fn history(&self) -> Vec<f64> {
        self.history.clone()
    }

    /// The settings (blocks, exponents, resamplings, blocking, averaging, stall) and the gains
    /// in force.
    fn record(&self) -> OptimizerRecord {
        let settings = serde_json::json!({
            "seed": self.seed,
            "blocks": self.blocks,
            "alpha": self.alpha,
            "gamma": self.gamma,
            "stability": self.stability,
            "resamplings": self.resamplings,
            "calibration_samples": self.calibration_samples,
            "blocking": self.blocking,
            "averaging_from": self.averaging_from,
            "stall": self.stall,
            "gains": self.gains(),
            "rejected_steps": self.rejected,
        });
        OptimizerRecord {
            name: "SPSA".into(),
            settings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periodic_bounds_wrap_into_range() {
        let b = Bounds::Periodic {
            lo: -std::f64::consts::PI,
            hi: std::f64::consts::PI,
        };
        assert!((b.apply(4.0) - (4.0 - 2.0 * std::f64::consts::PI)).abs() < 1e-15);
        assert_eq!(b.apply(0.5), 0.5);
        assert_eq!(Bounds::Clip { lo: 0.0, hi: 1.0 }.apply(3.0), 1.0);
    }

    #[test]
    fn rademacher_is_balanced_and_seeded() {
        let d = Spsa::rademacher(Stream::new(3), 1000);
        assert_eq!(d, Spsa::rademacher(Stream::new(3), 1000));
        let plus = d.iter().filter(|&&x| x == 1.0).count();
        assert!(d.iter().all(|x| x.abs() == 1.0) && (430..570).contains(&plus));
    }
}
