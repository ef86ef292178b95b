//! The Feynman-style view: world-lines, vertices, propagator arcs, collapse nodes (a world-line
//! ends at its last measurement; a mid-circuit collapse node does not end it), re-preparation
//! vertices for resets, ringed vertices with their condition for conditioned instructions, and
//! the activation and entropy overlays.

use super::labels::{display_name, gate_label, gate_name, gate_params, text_width};
use super::svg::{Circle, Element, Group, Line, Path, Text};
use super::{activation_band, num, Layout, Palette, Style};
use crate::circuit::{Circuit, Instruction};
use crate::gate::Gate;

const ROW: f64 = 56.0;
const FONT: f64 = 12.0;
const SMALL: f64 = 10.0;
const GAP: f64 = 18.0;
const MARGIN: f64 = 20.0;

fn text(x: f64, y: f64, size: f64, fill: &str, anchor: &str, content: &str) -> Element {
    Text::new(content)
        .set("x", num(x))
        .set("y", num(y))
        .set("font-size", num(size))
        .set("fill", fill.to_string())
        .set("text-anchor", anchor.to_string())
        .set("dominant-baseline", "central")
}

fn vertex(x: f64, y: f64, r: f64, fill: &str) -> Element {
    Circle::new()
        .set("cx", num(x))
        .set("cy", num(y))
        .set("r", num(r))
        .set("fill", fill.to_string())
}

/// Whether a gate of two or more qubits can entangle (all but SWAP, which only relabels).
fn entangling(gate: &Gate) -> bool {
    gate.num_qubits() > 1 && !matches!(gate, Gate::Swap)
}

/// The point at `t` of the cubic Bézier from `p0` to `p3` with controls `p1`, `p2`, and the
/// unit normal there.
fn bezier(p: [(f64, f64); 4], t: f64) -> ((f64, f64), (f64, f64)) {
    let u = 1.0 - t;
    let point = (
        u * u * u * p[0].0
            + 3.0 * u * u * t * p[1].0
            + 3.0 * u * t * t * p[2].0
            + t * t * t * p[3].0,
        u * u * u * p[0].1
            + 3.0 * u * u * t * p[1].1
            + 3.0 * u * t * t * p[2].1
            + t * t * t * p[3].1,
    );
    let d = (
        3.0 * u * u * (p[1].0 - p[0].0)
            + 6.0 * u * t * (p[2].0 - p[1].0)
            + 3.0 * t * t * (p[3].0 - p[2].0),
        3.0 * u * u * (p[1].1 - p[0].1)
            + 6.0 * u * t * (p[2].1 - p[1].1)
            + 3.0 * t * t * (p[3].1 - p[2].1),
    );
    let len = (d.0 * d.0 + d.1 * d.1).sqrt().max(1e-12);
    (point, (-d.1 / len, d.0 / len))
}

/// A propagator between `(x, y1)` and `(x, y2)` bulging right by `bulge`: a wavy photon line for
/// entangling gates, a smooth dashed arc otherwise.
fn propagator(x: f64, y1: f64, y2: f64, bulge: f64, wavy: bool, colour: &str) -> Element {
    let ctrl = [
        (x, y1),
        (x + bulge, y1 + (y2 - y1) * 0.2),
        (x + bulge, y2 - (y2 - y1) * 0.2),
        (x, y2),
    ];
    let d = if wavy {
        let length = (y2 - y1).abs() + bulge;
        let waves = (length / 9.0).round().max(2.0);
        let steps = (waves * 8.0) as usize;
        let mut d = String::new();
        for k in 0..=steps {
            let t = k as f64 / steps as f64;
            let ((px, py), (nx, ny)) = bezier(ctrl, t);
            // Damp the wave at the ends so the arc meets the world-lines.
            let amplitude = 3.0 * (std::f64::consts::PI * t).sin().min(0.6) / 0.6;
            let a = amplitude * (2.0 * std::f64::consts::PI * waves * t).sin();
            let (qx, qy) = (px + a * nx, py + a * ny);
            d.push_str(&format!(
                "{} {} {} ",
                if k == 0 { "M" } else { "L" },
                num(qx),
                num(qy)
            ));
        }
        d.trim_end().to_string()
    } else {
        format!(
            "M {} {} C {} {} {} {} {} {}",
            num(ctrl[0].0),
            num(ctrl[0].1),
            num(ctrl[1].0),
            num(ctrl[1].1),
            num(ctrl[2].0),
            num(ctrl[2].1),
            num(ctrl[3].0),
            num(ctrl[3].1)
        )
    };
    let path = Path::new()
        .set("d", d)
        .set("fill", "none")
        .set("stroke", colour.to_string())
        .set("stroke-width", "1.60")
        .set("class", "propagator");
    if wavy {
        path
    } else {
        path.set("stroke-dasharray", "5 3")
    }
}

/// The label of a vertex: the gate with its parameters (`RZ(π/2)`).
fn vertex_label(gate: &Gate) -> String {
    gate_label(gate)
}

