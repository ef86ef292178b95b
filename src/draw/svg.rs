//! The SVG element tree the renderers build: elements with attributes and children, written
//! in one pass into a `String`.
//!
//! It writes byte for byte what the `svg` crate writes (attributes sorted by name; `&`, `<`,
//! `>` escaped; a text node inline in its element except inside `<svg>` and `<text>`, which put
//! every child on its own line), with the API shape the renderers used with that crate
//! (`Line::new().set(…).add(…)`). It exists because that crate keeps each element's attributes
//! in a hash map of owned strings behind boxed trait objects: drawing a 10^6-gate circuit took
//! 32 s and 4.5 GB with it; see `docs/performance.md` for the figures with this one.

use std::fmt::{Display, Write};

/// One SVG element. See the [module docs](self).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Element {
    name: &'static str,
    /// `<svg>` and `<text>` put every child on its own line.
    lines: bool,
    /// Sorted by name.
    attributes: Vec<(&'static str, Value)>,
    children: Vec<Node>,
}

/// An attribute value: a coordinate, a fixed string, or text made for this element (kept
/// apart so that the common cases allocate nothing).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Num(Num),
    Int(usize),
    Static(&'static str),
    Owned(String),
}

impl From<Num> for Value {
    fn from(v: Num) -> Value {
        Value::Num(v)
    }
}

impl From<usize> for Value {
    fn from(v: usize) -> Value {
        Value::Int(v)
    }
}

impl From<&'static str> for Value {
    fn from(v: &'static str) -> Value {
        Value::Static(v)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Owned(v)
    }
}

/// A number written with two decimals, `-0.00` as `0.00` (how every coordinate is written).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Num(pub f64);

