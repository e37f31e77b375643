//! A strict RFC 8259 reader for one record: it validates the whole document and keeps only
//! the values of the suite's columns (their kind and the span of their token in the raw
//! bytes) and, when a check reads them, the record's keys; or it gives up (None) on
//! anything Python might decode differently or refuse.

use std::borrow::Cow;

use crate::value::unescape;

/// Nesting deeper than this is left to Python (its decoders have their own limits).
const MAX_DEPTH: usize = 64;
/// Number tokens longer than this are left to Python.
const MAX_NUMBER_BYTES: usize = 40;

/// Bytes that end a run of plain string content: the quote, the backslash, control characters.
const SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        table[c] = true;
        c += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum Kind {
    Absent,
    Null,
    Bool(bool),
    Int(i64),
    Float,
    Str { escaped: bool },
    List,
    Dict,
}

/// One value of a record: its kind and its token's span in the raw bytes (quotes included).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Val {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

impl Val {
    pub const ABSENT: Val = Val {
        kind: Kind::Absent,
        start: 0,
        end: 0,
    };

    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Absent | Kind::Null)
    }
}

/// What the reader keeps of one record.
pub(crate) struct Parsed<'a> {
    /// The value of each column (in the decider's column order).
    pub vals: Vec<Val>,
    /// The record's keys in order (each once), when asked for.
    pub keys: Vec<Cow<'a, [u8]>>,
    /// How many members the object has (duplicates counted).
    pub members: usize,
}

/// Parses one member's value, given its key's content span and whether it has escapes.
type Member<'m, 'a> = dyn FnMut((usize, usize, bool), &mut Parser<'a>, usize) -> Option<()> + 'm;

pub(crate) struct Parser<'a> {
    pub b: &'a [u8],
    pub i: usize,
}

