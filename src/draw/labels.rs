//! Gate labels: display names, angles as π-fractions or short decimals, parameter names with
//! Greek letters and subscripts; and a fixed text-width table so that layout never depends on
//! the fonts of the machine.

use crate::gate::Gate;
use crate::param::Angle;
use std::f64::consts::PI;

/// The label drawn in a gate's box (the target part for controlled gates): `H`, `RZ`, `√X`,
/// `S†`, …
pub fn gate_name(gate: &Gate) -> &'static str {
    use Gate::*;
    match gate {
        I => "I",
        H | CH => "H",
        X | CX | CCX => "X",
        Y | CY => "Y",
        Z | CZ => "Z",
        S => "S",
        Sdg => "S†",
        T => "T",
        Tdg => "T†",
        SX => "√X",
        SXdg => "√X†",
        RX(_) | CRX(_) => "RX",
        RY(_) | CRY(_) => "RY",
        RZ(_) | CRZ(_) => "RZ",
        P(_) | CP(_) => "P",
        U(..) => "U",
        CU3(..) => "U3",
        Swap | CSwap => "SWAP",
        RXX(_) => "RXX",
        RYY(_) => "RYY",
        RZZ(_) => "RZZ",
    }
}

/// The gate's angles, formatted and comma-separated (empty for gates without angles).
///
/// ```
/// use qloop::{draw::gate_params, Gate, Param};
/// let g = Gate::U(std::f64::consts::FRAC_PI_2.into(), 0.0.into(), (-0.25).into());
/// assert_eq!(gate_params(&g), "π/2, 0, -0.25");
/// ```
pub fn gate_params(gate: &Gate) -> String {
    gate.angles()
        .into_iter()
        .map(format_angle)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `name(params)` or `name`.
pub fn gate_label(gate: &Gate) -> String {
    let params = gate_params(gate);
    if params.is_empty() {
        gate_name(gate).to_string()
    } else {
        format!("{}({params})", gate_name(gate))
    }
}

/// A number as a multiple of π where it is one exactly (denominators up to 12, within 1e-12),
/// otherwise with at most 3 decimals (`"0.1"`, `"1.235"`, `"-3"`).
///
/// ```
/// use qloop::draw::format_number;
/// use std::f64::consts::PI;
/// assert_eq!(format_number(PI / 2.0), "π/2");
/// assert_eq!(format_number(-3.0 * PI / 4.0), "-3π/4");
/// assert_eq!(format_number(2.0 * PI), "2π");
/// assert_eq!(format_number(0.1234), "0.123");
/// assert_eq!(format_number(0.0), "0");
/// ```
pub fn format_number(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    for den in [1i64, 2, 3, 4, 6, 8, 12] {
        let k = value * den as f64 / PI;
        let rounded = k.round();
        if (k - rounded).abs() < 1e-12 * den as f64 && rounded != 0.0 && rounded.abs() < 1000.0 {
            let k = rounded as i64;
            let sign = if k < 0 { "-" } else { "" };
            let num = match k.abs() {
                1 => String::new(),
                m => m.to_string(),
            };
            return if den == 1 {
                format!("{sign}{num}π")
            } else {
                format!("{sign}{num}π/{den}")
            };
        }
    }
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.to_string()
    }
}

/// A parameter name for display: a leading Greek-letter word becomes the letter and trailing
/// digits become subscripts (`theta0` → `θ₀`, `phi_12` → `φ₁₂`, `x3` → `x₃`).
///
/// ```
/// assert_eq!(qloop::draw::display_name("theta0"), "θ₀");
/// assert_eq!(qloop::draw::display_name("w_10"), "w₁₀");
/// assert_eq!(qloop::draw::display_name("gain"), "gain");
/// ```
pub fn display_name(name: &str) -> String {
    const GREEK: [(&str, &str); 20] = [
        ("alpha", "α"),
        ("beta", "β"),
        ("gamma", "γ"),
        ("delta", "δ"),
        ("epsilon", "ε"),
        ("zeta", "ζ"),
        ("theta", "θ"),
        ("kappa", "κ"),
        ("lambda", "λ"),
        ("lam", "λ"),
        ("mu", "μ"),
        ("xi", "ξ"),
        ("rho", "ρ"),
        ("sigma", "σ"),
        ("tau", "τ"),
        ("phi", "φ"),
        ("chi", "χ"),
        ("psi", "ψ"),
        ("omega", "ω"),
        ("eta", "η"),
    ];
    let digits_at = name
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit())
        .last()
        .map_or(name.len(), |(i, _)| i);
    let (stem, digits) = name.split_at(digits_at);
    let stem = stem.strip_suffix('_').unwrap_or(stem);
    let stem = GREEK
        .iter()
        .find(|(word, _)| *word == stem)
        .map_or(stem, |(_, letter)| letter);
    let sub: String = digits
        .chars()
        .map(|c| char::from_u32(0x2080 + c.to_digit(10).unwrap_or(0)).unwrap_or(c))
        .collect();
    format!("{stem}{sub}")
}

