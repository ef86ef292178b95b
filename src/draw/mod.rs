//! Circuit diagrams: SVG in the standard style and in a Feynman-style view, and Unicode text
//! for the terminal.
//!
//! Structure comes first: the circuit becomes a [`CircuitDag`] (petgraph), the DAG a
//! [`Layout`] of columns, and only then does a renderer turn the layout into glyphs. Layout is
//! tested without drawing; drawings are deterministic (fixed decimals, sorted attributes,
//! escaped labels, widths from a fixed metrics table, generic font families) and are
//! snapshot-tested.
//!
//! - **Standard**: labelled wires, gate boxes with π-fraction or short decimal parameters
//!   (symbolic names as `θ₀`), controls ● and targets ⊕, swaps ×, multi-qubit boxes, barriers,
//!   meters with a double line to the classical register, folding into several rows.
//! - **Feynman**: qubit world-lines left to right; single-qubit gates are labelled vertices;
//!   two-qubit interactions are curved propagator arcs between world-lines, wavy for entangling
//!   gates (every two-qubit gate but SWAP) and smooth dashed for SWAP; measurement is a terminal
//!   collapse node. Optional overlays: an activation band (measured probabilities or a model's
//!   activations, normalized, with a colour legend) and the entropy of each cut between
//!   adjacent world-lines.
//!
//! ```
//! use qloop::draw::{Style, View};
//! let bell = qloop::Circuit::new(2).h(0).cx(0, 1).measure_all();
//! let svg = bell.to_svg(&Style::default());
//! assert!(svg.starts_with("<svg") && svg.contains("class=\"op\""));
//! let feynman = bell.to_svg(&Style { view: View::Feynman, ..Style::default() });
//! assert!(feynman.contains("propagator"));
//! print!("{}", bell.to_text(None));
//! ```

pub mod dag;
mod feynman;
mod labels;
pub mod layout;
mod standard;
mod svg;
mod text;

pub use dag::{CircuitDag, Wire};
pub use labels::{
    display_name, format_angle, format_number, gate_label, gate_name, gate_params, text_width,
};
pub use layout::{Layout, Placed};

use crate::circuit::Circuit;

/// Which drawing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// Wires, boxes, controls and targets (as Qiskit and PennyLane draw).
    #[default]
    Standard,
    /// World-lines, vertices and propagator arcs.
    Feynman,
}

/// Colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    /// Dark lines on white.
    #[default]
    Light,
    /// Light lines on a dark background.
    Dark,
    /// Black on white, no fills but greys (for papers and printers).
    Print,
}

impl std::str::FromStr for Theme {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "light" => Ok(Theme::Light),
            "dark" => Ok(Theme::Dark),
            "print" => Ok(Theme::Print),
            other => Err(format!("theme '{other}' is not one of: light, dark, print")),
        }
    }
}

/// Values drawn as a normalized colour band above the diagram, with a colour legend.
#[derive(Debug, Clone, PartialEq)]
pub struct Activations {
    /// What the values are (`"P(outcome)"`, `"hidden layer 1"`).
    pub title: String,
    /// One label per value (bitstrings, neuron names); drawn when they fit.
    pub labels: Vec<String>,
    /// The values.
    pub values: Vec<f64>,
}

/// Everything that decides how a diagram looks. A value: build it, keep it, reuse it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Style {
    /// Standard or Feynman.
    pub view: View,
    /// Colours.
    pub theme: Theme,
    /// Columns per row before the diagram folds (`None`: never).
    pub fold: Option<usize>,
    /// The activation band (Feynman and standard views).
    pub activations: Option<Activations>,
    /// The entropy of each cut `{0..k−1} | {k..n−1}`, `k = 1 … n−1`, with its unit, printed
    /// between world-lines `k − 1` and `k` (Feynman view).
    pub cut_entropies: Option<(Vec<f64>, String)>,
}

/// The colours of a theme.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Palette {
    pub background: &'static str,
    pub line: &'static str,
    pub text: &'static str,
    pub gate_fill: &'static str,
    pub gate_stroke: &'static str,
    pub entangling: &'static str,
    pub muted: &'static str,
    pub measure_fill: &'static str,
    pub greyscale: bool,
}

impl Theme {
    pub(crate) fn palette(self) -> Palette {
        match self {
            Theme::Light => Palette {
                background: "#ffffff",
                line: "#222222",
                text: "#111111",
                gate_fill: "#dbe8f7",
                gate_stroke: "#2f5d8c",
                entangling: "#c0392b",
                muted: "#7f8c8d",
                measure_fill: "#eeeeee",
                greyscale: false,
            },
            Theme::Dark => Palette {
                background: "#1e1f24",
                line: "#d0d3da",
                text: "#f2f3f5",
                gate_fill: "#2c4a6e",
                gate_stroke: "#8fb8e8",
                entangling: "#ff7b6b",
                muted: "#8a9099",
                measure_fill: "#3a3d45",
                greyscale: false,
            },
            Theme::Print => Palette {
                background: "#ffffff",
                line: "#000000",
                text: "#000000",
                gate_fill: "#ffffff",
                gate_stroke: "#000000",
                entangling: "#000000",
                muted: "#555555",
                measure_fill: "#ffffff",
                greyscale: true,
            },
        }
    }
}

/// A coordinate with two decimals (the only way numbers enter the SVG).
pub(crate) fn num(v: f64) -> svg::Num {
    svg::Num(v)
}