impl<'a> Parser<'a> {
    pub fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.b.get(at..at + 4)?;
        let mut value = 0u32;
        for &d in digits {
            value = value * 16 + (d as char).to_digit(16)?;
        }
        Some(value)
    }

    /// A string at `self.i` (the opening quote): its content span and whether it has escapes.
    /// `lone_ok`: accept lone surrogate escapes (Python's json.loads does).
    pub fn string(&mut self, lone_ok: bool) -> Option<(usize, usize, bool)> {
        self.i += 1;
        let start = self.i;
        let mut escaped = false;
        loop {
            while !SPECIAL[*self.b.get(self.i)? as usize] {
                self.i += 1;
            }
            match self.b[self.i] {
                b'"' => {
                    let end = self.i;
                    self.i += 1;
                    return Some((start, end, escaped));
                }
                b'\\' => {
                    escaped = true;
                    match *self.b.get(self.i + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 2,
                        b'u' => {
                            let unit = self.hex4(self.i + 2)?;
                            self.i += 6;
                            if lone_ok {
                                continue;
                            }
                            if (0xD800..0xDC00).contains(&unit) {
                                if self.b.get(self.i..self.i + 2)? != b"\\u" {
                                    return None;
                                }
                                let low = self.hex4(self.i + 2)?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return None;
                                }
                                self.i += 6;
                            } else if (0xDC00..0xE000).contains(&unit) {
                                return None;
                            }
                        }
                        _ => return None,
                    }
                }
                _ => return None, // a raw control character: not JSON
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.b.get(self.i), Some(c) if c.is_ascii_digit()) {
            self.i += 1;
        }
        self.i - start
    }

    /// A number token: its end and whether it is a float; None when it is not JSON.
    pub fn number_token(&mut self) -> Option<bool> {
        if self.b[self.i] == b'-' {
            self.i += 1;
        }
        match *self.b.get(self.i)? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        let mut float = false;
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return None;
            }
            float = true;
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return None;
            }
            float = true;
        }
        Some(float)
    }

    fn number(&mut self) -> Option<Kind> {
        let start = self.i;
        let float = self.number_token()?;
        if self.i - start > MAX_NUMBER_BYTES {
            return None;
        }
        if float {
            return Some(Kind::Float);
        }
        let token = &self.b[start..self.i];
        let (negative, digits) = match token.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, token),
        };
        let mut value: i64 = 0;
        for &d in digits {
            let digit = i64::from(d - b'0');
            value = value.checked_mul(10)?;
            value = if negative {
                value.checked_sub(digit)?
            } else {
                value.checked_add(digit)?
            };
        }
        Some(Kind::Int(value))
    }

    fn literal(&mut self, word: &[u8], kind: Kind) -> Option<Kind> {
        if self.b.get(self.i..self.i + word.len())? == word {
            self.i += word.len();
            Some(kind)
        } else {
            None
        }
    }

    fn value(&mut self, depth: usize) -> Option<Val> {
        let start = self.i;
        let kind = match *self.b.get(self.i)? {
            b'"' => {
                let (_, _, escaped) = self.string(false)?;
                Kind::Str { escaped }
            }
            b'{' => {
                self.object(depth + 1, &mut |_, p, d| p.value(d).map(|_| ()))?;
                Kind::Dict
            }
            b'[' => {
                self.array(depth + 1)?;
                Kind::List
            }
            b't' => self.literal(b"true", Kind::Bool(true))?,
            b'f' => self.literal(b"false", Kind::Bool(false))?,
            b'n' => self.literal(b"null", Kind::Null)?,
            b'-' | b'0'..=b'9' => self.number()?,
            _ => return None,
        };
        Some(Val {
            kind,
            start,
            end: self.i,
        })
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.i += 1;
        self.ws();
        if self.b.get(self.i) == Some(&b']') {
            self.i += 1;
            return Some(());
        }
        loop {
            self.ws();
            self.value(depth)?;
            self.ws();
            match *self.b.get(self.i)? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An object at `self.i`; `member(key, parser, depth)` parses each member's value, with
    /// the key's content span and whether it has escapes.
    fn object(
        &mut self,
        depth: usize,
        member: &mut Member<'_, 'a>,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.i += 1;
        self.ws();
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Some(());
        }
        loop {
            self.ws();
            if self.b.get(self.i) != Some(&b'"') {
                return None;
            }
            let key = self.string(false)?;
            self.ws();
            if self.b.get(self.i) != Some(&b':') {
                return None;
            }
            self.i += 1;
            self.ws();
            member(key, self, depth)?;
            self.ws();
            match *self.b.get(self.i)? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

/// The values of `columns` in the JSON object `raw` (and its keys with `keys`), or None when
/// the record is not certain JSON for Python: invalid UTF-8, not strict JSON, not an object,
/// a duplicate of a column's key (of any key, with `keys`), an integer outside i64, too deep.
pub(crate) fn parse_record<'a>(
    raw: &'a [u8],
    columns: &[Vec<u8>],
    keys: bool,
) -> Option<Parsed<'a>> {
    if std::str::from_utf8(raw).is_err() {
        return None;
    }
    let mut vals = vec![Val::ABSENT; columns.len()];
    let mut found: Vec<Cow<'a, [u8]>> = Vec::new();
    let mut members = 0usize;
    let mut p = Parser { b: raw, i: 0 };
    p.ws();
    if p.b.get(p.i) != Some(&b'{') {
        return None;
    }
    p.object(1, &mut |(start, end, escaped), p, depth| {
        let name = unescape(&raw[start..end], escaped)?;
        let value = p.value(depth)?;
        members += 1;
        if let Some(at) = columns.iter().position(|c| c.as_slice() == &*name) {
            if vals[at].kind != Kind::Absent {
                return None; // a duplicate of a column: Python keeps the last value
            }
            vals[at] = value;
        }
        if keys {
            found.push(name);
        }
        Some(())
    })?;
    p.ws();
    if p.i != raw.len() {
        return None;
    }
    if keys && found.len() > 1 {
        let mut sorted: Vec<&[u8]> = found.iter().map(|k| &**k).collect();
        sorted.sort_unstable();
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return None; // a duplicate key: the key order and count need Python's dict
        }
    }
    Some(Parsed {
        vals,
        keys: found,
        members,
    })
}
