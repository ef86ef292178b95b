//! Steps and passes over the state (cache-blocking stages) of each circuit file, and their
//! totals: the figure the planner in `src/sim/blocking.rs` minimizes. Compiles only; nothing
//! is simulated.
//!
//! `cargo run --release --example plan_passes -- FILE...` (circuits from
//! `benches/peers/planner_circuits.py`, for example).
fn main() {
    let (mut passes, mut steps) = (0, 0);
    for path in std::env::args().skip(1) {
        match qloop::Circuit::load(&path).and_then(|c| c.compile()) {
            Ok(program) => {
                println!(
                    "{path}: {} qubits, {} steps, {} passes",
                    program.num_qubits(),
                    program.num_steps(),
                    program.num_passes()
                );
                passes += program.num_passes();
                steps += program.num_steps();
            }
            Err(e) => {
                eprintln!("{path}: {e}");
                std::process::exit(1);
            }
        }
    }
    println!("total: {steps} steps, {passes} passes");
}
