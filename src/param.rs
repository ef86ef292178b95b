//! Symbolic parameters and affine angle expressions.
//!
//! A gate angle is an [`Angle`]: `c₀ + Σₖ cₖ·pₖ`, a constant plus a linear combination of named
//! [`Param`]s. Parameters come in two kinds ([`ParamKind`]): trainable *weights* and data *inputs*.
//! Angles are built with ordinary arithmetic:
//!
//! ```
//! use qloop::{Angle, Param};
//! use std::f64::consts::PI;
//! let theta = Param::weight("theta");
//! let angle = 2.0 * &theta + PI / 2.0;
//! assert_eq!(angle.eval(|_| 0.25), 0.5 + PI / 2.0);
//! assert_eq!(angle.to_string(), "2*theta + 1.5707963267948966");
//! ```
//!
//! How parameters map to positions in the flat parameter vectors is stated in
//! `docs/conventions.md` (section *Parameters*) and
//! implemented by [`crate::ParameterLayout`].

use crate::error::ParamKind;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, Div, Mul, Neg, Sub};

/// A named symbolic parameter: a trainable weight or a data input.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Param {
    /// The parameter's name; two parameters with the same name and kind are the same parameter.
    pub name: String,
    /// Weight or input.
    pub kind: ParamKind,
}

impl Param {
    /// A trainable weight named `name`.
    ///
    /// ```
    /// let w = qloop::Param::weight("w0");
    /// assert_eq!(w.kind, qloop::ParamKind::Weight);
    /// ```
    pub fn weight(name: impl Into<String>) -> Self {
        Param {
            name: name.into(),
            kind: ParamKind::Weight,
        }
    }

    /// A data input named `name`.
    ///
    /// ```
    /// let x = qloop::Param::input("x0");
    /// assert_eq!(x.kind, qloop::ParamKind::Input);
    /// ```
    pub fn input(name: impl Into<String>) -> Self {
        Param {
            name: name.into(),
            kind: ParamKind::Input,
        }
    }

    /// `count` weights named `prefix0`, `prefix1`, ...
    ///
    /// ```
    /// let ws = qloop::Param::weights("theta", 3);
    /// assert_eq!(ws[2].name, "theta2");
    /// ```
    pub fn weights(prefix: &str, count: usize) -> Vec<Param> {
        (0..count)
            .map(|i| Param::weight(format!("{prefix}{i}")))
            .collect()
    }

    /// `count` inputs named `prefix0`, `prefix1`, ...
    ///
    /// ```
    /// let xs = qloop::Param::inputs("x", 2);
    /// assert_eq!(xs[1].name, "x1");
    /// ```
    pub fn inputs(prefix: &str, count: usize) -> Vec<Param> {
        (0..count)
            .map(|i| Param::input(format!("{prefix}{i}")))
            .collect()
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// One term `coeff · param` of an [`Angle`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Term {
    /// The coefficient.
    pub coeff: f64,
    /// The parameter.
    #[serde(flatten)]
    pub param: Param,
}

/// An affine angle expression `constant + Σ coeff·param` (radians).
///
/// Serialized as a bare number when it has no parameters, otherwise as
/// `{"constant": c, "terms": [{"coeff": a, "name": "θ", "kind": "weight"}, ...]}`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Angle {
    constant: f64,
    terms: Vec<Term>,
}

impl Angle {
    /// A constant angle.
    ///
    /// ```
    /// assert!(qloop::Angle::constant(0.5).is_constant());
    /// ```
    pub fn constant(value: f64) -> Self {
        Angle {
            constant: value,
            terms: Vec::new(),
        }
    }

    /// The constant part `c₀`.
    pub fn constant_part(&self) -> f64 {
        self.constant
    }

    /// The parameter terms, one per distinct parameter, in order of first appearance.
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// True when the angle has no parameters.
    pub fn is_constant(&self) -> bool {
        self.terms.is_empty()
    }

    /// The value, with each parameter's value given by `value_of`.
    ///
    /// ```
    /// let a = qloop::Angle::from(qloop::Param::weight("t")) * 3.0 - 1.0;
    /// assert_eq!(a.eval(|_| 2.0), 5.0);
    /// ```
    pub fn eval(&self, mut value_of: impl FnMut(&Param) -> f64) -> f64 {
        self.terms
            .iter()
            .fold(self.constant, |acc, t| acc + t.coeff * value_of(&t.param))
    }

    /// The parameters this angle uses.
    pub fn params(&self) -> impl Iterator<Item = &Param> {
        self.terms.iter().map(|t| &t.param)
    }

    /// `constant + Σ terms`, with equal parameters merged and zero coefficients dropped.
    pub fn affine(constant: f64, terms: Vec<Term>) -> Self {
        let mut angle = Angle::constant(constant);
        angle.merge_terms(terms.iter());
        angle
    }

