//! Sequence tasks generated from a seed (nothing is downloaded): the benchmarks of the
//! liquid layers and the sequence data sets of `qloop train`.
//!
//! - [`sensors`]: multi-sensor regression with jittered sampling times. Each sample watches
//!   a hidden oscillator `φ(t) = ω t + φ₀` (ω drawn per sample from `[0.8, 1.2]`) through
//!   `C` sensors, channel `c` reading `a_c sin(φ(t) + cπ/4) + ε` (`a_c = 1 − c/(2C)`,
//!   `ε ~ N(0, noise²)`), at times whose gaps are `Δ₀ (1 + j u)`, `u ~ U(−1, 1)` (`Δ₀`
//!   the nominal gap, [`SENSOR_GAP`] by default).
//!   The target is the clean first channel one nominal gap after the last reading,
//!   `a_0 sin(φ(t_last + Δ₀))`. The elapsed times are the cell's `Δt`.
//! - [`xor_events`]: the event-based bit-stream XOR of Lechner & Hasani (2020), also used in
//!   the CfC paper: `B` random bits, stored as events, one per run of equal bits, whose
//!   input is the bit and whose elapsed time is the run's length; the target is the parity of
//!   all `B` bits. Only a cell that integrates elapsed time can count the bits in a run.
//! - [`Pendulum`]: an inverted pendulum under torque control at 1 kHz with an LQR expert,
//!   for imitation learning ([`Pendulum::imitation`]) and a closed-loop cost of any
//!   controller ([`Pendulum::closed_loop`]).

use crate::error::{Error, Result};
use crate::rng::Stream;
use ndarray::Array2;
use rand::seq::SliceRandom;
use rand::Rng;
use rand_distr::{Distribution, Normal};
use std::f64::consts::PI;

/// Sequences with elapsed times and one target row per sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceSet {
    /// Steps × channels, one per sample (lengths may differ).
    pub sequences: Vec<Array2<f64>>,
    /// Elapsed time before each step, one list per sample.
    pub dt: Vec<Vec<f64>>,
    /// Samples × target width.
    pub targets: Array2<f64>,
}

impl SequenceSet {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.sequences.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.sequences.is_empty()
    }

    /// Channels per step.
    pub fn channels(&self) -> usize {
        self.sequences.first().map_or(0, Array2::ncols)
    }

    /// The samples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Self {
        SequenceSet {
            sequences: indices.iter().map(|&i| self.sequences[i].clone()).collect(),
            dt: indices.iter().map(|&i| self.dt[i].clone()).collect(),
            targets: self.targets.select(ndarray::Axis(0), indices),
        }
    }

    /// A seeded shuffle split: the first `round(test_fraction · len)` shuffled samples are
    /// the test part. Returns `(train, test)`.
    pub fn split(&self, test_fraction: f64, seed: u64) -> Result<(Self, Self)> {
        if !(0.0..1.0).contains(&test_fraction) {
            return Err(Error::Shape {
                context: "train/test split".into(),
                message: format!("test fraction must lie in [0, 1), got {test_fraction}"),
            });
        }
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(&mut Stream::new(seed).rng());
        let cut = (test_fraction * self.len() as f64).round() as usize;
        if cut >= self.len() {
            return Err(Error::Shape {
                context: "train/test split".into(),
                message: format!(
                    "test fraction {test_fraction} leaves none of the {} sequences for training",
                    self.len()
                ),
            });
        }
        let (test, train) = order.split_at(cut);
        Ok((self.select(train), self.select(test)))
    }

    /// The mean squared error of predicting every target by the mean target of `reference`
    /// (the baseline a model has to beat).
    pub fn mean_baseline_mse(&self, reference: &SequenceSet) -> f64 {
        let mean = reference.targets.mean_axis(ndarray::Axis(0));
        let Some(mean) = mean else { return f64::NAN };
        let diff = &self.targets - &mean;
        diff.mapv(|d| d * d).mean().unwrap_or(f64::NAN)
    }
}

