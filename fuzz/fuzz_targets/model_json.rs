//! The model.json reader must return `Ok` or an `Err` for any input; a model it accepts is
//! consistent, so predicting one sample of the right width never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qloop::train::experiment::SavedModel;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(model) = SavedModel::parse(text, std::path::Path::new("model.json")) {
            let width = model.scaler.min.len();
            let x = ndarray::Array2::from_elem((1, width), 0.5);
            if !model.reads_sequences() {
                let _ = model.predict(&x);
            }
            let _ = model.trained_circuit();
        }
    }
});
