//! Columns for drawing, computed from the [`CircuitDag`] and independent of any rendering.
//!
//! Each instruction occupies a vertical span of rows: from its lowest to its highest qubit for
//! gates and barriers (a multi-qubit gate blocks every wire it crosses), and from the measured
//! qubit down to the classical wire for a measurement and for a conditioned instruction (its
//! condition is read there). Instructions are placed, in order, in
//! the earliest column that is after every predecessor in the DAG and free on every row of the
//! span, so no two items of a column share a wire. When every multi-qubit gate acts on
//! neighbouring qubits and nothing measures, the column count equals the DAG's depth.

use super::dag::CircuitDag;
use crate::circuit::{Circuit, Instruction};
use std::ops::Range;

/// One instruction's place in the drawing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    /// The instruction index.
    pub instruction: usize,
    /// Its column.
    pub column: usize,
    /// The first row of its span (a qubit).
    pub top: usize,
    /// The last row of its span: a qubit, or `num_qubits` (the classical wire) for a
    /// measurement or a conditioned instruction.
    pub bottom: usize,
}

impl Placed {
    /// Whether two spans share a row.
    pub fn overlaps(&self, other: &Placed) -> bool {
        self.top <= other.bottom && other.top <= self.bottom
    }
}

/// Where every instruction goes.
///
/// ```
/// use qloop::draw::Layout;
/// let c = qloop::Circuit::new(3).h(0).h(1).cx(0, 2).x(1);
/// let layout = Layout::of(&c);
/// // cx(0, 2) crosses wire 1, so it cannot share a column with h(1) or x(1).
/// let columns: Vec<usize> = layout.items().iter().map(|p| p.column).collect();
/// assert_eq!(columns, vec![0, 0, 1, 2]);
/// assert_eq!(layout.num_columns(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    num_qubits: usize,
    num_clbits: usize,
    num_columns: usize,
    items: Vec<Placed>,
    /// Indices into `items`, grouped by column (in instruction order within a column).
    by_column: Vec<usize>,
    /// `by_column[column_start[c]..column_start[c + 1]]` are the items of column `c`.
    column_start: Vec<usize>,
}

impl Layout {
    /// Lays out a circuit.
    pub fn of(circuit: &Circuit) -> Layout {
        let dag = CircuitDag::new(circuit);
        let n = circuit.num_qubits();
        // First free column of each row; row n is the classical wire.
        let mut free = vec![0usize; n + 1];
        let mut items: Vec<Placed> = Vec::with_capacity(circuit.len());
        for (index, inst) in circuit.iter().enumerate() {
            let qubits = inst.qubits();
            let top = qubits
                .iter()
                .copied()
                .min()
                .unwrap_or(0)
                .min(n.saturating_sub(1));
            let bottom = match inst {
                Instruction::Measure { .. } | Instruction::Conditional { .. } => n,
                _ => qubits
                    .iter()
                    .copied()
                    .max()
                    .unwrap_or(0)
                    .min(n.saturating_sub(1)),
            };
            let after_preds = dag
                .predecessors(index)
                .into_iter()
                .map(|p| items[p].column + 1)
                .max()
                .unwrap_or(0);
            let column = free[top..=bottom]
                .iter()
                .copied()
                .max()
                .unwrap_or(0)
                .max(after_preds);
            for slot in &mut free[top..=bottom] {
                *slot = column + 1;
            }
            items.push(Placed {
                instruction: index,
                column,
                top,
                bottom,
            });
        }
        let num_columns = items.iter().map(|p| p.column + 1).max().unwrap_or(0);
        // A counting sort by column: stable, so each column keeps instruction order.
        let mut column_start = vec![0usize; num_columns + 1];
        for p in &items {
            column_start[p.column + 1] += 1;
        }
        for c in 0..num_columns {
            column_start[c + 1] += column_start[c];
        }
        let mut next = column_start.clone();
        let mut by_column = vec![0usize; items.len()];
        for (k, p) in items.iter().enumerate() {
            by_column[next[p.column]] = k;
            next[p.column] += 1;
        }
        Layout {
            num_qubits: n,
            num_clbits: circuit.num_clbits(),
            num_columns,
            items,
            by_column,
            column_start,
        }
    }

    /// Qubit rows.
    pub fn num_qubits(&self) -> usize {
        self.num_qubits
    }

    /// Classical bits (drawn as one register wire below the qubits).
    pub fn num_clbits(&self) -> usize {
        self.num_clbits
    }

    /// Number of columns.
    pub fn num_columns(&self) -> usize {
        self.num_columns
    }

    /// Every instruction's place, in instruction order.
    pub fn items(&self) -> &[Placed] {
        &self.items
    }

    /// The items of one column, in instruction order.
    pub fn column(&self, column: usize) -> impl Iterator<Item = &Placed> {
        self.by_column[self.column_start[column]..self.column_start[column + 1]]
            .iter()
            .map(|&k| &self.items[k])
    }

    /// The column ranges of each folded row when at most `width` columns fit in a row (one
    /// range for `None` or a width of 0).
    pub fn folds(&self, width: Option<usize>) -> Vec<Range<usize>> {
        match width {
            Some(w) if w > 0 && self.num_columns > w => (0..self.num_columns)
                .step_by(w)
                .map(|start| start..(start + w).min(self.num_columns))
                .collect(),
            _ => std::iter::once(0..self.num_columns).collect(),
        }
    }
}