/// The default nominal sampling gap of [`sensors`].
pub const SENSOR_GAP: f64 = 0.3;

/// Multi-sensor regression with jittered sampling times (see the [module docs](self)):
/// `samples` sequences of `steps` readings of `channels` sensors, nominal gap `gap > 0`
/// jittered by the fraction `jitter ∈ [0, 1)`, sensor noise of standard deviation `noise`.
///
/// ```
/// let set = qloop::train::tasks::sensors(10, 3, 12, 0.3, 0.5, 0.05, 1).unwrap();
/// assert_eq!((set.len(), set.channels(), set.sequences[0].nrows()), (10, 3, 12));
/// assert!(set.dt[0].iter().all(|&d| (0.15..=0.45).contains(&d)));
/// ```
pub fn sensors(
    samples: usize,
    channels: usize,
    steps: usize,
    gap: f64,
    jitter: f64,
    noise: f64,
    seed: u64,
) -> Result<SequenceSet> {
    check_size("sensors", "samples", samples)?;
    check_size("sensors", "channels", channels)?;
    check_size("sensors", "steps", steps)?;
    let valid = (0.0..1.0).contains(&jitter)
        && noise >= 0.0
        && noise.is_finite()
        && gap > 0.0
        && gap.is_finite();
    if !valid {
        return Err(Error::Shape {
            context: "sensors".into(),
            message: format!(
                "the gap must be positive, the jitter lie in [0, 1) and the noise be finite and non-negative, got {gap}, {jitter} and {noise}"
            ),
        });
    }
    let gain = |c: usize| 1.0 - c as f64 / (2 * channels) as f64;
    let noise = Normal::new(0.0, noise).expect("checked");
    let (mut sequences, mut dts) = (Vec::new(), Vec::new());
    let mut targets = Array2::zeros((samples, 1));
    for k in 0..samples {
        let mut rng = Stream::new(seed).child(k as u64).rng();
        let omega = rng.random_range(0.8..1.2);
        let phase = rng.random_range(0.0..2.0 * PI);
        let dt: Vec<f64> = (0..steps)
            .map(|_| gap * (1.0 + jitter * rng.random_range(-1.0..=1.0)))
            .collect();
        let mut t = 0.0;
        let mut seq = Array2::zeros((steps, channels));
        for (s, gap) in dt.iter().enumerate() {
            t += gap;
            for c in 0..channels {
                let clean = gain(c) * (omega * t + phase + c as f64 * PI / 4.0).sin();
                seq[[s, c]] = clean + noise.sample(&mut rng);
            }
        }
        targets[[k, 0]] = gain(0) * (omega * (t + gap) + phase).sin();
        sequences.push(seq);
        dts.push(dt);
    }
    Ok(SequenceSet {
        sequences,
        dt: dts,
        targets,
    })
}

/// The event-based bit-stream XOR (see the [module docs](self)): `samples` streams of
/// `bits` random bits, one event per run of equal bits.
///
/// ```
/// let set = qloop::train::tasks::xor_events(20, 8, 3).unwrap();
/// for k in 0..set.len() {
///     let total: f64 = set.dt[k].iter().sum();
///     assert_eq!(total, 8.0);
///     let ones: f64 = (0..set.sequences[k].nrows())
///         .map(|e| set.sequences[k][[e, 0]] * set.dt[k][e])
///         .sum();
///     assert_eq!(set.targets[[k, 0]], ones % 2.0);
/// }
/// ```
pub fn xor_events(samples: usize, bits: usize, seed: u64) -> Result<SequenceSet> {
    check_size("xor-events", "samples", samples)?;
    check_size("xor-events", "bits", bits)?;
    let (mut sequences, mut dts) = (Vec::new(), Vec::new());
    let mut targets = Array2::zeros((samples, 1));
    for k in 0..samples {
        let mut rng = Stream::new(seed).child(k as u64).rng();
        let stream: Vec<bool> = (0..bits).map(|_| rng.random()).collect();
        let mut events: Vec<(bool, f64)> = Vec::new();
        for &b in &stream {
            match events.last_mut() {
                Some((last, run)) if *last == b => *run += 1.0,
                _ => events.push((b, 1.0)),
            }
        }
        targets[[k, 0]] = (stream.iter().filter(|&&b| b).count() % 2) as f64;
        sequences.push(Array2::from_shape_fn((events.len(), 1), |(e, _)| {
            events[e].0 as u8 as f64
        }));
        dts.push(events.iter().map(|e| e.1).collect());
    }
    Ok(SequenceSet {
        sequences,
        dt: dts,
        targets,
    })
}