fn column_width(inst: &Instruction) -> f64 {
    match inst {
        Instruction::Gate { gate, .. } if gate.num_qubits() == 1 => {
            text_width(&vertex_label(gate), SMALL) + 6.0
        }
        Instruction::Gate { gate, .. } => {
            let label = format!("{}({})", gate_name(gate), gate_params(gate));
            (text_width(&label, SMALL) / 2.0 + 26.0).max(34.0)
        }
        Instruction::Measure { .. } => 30.0,
        Instruction::Reset { .. } => 30.0,
        Instruction::Conditional { instruction, .. } => column_width(instruction).max(44.0),
        Instruction::Barrier { .. } => 10.0,
    }
    .max(22.0)
}

fn glyph(inst: &Instruction, x: f64, colw: f64, y: &dyn Fn(usize) -> f64, p: &Palette) -> Element {
    let mut g = Group::new();
    match inst {
        Instruction::Conditional {
            condition,
            instruction,
        } => {
            // The vertex as unconditioned, ringed, with its condition below it.
            let bits: Vec<String> = condition.clbits.iter().map(|c| format!("c{c}")).collect();
            let below = instruction.qubits().iter().copied().max().unwrap_or(0);
            g = g.add(glyph(instruction, x, colw, y, p)).add(
                text(
                    x,
                    y(below) + 24.0,
                    SMALL,
                    p.muted,
                    "middle",
                    &format!("if {}={}", bits.join(""), condition.value),
                )
                .set("class", "condition"),
            );
            for &q in instruction.qubits() {
                g = g.add(
                    Circle::new()
                        .set("cx", num(x))
                        .set("cy", num(y(q)))
                        .set("r", "8.00")
                        .set("fill", "none")
                        .set("stroke", p.muted)
                        .set("stroke-width", "1.00")
                        .set("stroke-dasharray", "2 2"),
                );
            }
        }
        Instruction::Reset { qubit } => {
            // The world-line is re-prepared: a hollow vertex labelled |0⟩.
            let cy = y(*qubit);
            g = g
                .add(
                    vertex(x, cy, 5.0, "none")
                        .set("stroke", p.line)
                        .set("stroke-width", "1.50")
                        .set("class", "reset"),
                )
                .add(text(x, cy - 12.0, SMALL, p.text, "middle", "|0⟩"));
        }
        Instruction::Barrier { qubits } => {
            let top = qubits.iter().copied().min().unwrap_or(0);
            let bottom = qubits.iter().copied().max().unwrap_or(0);
            g = g.add(
                Line::new()
                    .set("x1", num(x))
                    .set("y1", num(y(top) - ROW / 3.0))
                    .set("x2", num(x))
                    .set("y2", num(y(bottom) + ROW / 3.0))
                    .set("stroke", p.muted)
                    .set("stroke-width", "1.00")
                    .set("stroke-dasharray", "2 4"),
            );
        }
        Instruction::Measure { qubit, clbit } => {
            let (cx, cy) = (x, y(*qubit));
            let s = 7.0;
            g = g
                .add(
                    Path::new()
                        .set(
                            "d",
                            format!(
                                "M {} {} L {} {} L {} {} L {} {} Z",
                                num(cx),
                                num(cy - s),
                                num(cx + s),
                                num(cy),
                                num(cx),
                                num(cy + s),
                                num(cx - s),
                                num(cy)
                            ),
                        )
                        .set("fill", p.line)
                        .set("class", "collapse"),
                )
                .add(text(
                    cx + s + 3.0,
                    cy,
                    SMALL,
                    p.muted,
                    "start",
                    &format!("c{clbit}"),
                ));
        }
        Instruction::Gate { gate, qubits } if qubits.len() == 1 => {
            let cy = y(qubits[0]);
            g = g
                .add(vertex(x, cy, 4.5, p.gate_stroke).set("class", "vertex"))
                .add(text(
                    x,
                    cy - 12.0,
                    SMALL,
                    p.text,
                    "middle",
                    &vertex_label(gate),
                ));
        }
        Instruction::Gate { gate, qubits } => {
            let controls = gate.num_controls();
            let (ctrl, targets) = qubits.split_at(controls);
            let wavy = entangling(gate);
            let colour = if wavy { p.entangling } else { p.muted };
            let bulge = (colw * 0.6).min(28.0);
            // Arcs: each control to the first target; between two targets.
            let mut pairs: Vec<(usize, usize)> = ctrl.iter().map(|&c| (c, targets[0])).collect();
            if targets.len() == 2 {
                pairs.push((targets[0], targets[1]));
            }
            for (a, b) in pairs {
                g = g.add(propagator(x, y(a), y(b), bulge, wavy, colour));
            }
            for &c in ctrl {
                g = g.add(vertex(x, y(c), 3.5, p.line).set("class", "vertex"));
            }
            let label = if gate.angles().is_empty() {
                gate_name(gate).to_string()
            } else {
                format!("{}({})", gate_name(gate), gate_params(gate))
            };
            for &t in targets {
                g = g.add(vertex(x, y(t), 4.5, colour).set("class", "vertex"));
            }
            let ty = y(targets[0]);
            let above = targets.len() == 1 && ctrl.iter().all(|&c| c > targets[0]);
            let ly = if above { ty - 12.0 } else { ty + 13.0 };
            g = g.add(text(x, ly, SMALL, p.text, "middle", &label));
        }
    }
    g
}

