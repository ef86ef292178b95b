//! The training configuration reader must return `Ok` or an `Err` naming the file for any
//! input; a configuration it accepts must build its experiment or refuse it with an error,
//! without training (which the fuzzer cannot wait for).
#![no_main]

use libfuzzer_sys::fuzz_target;
use qloop::train::experiment::TrainConfig;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let path = std::path::Path::new("fuzz.toml");
        if let Ok(config) = TrainConfig::parse(text, path) {
            if config.data.dataset != "csv" {
                let _ = qloop::train::experiment::Experiment::new(config);
            }
        }
    }
});
