//! Circuit files: qloop JSON or OpenQASM 2.0, told apart by the first character.
//!
//! The one place that knows both formats, so that neither [`mod@crate::circuit`] nor
//! [`crate::qasm`] depends on the other's reader.

use crate::circuit::Circuit;
use crate::error::{Error, Result};

impl Circuit {
    /// Loads a circuit file: qloop JSON if the text starts with `{`, OpenQASM 2.0 otherwise.
    /// Errors name the file (and for QASM the line and column).
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Circuit> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let loaded = if text.trim_start().starts_with('{') {
            Circuit::from_json_at(&text, Some(path))
        } else {
            crate::qasm::parse(&text, Some(path))
        };
        // Structural errors found after parsing (sizes, operands) name the file too.
        loaded.map_err(|e| match e {
            Error::Qasm { .. } | Error::Json { .. } | Error::Io { .. } => e,
            other => Error::InFile {
                path: path.to_path_buf(),
                source: Box::new(other),
            },
        })
    }
}
