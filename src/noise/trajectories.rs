//! Quantum trajectories on the statevector, with shot branching.
//!
//! Every shot follows one history: at a channel one Kraus operator `Kₖ` is drawn with
//! probability `pₖ = ‖Kₖ ψ‖²` and `ψ ← Kₖ ψ / √pₖ`; at a measurement the outcome is drawn with
//! its Born probability and `ψ` collapses; a reset is a measurement whose outcome is forgotten,
//! followed by `X` on outcome 1. Averaged over shots this is the channel exactly.
//!
//! **Shot branching.** Shots that share a history share its work: a branch carries `s` shots,
//! and at each random event the `s` shots are split among the possible results by one
//! multinomial draw; only results that received shots become branches, and the one that
//! received most continues in place while the others get copies of the state. With rare
//! errors most shots stay on the error-free branch, so the cost grows with the number of
//! *distinct* histories, not the number of shots. Copies are made for the smaller branches
//! only, so at most `log₂ s + 1` states are alive along any path.
//!
//! **Reproducibility.** The draws of a branch at operation `i` come from the stream
//! `stream.child(i)` and a child takes `stream.child(i).child(result + 1)`: every number
//! depends only on the seed and the branch's history, never on the order in which branches
//! run, so results are bit-identical at any thread count. A branch and its siblings run as
//! parallel rayon tasks (the first splits of every path), and their results merge in an order
//! fixed by the tree, not by the threads.
//!
//! The probabilities of a mixed-unitary channel (depolarizing, Pauli: every `Kₖ†Kₖ ∝ I`) do
//! not depend on the state; for the others they are read from the reduced density matrix of
//! the channel's qubits, one pass over the state.

use super::lower::{lower, ChannelOp, Lowered, Op};
use super::{adjoint, apply_matrix, matmul, NoiseModel, ReadoutError};
use crate::circuit::Circuit;
use crate::error::Result;
use crate::par::Par;
use crate::rng::Stream;
use crate::sim::Program;
use crate::state::StateVector;
use num_complex::Complex64 as C64;
use rand::Rng;
use rand_distr::{Binomial, Distribution};
use rayon::prelude::*;

/// Splits along one path that run as parallel tasks; deeper ones run in a loop (bounding the
/// recursion).
const JOIN_DEPTH: usize = 48;

/// The state of one branch: its shots and its history's stream.
pub(crate) struct Branch {
    pub state: StateVector,
    pub clbits: Vec<bool>,
    pub shots: u64,
    pub stream: Stream,
}

/// What the leaves of the branch tree produce, merged in a fixed order.
pub(crate) trait Tally: Send {
    fn merge(&mut self, other: Self);
}

/// How a branch becomes one of its children.
#[derive(Debug, Clone, Copy)]
enum Action {
    /// `ψ ← Kₖ ψ / √p` (nothing for `Kₖ ∝ I`).
    Kraus { k: usize, p: f64 },
    /// Collapse `qubit` onto `outcome` (probability `p`); record `bit` in `clbit`; flip the
    /// qubit back to `|0⟩` afterwards (a reset).
    Collapse {
        qubit: usize,
        outcome: bool,
        p: f64,
        record: Option<(usize, bool)>,
        flip: bool,
    },
}

/// A compiled noisy or dynamic circuit for the trajectory executor.
pub(crate) struct Trajectories {
    lowered: Lowered<Program>,
    /// Per operation: for a mixed-unitary channel its fixed probabilities; for any channel
    /// `Kₖ†Kₖ` (to read `pₖ` off the reduced density matrix) and whether `Kₖ ∝ I`.
    channels: Vec<Option<ChannelTable>>,
}

struct ChannelTable {
    fixed: Option<Vec<f64>>,
    effects: Vec<Vec<C64>>,
    identity: Vec<bool>,
}

/// `Some(c)` when `m = c·I` for a `dim × dim` matrix.
fn scalar_of(dim: usize, m: &[C64]) -> Option<C64> {
    let c = m[0];
    let ok = (0..dim * dim).all(|i| {
        let want = if i / dim == i % dim {
            c
        } else {
            C64::new(0.0, 0.0)
        };
        (m[i] - want).norm() <= 1e-14
    });
    ok.then_some(c)
}

impl ChannelTable {
    fn new(dim: usize, kraus: &[Vec<C64>]) -> ChannelTable {
        let effects: Vec<Vec<C64>> = kraus
            .iter()
            .map(|k| matmul(dim, &adjoint(dim, k), k))
            .collect();
        let fixed = effects
            .iter()
            .map(|e| scalar_of(dim, e).map(|c| c.re))
            .collect::<Option<Vec<f64>>>();
        let identity = kraus.iter().map(|k| scalar_of(dim, k).is_some()).collect();
        ChannelTable {
            fixed,
            effects,
            identity,
        }
    }

