//! Checkpoints for argmin's executor: versioned, tied to their run, checksummed, written
//! atomically.
//!
//! A checkpoint file is a header and a payload:
//!
//! | bytes | content |
//! |---|---|
//! | 8 | the magic `QLOOPCKP` |
//! | 4 | format version ([`FORMAT_VERSION`]), little-endian |
//! | 8 | the run's fingerprint ([`AtomicCheckpoint::fingerprint`]: a hash of its configuration) |
//! | 8 | payload length in bytes |
//! | 4 | CRC-32 (IEEE) of the payload |
//! | … | the solver and its state, bincode (exact `f64` bits, infinities included) |
//!
//! Loading checks each field in that order and refuses, naming the file, a file that is not a
//! checkpoint, of another version, of another run (a different configuration), truncated,
//! damaged (checksum), or whose parameter vector does not fit the model. The file is written
//! with [`crate::atomic::write_atomic`], so an interrupted write never leaves a truncated
//! checkpoint. [`crate::train::optimize()`] also saves when a run ends for any reason (Ctrl-C
//! included), so a resumed run continues from the last completed iteration.

use argmin::core::checkpointing::{Checkpoint, CheckpointingFrequency};
use argmin::core::{Error, State};
use bincode::Options;
use serde::{de::DeserializeOwned, Serialize};
use std::path::PathBuf;

/// The checkpoint format this qloop writes and reads.
pub const FORMAT_VERSION: u32 = 1;

const MAGIC: &[u8; 8] = b"QLOOPCKP";
const HEADER: usize = 8 + 4 + 8 + 8 + 4;

/// A checkpoint file. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtomicCheckpoint {
    /// The checkpoint file.
    pub path: PathBuf,
    /// How often the executor saves.
    pub frequency: CheckpointingFrequency,
    /// What identifies the run (a hash of its configuration): a checkpoint of another run is
    /// refused.
    pub fingerprint: u64,
    /// The length of the parameter vector, when known: a checkpoint whose state holds another
    /// length is refused.
    pub param_len: Option<usize>,
}

impl AtomicCheckpoint {
    /// A checkpoint at `path`, saved every 20 iterations (and at the end of a run), with
    /// fingerprint 0 and no parameter-length check.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        AtomicCheckpoint {
            path: path.into(),
            frequency: CheckpointingFrequency::Every(20),
            fingerprint: 0,
            param_len: None,
        }
    }

    /// The same checkpoint tied to a run: `fingerprint` (see [`fingerprint`]) and the length
    /// of its parameter vector.
    pub fn for_run(mut self, fingerprint: u64, param_len: usize) -> Self {
        self.fingerprint = fingerprint;
        self.param_len = Some(param_len);
        self
    }

    fn refuse(&self, message: impl std::fmt::Display) -> Error {
        crate::Error::Checkpoint {
            path: self.path.clone(),
            message: message.to_string(),
        }
        .into()
    }
}

/// A 64-bit FNV-1a hash of `bytes`: the fingerprint of a run from its serialized configuration.
pub fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn bincode_options() -> impl Options {
    bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .reject_trailing_bytes()
}

impl<S, I> Checkpoint<S, I> for AtomicCheckpoint
where
    S: Serialize + DeserializeOwned,
    I: Serialize + DeserializeOwned + State<Param = Vec<f64>>,
{
    fn save(&self, solver: &S, state: &I) -> Result<(), Error> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let payload = bincode_options().serialize(&(solver, state))?;
        let mut bytes = Vec::with_capacity(HEADER + payload.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&self.fingerprint.to_le_bytes());
        bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        bytes.extend_from_slice(&payload);
        crate::atomic::write_atomic(&self.path, &bytes)?;
        Ok(())
    }

    fn load(&self) -> Result<Option<(S, I)>, Error> {
        if !self.path.exists() {
            return Ok(None);
        }
        let bytes = std::fs::read(&self.path)?;
        self.decode(&bytes).map(Some)
    }

    fn frequency(&self) -> CheckpointingFrequency {
        self.frequency
    }
}

impl AtomicCheckpoint {
    /// Decodes the bytes of a checkpoint file of this run, with every check of the
    /// [module docs](self).
    pub fn decode<S, I>(&self, bytes: &[u8]) -> Result<(S, I), Error>
    where
        S: DeserializeOwned,
        I: DeserializeOwned + State<Param = Vec<f64>>,
    {
        if bytes.len() < HEADER || &bytes[..8] != MAGIC {
            return Err(self.refuse(format!(
                "not a qloop checkpoint ({} bytes, no complete QLOOPCKP header)",
                bytes.len()
            )));
        }
        let u32_at = |k: usize| u32::from_le_bytes(bytes[k..k + 4].try_into().expect("4 bytes"));
        let u64_at = |k: usize| u64::from_le_bytes(bytes[k..k + 8].try_into().expect("8 bytes"));
        let version = u32_at(8);
        if version != FORMAT_VERSION {
            return Err(self.refuse(format!(
                "format version {version}; this qloop reads version {FORMAT_VERSION}"
            )));
        }
        let fingerprint = u64_at(12);
        if fingerprint != self.fingerprint {
            return Err(self.refuse(format!(
                "written by another run (configuration hash {fingerprint:016x}, this run's is {:016x})",
                self.fingerprint
            )));
        }
        let payload = &bytes[HEADER..];
        let length = u64_at(20);
        if length != payload.len() as u64 {
            return Err(self.refuse(format!(
                "the header announces {length} bytes of data but the file holds {}; it is truncated or damaged",
                payload.len()
            )));
        }
        if crc32fast::hash(payload) != u32_at(28) {
            return Err(self.refuse("checksum mismatch: the file is damaged"));
        }
        let (solver, state): (S, I) = bincode_options()
            .with_limit(length)
            .deserialize(payload)
            .map_err(|e| self.refuse(e))?;
        if let (Some(want), Some(param)) = (self.param_len, state.get_param()) {
            if param.len() != want {
                return Err(self.refuse(format!(
                    "holds {} parameters, but the model has {want}",
                    param.len()
                )));
            }
        }
        Ok((solver, state))
    }
}
