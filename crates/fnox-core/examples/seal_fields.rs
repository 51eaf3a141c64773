//! An application that encrypts its own data with its project's keys:
//! each field value is sealed by a provider of `fnox.toml` and bound to a
//! context (here a record and field name), so that a value copied to
//! another record does not open. Rotating the project's keys (`fnox rotate
//! --new-key`) keeps old values readable, as for the project's secrets.
//!
//! ```text
//! cargo run -p fnox-core --example seal_fields -- [PROVIDER]
//! ```
//!
//! It runs inside an async runtime, as a web service would: the `_async`
//! calls are awaited on it, and the blocking calls work there too.

use std::path::PathBuf;

use fnox_core::{Environment, Fnox, LoadOptions, SecretBytes};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let provider = std::env::args().nth(1).unwrap_or_else(|| "local".to_string());
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let env = Environment::from_vars(std::env::current_dir()?, std::env::vars_os(), &[])
        .with_home(home.clone())
        .with_user_config_dir(home.map(|h| h.join(".config")));
    let fnox = Fnox::new(env)?;
    let project = fnox.load(&LoadOptions::from_env(fnox.env())?)?.require_file()?;
    let sealer = project.sealer(&provider)?;

    // Seal a field of record 42; store `sealed` in the application's database.
    let token = SecretBytes::from_slice(b"tok-42-abcdef");
    let sealed = sealer.seal_async("users/42/api_token", &token).await?;
    println!("sealed users/42/api_token with provider `{provider}`");

    // Read it back for the same record and field.
    let opened = sealer.open_async("users/42/api_token", &sealed).await?;
    println!("opened users/42/api_token: {}", String::from_utf8_lossy(opened.expose()));

    // The same value pasted into another record does not open.
    match sealer.open_async("users/43/api_token", &sealed).await {
        Ok(_) => println!("users/43/api_token: opened (this provider does not bind contexts)"),
        Err(e) => println!("users/43/api_token: refused ({e})"),
    }

    // Blocking calls are fine inside the runtime too (no nested runtime).
    let again = sealer.open("users/42/api_token", &sealed)?;
    println!("opened again, blocking: {} bytes", again.len());
    Ok(())
}
