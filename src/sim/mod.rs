//! The simulator: a [`Circuit`](crate::Circuit) compiled once into a [`Program`], bound to
//! parameter values and executed on a [`StateVector`](crate::StateVector), many times.
//!
//! One room per concern, in the order a run passes through them:
//!
//! | module | concern |
//! | --- | --- |
//! | `ir` | the compiled step IR: steps, compiled angles, fused factors, affine forms |
//! | `compile` | `Circuit::compile`: the passes that produce the steps |
//! | `fuse` | fixed steps merged into dense or diagonal blocks by a cost model |
//! | `block` | a fused block's matrix and its application |
//! | [`program`] | [`Program`], the public face: checks at the edge, then bind and execute |
//! | `bind` | binding, the one place that turns (weights, inputs) into kernels |
//! | `execute` | execution: a schedule of steps, kernels from a binder, `Par`; never the program |
//! | [`backend`] | the [`Backend`] seam: where a bound program runs (statevectors of either precision) |
//! | [`precision`] | [`Precision`]: the amplitude types the executor runs on |
//! | `single` | single precision: each bound kernel rounded into one dense or diagonal block |
//! | [`blocking`] | the cache-blocking planner and its staged application |
//! | [`batch`] | many parameter rows over a pool of per-worker states |
//! | `kernels` | amplitude updates chosen by matrix structure, serial or rayon |
//! | `simd` | the innermost loops, one file per instruction set (block loops over both), features detected once |
//! | [`calibrate`] | single-kernel timings behind the fusion cost model |
//! | `mat2`, `trig`, `exp` | sparse 2×2 products; the inlined and batched `sin_cos`; the batched `exp` |
//!
//! Conventions (qubit order, matrices, parameter layout): `docs/conventions.md`.

pub mod backend;
pub mod batch;
mod bind;
mod block;
pub mod blocking;
#[doc(hidden)]
pub mod calibrate;
mod compile;
mod execute;
pub(crate) mod exp;
mod fuse;
mod ir;
pub(crate) mod kernels;
pub(crate) mod mat2;
pub mod precision;
pub mod program;
pub(crate) mod simd;
mod single;
pub(crate) mod trig;

pub use backend::{Backend, SingleStatevector, Statevector};
pub use precision::Precision;
pub use program::Program;