fn check_size(context: &str, name: &str, value: usize) -> Result<()> {
    const MAX: usize = 1 << 20;
    match (1..=MAX).contains(&value) {
        true => Ok(()),
        false => Err(Error::Shape {
            context: context.into(),
            message: format!("{name} must lie in 1..={MAX}, got {value}"),
        }),
    }
}

/// An inverted pendulum (angle `θ` from upright, rate `ω`) under a bounded torque `u`,
///
/// ```text
/// θ̈ = (g/l) sin θ − b θ̇ + u / (m l²)
/// ```
///
/// with `g/l = 9.81 s⁻²`, `b = 0.1 s⁻¹`, `m l² = 1 kg m²`, `|u| ≤ 5 N m`, stepped at 1 kHz by
/// semi-implicit Euler. The expert is the discrete LQR of the linearisation about upright
/// with `Q = diag(10, 1)`, `R = 0.1`; the closed-loop cost of a 2 s run is
/// `Σ (θ² + 0.1 ω² + 0.01 u²) · h` with `h = 1 ms`. Controllers see the scaled observation
/// `(θ / 0.5, ω / 2)` with sensor noise of standard deviation 0.01 and answer `u / 5`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pendulum {
    /// The LQR gain: `u = −K·(θ, ω)`.
    pub gain: [f64; 2],
}

/// The control period of [`Pendulum`]: 1 ms.
pub const CONTROL_PERIOD: f64 = 1e-3;
/// Steps of a closed-loop run of [`Pendulum`]: 2 s at 1 kHz.
pub const CLOSED_LOOP_STEPS: usize = 2000;
const G_OVER_L: f64 = 9.81;
const DAMPING: f64 = 0.1;
const MAX_TORQUE: f64 = 5.0;
const OBS_SCALE: [f64; 2] = [0.5, 2.0];
const OBS_NOISE: f64 = 0.01;

/// The outcome of one closed-loop run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClosedLoop {
    /// `Σ (θ² + 0.1 ω² + 0.01 u²) · h`.
    pub cost: f64,
    /// `|θ|` at the end.
    pub final_angle: f64,
}

impl Default for Pendulum {
    fn default() -> Self {
        Self::new()
    }
}

impl Pendulum {
    /// The pendulum with its LQR gain (the discrete Riccati recursion iterated to a fixed
    /// point).
    pub fn new() -> Self {
        let h = CONTROL_PERIOD;
        // x' = A x + B u, Euler-discretised: A = [[1, h], [g/l h, 1 − b h]], B = [0, h].
        let a = [[1.0, h], [G_OVER_L * h, 1.0 - DAMPING * h]];
        let b = [0.0, h];
        let (q, r) = ([10.0, 1.0], 0.1);
        let mut p = [[q[0], 0.0], [0.0, q[1]]];
        let mut k = [0.0; 2];
        for _ in 0..200_000 {
            // K = (R + Bᵀ P B)⁻¹ Bᵀ P A; P ← Q + Aᵀ P (A − B K).
            let pb = [
                p[0][0] * b[0] + p[0][1] * b[1],
                p[1][0] * b[0] + p[1][1] * b[1],
            ];
            let s = r + b[0] * pb[0] + b[1] * pb[1];
            let k_new = [
                (pb[0] * a[0][0] + pb[1] * a[1][0]) / s,
                (pb[0] * a[0][1] + pb[1] * a[1][1]) / s,
            ];
            let closed = [
                [a[0][0] - b[0] * k_new[0], a[0][1] - b[0] * k_new[1]],
                [a[1][0] - b[1] * k_new[0], a[1][1] - b[1] * k_new[1]],
            ];
            let mut next = [[0.0; 2]; 2];
            for i in 0..2 {
                for j in 0..2 {
                    let mut v = if i == j { q[i] } else { 0.0 };
                    for m in 0..2 {
                        for n in 0..2 {
                            v += a[m][i] * p[m][n] * closed[n][j];
                        }
                    }
                    next[i][j] = v;
                }
            }
            let done = (k_new[0] - k[0]).abs() + (k_new[1] - k[1]).abs() < 1e-12;
            p = next;
            k = k_new;
            if done {
                break;
            }
        }
        Pendulum { gain: k }
    }

