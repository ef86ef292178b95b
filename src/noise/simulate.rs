//! One entry point for any circuit, noisy or dynamic or neither: choose a [`Method`], then
//! sample counts ([`sample_counts`]) or compute an expectation value ([`expectation`]).
//!
//! - [`Method::Statevector`]: today's fast path, for unitary circuits with terminal
//!   measurements and no noise (refused otherwise);
//! - [`Method::Density`]: the exact mixed state ([`DensityProgram`]), `16·4^n` bytes per
//!   classical branch;
//! - [`Method::Trajectories`]: quantum jumps with shot branching
//!   (`noise::trajectories`), one state per live branch;
//! - [`Method::Auto`]: statevector when it applies; density for noisy circuits of at most
//!   [`AUTO_DENSITY_MAX_QUBITS`] qubits with at most [`AUTO_DENSITY_MAX_MIDCIRCUIT`]
//!   mid-circuit measurements; trajectories otherwise. The method used is returned.
//!
//! For expectation values `auto` is the statevector where it applies, else the exact density
//! matrix without shots and trajectories with them. Expectation values are of the state before
//! the terminal measurements. With trajectories
//! the estimate is the mean of the exact `⟨ψₜ|H|ψₜ⟩` over the shots' trajectories, and its
//! standard error their standard deviation over `√shots`.

use super::density::DensityProgram;
use super::trajectories::{Branch, Tally, Trajectories};
use super::NoiseModel;
use crate::circuit::{Circuit, Instruction};
use crate::error::{Error, Result};
use crate::measure::{check_shots, sample_histogram, Counts};
use crate::par::Par;
use crate::pauli::PauliSum;
use rand::Rng;
use std::collections::BTreeMap;

/// How a circuit is simulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Chosen from the circuit and the noise (see the [module docs](self)).
    #[default]
    Auto,
    /// One pure state: unitary circuits without noise.
    Statevector,
    /// The exact density matrix.
    Density,
    /// Sampled trajectories with shot branching.
    Trajectories,
}

impl std::str::FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(Method::Auto),
            "statevector" => Ok(Method::Statevector),
            "density" => Ok(Method::Density),
            "trajectories" => Ok(Method::Trajectories),
            _ => Err(format!(
                "unknown method '{s}'; expected auto, statevector, density or trajectories"
            )),
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Method::Auto => "auto",
            Method::Statevector => "statevector",
            Method::Density => "density",
            Method::Trajectories => "trajectories",
        })
    }
}

/// `auto` picks density for noisy circuits up to this many qubits (16 MiB per matrix).
pub const AUTO_DENSITY_MAX_QUBITS: usize = 10;

/// `auto` picks density only with at most this many mid-circuit measurements (each can
/// double the number of classical branches).
pub const AUTO_DENSITY_MAX_MIDCIRCUIT: usize = 8;

/// The method that runs `circuit` under `noise`: `method` itself, checked, or the choice of
/// `auto`.
pub fn resolve(method: Method, circuit: &Circuit, noise: Option<&NoiseModel>) -> Result<Method> {
    let noisy = noise.is_some_and(|m| !m.is_empty());
    let dynamic = circuit.dynamic_instruction();
    match method {
        Method::Statevector => {
            if noisy {
                return Err(Error::Method {
                    method: method.to_string(),
                    reason: "the circuit runs under a noise model".into(),
                });
            }
            if let Some((index, reason)) = dynamic {
                return Err(Error::Method {
                    method: method.to_string(),
                    reason: format!("instruction {index} ({}): {reason}", circuit[index].name()),
                });
            }
            Ok(method)
        }
        Method::Density | Method::Trajectories => Ok(method),
        Method::Auto => {
            if !noisy && dynamic.is_none() {
                return Ok(Method::Statevector);
            }
            let mid = circuit
                .iter()
                .filter(|i| matches!(i.unconditioned(), Instruction::Measure { .. }))
                .count()
                .saturating_sub(terminal_count(circuit));
            Ok(
                if noisy
                    && circuit.num_qubits() <= AUTO_DENSITY_MAX_QUBITS
                    && mid <= AUTO_DENSITY_MAX_MIDCIRCUIT
                {
                    Method::Density
                } else {
                    Method::Trajectories
                },
            )
        }
    }
}

