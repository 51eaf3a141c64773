//! Link options of the `fnox` program on Linux (docs/performance.md):
//!
//! - Packed relative relocations (`-z pack-relative-relocs`, DT_RELR) where
//!   the linker and the C library support them (GNU ld 2.38+ or lld 15+,
//!   glibc 2.36+). fnox is a position independent executable, so that its
//!   code and data load at a random address; the dynamic loader then fixes
//!   up some 46,000 pointers in its data at every start. Packed, their
//!   table shrinks from about 1.1 MB to a few kilobytes, and applying them
//!   costs the loader a fraction of the work.
//! - Hot code first (release builds): the functions that the everyday
//!   commands run, listed in `build/hot-code.txt` by `bench/hot_code.sh`,
//!   are placed side by side (`--symbol-ordering-file`, an lld option; lld
//!   is rustc's linker on x86-64 Linux since 1.90). A command then faults
//!   in a few dozen pages of code instead of a few hundred.
//!
//! Each option is used only where a probe link with it succeeds; elsewhere
//! nothing changes.

use std::{
    env,
    path::{Path, PathBuf},
    process::Command,
};

/// The list of hot functions, relative to the package.
const HOT_CODE: &str = "build/hot-code.txt";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={HOT_CODE}");
    let var = |name: &str| env::var(name).unwrap_or_default();
    let native = var("TARGET") == var("HOST");
    if var("CARGO_CFG_TARGET_OS") != "linux" || var("CARGO_CFG_TARGET_ENV") != "gnu" || !native {
        return;
    }
    let out_dir = PathBuf::from(var("OUT_DIR"));
    if links_with_packed_relocations(&out_dir) {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    let hot = Path::new(&var("CARGO_MANIFEST_DIR")).join(HOT_CODE);
    if var("PROFILE") == "release" && hot.is_file() && links_with_symbol_order(&out_dir, &hot) {
        println!("cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}", hot.display());
        // Functions of the list that this build does not have (renamed or
        // changed since it was made) keep their place, without a warning.
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}

/// True when the C compiler links a position independent executable with
/// the option without a complaint (an older GNU ld only warns that it
/// ignores it).
fn links_with_packed_relocations(out_dir: &Path) -> bool {
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

/// True when rustc, as cargo runs it for this build (its linker and
/// flags), links a program with the symbol order of `hot`: the option is
/// lld's, and GNU ld refuses it.
fn links_with_symbol_order(out_dir: &Path, hot: &Path) -> bool {
    let source = out_dir.join("order_probe.rs");
    if std::fs::write(&source, "fn main() {}\n").is_err() {
        return false;
    }
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let mut probe = Command::new(rustc);
    if let Ok(flags) = env::var("CARGO_ENCODED_RUSTFLAGS") {
        probe.args(flags.split('\x1f').filter(|f| !f.is_empty()));
    }
    if let Ok(linker) = env::var("RUSTC_LINKER") {
        probe.arg("-C").arg(format!("linker={linker}"));
    }
    let output = probe
        .arg("--target")
        .arg(env::var("TARGET").unwrap_or_default())
        .arg("-C")
        .arg(format!("link-arg=-Wl,--symbol-ordering-file={}", hot.display()))
        .arg("-C")
        .arg("link-arg=-Wl,--no-warn-symbol-ordering")
        .arg("--out-dir")
        .arg(out_dir)
        .arg(&source)
        .output();
    matches!(output, Ok(out) if out.status.success())
}
