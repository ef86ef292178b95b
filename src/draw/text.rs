//! The Unicode text diagram: one line per qubit, a connector line between qubits, and the
//! classical register (with bit numbers) below.

use super::labels::gate_label;
use super::Layout;
use crate::circuit::{Circuit, Instruction};
use crate::gate::Gate;

/// The label of an instruction on its target row(s): `┤H├`-boxes, or a single symbol.
fn cell_label(inst: &Instruction) -> String {
    match inst {
        Instruction::Barrier { .. } => "░".into(),
        Instruction::Measure { .. } => "┤M├".into(),
        Instruction::Reset { .. } => "┤|0⟩├".into(),
        Instruction::Conditional { instruction, .. } => cell_label(instruction),
        Instruction::Gate { gate, .. } => match gate {
            Gate::CX | Gate::CCX => "⊕".into(),
            Gate::CZ => "●".into(),
            Gate::Swap | Gate::CSwap => "×".into(),
            Gate::CP(_) => format!("●P({})", super::gate_params(gate)),
            g => format!("┤{}├", gate_label(g)),
        },
    }
}

fn width_of(s: &str) -> usize {
    s.chars().count()
}

/// Writes `s` into `line` at character column `at`.
fn put(line: &mut [char], at: usize, s: &str) {
    for (k, c) in s.chars().enumerate() {
        if let Some(slot) = line.get_mut(at + k) {
            *slot = c;
        }
    }
}

pub(super) fn render(circuit: &Circuit, layout: &Layout, fold: Option<usize>) -> String {
    let n = layout.num_qubits();
    let has_classical = layout.num_clbits() > 0;
    let insts = circuit.instructions();
    let mut widths = vec![1usize; layout.num_columns()];
    for placed in layout.items() {
        let w = width_of(&cell_label(&insts[placed.instruction]));
        widths[placed.column] = widths[placed.column].max(w);
    }
    let labels: Vec<String> = (0..n).map(|q| format!("q{q}: ")).collect();
    let label_w = labels.iter().map(|l| width_of(l)).max().unwrap_or(0).max(4);
    let mut out = String::new();
    let folds = layout.folds(fold);
    for (b, cols) in folds.iter().enumerate() {
        let body: usize = cols.clone().map(|c| widths[c] + 2).sum::<usize>() + 1;
        let total = label_w + 1 + body + 1;
        // Lines: 2q = qubit q, 2q+1 = connector below it; then classical and bit numbers.
        let line_count = 2 * n + if has_classical { 2 } else { 0 };
        let mut grid: Vec<Vec<char>> = (0..line_count).map(|_| vec![' '; total]).collect();
        let wire_start = label_w + 1;
        let wire_end = label_w + 1 + body;
        for q in 0..n {
            put(&mut grid[2 * q], 0, &format!("{:>label_w$}", labels[q]));
            grid[2 * q][wire_start..wire_end].fill('─');
            if b > 0 {
                grid[2 * q][label_w] = '«';
            }
        }
        let classical_line = 2 * n;
        if has_classical {
            put(
                &mut grid[classical_line],
                0,
                &format!("{:>label_w$}", "c: "),
            );
            grid[classical_line][wire_start..wire_end].fill('═');
        }
        let mut x = wire_start + 1;
        for column in cols.clone() {
            let w = widths[column];
            for placed in layout.column(column) {
                let inst = &insts[placed.instruction];
                let label = cell_label(inst);
                let centre = x + w / 2;
                // Vertical connector through the span, crossing wires.
                let (first, last) = (
                    2 * placed.top,
                    if placed.bottom >= n {
                        classical_line
                    } else {
                        2 * placed.bottom
                    },
                );
                let double = matches!(
                    inst,
                    Instruction::Measure { .. } | Instruction::Conditional { .. }
                );
                let is_barrier = matches!(inst, Instruction::Barrier { .. });
                for line in first..=last {
                    let on_wire = line % 2 == 0 && line < 2 * n;
                    let glyph = match (double, is_barrier, on_wire) {
                        (_, true, _) => '░',
                        (true, _, true) => '╫',
                        (true, _, false) => '║',
                        (false, _, true) => '┼',
                        (false, _, false) => '│',
                    };
                    if line < grid.len() {
                        grid[line][centre] = glyph;
                    }
                }
                if let Instruction::Conditional { condition, .. } = inst {
                    if has_classical {
                        grid[classical_line][centre] = '■';
                        put(
                            &mut grid[classical_line + 1],
                            centre,
                            &format!("={}", condition.value),
                        );
                    }
                }
                match inst.unconditioned() {
                    Instruction::Measure { qubit, clbit } => {
                        put(&mut grid[2 * qubit], centre - 1, &label);
                        if has_classical && !matches!(inst, Instruction::Conditional { .. }) {
                            grid[classical_line][centre] = '╩';
                            put(&mut grid[classical_line + 1], centre, &clbit.to_string());
                        }
                    }
                    Instruction::Reset { qubit } => {
                        put(&mut grid[2 * qubit], centre - width_of(&label) / 2, &label);
                    }
                    Instruction::Barrier { .. } | Instruction::Conditional { .. } => {}
                    Instruction::Gate { gate, qubits } => {
                        let controls = gate.num_controls();
                        for &c in &qubits[..controls] {
                            grid[2 * c][centre] = '●';
                        }
                        for &t in &qubits[controls..] {
                            let at = centre - width_of(&label) / 2;
                            put(&mut grid[2 * t], at, &label);
                        }
                    }
                }
            }
            x += w + 2;
        }
        if b + 1 < folds.len() {
            for q in 0..n {
                grid[2 * q][wire_end] = '»';
            }
        }
        if b > 0 {
            out.push('\n');
        }
        for line in grid {
            let text: String = line.into_iter().collect();
            out.push_str(text.trim_end());
            out.push('\n');
        }
    }
    out
}
