//! The circuit as a directed acyclic graph: one node per instruction, one edge per wire
//! (qubit or classical bit) from the previous instruction on that wire.

use crate::circuit::{Circuit, Instruction};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;

/// The wire an edge follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Wire {
    /// A qubit.
    Qubit(usize),
    /// A classical bit (written by a measurement, read by a condition).
    Clbit(usize),
}

/// The dependency graph of a circuit. Node `i` is instruction `i` (node weights are the
/// instruction indices), so instruction order is a topological order.
///
/// ```
/// use qloop::draw::CircuitDag;
/// let c = qloop::Circuit::new(3).h(0).h(2).cx(0, 1).cx(1, 2);
/// let dag = CircuitDag::new(&c);
/// assert_eq!(dag.predecessors(3), vec![1, 2]);
/// assert_eq!(dag.depth(), 3);
/// ```
#[derive(Debug, Clone)]
pub struct CircuitDag {
    graph: DiGraph<usize, Wire>,
}

impl CircuitDag {
    /// Builds the graph.
    pub fn new(circuit: &Circuit) -> CircuitDag {
        let mut graph = DiGraph::with_capacity(circuit.len(), 2 * circuit.len());
        let mut last_on_qubit: Vec<Option<NodeIndex>> = vec![None; circuit.num_qubits()];
        let mut last_on_clbit: Vec<Option<NodeIndex>> = vec![None; circuit.num_clbits()];
        for (index, inst) in circuit.iter().enumerate() {
            let node = graph.add_node(index);
            for &q in inst.qubits() {
                if let Some(Some(prev)) = last_on_qubit.get(q) {
                    graph.add_edge(*prev, node, Wire::Qubit(q));
                }
                if let Some(slot) = last_on_qubit.get_mut(q) {
                    *slot = Some(node);
                }
            }
            // A measurement writes its bit and a condition reads its bits: both order the
            // instruction after the bits' last writer or reader.
            let mut clbits: Vec<usize> = Vec::new();
            if let Instruction::Conditional { condition, .. } = inst {
                clbits.extend(&condition.clbits);
            }
            if let Instruction::Measure { clbit, .. } = inst.unconditioned() {
                clbits.push(*clbit);
            }
            for clbit in clbits {
                if let Some(Some(prev)) = last_on_clbit.get(clbit) {
                    graph.add_edge(*prev, node, Wire::Clbit(clbit));
                }
                if let Some(slot) = last_on_clbit.get_mut(clbit) {
                    *slot = Some(node);
                }
            }
        }
        CircuitDag { graph }
    }

    /// The petgraph graph.
    pub fn graph(&self) -> &DiGraph<usize, Wire> {
        &self.graph
    }

    /// The instructions instruction `index` directly depends on, ascending, without repeats.
    pub fn predecessors(&self, index: usize) -> Vec<usize> {
        let mut preds: Vec<usize> = self
            .graph
            .neighbors_directed(NodeIndex::new(index), Direction::Incoming)
            .map(|n| self.graph[n])
            .collect();
        preds.sort_unstable();
        preds.dedup();
        preds
    }

    /// The ASAP layer of every instruction (1 + the largest layer of its predecessors; barriers
    /// count as instructions) and the number of layers.
    pub fn layers(&self) -> (Vec<usize>, usize) {
        let mut layer = vec![0usize; self.graph.node_count()];
        for index in 0..layer.len() {
            layer[index] = self
                .predecessors(index)
                .into_iter()
                .map(|p| layer[p] + 1)
                .max()
                .unwrap_or(0);
        }
        let depth = layer.iter().map(|l| l + 1).max().unwrap_or(0);
        (layer, depth)
    }

    /// The length of the longest path, in instructions.
    pub fn depth(&self) -> usize {
        self.layers().1
    }
}
