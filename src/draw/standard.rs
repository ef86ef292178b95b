//! The standard diagram: wires, boxes, controls, targets, meters, resets, barriers, the double
//! condition wire of classically conditioned instructions, folding.

use super::labels::{display_name, gate_name, gate_params, text_width};
use super::svg::{Circle, Element, Group, Line, Path, Rectangle, Text};
use super::{activation_band, num, Layout, Palette, Placed, Style};
use crate::circuit::{Circuit, Instruction};
use crate::gate::Gate;

const ROW: f64 = 50.0;
const BOX_H: f64 = 32.0;
const BOX_H_PARAMS: f64 = 40.0;
const FONT: f64 = 13.0;
const PARAM_FONT: f64 = 10.0;
const GAP: f64 = 14.0;
const MARGIN: f64 = 20.0;

/// The width an instruction needs in its column.
fn item_width(inst: &Instruction) -> f64 {
    match inst {
        Instruction::Barrier { .. } => 12.0,
        Instruction::Measure { .. } | Instruction::Reset { .. } => 34.0,
        Instruction::Conditional { instruction, .. } => item_width(instruction),
        Instruction::Gate { gate, .. } => match gate {
            Gate::CX | Gate::CCX | Gate::CZ | Gate::Swap | Gate::CSwap => 26.0,
            // The label sits to the right of the vertical line.
            Gate::CP(_) => {
                2.0 * (10.0 + text_width(&format!("P({})", gate_params(gate)), PARAM_FONT))
            }
            _ => {
                let name = text_width(gate_name(gate), FONT);
                let params = text_width(&gate_params(gate), PARAM_FONT);
                (name.max(params) + 14.0).max(BOX_H)
            }
        },
    }
}

fn text(x: f64, y: f64, size: f64, fill: &str, content: &str) -> Element {
    Text::new(content)
        .set("x", num(x))
        .set("y", num(y))
        .set("font-size", num(size))
        .set("fill", fill.to_string())
        .set("text-anchor", "middle")
        .set("dominant-baseline", "central")
}

fn line(x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, width: f64) -> Element {
    Line::new()
        .set("x1", num(x1))
        .set("y1", num(y1))
        .set("x2", num(x2))
        .set("y2", num(y2))
        .set("stroke", stroke.to_string())
        .set("stroke-width", num(width))
}

fn dot(x: f64, y: f64, r: f64, fill: &str) -> Element {
    Circle::new()
        .set("cx", num(x))
        .set("cy", num(y))
        .set("r", num(r))
        .set("fill", fill.to_string())
}

fn gate_box(x: f64, y_top: f64, w: f64, h: f64, gate: &Gate, p: &Palette) -> Element {
    let params = gate_params(gate);
    let y_mid = y_top + h / 2.0;
    let mut g = Group::new().add(
        Rectangle::new()
            .set("x", num(x - w / 2.0))
            .set("y", num(y_top))
            .set("width", num(w))
            .set("height", num(h))
            .set("rx", "3.00")
            .set("fill", p.gate_fill)
            .set("stroke", p.gate_stroke)
            .set("stroke-width", "1.50"),
    );
    if params.is_empty() {
        g = g.add(text(x, y_mid, FONT, p.text, gate_name(gate)));
    } else {
        g = g
            .add(text(x, y_mid - 7.0, FONT, p.text, gate_name(gate)))
            .add(text(x, y_mid + 9.0, PARAM_FONT, p.text, &params));
    }
    g
}

fn single_box(x: f64, y: f64, w: f64, gate: &Gate, p: &Palette) -> Element {
    let h = if gate.angles().is_empty() {
        BOX_H
    } else {
        BOX_H_PARAMS
    };
    gate_box(x, y - h / 2.0, w, h, gate, p)
}

fn target_plus(x: f64, y: f64, p: &Palette) -> Element {
    let r = 11.0;
    Group::new()
        .add(
            Circle::new()
                .set("cx", num(x))
                .set("cy", num(y))
                .set("r", num(r))
                .set("fill", p.background)
                .set("stroke", p.line)
                .set("stroke-width", "1.50"),
        )
        .add(line(x - r, y, x + r, y, p.line, 1.5))
        .add(line(x, y - r, x, y + r, p.line, 1.5))
}

fn cross(x: f64, y: f64, p: &Palette) -> Element {
    let s = 6.0;
    Group::new()
        .add(line(x - s, y - s, x + s, y + s, p.line, 2.0))
        .add(line(x - s, y + s, x + s, y - s, p.line, 2.0))
}

/// The 30 × 28 box of a measurement or a reset centred at `(x, y)`.
fn meter_box(x: f64, y: f64, p: &Palette) -> Element {
    Rectangle::new()
        .set("x", num(x - 15.0))
        .set("y", num(y - 14.0))
        .set("width", "30.00")
        .set("height", "28.00")
        .set("rx", "3.00")
        .set("fill", p.measure_fill)
        .set("stroke", p.line)
        .set("stroke-width", "1.50")
}

