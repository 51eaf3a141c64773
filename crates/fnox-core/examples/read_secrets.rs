//! An application that reads its own secrets at start-up from its
//! project's `fnox.toml`, the way `fnox exec` would hand them over, but
//! without a child process: one secret by name, then all of the profile's.
//!
//! ```text
//! cargo run -p fnox-core --example read_secrets -- [PROFILE] [NAME]
//! ```
//!
//! It looks for `fnox.toml` from the working directory up, like `fnox`
//! does, and takes `FNOX_PROFILE`, `FNOX_CONFIG_DIR`, `FNOX_LOCAL_KEY` and
//! the other variables fnox reads from its environment: the library reads
//! none itself, the application hands them over.

use std::path::PathBuf;

use fnox_core::{Environment, Fnox, LoadOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let profile = args.next();
    let name = args.next().unwrap_or_else(|| "DATABASE_URL".to_string());

    // The process's environment, handed to the library once. (On Linux the
    // user's config directory is ~/.config; the `dirs` crate knows the
    // others.)
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let env = Environment::from_vars(std::env::current_dir()?, std::env::vars_os(), &[])
        .with_home(home.clone())
        .with_user_config_dir(home.map(|h| h.join(".config")));
    let fnox = Fnox::new(env)?;

    // FNOX_PROFILE, unless a profile was named on the command line.
    let mut opts = LoadOptions::from_env(fnox.env())?;
    if let Some(profile) = &profile {
        opts = opts.with_profile(profile)?;
    }
    // A profile that no file defines is an error, not the top level alone.
    let project = fnox.load(&opts)?.require_file()?.require_profile()?;
    println!("profile {}", project.config().profile);

    // One secret, decrypted (or its plain default).
    match project.get(&name)? {
        Some(value) => println!("{name} = {}", String::from_utf8_lossy(value.expose())),
        None => println!("{name} has no value"),
    }

    // Every secret of the profile, decrypted concurrently. A plain default
    // is a setting, not a secret: the application may log it.
    for (def, value) in project.resolve(&[])? {
        match value {
            Some(value) if value.is_secret() => println!("{} ({} bytes)", def.name, value.len()),
            Some(value) => println!(
                "{} = {} (a plain default, not secret)",
                def.name,
                String::from_utf8_lossy(value.expose())
            ),
            None => println!("{} (no value)", def.name),
        }
    }
    Ok(())
}
