//! The checkpoint reader must refuse anything that is not an intact checkpoint of the run,
//! with an error, never a panic or an unbounded allocation. The run's fingerprint is taken
//! from the input's own header, so mutations reach the payload checks too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qloop::train::{AtomicCheckpoint, Spsa, SpsaState};

fuzz_target!(|data: &[u8]| {
    let fingerprint = data
        .get(12..20)
        .map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
    let checkpoint = AtomicCheckpoint {
        fingerprint,
        param_len: None,
        ..AtomicCheckpoint::new("fuzz.bin")
    };
    let _ = checkpoint.decode::<Spsa, SpsaState>(data);
});
