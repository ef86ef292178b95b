//! Nanoseconds per amplitude of each kernel kind on a cache-resident state (2^16 amplitudes,
//! 1 MiB), one thread: the figures behind the fusion cost model (`src/sim/fuse.rs`).
//!
//! `cargo run --release --example fusion_costs [QUBITS]`
fn main() {
    let qubits = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(16);
    for (name, ns) in qloop::sim::calibrate::kernel_costs(qubits, 50) {
        println!("{name:32} {ns:7.3} ns/amplitude");
    }
}