/// An angle for display: constants by [`format_number`], symbolic angles as
/// `2θ₀ + π/2`.
///
/// ```
/// use qloop::{draw::format_angle, Param};
/// let a = 2.0 * Param::weight("theta0") + std::f64::consts::FRAC_PI_2;
/// assert_eq!(format_angle(&a), "2θ₀+π/2");
/// assert_eq!(format_angle(&(-1.0 * Param::input("x1")).into()), "-x₁");
/// ```
pub fn format_angle(angle: &Angle) -> String {
    let mut out = String::new();
    for (k, term) in angle.terms().iter().enumerate() {
        let name = display_name(&term.param.name);
        let coeff = term.coeff;
        let sign = if coeff < 0.0 {
            "-"
        } else if k > 0 {
            "+"
        } else {
            ""
        };
        let magnitude = coeff.abs();
        let factor = if magnitude == 1.0 {
            String::new()
        } else {
            format_number(magnitude)
        };
        out.push_str(&format!("{sign}{factor}{name}"));
    }
    let constant = angle.constant_part();
    if out.is_empty() {
        return format_number(constant);
    }
    if constant != 0.0 {
        let text = format_number(constant.abs());
        out.push_str(if constant < 0.0 { "-" } else { "+" });
        out.push_str(&text);
    }
    out
}

/// The advance width of `text` at `font_size`, from a fixed table (Helvetica-like metrics in
/// thousandths of an em for ASCII; 0.6 em for anything else), so layout is the same on every
/// machine whatever font the viewer substitutes.
///
/// ```
/// let w = qloop::draw::text_width("H", 10.0);
/// assert!((w - 7.22).abs() < 1e-9);
/// ```
pub fn text_width(text: &str, font_size: f64) -> f64 {
    text.chars().map(|c| char_width(c) as f64).sum::<f64>() * font_size / 1000.0
}

fn char_width(c: char) -> u32 {
    match c {
        ' ' | '.' | ',' | ':' | ';' | '!' | '/' | '\'' | 'f' | 't' | 'I' | '[' | ']' => 278,
        'i' | 'j' | 'l' | '|' => 222,
        '(' | ')' | '-' | 'r' | '`' => 333,
        '*' => 389,
        '+' | '=' | '<' | '>' | '~' => 584,
        '0'..='9' | '_' | '$' | '?' => 556,
        'a' | 'b' | 'd' | 'e' | 'g' | 'h' | 'n' | 'o' | 'p' | 'q' | 'u' => 556,
        'c' | 'k' | 's' | 'v' | 'x' | 'y' | 'z' | 'J' => 500,
        'm' | 'M' => 833,
        'w' | 'C' | 'D' | 'H' | 'N' | 'R' | 'U' => 722,
        'W' => 944,
        'G' | 'O' | 'Q' => 778,
        'F' | 'T' | 'Z' => 611,
        'L' => 556,
        'A' | 'B' | 'E' | 'K' | 'P' | 'S' | 'V' | 'X' | 'Y' => 667,
        '₀'..='₉' => 400,
        '†' => 556,
        '√' => 549,
        _ => 600,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_that_are_not_pi_fractions_stay_decimal() {
        assert_eq!(format_number(1.0), "1");
        assert_eq!(format_number(-0.5), "-0.5");
        assert_eq!(format_number(PI / 7.0), "0.449");
        assert_eq!(format_number(PI / 3.0 * 2.0), "2π/3");
        assert_eq!(format_number(1e-9), "0");
        assert_eq!(format_number(123.4567), "123.457");
    }

    #[test]
    fn names_and_labels() {
        assert_eq!(display_name("x"), "x");
        assert_eq!(display_name("lambda_3"), "λ₃");
        assert_eq!(gate_label(&Gate::RZ(PI.into())), "RZ(π)");
        assert_eq!(gate_label(&Gate::Sdg), "S†");
        assert!(text_width("RZ(π/2)", 12.0) > text_width("H", 12.0));
    }
}
