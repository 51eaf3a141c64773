//! `${NAME}` in a secret's `default`: the value of another secret of the
//! active profile, as in jdx/fnox. `$${` is a literal `${` (fnox's own
//! escape; jdx/fnox has none); a `${` without a closing `}` stays as
//! written. Which secrets a selection needs, in an order where each comes
//! after the secrets its default uses; undefined references and cycles are
//! errors that name the entries.

use foldhash::{HashMap, HashMapExt};

use crate::config::{Config, Location, SecretDef};

/// A piece of a `default`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text as it is.
    Text(&'a str),
    /// `${NAME}`: the value of secret NAME (may be empty: an error).
    Ref(&'a str),
}

/// The pieces of `template`, in order.
pub fn pieces(template: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        if rest[..start].ends_with('$') {
            // `$${`: a literal `${`.
            out.push(Piece::Text(&rest[..start - 1]));
            out.push(Piece::Text("${"));
            rest = &rest[start + 2..];
            continue;
        }
        let Some(len) = rest[start + 2..].find('}') else {
            break;
        };
        out.push(Piece::Text(&rest[..start]));
        out.push(Piece::Ref(&rest[start + 2..start + 2 + len]));
        rest = &rest[start + 2 + len + 1..];
    }
    out.push(Piece::Text(rest));
    out.retain(|p| *p != Piece::Text(""));
    out
}

/// The secrets that `template` refers to, each once, in order.
pub fn references(template: &str) -> Vec<&str> {
    let mut refs: Vec<&str> = Vec::new();
    for piece in pieces(template) {
        if let Piece::Ref(name) = piece
            && !refs.contains(&name)
        {
            refs.push(name);
        }
    }
    refs
}

/// A `default` that refers to secrets wrongly: a mistake in the config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// `${NAME}` where the profile has no secret NAME.
    #[error(
        "{at}: the default of secret `{name}` uses `${{{reference}}}`, but profile `{profile}` has no secret `{reference}`"
    )]
    Undefined {
        /// Where the referring entry is.
        at: Location,
        /// The referring secret.
        name: String,
        /// The name it uses.
        reference: String,
        /// The active profile.
        profile: String,
        /// The defined secrets nearest to `reference` (did you mean).
        near: Vec<String>,
    },
    /// `${}`.
    #[error("{at}: the default of secret `{name}` has an empty reference `${{}}`")]
    Empty {
        /// Where the entry is.
        at: Location,
        /// The secret.
        name: String,
    },
    /// Defaults that use each other.
    #[error("{at}: the defaults of secrets use each other in a cycle: {}", chain.join(" -> "))]
    Cycle {
        /// Where the first entry of the cycle is.
        at: Location,
        /// The secrets, the first repeated at the end.
        chain: Vec<String>,
    },
}

/// Where each secret is in a walk.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    Visiting,
    Done,
}

/// The secrets that `roots` need (each of them, and the secrets that the
/// defaults in use refer to, all the way down), each once, every one after
/// the secrets its default uses. A default is in use only where the entry
/// has no `value`.
pub fn order(config: &Config, roots: &[SecretDef]) -> Result<Vec<SecretDef>, ReferenceError> {
    Ok(order_refs(config, roots)?.into_iter().cloned().collect())
}

/// [`order`], without copies of the entries.
pub(crate) fn order_refs<'a>(
    config: &'a Config,
    roots: &'a [SecretDef],
) -> Result<Vec<&'a SecretDef>, ReferenceError> {
    let mut walk = Walk {
        config,
        marks: HashMap::with_capacity(roots.len()),
        stack: Vec::new(),
        out: Vec::with_capacity(roots.len()),
    };
    for def in roots {
        walk.visit(def)?;
    }
    Ok(walk.out)
}

struct Walk<'a> {
    config: &'a Config,
    marks: HashMap<&'a str, Mark>,
    stack: Vec<&'a str>,
    out: Vec<&'a SecretDef>,
}

