//! The OpenQASM 2.0 parser must return `Ok` or a located `Err` for any input, never panic or
//! hang; a circuit it accepts must export and re-parse to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(circuit) = qloop::qasm::parse(text, None) {
            let exported = qloop::qasm::export(&circuit).expect("parsed circuits have constant angles");
            assert_eq!(qloop::qasm::parse(&exported, None).expect("export re-parses"), circuit);
        }
    }
});
