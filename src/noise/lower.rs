//! A circuit and its noise model lowered into the flat list of operations both executors
//! (density matrix and trajectories) run.
//!
//! Gates between two non-unitary events form one [`Op::Gates`] run, which each executor
//! compiles its own way (the trajectory executor for `n` qubits, the density executor for the
//! `2n`-qubit vector of `ρ`), so fusion and cache blocking apply to noisy circuits too. The
//! channels a [`NoiseModel`] attaches to a gate follow it as [`Op::Channel`]s, except those the
//! executor can apply inside a run (`fuse`), which stay in the run, after their gate. A conditioned
//! instruction becomes [`Op::Unless`] followed by the operations it conditions (its gate and
//! that gate's channels, a measurement or a reset). The trailing measurements (those after
//! which nothing but barriers and other measurements follow) are kept apart as the
//! *terminal* measurements: executors read them from the final state's distribution instead
//! of collapsing the state once per qubit.

use super::{Channel, NoiseModel, ReadoutError};
use crate::circuit::{Circuit, Condition, Instruction};
use crate::error::{Error, Result};
use num_complex::Complex64 as C64;

/// One operation of a lowered circuit; `U` is the executor's form of a run of gates.
#[derive(Debug, Clone)]
pub(crate) enum Op<U> {
    /// A run of gates.
    Gates(U),
    /// A channel applied between runs.
    Channel(ChannelOp),
    /// A Z-basis measurement into a classical bit (readout error applies to the bit).
    Measure { qubit: usize, clbit: usize },
    /// Return a qubit to `|0⟩`.
    Reset { qubit: usize },
    /// Unless `condition` holds, skip the next `skip` operations.
    Unless { condition: Condition, skip: usize },
}

/// A channel with its Kraus set on `qubits`.
#[derive(Debug, Clone)]
pub(crate) struct ChannelOp {
    pub channel: Channel,
    pub kraus: Vec<Vec<C64>>,
    pub qubits: Vec<usize>,
}

/// A run of gates, and the channels applied inside it: `(k, channel)` after its first `k`
/// gates, in order.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub circuit: Circuit,
    pub channels: Vec<(usize, ChannelOp)>,
}

/// A circuit lowered for the noisy and dynamic executors.
#[derive(Debug, Clone)]
pub(crate) struct Lowered<U> {
    pub num_qubits: usize,
    pub num_clbits: usize,
    pub ops: Vec<Op<U>>,
    /// The terminal measurements `(qubit, clbit)`, in order.
    pub terminal: Vec<(usize, usize)>,
    /// The readout error of each qubit.
    pub readout: Vec<Option<ReadoutError>>,
}

/// Lowers a validated circuit whose angles are all bound; channels for which `fuse` holds stay
/// inside their run.
pub(crate) fn lower(
    circuit: &Circuit,
    model: Option<&NoiseModel>,
    fuse: &dyn Fn(&Channel) -> bool,
) -> Result<Lowered<Run>> {
    circuit.validate()?;
    if let Some(p) = circuit.parameters().first() {
        return Err(Error::UnboundParameter {
            name: p.name.clone(),
            kind: p.kind,
        });
    }
    let n = circuit.num_qubits();
    let insts = circuit.instructions();
    // The terminal block: the longest suffix of unconditioned measurements and barriers.
    let start = insts
        .iter()
        .rposition(|i| !matches!(i, Instruction::Measure { .. } | Instruction::Barrier { .. }))
        .map_or(0, |k| k + 1);
    let terminal: Vec<(usize, usize)> = insts[start..]
        .iter()
        .filter_map(|i| match i {
            Instruction::Measure { qubit, clbit } => Some((*qubit, *clbit)),
            _ => None,
        })
        .collect();
    let mut ops: Vec<Op<Run>> = Vec::new();
    let mut run = Run {
        circuit: Circuit::new(n),
        channels: Vec::new(),
    };
    for inst in &insts[..start] {
        match inst {
            Instruction::Conditional {
                condition,
                instruction,
            } => {
                flush(&mut run, &mut ops, n);
                let at = ops.len();
                ops.push(Op::Unless {
                    condition: condition.clone(),
                    skip: 0,
                });
                lower_one(instruction, model, fuse, &mut run, &mut ops, n);
                flush(&mut run, &mut ops, n);
                let skip = ops.len() - at - 1;
                ops[at] = Op::Unless {
                    condition: condition.clone(),
                    skip,
                };
            }
            other => lower_one(other, model, fuse, &mut run, &mut ops, n),
        }
    }
    flush(&mut run, &mut ops, n);
    Ok(Lowered {
        num_qubits: n,
        num_clbits: circuit.num_clbits(),
        ops,
        terminal,
        readout: (0..n)
            .map(|q| model.and_then(|m| m.readout_of(q)))
            .collect(),
    })
}

fn flush(run: &mut Run, ops: &mut Vec<Op<Run>>, n: usize) {
    if !run.circuit.is_empty() {
        let empty = Run {
            circuit: Circuit::new(n),
            channels: Vec::new(),
        };
        ops.push(Op::Gates(std::mem::replace(run, empty)));
    }
}

fn lower_one(
    inst: &Instruction,
    model: Option<&NoiseModel>,
    fuse: &dyn Fn(&Channel) -> bool,
    run: &mut Run,
    ops: &mut Vec<Op<Run>>,
    n: usize,
) {
    match inst {
        Instruction::Gate { gate, qubits } => {
            run.circuit.push(inst.clone());
            let channels = model
                .map(|m| m.after(gate.name(), qubits))
                .unwrap_or_default();
            for (channel, on) in channels {
                let op = ChannelOp {
                    channel: channel.clone(),
                    kraus: channel.kraus().expect("the model validated its channels"),
                    qubits: on,
                };
                if fuse(channel) {
                    run.channels.push((run.circuit.len(), op));
                } else {
                    flush(run, ops, n);
                    ops.push(Op::Channel(op));
                }
            }
        }
        Instruction::Measure { qubit, clbit } => {
            flush(run, ops, n);
            ops.push(Op::Measure {
                qubit: *qubit,
                clbit: *clbit,
            });
        }
        Instruction::Reset { qubit } => {
            flush(run, ops, n);
            ops.push(Op::Reset { qubit: *qubit });
        }
        Instruction::Barrier { .. } | Instruction::Conditional { .. } => {}
    }
}

impl<U> Lowered<U> {
    /// The same operations with every gate run converted by `f` (compiled by an executor).
    pub fn try_map<V>(self, mut f: impl FnMut(U) -> Result<V>) -> Result<Lowered<V>> {
        let ops = self
            .ops
            .into_iter()
            .map(|op| {
                Ok(match op {
                    Op::Gates(u) => Op::Gates(f(u)?),
                    Op::Channel(c) => Op::Channel(c),
                    Op::Measure { qubit, clbit } => Op::Measure { qubit, clbit },
                    Op::Reset { qubit } => Op::Reset { qubit },
                    Op::Unless { condition, skip } => Op::Unless { condition, skip },
                })
            })
            .collect::<Result<_>>()?;
        Ok(Lowered {
            num_qubits: self.num_qubits,
            num_clbits: self.num_clbits,
            ops,
            terminal: self.terminal,
            readout: self.readout,
        })
    }
}