    /// `pₖ = Tr(Kₖ†Kₖ ρ_Q)` for the state's reduced density matrix on `qubits`.
    fn probabilities(&self, state: &StateVector, qubits: &[usize]) -> Vec<f64> {
        if let Some(p) = &self.fixed {
            return p.clone();
        }
        let rho = reduced(state, qubits);
        let dim = 1usize << qubits.len();
        self.effects
            .iter()
            .map(|e| {
                let mut t = 0.0;
                for a in 0..dim {
                    for b in 0..dim {
                        t += (e[b * dim + a] * rho[a * dim + b]).re;
                    }
                }
                t.max(0.0)
            })
            .collect()
    }
}

/// The reduced density matrix `ρ_Q[a, b] = Σ_rest ψ[rest|a] ψ̄[rest|b]` of `qubits`.
fn reduced(state: &StateVector, qubits: &[usize]) -> Vec<C64> {
    let dim = 1usize << qubits.len();
    let (mask, offsets) = super::local_offsets(qubits);
    let amps = state.amplitudes();
    let mut rho = vec![C64::new(0.0, 0.0); dim * dim];
    for base in (0..amps.len()).filter(|b| b & mask == 0) {
        for a in 0..dim {
            let x = amps[base + offsets[a]];
            if x == C64::new(0.0, 0.0) {
                continue;
            }
            for b in 0..dim {
                rho[a * dim + b] += x * amps[base + offsets[b]].conj();
            }
        }
    }
    rho
}

/// `P(qubit = 1)`.
fn probability_one(state: &StateVector, qubit: usize) -> f64 {
    let bit = 1usize << qubit;
    state
        .amplitudes()
        .iter()
        .enumerate()
        .filter(|(i, _)| i & bit != 0)
        .map(|(_, a)| a.norm_sqr())
        .sum()
}

/// Splits `shots` by one multinomial draw over `probs` (normalized here).
fn multinomial(probs: &[f64], shots: u64, rng: &mut impl Rng) -> Vec<u64> {
    let mut counts = probs.to_vec();
    crate::measure::multinomial_counts(&mut counts, shots, rng);
    counts.into_iter().map(|c| c as u64).collect()
}

fn binomial(shots: u64, p: f64, rng: &mut impl Rng) -> u64 {
    if shots == 0 || p <= 0.0 {
        0
    } else if p >= 1.0 {
        shots
    } else {
        Binomial::new(shots, p).expect("p in (0, 1)").sample(rng)
    }
}

impl Trajectories {
    /// Lowers and compiles a bound circuit with an optional noise model.
    pub fn new(circuit: &Circuit, model: Option<&NoiseModel>) -> Result<Trajectories> {
        let lowered = lower(circuit, model, &|_| false)?.try_map(|run| run.circuit.compile())?;
        let channels = lowered
            .ops
            .iter()
            .map(|op| match op {
                Op::Channel(ChannelOp { kraus, qubits, .. }) => {
                    Some(ChannelTable::new(1 << qubits.len(), kraus))
                }
                _ => None,
            })
            .collect();
        Ok(Trajectories { lowered, channels })
    }

    pub fn num_qubits(&self) -> usize {
        self.lowered.num_qubits
    }

    pub fn lowered(&self) -> &Lowered<Program> {
        &self.lowered
    }

    /// Runs `shots` shots from `|0…0⟩`; `leaf` turns each final branch (before the terminal
    /// measurements) into a tally.
    pub fn run<R: Tally>(
        &self,
        shots: u64,
        seed: u64,
        par: Par,
        leaf: &(dyn Fn(&Branch) -> R + Sync),
    ) -> Result<R> {
        let root = Branch {
            state: StateVector::zero(self.lowered.num_qubits)?,
            clbits: vec![false; self.lowered.num_clbits],
            shots,
            stream: Stream::new(seed),
        };
        Ok(self.walk(0, root, 0, par, leaf))
    }