/// The SVG document around the layers of a drawing: size, view box, generic font family and a
/// background in the theme's colour.
pub(crate) fn document(width: f64, height: f64, p: &Palette, layers: Vec<svg::Element>) -> String {
    use svg::{Document, Rectangle};
    let mut doc = Document::new()
        .set("xmlns", "http://www.w3.org/2000/svg")
        .set("width", num(width))
        .set("height", num(height))
        .set("viewBox", format!("0 0 {} {}", num(width), num(height)))
        .set("font-family", "sans-serif")
        .add(
            Rectangle::new()
                .set("width", "100%")
                .set("height", "100%")
                .set("fill", p.background),
        );
    for layer in layers {
        doc = doc.add(layer);
    }
    let mut out = String::new();
    doc.write(&mut out);
    out.push('\n');
    out
}

/// A colour for `t ∈ [0, 1]`: viridis (five stops, linearly interpolated), or a grey ramp.
pub(crate) fn colour_map(t: f64, greyscale: bool) -> String {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.5
    };
    if greyscale {
        let g = (235.0 - 200.0 * t).round() as u8;
        return format!("#{g:02x}{g:02x}{g:02x}");
    }
    const STOPS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let x = t * 4.0;
    let i = (x.floor() as usize).min(3);
    let f = x - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |p: f64, q: f64| (p + (q - p) * f).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(a.0, b.0),
        mix(a.1, b.1),
        mix(a.2, b.2)
    )
}

impl Circuit {
    /// The circuit as a self-contained SVG document (see the [module docs](crate::draw)).
    pub fn to_svg(&self, style: &Style) -> String {
        let layout = Layout::of(self);
        match style.view {
            View::Standard => standard::render(self, &layout, style),
            View::Feynman => feynman::render(self, &layout, style),
        }
    }

    /// The circuit as a Unicode box-drawing diagram, folded after `fold` columns.
    ///
    /// ```
    /// let text = qloop::Circuit::new(2).h(0).cx(0, 1).to_text(None);
    /// assert!(text.contains("┤H├") && text.contains('⊕') && text.contains('●'));
    /// ```
    pub fn to_text(&self, fold: Option<usize>) -> String {
        text::render(self, &Layout::of(self), fold)
    }
}

/// The activation band: a title, one cell per value coloured by its normalized value
/// `(v − min)/(max − min)`, labels under the cells when they fit, and a colour legend from min
/// to max. Returns the group and the height it takes.
pub(crate) fn activation_band(
    a: &Activations,
    x: f64,
    y: f64,
    width: f64,
    p: &Palette,
) -> (svg::Element, f64) {
    use svg::{Definitions, Group, LinearGradient, Rectangle, Stop, Text};
    let label = |x: f64, y: f64, size: f64, anchor: &str, content: &str| {
        Text::new(content)
            .set("x", num(x))
            .set("y", num(y))
            .set("font-size", num(size))
            .set("fill", p.text)
            .set("text-anchor", anchor.to_string())
            .set("dominant-baseline", "central")
    };
    let finite: Vec<f64> = a.values.iter().copied().filter(|v| v.is_finite()).collect();
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let norm = |v: f64| {
        if hi > lo {
            (v - lo) / (hi - lo)
        } else {
            0.5
        }
    };
    let mut g =
        Group::new()
            .set("class", "activations")
            .add(label(x, y + 6.0, 11.0, "start", &a.title));
    let cells_y = y + 16.0;
    let cell_h = 18.0;
    let count = a.values.len().max(1);
    let cell_w = width / count as f64;
    let labels_fit = !a.labels.is_empty()
        && a.labels.len() == a.values.len()
        && a.labels.iter().all(|l| text_width(l, 9.0) + 2.0 <= cell_w);
    for (k, &v) in a.values.iter().enumerate() {
        let cx = x + k as f64 * cell_w;
        g = g.add(
            Rectangle::new()
                .set("x", num(cx))
                .set("y", num(cells_y))
                .set("width", num(cell_w))
                .set("height", num(cell_h))
                .set("fill", colour_map(norm(v), p.greyscale))
                .set("stroke", p.background)
                .set("stroke-width", "0.50"),
        );
        if labels_fit {
            g = g.add(label(
                cx + cell_w / 2.0,
                cells_y + cell_h + 7.0,
                9.0,
                "middle",
                &a.labels[k],
            ));
        }
    }
    let legend_y = cells_y + cell_h + if labels_fit { 16.0 } else { 6.0 };
    let legend_w = width.min(160.0);
    let mut gradient = LinearGradient::new().set("id", "qloop-activation-scale");
    for k in 0..=4 {
        let t = k as f64 / 4.0;
        gradient = gradient.add(
            Stop::new()
                .set("offset", num(t))
                .set("stop-color", colour_map(t, p.greyscale)),
        );
    }
    let fmt = |v: f64| {
        if v.is_finite() {
            format!("{v:.3}")
        } else {
            "-".into()
        }
    };
    g = g
        .add(Definitions::new().add(gradient))
        .add(
            Rectangle::new()
                .set("x", num(x))
                .set("y", num(legend_y))
                .set("width", num(legend_w))
                .set("height", "8.00")
                .set("fill", "url(#qloop-activation-scale)"),
        )
        .add(label(x, legend_y + 15.0, 9.0, "start", &fmt(lo)))
        .add(label(x + legend_w, legend_y + 15.0, 9.0, "end", &fmt(hi)));
    (g, legend_y + 26.0 - y)
}