/// The glyphs of one instruction centred at `x`, with row `r` at `y(r)`.
fn glyph(
    inst: &Instruction,
    placed: &Placed,
    x: f64,
    w: f64,
    y: &dyn Fn(usize) -> f64,
    p: &Palette,
) -> Element {
    let mut g = Group::new();
    match inst {
        Instruction::Conditional {
            condition,
            instruction,
        } => {
            // The double condition wire from the instruction down to the classical register,
            // ending in a dot labelled with the value.
            let below = instruction.qubits().iter().copied().max().unwrap_or(0);
            let (yq, yc) = (y(below) + 14.0, y(placed.bottom));
            let inner = Placed {
                top: instruction.qubits().iter().copied().min().unwrap_or(0),
                bottom: match **instruction {
                    Instruction::Measure { .. } => placed.bottom,
                    _ => below,
                },
                ..*placed
            };
            g = g
                .add(line(x - 1.5, yq, x - 1.5, yc, p.line, 1.0))
                .add(line(x + 1.5, yq, x + 1.5, yc, p.line, 1.0))
                .add(dot(x, yc, 5.0, p.line).set("class", "condition"))
                .add(text(
                    x + 10.0,
                    yc + 11.0,
                    PARAM_FONT,
                    p.text,
                    &format!("={}", condition.value),
                ))
                .add(glyph(instruction, &inner, x, w, y, p));
        }
        Instruction::Reset { qubit } => {
            let yq = y(*qubit);
            g = g
                .add(meter_box(x, yq, p))
                .add(text(x, yq, FONT, p.text, "|0⟩"));
        }
        Instruction::Barrier { qubits } => {
            let mut rows = qubits.clone();
            rows.sort_unstable();
            // One dashed segment per run of consecutive qubits.
            let mut start = 0;
            for k in 0..rows.len() {
                if k + 1 == rows.len() || rows[k + 1] != rows[k] + 1 {
                    let (a, b) = (rows[start], rows[k]);
                    let (top, bottom) = (y(a) - ROW / 2.0 + 4.0, y(b) + ROW / 2.0 - 4.0);
                    g = g
                        .add(
                            Rectangle::new()
                                .set("x", num(x - 5.0))
                                .set("y", num(top))
                                .set("width", "10.00")
                                .set("height", num(bottom - top))
                                .set("fill", p.muted)
                                .set("fill-opacity", "0.25"),
                        )
                        .add(line(x, top, x, bottom, p.muted, 1.5).set("stroke-dasharray", "4 3"));
                    start = k + 1;
                }
            }
        }
        Instruction::Measure { qubit, clbit } => {
            let (yq, yc) = (y(*qubit), y(placed.bottom));
            g = g
                .add(line(x - 1.5, yq + 12.0, x - 1.5, yc - 6.0, p.line, 1.0))
                .add(line(x + 1.5, yq + 12.0, x + 1.5, yc - 6.0, p.line, 1.0))
                .add(
                    Path::new()
                        .set(
                            "d",
                            format!(
                                "M {} {} L {} {} L {} {} Z",
                                num(x - 5.0),
                                num(yc - 8.0),
                                num(x + 5.0),
                                num(yc - 8.0),
                                num(x),
                                num(yc)
                            ),
                        )
                        .set("fill", p.line),
                )
                .add(text(
                    x + 10.0,
                    yc + 10.0,
                    PARAM_FONT,
                    p.text,
                    &clbit.to_string(),
                ))
                .add(meter_box(x, yq, p))
                .add(
                    Path::new()
                        .set(
                            "d",
                            format!(
                                "M {} {} A 10 10 0 0 1 {} {}",
                                num(x - 10.0),
                                num(yq + 6.0),
                                num(x + 10.0),
                                num(yq + 6.0)
                            ),
                        )
                        .set("fill", "none")
                        .set("stroke", p.line)
                        .set("stroke-width", "1.50"),
                )
                .add(line(x, yq + 6.0, x + 7.0, yq - 8.0, p.line, 1.5));
        }
        Instruction::Gate { gate, qubits } => {
            let controls = gate.num_controls();
            let (ctrl, targets) = qubits.split_at(controls);
            let (top, bottom) = (y(placed.top), y(placed.bottom));
            let spanning_box = targets.len() == 2 && !matches!(gate, Gate::Swap | Gate::CSwap);
            if placed.top != placed.bottom && !spanning_box {
                g = g.add(line(x, top, x, bottom, p.line, 1.5));
            }
            for &c in ctrl {
                g = g.add(dot(x, y(c), 5.0, p.line));
            }
            match gate {
                Gate::CX | Gate::CCX => g = g.add(target_plus(x, y(targets[0]), p)),
                Gate::CZ => g = g.add(dot(x, y(targets[0]), 5.0, p.line)),
                Gate::Swap | Gate::CSwap => {
                    for &t in targets {
                        g = g.add(cross(x, y(t), p));
                    }
                }
                Gate::CP(_) => {
                    let yt = y(targets[0]);
                    g = g.add(dot(x, yt, 5.0, p.line)).add(
                        text(
                            x + 6.0,
                            (y(ctrl[0]) + yt) / 2.0,
                            PARAM_FONT,
                            p.text,
                            &format!("P({})", gate_params(gate)),
                        )
                        .set("text-anchor", "start"),
                    );
                }
                _ if spanning_box => {
                    let h = bottom - top + BOX_H;
                    g = g.add(gate_box(x, top - BOX_H / 2.0, w, h, gate, p));
                }
                _ => g = g.add(single_box(x, y(targets[0]), w, gate, p)),
            }
        }
    }
    g
}

