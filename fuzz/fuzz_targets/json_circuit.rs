//! The JSON circuit reader must return `Ok` or an `Err` for any input, never panic, overflow
//! the stack or allocate without bound; a circuit it accepts must serialize back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(circuit) = qloop::Circuit::from_json(text) {
            let again = qloop::Circuit::from_json(&circuit.to_json()).expect("to_json re-parses");
            assert_eq!(again, circuit);
        }
    }
});
