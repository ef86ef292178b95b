//! Times qloop's half-cut von Neumann entropy of a seeded Haar-random state (best of
//! `repeats`, the state made before the clock starts) and writes the state's amplitudes as
//! little-endian complex128 to `OUT`, so that `benches/peers/entropy.py` times numpy on the
//! same state in the same run. Prints one JSON line.
//!
//! `cargo run --release --example entropy_times -- N SEED REPEATS OUT [ROUTES]`, ROUTES a
//! comma-separated subset of `gram,svd` (default both).

use qloop::entropy::{haar_state, half_cut, LogBase, Method};
use qloop::measure::rng_from_seed;
use std::path::Path;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (n, seed, repeats, out, routes) = match args.as_slice() {
        [n, seed, repeats, out] => (n, seed, repeats, out, "gram,svd"),
        [n, seed, repeats, out, routes] => (n, seed, repeats, out, routes.as_str()),
        _ => return Err("usage: entropy_times N SEED REPEATS OUT [ROUTES]".into()),
    };
    let (n, seed, repeats): (usize, u64, usize) = (n.parse()?, seed.parse()?, repeats.parse()?);
    let psi = haar_state(n, &mut rng_from_seed(seed))?;
    let bytes: Vec<u8> = psi
        .amplitudes()
        .iter()
        .flat_map(|a| [a.re.to_le_bytes(), a.im.to_le_bytes()])
        .flatten()
        .collect();
    qloop::atomic::write_atomic(Path::new(out), &bytes)?;
    drop(bytes);
    let cut = half_cut(n);
    let mut entry = Vec::new();
    for route in routes.split(',') {
        let (name, method) = match route {
            "gram" => ("gram", Method::Gram),
            "svd" => ("svd", Method::Svd),
            other => return Err(format!("unknown route {other:?}: use gram or svd").into()),
        };
        let mut best = f64::INFINITY;
        let mut entropy = 0.0;
        for _ in 0..repeats.max(1) {
            let e = psi.entanglement().method(method);
            let start = Instant::now();
            entropy = e.von_neumann(&cut, LogBase::E)?;
            best = best.min(start.elapsed().as_secs_f64());
        }
        entry.push(format!(
            "\"{name}\": {{\"entropy\": {entropy:.17e}, \"seconds\": {best:.4}}}"
        ));
    }
    println!("{{\"n\": {n}, {}}}", entry.join(", "));
    Ok(())
}
