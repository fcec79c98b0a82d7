//! Generates the tonic client and server for `proto/blackfriday.proto` (repo root) at build
//! time. protoc comes from `protoc-bin-vendored`, so no system protoc is needed — neither here
//! nor in the Docker build (whose context is therefore the repo root).
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let proto_dir = manifest.join("..").join("proto");
    let proto = proto_dir.join("blackfriday.proto");
    println!("cargo:rerun-if-changed={}", proto.display());
    std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?);
    // The server half is generated too: the tests run a fake writer built from the real proto.
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_protos(&[proto], &[proto_dir])?;
    Ok(())
}
