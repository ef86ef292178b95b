//! Precision: the two amplitude types a compiled program runs on.
//!
//! A program is compiled once, in double precision (its matrices, fused blocks and affine
//! forms are `f64`). A run in single precision ([`Precision::Single`]) binds the same kernels
//! and rounds each one to `f32` as it is applied ([`super::single`]); the state holds
//! [`Complex32`] amplitudes, half the memory and twice the amplitudes per vector register.
//! Readouts sum in `f64`. What accuracy to expect: `docs/conventions.md`, "Precision".
//!
//! Inside the crate the executor's stages are generic over [`Amplitude`]: how one kernel is
//! prepared for a state of that type and applied to a slice of it.

use super::kernels::{self, Kernel, Subspace};
use super::simd::Cpu;
use crate::aligned::Aligned;
use crate::error::{Error, Result};
use crate::par::Par;
use num_complex::{Complex32, Complex64};
use std::cell::RefCell;

/// The floating-point type of a state's amplitudes.
///
/// ```
/// use qloop::Precision;
/// assert_eq!("single".parse::<Precision>().unwrap(), Precision::Single);
/// assert_eq!(Precision::default(), Precision::Double);
/// assert!("half".parse::<Precision>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// `f32` amplitudes ([`crate::StateVector32`]): 8 bytes each.
    Single,
    /// `f64` amplitudes ([`crate::StateVector`]): 16 bytes each, the default.
    #[default]
    Double,
}

impl Precision {
    /// Bytes per amplitude.
    pub fn amplitude_bytes(self) -> u128 {
        match self {
            Precision::Single => 8,
            Precision::Double => 16,
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Precision::Single => "single",
            Precision::Double => "double",
        })
    }
}

impl std::str::FromStr for Precision {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "single" => Ok(Precision::Single),
            "double" => Ok(Precision::Double),
            other => Err(Error::UnknownPrecision(other.to_string())),
        }
    }
}

/// An amplitude type the executor runs on: how a bound kernel is prepared for it (once per
/// stage of a run) and applied to a slice of it.
pub(crate) trait Amplitude: Copy + Send + Sync + 'static {
    /// A kernel ready to apply to amplitudes of this type.
    type Kernel: Send + Sync;
    const ZERO: Self;
    /// `kernel` (on the qubits of `sub`) in this precision.
    fn prepare(kernel: Kernel, sub: &Subspace, cpu: Cpu) -> Self::Kernel;
    /// Applies a prepared kernel.
    fn apply(amps: &mut [Self], kernel: &Self::Kernel, sub: &Subspace, par: Par, cpu: Cpu);
    /// Runs `f` on this thread's chunk buffer (the cache-blocking stages' gather buffer).
    fn with_chunk<R>(f: impl FnOnce(&mut Aligned<Self>) -> R) -> R;
    /// The amplitude in double precision.
    fn to_c64(self) -> Complex64;
}

thread_local! {
    static CHUNK_DOUBLE: RefCell<Aligned<Complex64>> = const { RefCell::new(Aligned::new()) };
    static CHUNK_SINGLE: RefCell<Aligned<Complex32>> = const { RefCell::new(Aligned::new()) };
}

impl Amplitude for Complex64 {
    type Kernel = Kernel;
    const ZERO: Self = Complex64::new(0.0, 0.0);

    #[inline(always)]
    fn prepare(kernel: Kernel, _: &Subspace, _: Cpu) -> Kernel {
        kernel
    }

    #[inline(always)]
    fn apply(amps: &mut [Self], kernel: &Kernel, sub: &Subspace, par: Par, cpu: Cpu) {
        kernels::apply(amps, kernel, sub, par, cpu)
    }

    fn with_chunk<R>(f: impl FnOnce(&mut Aligned<Self>) -> R) -> R {
        CHUNK_DOUBLE.with_borrow_mut(f)
    }

    #[inline(always)]
    fn to_c64(self) -> Complex64 {
        self
    }
}

impl Amplitude for Complex32 {
    type Kernel = super::single::KernelSingle;
    const ZERO: Self = Complex32::new(0.0, 0.0);

    fn prepare(kernel: Kernel, sub: &Subspace, cpu: Cpu) -> Self::Kernel {
        super::single::KernelSingle::new(kernel, sub, cpu)
    }

    fn apply(amps: &mut [Self], kernel: &Self::Kernel, sub: &Subspace, par: Par, cpu: Cpu) {
        kernel.apply(amps, sub, par, cpu)
    }

    fn with_chunk<R>(f: impl FnOnce(&mut Aligned<Self>) -> R) -> R {
        CHUNK_SINGLE.with_borrow_mut(f)
    }

    #[inline(always)]
    fn to_c64(self) -> Complex64 {
        Complex64::new(self.re as f64, self.im as f64)
    }
}
