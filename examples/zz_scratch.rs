use qloop::{Circuit, Par, StateVector};
use std::time::Instant;
fn main() {
    for n in [16, 20, 22] {
        for (name, c) in [("h-low", Circuit::new(n).h(1)), ("h-high", Circuit::new(n).h(n - 1)), ("cx", Circuit::new(n).cx(0, n - 1)), ("rz", Circuit::new(n).rz(0.2, 3))] {
            let p = c.compile().unwrap();
            let mut s = StateVector::zero(n).unwrap();
            let mut line = format!("n={n} {name}:");
            for par in [Par::Seq, Par::Rayon] {
                let reps = (1 << 24) / (1 << n) * 4;
                p.apply(&[], &[], &mut s, par).unwrap();
                let t = Instant::now();
                for _ in 0..reps { p.apply(&[], &[], &mut s, par).unwrap(); }
                let per = t.elapsed().as_secs_f64() / reps as f64;
                line += &format!(" {par:?} {:.1} us ({:.1} GB/s)", per * 1e6, 32.0 * (1u64 << n) as f64 / per / 1e9);
            }
            println!("{line}");
        }
    }
}
