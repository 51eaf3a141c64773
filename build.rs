//! Links the `fnox` program with packed relative relocations (`-z
//! pack-relative-relocs`, DT_RELR) where the linker and the C library
//! support them (GNU ld 2.38+ or lld 15+, glibc 2.36+). fnox is a position
//! independent executable, so that its code and data load at a random
//! address; the dynamic loader then fixes up some 46,000 pointers in its
//! data at every start. Packed, their table shrinks from about 1.1 MB to a
//! few kilobytes, and applying them costs the loader a fraction of the
//! work (docs/performance.md). Where the linker does not know the option,
//! nothing changes.

use std::{env, path::PathBuf, process::Command};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let var = |name: &str| env::var(name).unwrap_or_default();
    let native = var("TARGET") == var("HOST");
    if var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
        && native
        && links_with_packed_relocations()
    {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// True when the C compiler links a position independent executable with
/// the option without a complaint (an older GNU ld only warns that it
/// ignores it).
fn links_with_packed_relocations() -> bool {
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap_or_default());
    let source = out_dir.join("relr_probe.c");
    let program = out_dir.join("relr_probe");
    if std::fs::write(&source, "int main(void) { return 0; }\n").is_err() {
        return false;
    }
    let cc = env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let output = Command::new(cc)
        .arg("-pie")
        .arg("-fPIE")
        .arg("-Wl,-z,pack-relative-relocs")
        .arg(&source)
        .arg("-o")
        .arg(&program)
        .output();
    matches!(output, Ok(out) if out.status.success() && out.stderr.is_empty())
}
