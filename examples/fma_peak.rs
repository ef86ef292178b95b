//! The fused multiply-add rate of this machine: 512-bit (AVX-512) or 256-bit (AVX2) `vfmadd`
//! instructions per nanosecond on each of `THREADS` threads (default: all cores), twelve
//! independent chains per thread so that latency never limits. The arithmetic floor of a
//! dense circuit in `docs/performance.md` is its FMA count over this rate.
//!
//! `cargo run --release --example fma_peak [THREADS]`
use std::time::Instant;

/// Instructions issued per thread.
const ROUNDS: u64 = 200_000_000;
const CHAINS: usize = 12;

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn chains_512() -> f64 {
    use std::arch::x86_64::*;
    let mut a = [_mm512_set1_pd(1.0); CHAINS];
    for (i, x) in a.iter_mut().enumerate() {
        *x = _mm512_set1_pd(1.0 + i as f64 * 1e-9);
    }
    let (b, c) = (_mm512_set1_pd(0.999_999_999), _mm512_set1_pd(1e-9));
    for _ in 0..ROUNDS / CHAINS as u64 {
        for x in a.iter_mut() {
            *x = _mm512_fmadd_pd(*x, b, c);
            // An empty instruction that claims to change the register: the chain cannot be
            // folded away, and nothing touches memory.
            std::arch::asm!(
                "/* {0} */",
                inout(zmm_reg) * x,
                options(nomem, nostack, preserves_flags)
            );
        }
    }
    a.iter().map(|&x| _mm512_reduce_add_pd(x)).sum()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn chains_256() -> f64 {
    use std::arch::x86_64::*;
    let mut a = [_mm256_set1_pd(1.0); CHAINS];
    for (i, x) in a.iter_mut().enumerate() {
        *x = _mm256_set1_pd(1.0 + i as f64 * 1e-9);
    }
    let (b, c) = (_mm256_set1_pd(0.999_999_999), _mm256_set1_pd(1e-9));
    for _ in 0..ROUNDS / CHAINS as u64 {
        for x in a.iter_mut() {
            *x = _mm256_fmadd_pd(*x, b, c);
            std::arch::asm!(
                "/* {0} */",
                inout(ymm_reg) * x,
                options(nomem, nostack, preserves_flags)
            );
        }
    }
    let mut out = [0.0; 4];
    a.iter()
        .map(|&x| {
            _mm256_storeu_pd(out.as_mut_ptr(), x);
            out.iter().sum::<f64>()
        })
        .sum()
}

fn main() {
    let threads = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    #[cfg(target_arch = "x86_64")]
    {
        let (width, run): (usize, unsafe fn() -> f64) =
            if std::arch::is_x86_feature_detected!("avx512f") {
                (512, chains_512)
            } else if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                (256, chains_256)
            } else {
                eprintln!("fma_peak: this CPU has neither AVX-512 nor AVX2 with FMA");
                std::process::exit(1);
            };
        let t = Instant::now();
        let sums: Vec<f64> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                // SAFETY: the instruction set was detected above.
                .map(|_| s.spawn(move || unsafe { run() }))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("runs"))
                .collect()
        });
        let seconds = t.elapsed().as_secs_f64();
        let per_ns = (ROUNDS / CHAINS as u64 * CHAINS as u64) as f64 / seconds / 1e9;
        println!(
            "{width}-bit FMA: {per_ns:.2} per ns per thread, {:.2} per ns on {threads} threads \
             (checksum {:.3})",
            per_ns * threads as f64,
            sums.iter().sum::<f64>()
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = threads;
        eprintln!("fma_peak: x86-64 only");
        std::process::exit(1);
    }
}