pub(super) fn render(circuit: &Circuit, layout: &Layout, style: &Style) -> String {
    let p = style.theme.palette();
    let n = layout.num_qubits();
    let has_classical = layout.num_clbits() > 0;
    let rows = n + usize::from(has_classical);
    let insts = circuit.instructions();
    let mut widths = vec![BOX_H; layout.num_columns()];
    for placed in layout.items() {
        let w = item_width(&insts[placed.instruction]);
        widths[placed.column] = widths[placed.column].max(w);
    }
    let label_w = (0..n)
        .map(|q| text_width(&display_name(&format!("q{q}")), FONT))
        .fold(text_width("c", FONT), f64::max)
        + 24.0;
    let folds = layout.folds(style.fold);
    let block_w = |cols: &std::ops::Range<usize>| -> f64 {
        widths[cols.clone()].iter().map(|w| w + GAP).sum::<f64>() + GAP
    };
    let content_w = folds.iter().map(&block_w).fold(0.0, f64::max);
    let width = MARGIN * 2.0 + label_w + content_w + 16.0;
    let (band, band_h) = match &style.activations {
        Some(a) => activation_band(a, MARGIN + label_w, MARGIN, content_w, &p),
        None => (Group::new(), 0.0),
    };
    let block_h = rows as f64 * ROW + 10.0;
    let top0 = MARGIN + band_h + ROW / 2.0;
    let height = top0 - ROW / 2.0 + block_h * folds.len() as f64 + MARGIN;

    let mut wires = Group::new().set("class", "wires");
    let mut ops = Group::new();
    for (b, cols) in folds.iter().enumerate() {
        let base = top0 + b as f64 * block_h;
        let y = move |r: usize| base + r as f64 * ROW;
        let x0 = MARGIN + label_w;
        let x1 = x0 + block_w(cols);
        for q in 0..n {
            wires = wires.add(line(x0, y(q), x1, y(q), p.line, 1.0)).add(
                text(
                    MARGIN + label_w - 10.0,
                    y(q),
                    FONT,
                    p.text,
                    &display_name(&format!("q{q}")),
                )
                .set("text-anchor", "end"),
            );
        }
        if has_classical {
            let yc = y(n);
            wires = wires
                .add(line(x0, yc - 1.5, x1, yc - 1.5, p.line, 1.0))
                .add(line(x0, yc + 1.5, x1, yc + 1.5, p.line, 1.0))
                .add(line(x0 + 6.0, yc + 6.0, x0 + 12.0, yc - 6.0, p.line, 1.0))
                .add(text(
                    x0 + 9.0,
                    yc - 12.0,
                    PARAM_FONT,
                    p.text,
                    &layout.num_clbits().to_string(),
                ))
                .add(
                    text(MARGIN + label_w - 10.0, yc, FONT, p.text, "c").set("text-anchor", "end"),
                );
        }
        if b + 1 < folds.len() {
            wires = wires.add(text(x1 + 8.0, y(0) - ROW / 2.0 + 8.0, FONT, p.muted, "»"));
        }
        if b > 0 {
            wires = wires.add(text(x0 - 4.0, y(0) - ROW / 2.0 + 8.0, FONT, p.muted, "«"));
        }
        let mut x = x0 + GAP;
        for column in cols.clone() {
            let cx = x + widths[column] / 2.0;
            for placed in layout.column(column) {
                let inst = &insts[placed.instruction];
                ops = ops.add(
                    glyph(inst, placed, cx, widths[column], &y, &p)
                        .set("class", "op")
                        .set("data-op", inst.name())
                        .set("data-index", placed.instruction),
                );
            }
            x += widths[column] + GAP;
        }
    }
    super::document(width, height, &p, vec![band, wires, ops])
}