    /// The expert torque at `(θ, ω)`, bounded.
    pub fn expert(&self, theta: f64, omega: f64) -> f64 {
        (-(self.gain[0] * theta + self.gain[1] * omega)).clamp(-MAX_TORQUE, MAX_TORQUE)
    }

    /// One control period from `(θ, ω)` under torque `u` (bounded).
    pub fn step(theta: f64, omega: f64, u: f64) -> (f64, f64) {
        let u = u.clamp(-MAX_TORQUE, MAX_TORQUE);
        let omega = omega + CONTROL_PERIOD * (G_OVER_L * theta.sin() - DAMPING * omega + u);
        (theta + CONTROL_PERIOD * omega, omega)
    }

    /// The scaled, noisy observation of `(θ, ω)`.
    pub fn observe(theta: f64, omega: f64, rng: &mut impl Rng) -> [f64; 2] {
        let noise = Normal::new(0.0, OBS_NOISE).expect("valid");
        [
            theta / OBS_SCALE[0] + noise.sample(rng),
            omega / OBS_SCALE[1] + noise.sample(rng),
        ]
    }

    /// A random initial state: `θ ~ U(−0.4, 0.4)`, `ω ~ U(−0.5, 0.5)`.
    pub fn initial(rng: &mut impl Rng) -> (f64, f64) {
        (rng.random_range(-0.4..0.4), rng.random_range(-0.5..0.5))
    }

    /// Imitation data: `samples` windows of `window` observations (the cell's `Δt` is
    /// `cell_dt` per control period) taken from expert runs with exploration noise on the
    /// applied torque (standard deviation 1 N m), each labelled with the expert's scaled
    /// torque at the window's last state.
    pub fn imitation(
        &self,
        samples: usize,
        window: usize,
        cell_dt: f64,
        seed: u64,
    ) -> Result<SequenceSet> {
        check_size("pendulum", "samples", samples)?;
        check_size("pendulum", "window", window)?;
        if !(cell_dt > 0.0 && cell_dt.is_finite()) {
            return Err(Error::Shape {
                context: "pendulum".into(),
                message: format!("the cell's dt must be positive and finite, got {cell_dt}"),
            });
        }
        let explore = Normal::new(0.0, 1.0).expect("valid");
        let (mut sequences, mut dts) = (Vec::new(), Vec::new());
        let mut targets = Array2::zeros((samples, 1));
        for k in 0..samples {
            let mut rng = Stream::new(seed).child(k as u64).rng();
            let (mut theta, mut omega) = Self::initial(&mut rng);
            // Start the window somewhere in the first half second of a run.
            let skip = rng.random_range(0..500);
            let mut seq = Array2::zeros((window, 2));
            for t in 0..skip + window {
                if t >= skip {
                    let obs = Self::observe(theta, omega, &mut rng);
                    seq[[t - skip, 0]] = obs[0];
                    seq[[t - skip, 1]] = obs[1];
                }
                if t + 1 == skip + window {
                    targets[[k, 0]] = self.expert(theta, omega) / MAX_TORQUE;
                }
                let u = self.expert(theta, omega) + explore.sample(&mut rng);
                (theta, omega) = Self::step(theta, omega, u);
            }
            sequences.push(seq);
            dts.push(vec![cell_dt; window]);
        }
        Ok(SequenceSet {
            sequences,
            dt: dts,
            targets,
        })
    }

