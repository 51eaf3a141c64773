//! Printing errors and warnings, and writing to stdout without panicking on
//! a closed pipe.

use std::{error::Error as _, io::IsTerminal, io::Write};

use crate::error::Error;

/// Whether stderr gets colors.
pub fn use_color(choice: clap::ColorChoice) -> bool {
    match choice {
        clap::ColorChoice::Always => true,
        clap::ColorChoice::Never => false,
        clap::ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stderr().is_terminal()
        }
    }
}

/// Prints `label: msg` on stderr, the label colored when `color`.
pub fn eprint_labeled(color: bool, label: &str, msg: &str) {
    let code = match label {
        "error" => "31",
        "warning" => "33",
        _ => "36",
    };
    if color {
        eprintln!("\x1b[1;{code}m{label}\x1b[0m: {msg}");
    } else {
        eprintln!("{label}: {msg}");
    }
}

/// Prints an error with its causes and its hint.
pub fn report_error(color: bool, err: &Error) {
    eprint_labeled(color, "error", &err.to_string());
    let mut cause = err.source();
    while let Some(c) = cause {
        eprintln!("  cause: {c}");
        cause = c.source();
    }
    if let Some(hint) = err.hint() {
        eprintln!("  hint: {hint}");
    }
}

/// Writes `bytes` to stdout. A closed pipe (e.g. `| head`) is not an error.
pub fn write_stdout(bytes: &[u8]) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::io("cannot write to stdout", e)),
    }
}
