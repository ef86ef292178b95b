//! The state vector `|ψ⟩ = Σᵢ ψᵢ |i⟩` of `n` qubits: `2^n` complex amplitudes in basis-index
//! order, qubit 0 the least-significant bit of `i` (see `docs/conventions.md`).

use crate::aligned::Aligned;
use crate::error::{Error, Result};
use crate::sim::precision::Amplitude;
use num_complex::{Complex32 as C32, Complex64 as C64};

/// Bytes taken by the amplitudes of an `n`-qubit state: `16 · 2^n`.
pub fn state_bytes(num_qubits: usize) -> u128 {
    if num_qubits >= 124 {
        u128::MAX
    } else {
        16u128 << num_qubits
    }
}

/// Memory this process may use for a state: `MemAvailable` from `/proc/meminfo` where the OS
/// reports it, otherwise the address space (`isize::MAX`).
pub fn available_memory() -> u128 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|kib| kib.parse::<u128>().ok())
                        .map(|k| k * 1024)
                })
        })
        .unwrap_or(isize::MAX as u128)
}

/// States of at most this many qubits (16 MiB) are allocated without asking the OS how much
/// memory is free: that read costs more than the allocation, and every compile and every
/// `Program::statevector` makes one. A failed allocation is still refused with
/// [`Error::StateTooLarge`].
const UNCHECKED_QUBITS: usize = 20;

/// Refuses, before allocating, a state that would not fit in memory.
pub fn check_state_fits(num_qubits: usize) -> Result<()> {
    check_fits(num_qubits, state_bytes(num_qubits))
}

fn check_fits(num_qubits: usize, bytes_needed: u128) -> Result<()> {
    if num_qubits <= UNCHECKED_QUBITS {
        return Ok(());
    }
    let bytes_available = available_memory().min(isize::MAX as u128);
    if bytes_needed > bytes_available {
        return Err(Error::StateTooLarge {
            num_qubits,
            bytes_needed,
            bytes_available,
        });
    }
    Ok(())
}

/// A pure state of `n` qubits.
///
/// ```
/// let psi = qloop::StateVector::zero(2).unwrap();
/// assert_eq!(psi.amplitudes()[0].re, 1.0);
/// assert_eq!(psi.len(), 4);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct StateVector {
    num_qubits: usize,
    /// From a cache line ([`Aligned`]): the vector kernels' loads never straddle two.
    amps: Aligned<C64>,
}

impl StateVector {
    /// `|0…0⟩` on `num_qubits` qubits, refused with [`Error::StateTooLarge`] if it cannot fit.
    pub fn zero(num_qubits: usize) -> Result<Self> {
        check_state_fits(num_qubits)?;
        let len = 1usize << num_qubits;
        let mut amps =
            Aligned::try_filled(len, C64::new(0.0, 0.0), advise_huge_pages).map_err(|_| {
                Error::StateTooLarge {
                    num_qubits,
                    bytes_needed: state_bytes(num_qubits),
                    bytes_available: available_memory(),
                }
            })?;
        amps[0] = C64::new(1.0, 0.0);
        Ok(StateVector { num_qubits, amps })
    }

    /// A state from its amplitudes (length must be a power of two; not renormalized).
    ///
    /// ```
    /// use num_complex::Complex64 as C;
    /// let h = std::f64::consts::FRAC_1_SQRT_2;
    /// let plus = qloop::StateVector::from_amplitudes(vec![C::new(h, 0.0), C::new(h, 0.0)]).unwrap();
    /// assert_eq!(plus.num_qubits(), 1);
    /// ```
    pub fn from_amplitudes(amps: Vec<C64>) -> Result<Self> {
        if !amps.len().is_power_of_two() {
            return Err(Error::StateSize {
                expected: amps.len().next_power_of_two(),
                got: amps.len(),
            });
        }
        Ok(StateVector {
            num_qubits: amps.len().trailing_zeros() as usize,
            amps: Aligned::from_vec(amps),
        })
    }

    /// Number of qubits.
    pub fn num_qubits(&self) -> usize {
        self.num_qubits
    }

    /// Number of amplitudes, `2^n`.
    pub fn len(&self) -> usize {
        self.amps.len()
    }

    /// Always false: a state has at least one amplitude.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The amplitudes in basis-index order.
    pub fn amplitudes(&self) -> &[C64] {
        &self.amps
    }

    /// Mutable amplitudes (the caller keeps the state normalized).
    pub fn amplitudes_mut(&mut self) -> &mut [C64] {
        &mut self.amps
    }

    /// Resets to `|0…0⟩` in place, without allocating.
    pub fn reset(&mut self) {
        self.amps.fill(C64::new(0.0, 0.0));
        self.amps[0] = C64::new(1.0, 0.0);
    }

    /// `⟨ψ|ψ⟩`.
    pub fn norm_sqr(&self) -> f64 {
        self.amps.iter().map(|a| a.norm_sqr()).sum()
    }

    /// `⟨self|other⟩`.
    pub fn inner(&self, other: &StateVector) -> C64 {
        self.amps
            .iter()
            .zip(other.amps.iter())
            .map(|(a, b)| a.conj() * b)
            .sum()
    }
}