    /// Adds `terms` to this angle's, merging equal parameters and dropping zero coefficients:
    /// linear in the number of terms (a hash index when there are more than a few).
    fn merge_terms<'a>(&mut self, terms: impl ExactSizeIterator<Item = &'a Term>) {
        if terms.len() <= 4 {
            for t in terms {
                match self.terms.iter_mut().find(|u| u.param == t.param) {
                    Some(u) => u.coeff += t.coeff,
                    None => self.terms.push(t.clone()),
                }
            }
        } else {
            let mut index: std::collections::HashMap<Param, usize> = self
                .terms
                .iter()
                .enumerate()
                .map(|(i, t)| (t.param.clone(), i))
                .collect();
            for t in terms {
                match index.get(&t.param) {
                    Some(&i) => self.terms[i].coeff += t.coeff,
                    None => {
                        index.insert(t.param.clone(), self.terms.len());
                        self.terms.push(t.clone());
                    }
                }
            }
        }
        self.terms.retain(|t| t.coeff != 0.0);
    }

    fn scaled(mut self, factor: f64) -> Self {
        self.constant *= factor;
        for t in &mut self.terms {
            t.coeff *= factor;
        }
        self.terms.retain(|t| t.coeff != 0.0);
        self
    }
}

impl fmt::Display for Angle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for t in &self.terms {
            let (sign, mag) = if t.coeff < 0.0 {
                ("-", -t.coeff)
            } else {
                ("+", t.coeff)
            };
            match (first, sign) {
                (true, "-") => f.write_str("-")?,
                (true, _) => {}
                (false, s) => write!(f, " {s} ")?,
            }
            if mag != 1.0 {
                write!(f, "{mag}*")?;
            }
            write!(f, "{}", t.param)?;
            first = false;
        }
        if first {
            write!(f, "{}", self.constant)
        } else if self.constant != 0.0 {
            let sign = if self.constant < 0.0 { "-" } else { "+" };
            write!(f, " {sign} {}", self.constant.abs())
        } else {
            Ok(())
        }
    }
}

impl From<f64> for Angle {
    fn from(value: f64) -> Self {
        Angle::constant(value)
    }
}

impl From<Param> for Angle {
    fn from(param: Param) -> Self {
        Angle {
            constant: 0.0,
            terms: vec![Term { coeff: 1.0, param }],
        }
    }
}

impl From<&Param> for Angle {
    fn from(param: &Param) -> Self {
        Angle::from(param.clone())
    }
}

impl From<&Angle> for Angle {
    fn from(angle: &Angle) -> Self {
        angle.clone()
    }
}

impl Neg for Angle {
    type Output = Angle;
    fn neg(self) -> Angle {
        self.scaled(-1.0)
    }
}

impl<T: Into<Angle>> Add<T> for Angle {
    type Output = Angle;
    fn add(mut self, rhs: T) -> Angle {
        let rhs = rhs.into();
        self.constant += rhs.constant;
        self.merge_terms(rhs.terms.iter());
        self
    }
}

impl<T: Into<Angle>> Sub<T> for Angle {
    type Output = Angle;
    fn sub(self, rhs: T) -> Angle {
        self + (-rhs.into())
    }
}

impl Mul<f64> for Angle {
    type Output = Angle;
    fn mul(self, rhs: f64) -> Angle {
        self.scaled(rhs)
    }
}

impl Mul<Angle> for f64 {
    type Output = Angle;
    fn mul(self, rhs: Angle) -> Angle {
        rhs.scaled(self)
    }
}

impl Div<f64> for Angle {
    type Output = Angle;
    fn div(self, rhs: f64) -> Angle {
        self.scaled(1.0 / rhs)
    }
}

/// Arithmetic directly on parameters (`2.0 * &theta + 0.5`) produces [`Angle`]s.
macro_rules! param_arith {
    ($($t:ty),*) => {$(
        impl<T: Into<Angle>> Add<T> for $t {
            type Output = Angle;
            fn add(self, rhs: T) -> Angle { Angle::from(self) + rhs }
        }
        impl<T: Into<Angle>> Sub<T> for $t {
            type Output = Angle;
            fn sub(self, rhs: T) -> Angle { Angle::from(self) - rhs }
        }
        impl Mul<f64> for $t {
            type Output = Angle;
            fn mul(self, rhs: f64) -> Angle { Angle::from(self) * rhs }
        }
        impl Mul<$t> for f64 {
            type Output = Angle;
            fn mul(self, rhs: $t) -> Angle { Angle::from(rhs) * self }
        }
        impl Div<f64> for $t {
            type Output = Angle;
            fn div(self, rhs: f64) -> Angle { Angle::from(self) / rhs }
        }
        impl Neg for $t {
            type Output = Angle;
            fn neg(self) -> Angle { -Angle::from(self) }
        }
    )*};
}
param_arith!(Param, &Param);

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum AngleRepr {
    Constant(f64),
    Affine {
        #[serde(default)]
        constant: f64,
        terms: Vec<Term>,
    },
}

impl Serialize for Angle {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.terms.is_empty() {
            AngleRepr::Constant(self.constant).serialize(s)
        } else {
            AngleRepr::Affine {
                constant: self.constant,
                terms: self.terms.clone(),
            }
            .serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for Angle {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match AngleRepr::deserialize(d)? {
            AngleRepr::Constant(c) => Angle::constant(c),
            AngleRepr::Affine { constant, terms } => {
                if terms.len() > crate::limits::MAX_ANGLE_TERMS {
                    return Err(serde::de::Error::custom(format!(
                        "an angle with {} terms, more than the limit of {}",
                        terms.len(),
                        crate::limits::MAX_ANGLE_TERMS
                    )));
                }
                Angle::affine(constant, terms)
            }
        })
    }
}
