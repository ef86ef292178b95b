//! Checkpoints for argmin's executor, written atomically.
//!
//! The solver and its state are serialized with bincode (exact `f64` bits, infinities
//! included) and written with [`crate::atomic::write_atomic`] (a temporary file, flushed, renamed
//! over `PATH`), so an interrupted write never leaves a truncated checkpoint behind. [`crate::train::optimize()`] also saves when a run ends
//! for any reason (Ctrl-C included), so a resumed run continues from the last completed
//! iteration.

use argmin::core::checkpointing::{Checkpoint, CheckpointingFrequency};
use argmin::core::Error;
use serde::{de::DeserializeOwned, Serialize};
use std::io::BufReader;
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
        let bytes = bincode::serialize(&(solver, state))?;
        crate::atomic::write_atomic(&self.path, &bytes)?;
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