impl<'a> Walk<'a> {
    fn visit(&mut self, def: &'a SecretDef) -> Result<(), ReferenceError> {
        match self.marks.get(def.name.as_str()) {
            Some(Mark::Done) => return Ok(()),
            Some(Mark::Visiting) => {
                let start = self.stack.iter().position(|n| *n == def.name).unwrap_or(0);
                let mut chain: Vec<String> =
                    self.stack[start..].iter().map(|n| n.to_string()).collect();
                chain.push(def.name.clone());
                let at =
                    self.config.secrets.get(&chain[0]).map_or(def.at.clone(), |d| d.at.clone());
                return Err(ReferenceError::Cycle { at, chain });
            }
            None => {}
        }
        self.marks.insert(&def.name, Mark::Visiting);
        self.stack.push(&def.name);
        if let (None, Some(template)) = (&def.value, &def.default) {
            for reference in references(template) {
                let used = self.referenced(def, reference)?;
                self.visit(used)?;
            }
        }
        self.stack.pop();
        self.marks.insert(&def.name, Mark::Done);
        self.out.push(def);
        Ok(())
    }

    fn referenced(
        &self,
        def: &SecretDef,
        reference: &str,
    ) -> Result<&'a SecretDef, ReferenceError> {
        if reference.is_empty() {
            return Err(ReferenceError::Empty { at: def.at.clone(), name: def.name.clone() });
        }
        let secrets = &self.config.secrets;
        secrets.get(reference).ok_or_else(|| ReferenceError::Undefined {
            at: def.at.clone(),
            name: def.name.clone(),
            reference: reference.to_string(),
            profile: self.config.profile.clone(),
            // Not the entry itself: `${NAME}` in NAME's own default is a cycle.
            near: crate::suggest::nearest(
                reference,
                secrets.keys().map(String::as_str).filter(|n| *n != def.name),
            ),
        })
    }
}

/// True when what `def` gives is secret, as far as the config can tell
/// (what [`crate::Plaintext::is_secret`] says once resolved): an encrypted
/// `value`; a `default` that says `sensitive = true` or uses a secret that
/// is; the variable of its name in the environment (no value, no default)
/// unless the entry says `sensitive = false`.
pub fn is_secret(config: &Config, def: &SecretDef) -> bool {
    fn walk(config: &Config, def: &SecretDef, seen: &mut Vec<String>) -> bool {
        if seen.contains(&def.name) {
            return false;
        }
        seen.push(def.name.clone());
        match (&def.value, &def.default) {
            (Some(_), _) => config.is_secret(def),
            (None, Some(template)) => {
                def.sensitive == Some(true)
                    || references(template)
                        .into_iter()
                        .any(|r| config.secrets.get(r).is_some_and(|used| walk(config, used, seen)))
            }
            (None, None) => def.sensitive != Some(false),
        }
    }
    walk(config, def, &mut Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Piece::{Ref, Text};

    #[test]
    fn pieces_of_a_default() {
        assert_eq!(pieces("plain"), [Text("plain")]);
        assert_eq!(pieces("${A}"), [Ref("A")]);
        assert_eq!(pieces("x${A}y${B}"), [Text("x"), Ref("A"), Text("y"), Ref("B")]);
        assert_eq!(pieces("a$b ${ c"), [Text("a$b ${ c")]);
        assert_eq!(pieces("${A}${"), [Ref("A"), Text("${")]);
        assert_eq!(pieces("$${A}"), [Text("${"), Text("A}")]);
        assert_eq!(pieces("p$$${A}"), [Text("p$"), Text("${"), Text("A}")]);
        assert_eq!(pieces("${}"), [Ref("")]);
        assert_eq!(pieces("${${A}}"), [Ref("${A"), Text("}")]);
        assert_eq!(references("${A}-${B}-${A}"), ["A", "B"]);
    }
}
