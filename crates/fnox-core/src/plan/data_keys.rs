//! The `[data_keys]` part of a write plan: under the file's lock, each
//! entry a value was sealed under must still be what it was, and then
//! becomes its new text. A first `set` that lost the race to create the
//! data key fails here with [`Error::DataKeyChanged`] and seals again
//! under the winner's key, so exactly one data key survives and no value
//! is lost.

use std::path::Path;

use crate::{config::edit, error::Error, value::DataKeyWrite};

/// `new` (the new text of `file`, now `text`) with `writes` applied, after
/// checking that each entry is still as expected.
pub(super) fn apply(
    file: &Path,
    text: &str,
    mut new: String,
    writes: &[DataKeyWrite],
) -> Result<String, Error> {
    let edit_error = |source| Error::Edit { path: file.to_path_buf(), source };
    let mut done: Vec<&DataKeyWrite> = Vec::new();
    for write in writes {
        if done.contains(&write) {
            continue;
        }
        let changed =
            || Error::DataKeyChanged { provider: write.provider.clone(), path: file.to_path_buf() };
        // Two different writes of one provider's entry in one plan: the
        // second would undo the first.
        if done.iter().any(|d| d.provider == write.provider) {
            return Err(changed());
        }
        let now = edit::data_key_entry(text, &write.provider).map_err(edit_error)?;
        if now != write.expect {
            return Err(changed());
        }
        if write.line != write.expect {
            new = edit::set_data_key(&new, &write.provider, write.line.as_deref())
                .map_err(edit_error)?;
        }
        done.push(write);
    }
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(expect: Option<&str>, line: Option<&str>) -> DataKeyWrite {
        DataKeyWrite {
            provider: "kms".into(),
            expect: expect.map(str::to_string),
            line: line.map(str::to_string),
        }
    }

    #[test]
    fn an_entry_that_changed_meanwhile_refuses_the_write() {
        let f = Path::new("fnox.toml");
        let text = "[data_keys]\nkms = \"v1:a:b\"\n";
        let err = apply(f, text, text.into(), &[write(None, Some("v1:c:d"))]).unwrap_err();
        assert!(matches!(err, Error::DataKeyChanged { ref provider, .. } if provider == "kms"));
        let same = write(Some("v1:a:b"), Some("v1:a:b"));
        assert_eq!(apply(f, text, text.into(), &[same.clone(), same]).unwrap(), text);
        let new = apply(f, text, text.into(), &[write(Some("v1:a:b"), Some("v1:a:c"))]).unwrap();
        assert_eq!(new, "[data_keys]\nkms = \"v1:a:c\"\n");
        let two = [write(Some("v1:a:b"), Some("v1:a:c")), write(Some("v1:a:b"), None)];
        assert!(apply(f, text, text.into(), &two).is_err());
    }
}
