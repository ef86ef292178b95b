//! Tokens of OpenQASM 2.0, each with its 1-based line and column.

use crate::error::{Error, Location, Result};
use std::path::Path;

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Int(u64),
    Real(f64),
    Str(String),
    /// One of `; , ( ) [ ] { } + - * / ^` or `->` / `==`.
    Sym(&'static str),
    Eof,
}

impl Tok {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Int(v) => format!("'{v}'"),
            Tok::Real(v) => format!("'{v}'"),
            Tok::Str(s) => format!("\"{s}\""),
            Tok::Sym(s) => format!("'{s}'"),
            Tok::Eof => "the end of the file".into(),
        }
    }
}

/// A token and where it starts.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub line: usize,
    pub column: usize,
}

/// Splits `source` into tokens; comments (`//` and `/* */`) and whitespace are skipped.
pub(crate) fn tokenize(source: &str, file: Option<&Path>) -> Result<Vec<Token>> {
    let chars: Vec<char> = source.chars().collect();
    let (mut i, mut line, mut col) = (0usize, 1usize, 1usize);
    let mut out = Vec::new();
    let err = |line, column, message: String| Error::Qasm {
        location: Location {
            file: file.map(Path::to_path_buf),
            line,
            column,
        },
        message,
    };
    while i < chars.len() {
        let c = chars[i];
        let (start_line, start_col) = (line, col);
        let advance = |n: usize, i: &mut usize, col: &mut usize| {
            *i += n;
            *col += n;
        };
        if c == '\n' {
            i += 1;
            line += 1;
            col = 1;
            continue;
        }
        if c.is_whitespace() {
            advance(1, &mut i, &mut col);
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                advance(1, &mut i, &mut col);
            }
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'*') {
            advance(2, &mut i, &mut col);
            loop {
                match chars.get(i) {
                    None => {
                        return Err(err(
                            start_line,
                            start_col,
                            "unterminated comment '/*'".into(),
                        ))
                    }
                    Some('*') if chars.get(i + 1) == Some(&'/') => {
                        advance(2, &mut i, &mut col);
                        break;
                    }
                    Some('\n') => {
                        i += 1;
                        line += 1;
                        col = 1;
                    }
                    Some(_) => advance(1, &mut i, &mut col),
                }
            }
            continue;
        }
        let tok =
            if c.is_ascii_alphabetic() || c == '_' {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    advance(1, &mut i, &mut col);
                }
                Tok::Ident(chars[start..i].iter().collect())
            } else if c.is_ascii_digit()
                || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
            {
                let start = i;
                let mut real = false;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    advance(1, &mut i, &mut col);
                }
                if chars.get(i) == Some(&'.') {
                    real = true;
                    advance(1, &mut i, &mut col);
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        advance(1, &mut i, &mut col);
                    }
                }
                if matches!(chars.get(i), Some('e' | 'E')) {
                    let signed = matches!(chars.get(i + 1), Some('+' | '-'));
                    let digit_at = i + 1 + usize::from(signed);
                    if chars.get(digit_at).is_some_and(char::is_ascii_digit) {
                        real = true;
                        advance(digit_at - i, &mut i, &mut col);
                        while i < chars.len() && chars[i].is_ascii_digit() {
                            advance(1, &mut i, &mut col);
                        }
                    }
                }
                let text: String = chars[start..i].iter().collect();
                if real {
                    Tok::Real(text.parse().map_err(|_| {
                        err(start_line, start_col, format!("invalid number '{text}'"))
                    })?)
                } else {
                    Tok::Int(text.parse().map_err(|_| {
                        err(
                            start_line,
                            start_col,
                            format!("integer '{text}' is too large"),
                        )
                    })?)
                }
            } else if c == '"' {
                advance(1, &mut i, &mut col);
                let start = i;
                while i < chars.len() && chars[i] != '"' && chars[i] != '\n' {
                    advance(1, &mut i, &mut col);
                }
                if chars.get(i) != Some(&'"') {
                    return Err(err(start_line, start_col, "unterminated string".into()));
                }
                let text = chars[start..i].iter().collect();
                advance(1, &mut i, &mut col);
                Tok::Str(text)
            } else {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let sym = match two.as_str() {
                    "->" => Some("->"),
                    "==" => Some("=="),
                    _ => None,
                };
                let sym = match sym {
                    Some(s) => {
                        advance(2, &mut i, &mut col);
                        s
                    }
                    None => {
                        let s = match c {
                            ';' => ";",
                            ',' => ",",
                            '(' => "(",
                            ')' => ")",
                            '[' => "[",
                            ']' => "]",
                            '{' => "{",
                            '}' => "}",
                            '+' => "+",
                            '-' => "-",
                            '*' => "*",
                            '/' => "/",
                            '^' => "^",
                            _ => {
                                return Err(err(
                                    start_line,
                                    start_col,
                                    format!("unexpected character '{c}'"),
                                ))
                            }
                        };
                        advance(1, &mut i, &mut col);
                        s
                    }
                };
                Tok::Sym(sym)
            };
        out.push(Token {
            tok,
            line: start_line,
            column: start_col,
        });
    }
    out.push(Token {
        tok: Tok::Eof,
        line,
        column: col,
    });
    Ok(out)
}
