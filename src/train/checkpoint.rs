//! Checkpoints for argmin's executor, written atomically.
//!
//! The solver and its state are serialized with bincode (exact `f64` bits, infinities
//! included) to `PATH.tmp`, flushed, and renamed over `PATH`, so an interrupted write never
//! leaves a truncated checkpoint behind. [`crate::train::optimize()`] also saves when a run ends
//! for any reason (Ctrl-C included), so a resumed run continues from the last completed
//! iteration.

use argmin::core::checkpointing::{Checkpoint, CheckpointingFrequency};
use argmin::core::Error;
use serde::{de::DeserializeOwned, Serialize};
use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;

/// A checkpoint file. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtomicCheckpoint {
    /// The checkpoint file.
    pub path: PathBuf,
    /// How often the executor saves.
    pub frequency: CheckpointingFrequency,
}

impl AtomicCheckpoint {
    /// A checkpoint at `path`, saved every 20 iterations (and at the end of a run).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        AtomicCheckpoint {
            path: path.into(),
            frequency: CheckpointingFrequency::Every(20),
        }
    }
}

impl<S: Serialize + DeserializeOwned, I: Serialize + DeserializeOwned> Checkpoint<S, I>
    for AtomicCheckpoint
{
    fn save(&self, solver: &S, state: &I) -> Result<(), Error> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let mut out = BufWriter::new(std::fs::File::create(&tmp)?);
        bincode::serialize_into(&mut out, &(solver, state))?;
        out.flush()?;
        drop(out);
        std::fs::rename(&tmp, &self.path)?;
        Ok(())
    }

    fn load(&self) -> Result<Option<(S, I)>, Error> {
        if !self.path.exists() {
            return Ok(None);
        }
        let file = BufReader::new(std::fs::File::open(&self.path)?);
        let (solver, state) = bincode::deserialize_from(file)
            .map_err(|e| anyhow_error(format!("checkpoint {}: {e}", self.path.display())))?;
        Ok(Some((solver, state)))
    }

    fn frequency(&self) -> CheckpointingFrequency {
        self.frequency
    }
}

fn anyhow_error(msg: String) -> Error {
    argmin::core::ArgminError::InvalidParameter { text: msg }.into()
}