    /// Runs branch `b` from operation `pc` to its leaves. The first [`JOIN_DEPTH`] splits of a
    /// path run the continuing branch and its siblings as rayon tasks (`rayon::join`); deeper
    /// splits run in this loop. The shape does not depend on the thread count, so neither does
    /// the order in which tallies merge.
    fn walk<R: Tally>(
        &self,
        mut pc: usize,
        mut b: Branch,
        depth: usize,
        par: Par,
        leaf: &(dyn Fn(&Branch) -> R + Sync),
    ) -> R {
        let mut done: Vec<R> = Vec::new();
        loop {
            let Some(op) = self.lowered.ops.get(pc) else {
                let mut out = leaf(&b);
                for r in done {
                    out.merge(r);
                }
                return out;
            };
            let mut rng = b.stream.child(pc as u64).rng();
            let children: Vec<(u64, u64, Action)> = match op {
                Op::Gates(program) => {
                    program
                        .apply(&[], &[], &mut b.state, par)
                        .expect("a bound program of the branch's size");
                    pc += 1;
                    continue;
                }
                Op::Unless { condition, skip } => {
                    pc += 1 + if condition.holds(&b.clbits) { 0 } else { *skip };
                    continue;
                }
                Op::Channel(ChannelOp { qubits, .. }) => {
                    let table = self.channels[pc].as_ref().expect("a channel's table");
                    let p = table.probabilities(&b.state, qubits);
                    multinomial(&p, b.shots, &mut rng)
                        .into_iter()
                        .enumerate()
                        .filter(|&(_, s)| s > 0)
                        .map(|(k, s)| (k as u64, s, Action::Kraus { k, p: p[k] }))
                        .collect()
                }
                Op::Measure { qubit, clbit } => {
                    let readout = self.lowered.readout[*qubit];
                    collapse_children(&b, *qubit, Some(*clbit), readout, &mut rng)
                }
                Op::Reset { qubit } => collapse_children(&b, *qubit, None, None, &mut rng),
            };
            // The child with most shots continues in place; the others get copies first.
            let mut order: Vec<usize> = (0..children.len()).collect();
            order.sort_by_key(|&i| (children[i].1, children[i].0));
            let (&last, rest) = order.split_last().expect("the shots go somewhere");
            let copies: Vec<Branch> = rest
                .iter()
                .map(|&i| {
                    let (code, shots, action) = children[i];
                    let mut child = Branch {
                        state: b.state.clone(),
                        clbits: b.clbits.clone(),
                        shots,
                        stream: b.stream.child(pc as u64).child(code + 1),
                    };
                    self.act(pc, &mut child, action, par);
                    child
                })
                .collect();
            let (code, shots, action) = children[last];
            b.shots = shots;
            b.stream = b.stream.child(pc as u64).child(code + 1);
            self.act(pc, &mut b, action, par);
            pc += 1;
            if copies.is_empty() {
                continue;
            }
            if depth < JOIN_DEPTH {
                let (mut own, rest) = rayon::join(
                    || self.walk(pc, b, depth + 1, par, leaf),
                    || {
                        copies
                            .into_par_iter()
                            .map(|c| self.walk(pc, c, depth + 1, par, leaf))
                            .collect::<Vec<R>>()
                    },
                );
                for r in rest.into_iter().chain(done) {
                    own.merge(r);
                }
                return own;
            }
            done.extend(
                copies
                    .into_iter()
                    .map(|c| self.walk(pc, c, depth + 1, par, leaf)),
            );
        }
    }

    fn act(&self, pc: usize, b: &mut Branch, action: Action, par: Par) {
        match action {
            Action::Kraus { k, p } => {
                let Op::Channel(ChannelOp { kraus, qubits, .. }) = &self.lowered.ops[pc] else {
                    unreachable!("a Kraus action belongs to a channel");
                };
                let table = self.channels[pc].as_ref().expect("a channel's table");
                if table.identity[k] {
                    return;
                }
                let scale = 1.0 / p.sqrt();
                let m: Vec<C64> = kraus[k].iter().map(|z| z * scale).collect();
                apply_matrix(b.state.amplitudes_mut(), &m, qubits, par);
            }
            Action::Collapse {
                qubit,
                outcome,
                p,
                record,
                flip,
            } => {
                let bit = 1usize << qubit;
                let scale = 1.0 / p.sqrt();
                for (i, a) in b.state.amplitudes_mut().iter_mut().enumerate() {
                    if (i & bit != 0) == outcome {
                        *a *= scale;
                    } else {
                        *a = C64::new(0.0, 0.0);
                    }
                }
                if flip {
                    let amps = b.state.amplitudes_mut();
                    for i in (0..amps.len()).filter(|i| i & bit == 0) {
                        amps.swap(i, i | bit);
                    }
                }
                if let Some((clbit, value)) = record {
                    b.clbits[clbit] = value;
                }
            }
        }
    }
}

/// The children of a measurement (with the recorded bit after readout error) or of a reset.
fn collapse_children(
    b: &Branch,
    qubit: usize,
    clbit: Option<usize>,
    readout: Option<ReadoutError>,
    rng: &mut impl Rng,
) -> Vec<(u64, u64, Action)> {
    let p1 = probability_one(&b.state, qubit).clamp(0.0, 1.0);
    let ones = binomial(b.shots, p1, rng);
    let mut out = Vec::new();
    for (outcome, shots, p) in [(false, b.shots - ones, 1.0 - p1), (true, ones, p1)] {
        if shots == 0 {
            continue;
        }
        let Some(clbit) = clbit else {
            let action = Action::Collapse {
                qubit,
                outcome,
                p,
                record: None,
                flip: outcome,
            };
            out.push((u64::from(outcome), shots, action));
            continue;
        };
        let flip_p = match (readout, outcome) {
            (Some(r), false) => r.p1_given_0,
            (Some(r), true) => r.p0_given_1,
            (None, _) => 0.0,
        };
        let flipped = binomial(shots, flip_p, rng);
        for (read, s) in [(outcome, shots - flipped), (!outcome, flipped)] {
            if s > 0 {
                let action = Action::Collapse {
                    qubit,
                    outcome,
                    p,
                    record: Some((clbit, read)),
                    flip: false,
                };
                out.push((2 * u64::from(outcome) + u64::from(read), s, action));
            }
        }
    }
    out
}
