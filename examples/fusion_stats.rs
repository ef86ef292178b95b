//! Steps, passes and run time of circuit files, fused and unfused, and the fused program in
//! single precision (best of three runs from `|0…0⟩`, compile excluded).
//!
//! `cargo run --release --example fusion_stats -- FILE...`
use std::time::Instant;

fn best(program: &qloop::Program) -> (f64, qloop::StateVector) {
    let mut best = f64::INFINITY;
    let mut state = None;
    for _ in 0..3 {
        let t = Instant::now();
        let s = program.statevector(&[], &[]).expect("runs");
        best = best.min(t.elapsed().as_secs_f64());
        state = Some(s);
    }
    (best, state.expect("ran"))
}

fn best_single(program: &qloop::Program) -> (f64, qloop::StateVector32) {
    let mut state = qloop::StateVector32::zero(program.num_qubits()).expect("fits");
    let par = qloop::Par::auto(program.num_qubits());
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        program.run_single(&[], &[], &mut state, par).expect("runs");
        best = best.min(t.elapsed().as_secs_f64());
    }
    (best, state)
}

fn main() {
    for path in std::env::args().skip(1) {
        let compiled = qloop::Circuit::load(&path).and_then(|c| {
            let fused = c.compile()?;
            let unfused = c.compile_unfused()?;
            Ok((c, fused, unfused))
        });
        let (circuit, fused, unfused) = match compiled {
            Ok(x) => x,
            Err(e) => {
                eprintln!("{path}: {e}");
                std::process::exit(1);
            }
        };
        let (tf, sf) = best(&fused);
        let (tu, su) = best(&unfused);
        let (ts, ss) = best_single(&fused);
        let single_diff = ss
            .amplitudes()
            .iter()
            .zip(sf.amplitudes())
            .map(|(a, b)| (num_complex::Complex64::new(a.re as f64, a.im as f64) - b).norm())
            .fold(0.0, f64::max);
        let diff = sf
            .amplitudes()
            .iter()
            .zip(su.amplitudes())
            .map(|(a, b)| (a - b).norm())
            .fold(0.0, f64::max);
        println!(
            "{path}: {} gates; unfused {} steps, {} passes, {:.2} ms; fused {} steps, {} passes, {:.2} ms ({:.2}x); max |diff| {diff:.1e}; single {:.2} ms, max |diff| {single_diff:.1e}",
            circuit.instructions().len(),
            unfused.num_steps(),
            unfused.num_passes(),
            tu * 1e3,
            fused.num_steps(),
            fused.num_passes(),
            tf * 1e3,
            tu / tf,
            ts * 1e3,
        );
    }
}
