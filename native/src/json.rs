//! A strict RFC 8259 reader for one record: it validates the whole document and keeps only
//! the values of the checked columns (as spans into the raw bytes), or gives up (None) on
//! anything Python might decode differently or refuse.

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

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Val {
    Absent,
    Null,
    Bool,
    Int(i64),
    Float,
    Str {
        start: usize,
        end: usize,
        escaped: bool,
    },
    Container,
}

/// Parses one member's value, given its key's span (None for a key with escapes).
type Member<'m, 'a> = dyn FnMut(Option<(usize, usize)>, &mut Parser<'a>, usize) -> Option<()> + 'm;

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
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
    fn string(&mut self) -> Option<(usize, usize, bool)> {
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

    fn number(&mut self) -> Option<Val> {
        let start = self.i;
        let negative = self.b[self.i] == b'-';
        if negative {
            self.i += 1;
        }
        match *self.b.get(self.i)? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        let int_end = self.i;
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
        if self.i - start > MAX_NUMBER_BYTES {
            return None;
        }
        if float {
            return Some(Val::Float);
        }
        let first = if negative { start + 1 } else { start };
        let mut value: i64 = 0;
        for &d in &self.b[first..int_end] {
            let digit = i64::from(d - b'0');
            value = value.checked_mul(10)?;
            value = if negative {
                value.checked_sub(digit)?
            } else {
                value.checked_add(digit)?
            };
        }
        Some(Val::Int(value))
    }

    fn literal(&mut self, word: &[u8], val: Val) -> Option<Val> {
        if self.b.get(self.i..self.i + word.len())? == word {
            self.i += word.len();
            Some(val)
        } else {
            None
        }
    }

    fn value(&mut self, depth: usize) -> Option<Val> {
        match *self.b.get(self.i)? {
            b'"' => {
                let (start, end, escaped) = self.string()?;
                Some(Val::Str {
                    start,
                    end,
                    escaped,
                })
            }
            b'{' => {
                self.object(depth + 1, &mut |_, p, d| p.value(d).map(|_| ()))?;
                Some(Val::Container)
            }
            b'[' => {
                self.array(depth + 1)?;
                Some(Val::Container)
            }
            b't' => self.literal(b"true", Val::Bool),
            b'f' => self.literal(b"false", Val::Bool),
            b'n' => self.literal(b"null", Val::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
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

    /// An object at `self.i`; `member(key_span, parser, depth)` parses each member's value.
    fn object(&mut self, depth: usize, member: &mut Member<'_, 'a>) -> Option<()> {
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
            let (start, end, escaped) = self.string()?;
            self.ws();
            if self.b.get(self.i) != Some(&b':') {
                return None;
            }
            self.i += 1;
            self.ws();
            member(if escaped { None } else { Some((start, end)) }, self, depth)?;
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

/// The values of `columns` in the JSON object `raw`, or None when the record is not certain
/// JSON for Python (invalid UTF-8, not strict JSON, not an object, a key with an escape,
/// a duplicate checked key, an integer outside i64, too deep).
pub(crate) fn checked_values(raw: &[u8], columns: &[Vec<u8>]) -> Option<Vec<Val>> {
    if std::str::from_utf8(raw).is_err() {
        return None;
    }
    let mut vals = vec![Val::Absent; columns.len()];
    let mut p = Parser { b: raw, i: 0 };
    p.ws();
    if p.b.get(p.i) != Some(&b'{') {
        return None;
    }
    p.object(1, &mut |key, p, depth| {
        let (start, end) = key?; // a key with an escape: undecided
        let name = &p.b[start..end];
        match columns.iter().position(|c| c.as_slice() == name) {
            Some(at) => {
                if vals[at] != Val::Absent {
                    return None; // duplicate of a checked key
                }
                vals[at] = p.value(depth)?;
            }
            None => {
                p.value(depth)?;
            }
        }
        Some(())
    })?;
    p.ws();
    if p.i != raw.len() {
        return None;
    }
    Some(vals)
}
