//! Randomness, in one place: the generator every seeded draw uses ([`QloopRng`], xoshiro256++
//! seeded with `seed_from_u64`, the same numbers on every machine) and addressable streams.
//!
//! Every random draw of a training run is named by a path such as
//! `(seed, "eval", iteration 17, resample 0, sample 42)`, and its generator is seeded from a
//! hash of that path. No stream is shared between draws, so the numbers do not depend on the
//! order in which threads ask for them, and a run resumed from a checkpoint draws exactly what
//! an uninterrupted run would have drawn.
//!
//! The hash is SplitMix64's finalizer applied to each path element in turn; the generator is
//! [`QloopRng`] (xoshiro256++) seeded from the final 64-bit value.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// The random generator used for every seeded draw in qloop.
pub type QloopRng = Xoshiro256PlusPlus;

/// The generator for `seed`.
///
/// ```
/// use rand::Rng;
/// let (mut a, mut b) = (qloop::rng::rng_from_seed(5), qloop::rng::rng_from_seed(5));
/// assert_eq!(a.random::<u64>(), b.random::<u64>());
/// ```
pub fn rng_from_seed(seed: u64) -> QloopRng {
    QloopRng::seed_from_u64(seed)
}

/// A position in the tree of random streams. Cheap to copy; [`Stream::child`] descends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Stream(u64);

/// SplitMix64's output function: a bijective 64-bit mixer with full avalanche.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Stream {
    /// The root stream of a run.
    pub fn new(seed: u64) -> Self {
        Stream(mix(seed.wrapping_add(0x9e37_79b9_7f4a_7c15)))
    }

    /// The sub-stream named `index` (an iteration, a role tag, a sample index).
    #[must_use]
    pub fn child(self, index: u64) -> Self {
        Stream(mix(self.0 ^ mix(index.wrapping_add(0x632b_e59b_d9b4_e019))))
    }

    /// A generator for this stream.
    pub fn rng(self) -> QloopRng {
        rng_from_seed(self.0)
    }

    /// The stream's 64-bit key (what seeds [`Stream::rng`]).
    pub fn key(self) -> u64 {
        self.0
    }
}

/// Role tags: the first path element below a run's root, one per kind of draw.
pub mod role {
    /// SPSA's Rademacher perturbation directions.
    pub const PERTURB: u64 = 1;
    /// Loss evaluations (minibatch choice and shot noise) of the ± pair.
    pub const EVAL: u64 = 2;
    /// The extra evaluations of blocking.
    pub const BLOCK: u64 = 3;
    /// The calibration of the gain `a` before the first iteration.
    pub const CALIBRATE: u64 = 4;
    /// Minibatch selection inside a loss evaluation.
    pub const BATCH: u64 = 5;
    /// Shot noise of one sample inside a loss evaluation.
    pub const SHOTS: u64 = 6;
    /// Model initialization (Glorot weights, initial angles).
    pub const INIT: u64 = 7;
    /// Metrics and reports (held-out evaluation with shots).
    pub const REPORT: u64 = 8;
    /// Sampling inside the classical network (a sampled collapse), per sequence step.
    pub const COLLAPSE: u64 = 9;
    /// The fixed sparse mask of a sparse layer built from a configuration.
    pub const MASK: u64 = 10;
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn children_differ_and_repeat() {
        let root = Stream::new(5);
        assert_eq!(root.child(3), Stream::new(5).child(3));
        assert_ne!(root.child(3), root.child(4));
        assert_ne!(root.child(1).child(2), root.child(2).child(1));
        let a: f64 = root.child(9).rng().random();
        let b: f64 = root.child(9).rng().random();
        assert_eq!(a.to_bits(), b.to_bits());
    }
}
