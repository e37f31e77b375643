//! `json.loads(text)` succeeds? Python's json module on a str: RFC 8259 plus `NaN`,
//! `Infinity`, `-Infinity` and lone surrogate escapes. Undecided (None) when Python's own
//! limits could decide instead: nesting deeper than `MAX_DEPTH` (RecursionError), or an
//! integer longer than the smallest `sys.set_int_max_str_digits` allows (ValueError).

use crate::json::Parser;

const MAX_DEPTH: usize = 64;
/// The lowest value `sys.set_int_max_str_digits` accepts: shorter integers always parse.
const MAX_INT_DIGITS: usize = 640;

enum Outcome {
    Invalid,
    Unsure,
}

fn value(p: &mut Parser<'_>, depth: usize) -> Result<(), Outcome> {
    if depth > MAX_DEPTH {
        return Err(Outcome::Unsure);
    }
    let c = *p.b.get(p.i).ok_or(Outcome::Invalid)?;
    match c {
        b'"' => p.string(true).map(|_| ()).ok_or(Outcome::Invalid),
        b'{' => container(p, depth, b'}', true),
        b'[' => container(p, depth, b']', false),
        b't' => word(p, b"true"),
        b'f' => word(p, b"false"),
        b'n' => word(p, b"null"),
        b'N' => word(p, b"NaN"),
        b'I' => word(p, b"Infinity"),
        b'-' if p.b.get(p.i + 1) == Some(&b'I') => {
            p.i += 1;
            word(p, b"Infinity")
        }
        b'-' | b'0'..=b'9' => {
            let start = p.i;
            let float = p.number_token().ok_or(Outcome::Invalid)?;
            if !float && p.i - start > MAX_INT_DIGITS {
                return Err(Outcome::Unsure);
            }
            Ok(())
        }
        _ => Err(Outcome::Invalid),
    }
}

fn word(p: &mut Parser<'_>, w: &[u8]) -> Result<(), Outcome> {
    if p.b.get(p.i..p.i + w.len()) == Some(w) {
        p.i += w.len();
        Ok(())
    } else {
        Err(Outcome::Invalid)
    }
}

fn container(p: &mut Parser<'_>, depth: usize, close: u8, object: bool) -> Result<(), Outcome> {
    p.i += 1;
    p.ws();
    if p.b.get(p.i) == Some(&close) {
        p.i += 1;
        return Ok(());
    }
    loop {
        p.ws();
        if object {
            if p.b.get(p.i) != Some(&b'"') {
                return Err(Outcome::Invalid);
            }
            p.string(true).ok_or(Outcome::Invalid)?;
            p.ws();
            if p.b.get(p.i) != Some(&b':') {
                return Err(Outcome::Invalid);
            }
            p.i += 1;
            p.ws();
        }
        value(p, depth + 1)?;
        p.ws();
        match p.b.get(p.i) {
            Some(b',') => p.i += 1,
            Some(&c) if c == close => {
                p.i += 1;
                return Ok(());
            }
            _ => return Err(Outcome::Invalid),
        }
    }
}

/// Whether Python's `json.loads(text)` returns (Some(true)) or raises (Some(false)).
pub(crate) fn loads_ok(text: &[u8]) -> Option<bool> {
    let mut p = Parser { b: text, i: 0 };
    p.ws();
    match value(&mut p, 1) {
        Ok(()) => {}
        Err(Outcome::Invalid) => return Some(false),
        Err(Outcome::Unsure) => return None,
    }
    p.ws();
    Some(p.i == text.len())
}
