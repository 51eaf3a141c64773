//! Walking an error's chain of causes: one place for it.

/// The messages of `err` and of each of its causes, outermost first.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = vec![err.to_string()];
    let mut cause = err.source();
    while let Some(c) = cause {
        out.push(c.to_string());
        cause = c.source();
    }
    out
}

/// The innermost cause of `err` (itself when it has none).
pub fn root_cause<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> &'a (dyn std::error::Error + 'static) {
    let mut cur = err;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur
}

/// True when `err` or one of its causes is a `T`. An `io::Error` hides
/// the error it wraps from `source()`; that one is looked into too.
pub fn has_cause<T: std::error::Error + 'static>(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if e.is::<T>() {
            return true;
        }
        if let Some(inner) = e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref())
            && has_cause::<T>(inner)
        {
            return true;
        }
        cur = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("deep")]
    struct Deep;

    #[test]
    fn the_chain_is_walked_into_io_errors() {
        let err = Outer(std::io::Error::other(Deep));
        assert_eq!(chain(&err), ["outer", "deep"]);
        assert!(has_cause::<Deep>(&err));
        assert!(has_cause::<Outer>(&err));
        assert!(!has_cause::<std::fmt::Error>(&err));
        assert_eq!(root_cause(&err).to_string(), "deep");
    }
}
