//! Shared test support. Each test crate that declares `mod support;` compiles all of it and uses
//! only part, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod arbitrary;
pub mod places;
pub mod reconcile;