/// The number of measurements in the circuit's trailing block of measurements and barriers.
fn terminal_count(circuit: &Circuit) -> usize {
    circuit
        .iter()
        .rev()
        .take_while(|i| matches!(i, Instruction::Measure { .. } | Instruction::Barrier { .. }))
        .filter(|i| matches!(i, Instruction::Measure { .. }))
        .count()
}

/// A circuit without classical bits measures every qubit `q` into bit `q` at the end (as
/// `qloop run` always has).
fn with_measurements(circuit: &Circuit) -> Circuit {
    if circuit.num_clbits() > 0 {
        return circuit.clone();
    }
    let mut c = circuit.clone();
    for q in 0..circuit.num_qubits() {
        c.push(Instruction::Measure { qubit: q, clbit: q });
    }
    c
}

struct CountsTally(BTreeMap<String, usize>);

impl Tally for CountsTally {
    fn merge(&mut self, other: Self) {
        for (k, v) in other.0 {
            *self.0.entry(k).or_insert(0) += v;
        }
    }
}

fn key(bits: &[bool]) -> String {
    bits.iter()
        .rev()
        .map(|&b| if b { '1' } else { '0' })
        .collect()
}

/// `shots` seeded samples of the classical register of a bound circuit (classical bit 0
/// rightmost) under `noise`, and the method used. A circuit without classical bits measures
/// every qubit.
///
/// ```
/// use qloop::noise::simulate::{sample_counts, Method};
/// // Teleport |1⟩ from qubit 0 to qubit 2 with mid-circuit measurement and corrections.
/// let c = qloop::Circuit::new(3).creg("m", 2).creg("out", 1)
///     .x(0).h(1).cx(1, 2).cx(0, 1).h(0).measure(0, 0).measure(1, 1)
///     .c_if([1], 1, |b| b.x(2)).c_if([0], 1, |b| b.z(2)).measure(2, 2);
/// let (counts, method) = sample_counts(&c, None, Method::Auto, 1000, 7).unwrap();
/// assert_eq!(method, Method::Trajectories);
/// assert!(counts.counts.keys().all(|k| k.starts_with('1')));
/// ```
pub fn sample_counts(
    circuit: &Circuit,
    noise: Option<&NoiseModel>,
    method: Method,
    shots: usize,
    seed: u64,
) -> Result<(Counts, Method)> {
    check_shots(shots)?;
    let circuit = with_measurements(circuit);
    let method = resolve(method, &circuit, noise)?;
    let counts = match method {
        Method::Statevector | Method::Auto => {
            let program = circuit.compile()?;
            let state = program.statevector(&[], &[])?;
            Counts::sample(
                &state,
                program.measurements(),
                program.num_clbits(),
                shots,
                seed,
            )?
        }
        Method::Density => DensityProgram::new(&circuit, noise)?
            .run()?
            .sample(shots, seed)?,
        Method::Trajectories => {
            let t = Trajectories::new(&circuit, noise)?;
            let terminal = t.lowered().terminal.clone();
            // The readout error of each terminal bit: that of the qubit measured into it last.
            let mut read_bits: Vec<(usize, super::ReadoutError)> = Vec::new();
            for &(q, c) in terminal.iter().rev() {
                if read_bits.iter().all(|&(b, _)| b != c) {
                    let r = t.lowered().readout[q].unwrap_or(super::ReadoutError {
                        p1_given_0: 0.0,
                        p0_given_1: 0.0,
                    });
                    read_bits.push((c, r));
                }
            }
            read_bits.sort_unstable_by_key(|&(c, _)| c);
            let readout = read_bits
                .iter()
                .any(|(_, r)| r.p1_given_0 > 0.0 || r.p0_given_1 > 0.0);
            let leaf = |b: &Branch| -> CountsTally {
                let mut out = BTreeMap::new();
                if terminal.is_empty() {
                    out.insert(key(&b.clbits), b.shots as usize);
                    return CountsTally(out);
                }
                let mut rng = b.stream.child(u64::MAX).rng();
                let hist = sample_histogram(&b.state.probabilities(), b.shots as usize, &mut rng);
                for (index, count) in hist {
                    let mut bits = b.clbits.clone();
                    for &(q, c) in &terminal {
                        bits[c] = (index >> q) & 1 == 1;
                    }
                    match readout {
                        false => *out.entry(key(&bits)).or_insert(0) += count,
                        true => {
                            for _ in 0..count {
                                let mut read = bits.clone();
                                for &(c, r) in &read_bits {
                                    let p = if read[c] { r.p0_given_1 } else { r.p1_given_0 };
                                    if rng.random::<f64>() < p {
                                        read[c] = !read[c];
                                    }
                                }
                                *out.entry(key(&read)).or_insert(0) += 1;
                            }
                        }
                    }
                }
                CountsTally(out)
            };
            let tally = t.run(shots as u64, seed, Par::auto(t.num_qubits()), &leaf)?;
            Counts {
                shots,
                counts: tally.0,
            }
        }
    };
    Ok((counts, method))
}

