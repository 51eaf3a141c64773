//! Where `set` takes the value from: VALUE, --from-file, stdin or the hidden
//! prompt; or nowhere, when only the entry's settings change.

use std::io::{IsTerminal, Read};

use zeroize::Zeroizing;

use fnox_core::{SecretBytes, codec::encode_base64};

use super::{Args, CommandError, Ui};

/// True when `set` changes only the entry's settings and reads no value:
/// no VALUE and no --from-file, and --default or --if-missing is given, or
/// -d is given where the value would be prompted for (stdin is a
/// terminal). As in jdx/fnox; piped stdin with -d alone is still the value.
pub(super) fn settings_only(args: &Args) -> bool {
    if args.value.is_some() || args.from_file.is_some() {
        return false;
    }
    args.default.is_some()
        || args.if_missing.is_some()
        || (args.description.is_some() && std::io::stdin().is_terminal())
}

/// The value to encrypt: read (see [`raw`]), base64-encoded with
/// --base64-encode, refused when empty unless --allow-empty.
pub(super) fn read_value(ui: &Ui, args: &Args) -> Result<SecretBytes, CommandError> {
    let mut value = raw(ui, args)?;
    if args.base64_encode {
        value = SecretBytes::new(encode_base64(value.expose()).into_bytes());
    }
    if value.is_empty() && !args.allow_empty {
        return Err(CommandError::user(format!(
            "the value for `{}` is empty; nothing was changed (pass --allow-empty to store an empty value)",
            args.name
        )));
    }
    Ok(value)
}

/// VALUE, else --from-file, else stdin when it is not a terminal, else the
/// hidden prompt (refused with --non-interactive).
fn raw(ui: &Ui, args: &Args) -> Result<SecretBytes, CommandError> {
    if let Some(v) = &args.value {
        ui.warn("a value on the command line is visible in shell history and to `ps`; pipe it on stdin instead");
        return Ok(SecretBytes::from_slice(v.as_bytes()));
    }
    if let Some(path) = &args.from_file {
        let bytes = std::fs::read(path)
            .map_err(|e| CommandError::io(format!("cannot read {}", path.display()), e))?;
        return Ok(SecretBytes::new(bytes));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        if ui.non_interactive() {
            return Err(CommandError::usage(format!(
                "`fnox set {}` would prompt for the value, and no question is asked with --non-interactive",
                args.name
            ))
            .hint("pipe the value on stdin, or pass --from-file PATH"));
        }
        return prompt(|m| ui.hidden(m), &args.name);
    }
    let mut buf = Zeroizing::new(Vec::new());
    stdin
        .lock()
        .read_to_end(&mut buf)
        .map_err(|e| CommandError::io("cannot read the value from stdin", e))?;
    if !args.raw {
        let len = buf.len();
        if buf.ends_with(b"\r\n") {
            buf.truncate(len - 2);
        } else if buf.ends_with(b"\n") {
            buf.truncate(len - 1);
        }
    }
    Ok(SecretBytes::from_slice(&buf))
}

/// Reads a value through the hidden prompt `p`, asking twice so a typo is
/// caught.
fn prompt(
    p: impl Fn(&str) -> std::io::Result<Zeroizing<String>>,
    name: &str,
) -> Result<SecretBytes, CommandError> {
    let io = |e| CommandError::io("cannot read the value from the terminal", e);
    let first = p(&format!("Value for {name}: ")).map_err(io)?;
    let second = p("Again, to confirm: ").map_err(io)?;
    if *first != *second {
        return Err(CommandError::user("the two values differ; nothing was changed"));
    }
    Ok(SecretBytes::from_slice(first.as_bytes()))
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    fn scripted(answers: Vec<&'static str>) -> impl Fn(&str) -> std::io::Result<Zeroizing<String>> {
        let answers = RefCell::new(answers);
        move |_| Ok(Zeroizing::new(answers.borrow_mut().remove(0).to_string()))
    }

    #[test]
    fn prompt_asks_twice() {
        assert_eq!(prompt(scripted(vec!["s3cret", "s3cret"]), "A").unwrap().expose(), b"s3cret");
        let err = prompt(scripted(vec!["s3cret", "s3cre"]), "A").unwrap_err();
        assert_eq!(err.message, "the two values differ; nothing was changed");
    }
}