    /// Runs `controller` (scaled observation → scaled torque) closed-loop for
    /// [`CLOSED_LOOP_STEPS`] periods from a random initial state drawn from `stream`.
    pub fn closed_loop(
        &self,
        stream: Stream,
        mut controller: impl FnMut([f64; 2]) -> f64,
    ) -> ClosedLoop {
        let mut rng = stream.rng();
        let (mut theta, mut omega) = Self::initial(&mut rng);
        let mut cost = 0.0;
        for _ in 0..CLOSED_LOOP_STEPS {
            let obs = Self::observe(theta, omega, &mut rng);
            let raw = controller(obs) * MAX_TORQUE;
            let u = if raw.is_finite() {
                raw.clamp(-MAX_TORQUE, MAX_TORQUE)
            } else {
                0.0
            };
            cost += (theta * theta + 0.1 * omega * omega + 0.01 * u * u) * CONTROL_PERIOD;
            (theta, omega) = Self::step(theta, omega, u);
        }
        ClosedLoop {
            cost,
            final_angle: theta.abs(),
        }
    }

    /// The expert's own controller on scaled observations (for [`Pendulum::closed_loop`]).
    pub fn expert_controller(&self) -> impl FnMut([f64; 2]) -> f64 + '_ {
        move |obs| self.expert(obs[0] * OBS_SCALE[0], obs[1] * OBS_SCALE[1]) / MAX_TORQUE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lqr_stabilises_and_beats_doing_nothing() {
        let p = Pendulum::new();
        assert!(p.gain[0] > G_OVER_L && p.gain[1] > 0.0, "{:?}", p.gain);
        let expert = p.closed_loop(Stream::new(1), p.expert_controller());
        let nothing = p.closed_loop(Stream::new(1), |_| 0.0);
        assert!(expert.final_angle < 0.02, "{expert:?}");
        assert!(nothing.final_angle > 1.0, "{nothing:?}");
        assert!(expert.cost < nothing.cost / 10.0);
    }

    #[test]
    fn the_riccati_fixed_point_holds() {
        // At the fixed point K is the gain of P, so one more recursion step is a no-op: check
        // through the closed loop being stable (spectral radius < 1) instead of re-deriving P.
        let p = Pendulum::new();
        let h = CONTROL_PERIOD;
        let a = [
            [1.0, h],
            [(G_OVER_L - p.gain[0]) * h, 1.0 - (DAMPING + p.gain[1]) * h],
        ];
        let (tr, det) = (a[0][0] + a[1][1], a[0][0] * a[1][1] - a[0][1] * a[1][0]);
        let disc = tr * tr - 4.0 * det;
        let radius = if disc >= 0.0 {
            ((tr.abs() + disc.sqrt()) / 2.0).abs()
        } else {
            det.sqrt()
        };
        assert!(radius < 1.0, "{radius}");
    }

    #[test]
    fn splits_are_seeded_partitions() {
        let set = sensors(20, 2, 5, SENSOR_GAP, 0.3, 0.0, 4).unwrap();
        let (train, test) = set.split(0.25, 9).unwrap();
        assert_eq!((train.len(), test.len()), (15, 5));
        assert_eq!(set.split(0.25, 9).unwrap().0, train);
        let mut all: Vec<f64> = train
            .targets
            .iter()
            .chain(test.targets.iter())
            .copied()
            .collect();
        let mut want: Vec<f64> = set.targets.iter().copied().collect();
        all.sort_by(f64::total_cmp);
        want.sort_by(f64::total_cmp);
        assert_eq!(all, want);
        assert!(sensors(0, 2, 5, SENSOR_GAP, 0.3, 0.0, 4).is_err());
        assert!(sensors(3, 2, 5, SENSOR_GAP, 1.0, 0.0, 4).is_err());
        assert!(sensors(3, 2, 5, 0.0, 0.3, 0.0, 4).is_err());
    }
}