/// An expectation value: exact (`stderr` is `None`) or estimated.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Expectation {
    /// The value.
    pub value: f64,
    /// The standard error of an estimate.
    pub stderr: Option<f64>,
    /// The method that computed it.
    pub method: Method,
}

/// Sums of shot-weighted trajectory values, kept as (weight, value) pairs in the branches'
/// fixed order so that the total is bit-identical at any thread count.
struct ValueTally(Vec<(u64, f64)>);

impl Tally for ValueTally {
    fn merge(&mut self, other: Self) {
        self.0.extend(other.0);
    }
}

/// `⟨H⟩` of a bound circuit's final state (before its terminal measurements) under `noise`:
/// exact with the statevector and density methods, estimated from `shots` trajectories
/// (required, at least 2) with trajectories. With the statevector method `shots`, when given,
/// estimates the value from that many measurement shots per group, as
/// [`PauliSum::estimate`]; the density method refuses shots. `auto` is the statevector
/// where it applies, else density without shots and trajectories with them.
pub fn expectation(
    circuit: &Circuit,
    noise: Option<&NoiseModel>,
    observable: &PauliSum,
    method: Method,
    shots: Option<usize>,
    seed: u64,
) -> Result<Expectation> {
    observable.check_width(circuit.num_qubits())?;
    let method = match (resolve(method, circuit, noise)?, method, shots) {
        (Method::Statevector, _, _) => Method::Statevector,
        // `auto` for a value: exact (density) unless shots ask for an estimate.
        (_, Method::Auto, None) => Method::Density,
        (_, Method::Auto, Some(_)) => Method::Trajectories,
        (Method::Density, _, Some(_)) => {
            return Err(Error::Method {
                method: "density".into(),
                reason: "it gives the exact value, and shots were asked for an estimate".into(),
            })
        }
        (m, _, _) => m,
    };
    let (value, stderr) = match method {
        Method::Statevector | Method::Auto => {
            let state = circuit.compile()?.statevector(&[], &[])?;
            match shots {
                None => (observable.expectation(&state)?, None),
                Some(s) => {
                    let e = observable.estimate(&state, s, seed)?;
                    (e.value, Some(e.stderr))
                }
            }
        }
        Method::Density => (
            DensityProgram::new(circuit, noise)?
                .run()?
                .expectation(observable)?,
            None,
        ),
        Method::Trajectories => {
            let shots = shots.unwrap_or(0);
            check_shots(shots)?;
            if shots < 2 {
                return Err(Error::TooFewShots {
                    context: "a trajectory estimate (--shots is the number of trajectories)".into(),
                    min: 2,
                    got: shots,
                });
            }
            let t = Trajectories::new(circuit, noise)?;
            let leaf = |b: &Branch| {
                let v = observable
                    .expectation(&b.state)
                    .expect("the observable's width was checked");
                ValueTally(vec![(b.shots, v)])
            };
            let tally = t.run(shots as u64, seed, Par::auto(t.num_qubits()), &leaf)?;
            let n = shots as f64;
            let mean = tally.0.iter().map(|&(w, v)| w as f64 * v).sum::<f64>() / n;
            let square = tally
                .0
                .iter()
                .map(|&(w, v)| w as f64 * (v - mean) * (v - mean))
                .sum::<f64>();
            (mean, Some((square / (n - 1.0) / n).sqrt()))
        }
    };
    Ok(Expectation {
        value,
        stderr,
        method,
    })
}