impl Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.0;
        let hundredths = v * 100.0;
        // The computed product is within an ulp of the exact one, so unless it lies next to
        // a rounding tie, rounding it gives the correctly rounded hundredths that `{:.2}`
        // prints; near ties, and for huge or non-finite values, the standard library decides.
        let rounded = hundredths.round();
        let tie_distance = ((hundredths - hundredths.trunc()).abs() - 0.5).abs();
        if hundredths.abs() < 1e15 && tie_distance > 1e-6 {
            let h = rounded as i64;
            let sign = if h < 0 { "-" } else { "" };
            let h = h.unsigned_abs();
            return write!(f, "{sign}{}.{:02}", h / 100, h % 100);
        }
        let s = format!("{v:.2}");
        f.write_str(if s == "-0.00" { "0.00" } else { &s })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    fn new(name: &'static str, lines: bool) -> Element {
        Element {
            name,
            lines,
            attributes: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Sets an attribute (replacing an earlier value of the same name).
    pub(crate) fn set(mut self, name: &'static str, value: impl Into<Value>) -> Element {
        let value = value.into();
        // Kept sorted by name, the order they are written in.
        match self.attributes.binary_search_by(|(n, _)| (*n).cmp(name)) {
            Ok(k) => self.attributes[k].1 = value,
            Err(k) => self.attributes.insert(k, (name, value)),
        }
        self
    }

    /// Appends a child element.
    pub(crate) fn add(mut self, child: Element) -> Element {
        self.children.push(Node::Element(child));
        self
    }

    /// Writes the element and its children to `out`.
    pub(crate) fn write(&self, out: &mut String) {
        out.push('<');
        out.push_str(self.name);
        for (name, value) in &self.attributes {
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            match value {
                Value::Num(v) => {
                    let _ = write!(out, "{v}");
                }
                Value::Int(v) => {
                    let _ = write!(out, "{v}");
                }
                Value::Static(s) => escape_into(s, out),
                Value::Owned(s) => escape_into(s, out),
            }
            out.push('"');
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        let mut inline = false;
        for child in &self.children {
            inline = matches!(child, Node::Text(_)) && !self.lines;
            if !inline {
                out.push('\n');
            }
            match child {
                Node::Element(e) => e.write(out),
                Node::Text(t) => escape_into(t, out),
            }
        }
        if !inline {
            out.push('\n');
        }
        out.push_str("</");
        out.push_str(self.name);
        out.push('>');
    }
}

impl Display for Element {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::new();
        self.write(&mut out);
        f.write_str(&out)
    }
}

fn escape_into(text: &str, out: &mut String) {
    if !text.contains(['&', '<', '>']) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

macro_rules! tags {
    ($($(#[$doc:meta])* $tag:ident = $name:literal, $lines:literal;)*) => {$(
        $(#[$doc])*
        pub(crate) struct $tag;
        impl $tag {
            /// An empty element of this kind.
            #[allow(clippy::new_ret_no_self)]
            pub(crate) fn new() -> Element {
                Element::new($name, $lines)
            }
        }
    )*};
}

tags! {
    /// `<svg>`.
    Document = "svg", true;
    /// `<circle>`.
    Circle = "circle", false;
    /// `<g>`.
    Group = "g", false;
    /// `<line>`.
    Line = "line", false;
    /// `<path>`.
    Path = "path", false;
    /// `<rect>`.
    Rectangle = "rect", false;
    /// `<defs>`.
    Definitions = "defs", false;
    /// `<linearGradient>`.
    LinearGradient = "linearGradient", false;
    /// `<stop>`.
    Stop = "stop", false;
}

/// `<text>` around its content.
pub(crate) struct Text;

impl Text {
    /// A text element holding `content`.
    #[allow(clippy::new_ret_no_self)]
    pub(crate) fn new(content: impl Into<String>) -> Element {
        let mut e = Element::new("text", true);
        e.children.push(Node::Text(content.into()));
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn std_two_decimals(v: f64) -> String {
        let s = format!("{v:.2}");
        if s == "-0.00" {
            "0.00".into()
        } else {
            s
        }
    }

    #[test]
    fn numbers_print_as_the_standard_library_rounds_them() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        let mut values = vec![
            0.0, -0.0, 0.125, 0.135, -0.125, 1.005, 2.675, -0.004, -0.005, 1e14, -1e16, 123.455,
        ];
        for _ in 0..200_000 {
            let scale = 10f64.powi(rng.random_range(-3..9));
            values.push((rng.random::<f64>() - 0.5) * scale);
            // Exact and near ties.
            let k = rng.random_range(-100_000i64..100_000) as f64;
            values.push((k + 0.5) / 100.0);
            values.push(k / 100.0);
        }
        for v in values {
            assert_eq!(Num(v).to_string(), std_two_decimals(v), "{v:e}");
        }
    }

    #[test]
    fn documents_are_written_as_the_svg_crate_writes_them() {
        use ::svg::node::element as reference;
        // The crate adds the namespace itself; qloop sets it in `draw::document`.
        let mut mine = Document::new()
            .set("xmlns", "http://www.w3.org/2000/svg")
            .set("width", Num(10.0))
            .set("font-family", "sans");
        let mut theirs = ::svg::Document::new()
            .set("width", "10.00")
            .set("font-family", "sans");
        for k in 0..20usize {
            let x = k as f64 * 1.37;
            let label = if k % 3 == 0 {
                "a<b & c>".to_string()
            } else {
                format!("q{k}")
            };
            mine = mine.add(
                Group::new()
                    .set("data-index", k)
                    .add(
                        Line::new()
                            .set("y2", Num(x))
                            .set("x1", Num(-x))
                            .set("stroke", "#222"),
                    )
                    .add(Text::new(label.clone()).set("x", Num(x))),
            );
            theirs = theirs.add(
                reference::Group::new()
                    .set("data-index", k)
                    .add(
                        reference::Line::new()
                            .set("y2", std_two_decimals(x))
                            .set("x1", std_two_decimals(-x))
                            .set("stroke", "#222"),
                    )
                    .add(reference::Text::new(label).set("x", std_two_decimals(x))),
            );
        }
        assert_eq!(mine.to_string(), theirs.to_string());
    }
}