pub(super) fn render(circuit: &Circuit, layout: &Layout, style: &Style) -> String {
    let p = style.theme.palette();
    let n = layout.num_qubits();
    let insts = circuit.instructions();
    let mut widths = vec![22.0f64; layout.num_columns()];
    for placed in layout.items() {
        widths[placed.column] = widths[placed.column].max(column_width(&insts[placed.instruction]));
    }
    let label_w = (0..n)
        .map(|q| text_width(&format!("{} |0⟩", display_name(&format!("q{q}"))), FONT))
        .fold(0.0, f64::max)
        + 18.0;
    let entropy_w = if style.cut_entropies.is_some() {
        90.0
    } else {
        0.0
    };
    let folds = layout.folds(style.fold);
    let block_w = |cols: &std::ops::Range<usize>| -> f64 {
        widths[cols.clone()].iter().map(|w| w + GAP).sum::<f64>() + GAP
    };
    let content_w = folds.iter().map(&block_w).fold(0.0, f64::max);
    let width = MARGIN * 2.0 + label_w + content_w + entropy_w + 10.0;
    let (band, band_h) = match &style.activations {
        Some(a) => activation_band(a, MARGIN + label_w, MARGIN, content_w, &p),
        None => (Group::new(), 0.0),
    };
    let block_h = n as f64 * ROW + 10.0;
    let top0 = MARGIN + band_h + ROW / 2.0 + 6.0;
    let height = top0 - ROW / 2.0 + block_h * folds.len() as f64 + MARGIN;

    // Where each qubit's world-line ends: at its first measurement after which nothing acts on
    // it, or the right edge. A mid-circuit collapse node does not end the line.
    let measured_at: Vec<Option<usize>> = (0..n)
        .map(|q| {
            let last_other = layout.items().iter().rposition(|pl| {
                let inst = &insts[pl.instruction];
                inst.qubits().contains(&q)
                    && !matches!(inst, Instruction::Measure { .. } | Instruction::Barrier { .. })
            });
            let from = last_other.map_or(0, |k| k + 1);
            layout.items()[from..]
                .iter()
                .find(|pl| matches!(insts[pl.instruction], Instruction::Measure { qubit, .. } if qubit == q))
                .map(|pl| pl.column)
        })
        .collect();

    let mut lines = Group::new().set("class", "world-lines");
    let mut ops = Group::new();
    for (b, cols) in folds.iter().enumerate() {
        let base = top0 + b as f64 * block_h;
        let y = move |r: usize| base + r as f64 * ROW;
        let x0 = MARGIN + label_w;
        let x1 = x0 + block_w(cols);
        let mut column_x = Vec::new();
        let mut x = x0 + GAP;
        for column in cols.clone() {
            column_x.push(x + widths[column] / 2.0);
            x += widths[column] + GAP;
        }
        for (q, measured) in measured_at.iter().enumerate() {
            let end = match *measured {
                Some(c) if cols.contains(&c) => column_x[c - cols.start],
                Some(c) if c < cols.start => continue,
                _ => x1,
            };
            lines = lines
                .add(
                    Line::new()
                        .set("x1", num(x0))
                        .set("y1", num(y(q)))
                        .set("x2", num(end))
                        .set("y2", num(y(q)))
                        .set("stroke", p.line)
                        .set("stroke-width", "1.20"),
                )
                .add(text(
                    x0 - 8.0,
                    y(q),
                    FONT,
                    p.text,
                    "end",
                    &if b == 0 {
                        format!("{} |0⟩", display_name(&format!("q{q}")))
                    } else {
                        display_name(&format!("q{q}"))
                    },
                ));
        }
        if let Some((entropies, unit)) = &style.cut_entropies {
            for (k, s) in entropies.iter().enumerate().take(n.saturating_sub(1)) {
                let ym = (y(k) + y(k + 1)) / 2.0;
                lines = lines.add(
                    text(
                        x1 + 8.0,
                        ym,
                        SMALL,
                        p.entangling,
                        "start",
                        &format!("S = {s:.3}"),
                    )
                    .set("class", "cut-entropy"),
                );
            }
            if n > 1 {
                lines = lines.add(text(
                    x1 + 8.0,
                    y(0) - ROW / 3.0,
                    SMALL,
                    p.muted,
                    "start",
                    &format!("S({unit})"),
                ));
            }
        }
        for column in cols.clone() {
            let cx = column_x[column - cols.start];
            for placed in layout.column(column) {
                let inst = &insts[placed.instruction];
                ops = ops.add(
                    glyph(inst, cx, widths[column], &y, &p)
                        .set("class", "op")
                        .set("data-op", inst.name())
                        .set("data-index", placed.instruction),
                );
            }
        }
    }
    super::document(width, height, &p, vec![band, lines, ops])
}
