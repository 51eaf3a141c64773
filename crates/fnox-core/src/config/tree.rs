//! One read-only view of a parsed TOML file, over either front end: the
//! fast reader (`toml`'s `DeTable`, which borrows the file's text and keeps
//! spans) that loading uses, or `toml_edit`, which edits use and which
//! gives the exact message of a syntax error. The model is built from this
//! view alone, so both front ends give the same model (see the proptest in
//! `parse.rs`).

use std::ops::Range;

use toml::{
    Spanned,
    de::{DeTable, DeValue},
};
use toml_edit::TableLike;

/// A table of either front end.
#[derive(Clone, Copy)]
pub enum TableRef<'a> {
    /// Read with `toml_edit`.
    Edit(&'a dyn TableLike),
    /// Read with the fast reader.
    Fast(&'a DeTable<'a>),
}

/// A value of either front end.
#[derive(Clone, Copy)]
pub enum ItemRef<'a> {
    /// An item of a `toml_edit` table.
    Edit(&'a toml_edit::Item),
    /// A value of a `toml_edit` array.
    EditValue(&'a toml_edit::Value),
    /// A value read with the fast reader.
    Fast(&'a Spanned<DeValue<'a>>),
}

/// Up to this many keys, a table is searched key by key: cheaper than
/// hashing the key (a secret's entry has two or three).
const SCAN_BELOW: usize = 12;

type FastEntry<'a> = (&'a Spanned<toml::de::DeString<'a>>, &'a Spanned<DeValue<'a>>);

fn fast_entry<'a>(t: &'a DeTable<'a>, key: &str) -> Option<FastEntry<'a>> {
    if t.len() < SCAN_BELOW {
        t.iter().find(|(k, _)| k.get_ref() == key)
    } else {
        t.get_key_value(key)
    }
}

impl<'a> TableRef<'a> {
    /// The value of `key`.
    pub fn get(self, key: &str) -> Option<ItemRef<'a>> {
        match self {
            Self::Edit(t) => t.get(key).map(ItemRef::Edit),
            Self::Fast(t) => fast_entry(t, key).map(|(_, v)| ItemRef::Fast(v)),
        }
    }

    /// True when the table has `key`.
    pub fn contains_key(self, key: &str) -> bool {
        match self {
            Self::Edit(t) => t.contains_key(key),
            Self::Fast(t) => fast_entry(t, key).is_some(),
        }
    }

    /// Where `key` itself is written.
    pub fn key_span(self, key: &str) -> Option<Range<usize>> {
        match self {
            Self::Edit(t) => t.key(key).and_then(toml_edit::Key::span),
            Self::Fast(t) => fast_entry(t, key).map(|(k, _)| k.span()),
        }
    }

    /// The keys and values, in the order the table holds them.
    pub fn entries(self) -> Vec<(&'a str, ItemRef<'a>)> {
        match self {
            Self::Edit(t) => t.iter().map(|(k, v)| (k, ItemRef::Edit(v))).collect(),
            Self::Fast(t) => {
                t.iter().map(|(k, v)| (k.get_ref().as_ref(), ItemRef::Fast(v))).collect()
            }
        }
    }
}

impl<'a> ItemRef<'a> {
    /// A string.
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            Self::Edit(i) => i.as_str(),
            Self::EditValue(v) => v.as_str(),
            Self::Fast(v) => v.get_ref().as_str(),
        }
    }

    /// A boolean.
    pub fn as_bool(self) -> Option<bool> {
        match self {
            Self::Edit(i) => i.as_bool(),
            Self::EditValue(v) => v.as_bool(),
            Self::Fast(v) => v.get_ref().as_bool(),
        }
    }

    /// An integer that fits an `i64`.
    pub fn as_integer(self) -> Option<i64> {
        match self {
            Self::Edit(i) => i.as_integer(),
            Self::EditValue(v) => v.as_integer(),
            Self::Fast(v) => v
                .get_ref()
                .as_integer()
                .and_then(|n| i64::from_str_radix(n.as_str(), n.radix()).ok()),
        }
    }

    /// The values of an array.
    pub fn as_array(self) -> Option<Vec<ItemRef<'a>>> {
        match self {
            Self::Edit(i) => i.as_array().map(|a| a.iter().map(ItemRef::EditValue).collect()),
            Self::EditValue(v) => v.as_array().map(|a| a.iter().map(ItemRef::EditValue).collect()),
            // `[[name]]` is an array here (of tables, which no list of
            // strings takes either) and no array in toml_edit: same errors.
            Self::Fast(v) => v.get_ref().as_array().map(|a| a.iter().map(ItemRef::Fast).collect()),
        }
    }

    /// A table, inline or not.
    pub fn as_table(self) -> Option<TableRef<'a>> {
        match self {
            Self::Edit(i) => i.as_table_like().map(TableRef::Edit),
            Self::EditValue(v) => v.as_inline_table().map(|t| TableRef::Edit(t as &dyn TableLike)),
            Self::Fast(v) => v.get_ref().as_table().map(TableRef::Fast),
        }
    }

    /// True for a string.
    pub fn is_str(self) -> bool {
        self.as_str().is_some()
    }

    /// Where the value is written.
    pub fn span(self) -> Option<Range<usize>> {
        match self {
            Self::Edit(i) => i.span(),
            Self::EditValue(v) => v.span(),
            Self::Fast(v) => Some(v.span()),
        }
    }
}

/// True when every number in `table` is one `toml_edit` reads too: the
/// fast reader keeps numbers as text, `toml_edit` refuses an integer that
/// overflows an `i64` and a float that overflows an `f64`.
pub fn numbers_fit(table: &DeTable<'_>) -> bool {
    table.values().all(|v| value_fits(v.get_ref()))
}

fn value_fits(value: &DeValue<'_>) -> bool {
    match value {
        DeValue::Integer(n) => i64::from_str_radix(n.as_str(), n.radix()).is_ok(),
        DeValue::Float(f) => {
            let text = f.as_str();
            text.parse::<f64>().is_ok_and(|x| {
                // `inf` and `nan` are written as words.
                x.is_finite()
                    || text
                        .strip_prefix(['+', '-'])
                        .unwrap_or(text)
                        .bytes()
                        .all(|c| c.is_ascii_alphabetic())
            })
        }
        DeValue::Array(a) => a.iter().all(|v| value_fits(v.get_ref())),
        DeValue::Table(t) => numbers_fit(t),
        DeValue::String(_) | DeValue::Boolean(_) | DeValue::Datetime(_) => true,
    }
}
