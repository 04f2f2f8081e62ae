//! Compiles the protobuf schema in `proto/` into Rust with prost. The `.proto` files are parsed
//! by protox, a pure-Rust protobuf compiler, so building needs no system `protoc`.

use std::error::Error;

const PROTO_DIR: &str = "proto";
const PROTOS: &[&str] = &["reckon/v1/report.proto", "reckon/v1/update.proto"];

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed={PROTO_DIR}");
    for p in PROTOS {
        println!("cargo:rerun-if-changed={PROTO_DIR}/{p}");
    }
    let fds = protox::compile(PROTOS, [PROTO_DIR])?;
    prost_build::Config::new().compile_fds(fds)?;
    Ok(())
}
