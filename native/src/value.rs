//! Values as Python sees them: exact number comparisons (int against float, as Python
//! compares them), JSON string unescaping, and Python's `str()` of a JSON scalar
//! (`repr` of a float included), which regex and length checks read.

use std::borrow::Cow;
use std::cmp::Ordering;

use crate::json::{Kind, Val};

/// A JSON number (or bool) as Python holds it: an int (exact) or a float.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Num {
    I(i128),
    F(f64),
}

/// `float` against `int`, exactly as Python compares them (no rounding of the int).
fn cmp_float_int(f: f64, i: i128) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f.is_infinite() {
        return Some(if f > 0.0 { Ordering::Greater } else { Ordering::Less });
    }
    // |f| >= 2**127 is beyond every i128.
    if f >= 1.7014118346046923e38 {
        return Some(Ordering::Greater);
    }
    if f < -1.7014118346046923e38 {
        return Some(Ordering::Less);
    }
    let t = f.trunc();
    let ti = t as i128; // exact: t is integral and in range
    match ti.cmp(&i) {
        Ordering::Equal => f.partial_cmp(&t),
        other => Some(other),
    }
}

/// Python's `a <=> b` for two numbers; None when a NaN is involved (every comparison False).
pub(crate) fn cmp_num(a: Num, b: Num) -> Option<Ordering> {
    match (a, b) {
        (Num::I(x), Num::I(y)) => Some(x.cmp(&y)),
        (Num::F(x), Num::F(y)) => x.partial_cmp(&y),
        (Num::F(x), Num::I(y)) => cmp_float_int(x, y),
        (Num::I(x), Num::F(y)) => cmp_float_int(y, x).map(Ordering::reverse),
    }
}

pub(crate) fn eq_num(a: Num, b: Num) -> bool {
    cmp_num(a, b) == Some(Ordering::Equal)
}

/// The number of a JSON int, float or bool (True == 1), or None for other kinds.
pub(crate) fn num_of(val: &Val, raw: &[u8]) -> Option<Num> {
    match val.kind {
        Kind::Int(n) => Some(Num::I(n as i128)),
        Kind::Bool(b) => Some(Num::I(b as i128)),
        Kind::Float => parse_float(&raw[val.start..val.end]).map(Num::F),
        _ => None,
    }
}

/// A JSON number token as a float: correctly rounded, as Python's float() (and orjson) read it.
pub(crate) fn parse_float(token: &[u8]) -> Option<f64> {
    std::str::from_utf8(token).ok()?.parse::<f64>().ok()
}

fn hex4(b: &[u8], at: usize) -> Option<u32> {
    let digits = b.get(at..at + 4)?;
    let mut value = 0u32;
    for &d in digits {
        value = value * 16 + (d as char).to_digit(16)?;
    }
    Some(value)
}

/// The text of a JSON string's content (between the quotes), unescaped; None for a lone
/// surrogate (Python keeps it in a str; it has no UTF-8 form). `content` is valid JSON.
pub(crate) fn unescape(content: &[u8], escaped: bool) -> Option<Cow<'_, [u8]>> {
    if !escaped {
        return Some(Cow::Borrowed(content));
    }
    let mut out = Vec::with_capacity(content.len());
    let mut i = 0;
    while i < content.len() {
        let c = content[i];
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let e = *content.get(i + 1)?;
        i += 2;
        let simple = match e {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0C,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => 0,
            _ => return None,
        };
        if e != b'u' {
            out.push(simple);
            continue;
        }
        let unit = hex4(content, i)?;
        i += 4;
        let code = if (0xD800..0xDC00).contains(&unit) {
            if content.get(i..i + 2) != Some(b"\\u") {
                return None;
            }
            let low = hex4(content, i + 2)?;
            if !(0xDC00..0xE000).contains(&low) {
                return None;
            }
            i += 6;
            0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..0xE000).contains(&unit) {
            return None;
        } else {
            unit
        };
        let ch = char::from_u32(code)?;
        let mut buffer = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buffer).as_bytes());
    }
    Some(Cow::Owned(out))
}

/// The text of a JSON string value (unescaped), or None (not a string, or a lone surrogate).
pub(crate) fn text_of<'a>(val: &Val, raw: &'a [u8]) -> Option<Cow<'a, [u8]>> {
    match val.kind {
        Kind::Str { escaped } => unescape(&raw[val.start + 1..val.end - 1], escaped),
        _ => None,
    }
}

/// Python's `repr(float)`: the shortest digits that round-trip, in fixed notation when the
/// decimal exponent is in [-4, 16), else in exponent notation with at least two digits.
pub(crate) fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let sci = format!("{:e}", f.abs()); // shortest round-trip digits: "1.2345e-7"
    let (mantissa, exponent) = sci.split_once('e').expect("LowerExp has an exponent");
    let exponent: i32 = exponent.parse().expect("LowerExp exponent is an integer");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let decpt = exponent + 1; // the decimal point sits after `decpt` digits
    let mut out = String::with_capacity(digits.len() + 8);
    if f < 0.0 {
        out.push('-');
    }
    if !(-4 < decpt && decpt <= 16) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = decpt - 1;
        out.push('e');
        out.push(if e < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", e.abs()));
    } else if decpt <= 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-decpt) as usize));
        out.push_str(&digits);
    } else if decpt as usize >= digits.len() {
        out.push_str(&digits);
        out.push_str(&"0".repeat(decpt as usize - digits.len()));
        out.push_str(".0");
    } else {
        out.push_str(&digits[..decpt as usize]);
        out.push('.');
        out.push_str(&digits[decpt as usize..]);
    }
    out
}

/// Python's `str(value)` of a JSON scalar (what `astype(str)` gives), or None for null,
/// a list or an object (their str() is Python's repr of the container), or a lone surrogate.
pub(crate) fn py_str<'a>(val: &Val, raw: &'a [u8]) -> Option<Cow<'a, [u8]>> {
    match val.kind {
        Kind::Str { .. } => text_of(val, raw),
        Kind::Int(n) => Some(Cow::Owned(n.to_string().into_bytes())),
        Kind::Bool(b) => Some(Cow::Borrowed(if b { b"True" } else { b"False" })),
        Kind::Float => {
            parse_float(&raw[val.start..val.end]).map(|f| Cow::Owned(py_float_repr(f).into_bytes()))
        }
        _ => None,
    }
}

/// The number of characters (code points) of UTF-8 text.
pub(crate) fn char_count(text: &[u8]) -> usize {
    text.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}