/// A pure state of `n` qubits in single precision: `2^n` [`Complex32`](num_complex::Complex32)
/// amplitudes, 8 bytes each, what [`crate::Program::run_single`] evolves. Its readouts sum in
/// double precision.
///
/// ```
/// let psi = qloop::StateVector32::zero(3).unwrap();
/// assert_eq!(psi.amplitudes()[0].re, 1.0f32);
/// assert_eq!(psi.to_double().num_qubits(), 3);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct StateVector32 {
    num_qubits: usize,
    amps: Aligned<C32>,
}

impl StateVector32 {
    /// `|0…0⟩` on `num_qubits` qubits, refused with [`Error::StateTooLarge`] if it cannot fit.
    pub fn zero(num_qubits: usize) -> Result<Self> {
        let bytes_needed = state_bytes(num_qubits) / 2;
        check_fits(num_qubits, bytes_needed)?;
        let zero = C32::new(0.0, 0.0);
        let mut amps =
            Aligned::try_filled(1usize << num_qubits, zero, advise_huge_pages).map_err(|_| {
                Error::StateTooLarge {
                    num_qubits,
                    bytes_needed,
                    bytes_available: available_memory(),
                }
            })?;
        amps[0] = C32::new(1.0, 0.0);
        Ok(StateVector32 { num_qubits, amps })
    }

    /// Number of qubits.
    pub fn num_qubits(&self) -> usize {
        self.num_qubits
    }

    /// Number of amplitudes, `2^n`.
    pub fn len(&self) -> usize {
        self.amps.len()
    }

    /// Always false: a state has at least one amplitude.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The amplitudes in basis-index order.
    pub fn amplitudes(&self) -> &[C32] {
        &self.amps
    }

    /// Mutable amplitudes (the caller keeps the state normalized).
    pub fn amplitudes_mut(&mut self) -> &mut [C32] {
        &mut self.amps
    }

    /// Resets to `|0…0⟩` in place, without allocating.
    pub fn reset(&mut self) {
        self.amps.fill(C32::new(0.0, 0.0));
        self.amps[0] = C32::new(1.0, 0.0);
    }

    /// `⟨ψ|ψ⟩`, summed in double precision.
    pub fn norm_sqr(&self) -> f64 {
        self.amps.iter().map(|a| a.to_c64().norm_sqr()).sum()
    }

    /// The same state in double precision (every amplitude exactly; twice the memory).
    pub fn to_double(&self) -> StateVector {
        let mut dst = StateVector {
            num_qubits: self.num_qubits,
            amps: Aligned::filled(self.amps.len(), C64::new(0.0, 0.0)),
        };
        self.widen_into(&mut dst);
        dst
    }

    /// Writes [`StateVector32::to_double`] into `dst`, a state of as many qubits.
    pub(crate) fn widen_into(&self, dst: &mut StateVector) {
        assert_eq!(
            dst.num_qubits, self.num_qubits,
            "widening into another size"
        );
        for (d, a) in dst.amps.iter_mut().zip(self.amps.iter()) {
            *d = a.to_c64();
        }
    }
}

/// A pure state of either precision, as the readouts that serve both read it
/// ([`crate::PauliSum::expectation`], [`crate::PauliString::expectation`],
/// [`crate::Counts::sample`]).
pub trait PureState: sealed::Sealed {
    /// Number of qubits.
    fn num_qubits(&self) -> usize;
    /// `pᵢ = |ψᵢ|²` for every basis index, in double precision.
    fn probabilities(&self) -> Vec<f64>;
    /// Amplitude `i` in double precision.
    #[doc(hidden)]
    fn amplitude(&self, i: usize) -> C64;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::StateVector {}
    impl Sealed for super::StateVector32 {}
}

impl PureState for StateVector {
    fn num_qubits(&self) -> usize {
        self.num_qubits
    }
    fn probabilities(&self) -> Vec<f64> {
        StateVector::probabilities(self)
    }
    #[inline(always)]
    fn amplitude(&self, i: usize) -> C64 {
        self.amps[i]
    }
}

impl PureState for StateVector32 {
    fn num_qubits(&self) -> usize {
        self.num_qubits
    }
    fn probabilities(&self) -> Vec<f64> {
        StateVector32::probabilities(self)
    }
    #[inline(always)]
    fn amplitude(&self, i: usize) -> C64 {
        self.amps[i].to_c64()
    }
}

/// Asks Linux to back a large state's allocation with 2 MiB pages before it is first touched
/// (transparent huge pages are often in `madvise` mode): a blocked run gathers pieces that lie
/// megabytes apart, and with 4 KiB pages each piece needs its own TLB entry. On the reference
/// machine this alone did not change W1's time (the gathers were latency-bound; prefetching
/// fixed that), but it costs nothing there.
fn advise_huge_pages<A>(amps: &Vec<A>) {
    // The reserved capacity, not yet touched: `Aligned::try_filled` passes the vector before
    // filling it.
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let begin = amps.as_ptr() as usize;
        let end = begin + amps.capacity() * std::mem::size_of::<A>();
        let (first, last) = (begin.next_multiple_of(HUGE), end / HUGE * HUGE);
        if last > first {
            // SAFETY: [first, last) lies inside the vector's allocation; MADV_HUGEPAGE is
            // advice about how to back it and changes no contents. Its result is ignored:
            // without huge pages the state is only slower.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = amps;
}
