//! `jsonschema`'s `is_valid(json.loads(text))` for a subset of JSON Schema (drafts 6 to
//! 2020-12): type, enum, const, the numeric and length bounds, required, properties,
//! additionalProperties, items, allOf/anyOf/oneOf/not and pattern (through the regex
//! translation). `native_specs.py` refuses schemas with any other validation keyword.
//! The document is read with Python's json semantics (NaN, Infinity, the last of duplicate
//! keys); None (undecided) for what it cannot represent exactly (lone surrogates, integers
//! beyond 128 bits, deep nesting) or a pattern outside its translation's domain.

use std::cmp::Ordering;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString};

use crate::checks::{bad, Pattern};
use crate::json::Parser;
use crate::value::{char_count, cmp_num, parse_float, unescape, Num};

const MAX_DEPTH: usize = 64;
const MAX_INT_DIGITS: usize = 640;

/// A JSON value as Python's json module returns it.
#[derive(Debug)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Num(Num),
    Str(Vec<u8>),
    Arr(Vec<Json>),
    Obj(Vec<(Vec<u8>, Json)>),
}

/// Why a document has no value here: not JSON (Python raises), or not representable.
pub(crate) enum Bad {
    Invalid,
    Unsure,
}

fn word(p: &mut Parser<'_>, w: &[u8]) -> Result<(), Bad> {
    if p.b.get(p.i..p.i + w.len()) == Some(w) {
        p.i += w.len();
        Ok(())
    } else {
        Err(Bad::Invalid)
    }
}

fn text(p: &mut Parser<'_>) -> Result<Vec<u8>, Bad> {
    let (start, end, escaped) = p.string(true).ok_or(Bad::Invalid)?;
    unescape(&p.b[start..end], escaped)
        .map(|t| t.into_owned())
        .ok_or(Bad::Unsure)
}

fn value(p: &mut Parser<'_>, depth: usize) -> Result<Json, Bad> {
    if depth > MAX_DEPTH {
        return Err(Bad::Unsure);
    }
    match *p.b.get(p.i).ok_or(Bad::Invalid)? {
        b'"' => text(p).map(Json::Str),
        b'{' => {
            p.i += 1;
            let mut members: Vec<(Vec<u8>, Json)> = Vec::new();
            p.ws();
            if p.b.get(p.i) == Some(&b'}') {
                p.i += 1;
                return Ok(Json::Obj(members));
            }
            loop {
                p.ws();
                if p.b.get(p.i) != Some(&b'"') {
                    return Err(Bad::Invalid);
                }
                let key = text(p)?;
                p.ws();
                if p.b.get(p.i) != Some(&b':') {
                    return Err(Bad::Invalid);
                }
                p.i += 1;
                p.ws();
                let v = value(p, depth + 1)?;
                match members.iter_mut().find(|(k, _)| *k == key) {
                    Some(slot) => slot.1 = v, // the last value wins, as in a Python dict
                    None => members.push((key, v)),
                }
                p.ws();
                match p.b.get(p.i) {
                    Some(b',') => p.i += 1,
                    Some(b'}') => {
                        p.i += 1;
                        return Ok(Json::Obj(members));
                    }
                    _ => return Err(Bad::Invalid),
                }
            }
        }
        b'[' => {
            p.i += 1;
            let mut items = Vec::new();
            p.ws();
            if p.b.get(p.i) == Some(&b']') {
                p.i += 1;
                return Ok(Json::Arr(items));
            }
            loop {
                p.ws();
                items.push(value(p, depth + 1)?);
                p.ws();
                match p.b.get(p.i) {
                    Some(b',') => p.i += 1,
                    Some(b']') => {
                        p.i += 1;
                        return Ok(Json::Arr(items));
                    }
                    _ => return Err(Bad::Invalid),
                }
            }
        }
        b't' => word(p, b"true").map(|_| Json::Bool(true)),
        b'f' => word(p, b"false").map(|_| Json::Bool(false)),
        b'n' => word(p, b"null").map(|_| Json::Null),
        b'N' => word(p, b"NaN").map(|_| Json::Num(Num::F(f64::NAN))),
        b'I' => word(p, b"Infinity").map(|_| Json::Num(Num::F(f64::INFINITY))),
        b'-' if p.b.get(p.i + 1) == Some(&b'I') => {
            p.i += 1;
            word(p, b"Infinity").map(|_| Json::Num(Num::F(f64::NEG_INFINITY)))
        }
        b'-' | b'0'..=b'9' => {
            let start = p.i;
            let float = p.number_token().ok_or(Bad::Invalid)?;
            let token = &p.b[start..p.i];
            if float {
                return parse_float(token).map(|f| Json::Num(Num::F(f))).ok_or(Bad::Unsure);
            }
            if token.len() > MAX_INT_DIGITS {
                return Err(Bad::Unsure);
            }
            std::str::from_utf8(token)
                .ok()
                .and_then(|t| t.parse::<i128>().ok())
                .map(|n| Json::Num(Num::I(n)))
                .ok_or(Bad::Unsure)
        }
        _ => Err(Bad::Invalid),
    }
}

/// `json.loads(text)` as a value tree.
pub(crate) fn loads(text: &[u8]) -> Result<Json, Bad> {
    let mut p = Parser { b: text, i: 0 };
    p.ws();
    let v = value(&mut p, 1)?;
    p.ws();
    if p.i == text.len() {
        Ok(v)
    } else {
        Err(Bad::Invalid)
    }
}

/// jsonschema's `equal`: bools only equal bools, 1 == 1.0, containers deep.
fn equal(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Null, Json::Null) => true,
        (Json::Bool(x), Json::Bool(y)) => x == y,
        (Json::Num(x), Json::Num(y)) => cmp_num(*x, *y) == Some(Ordering::Equal),
        (Json::Str(x), Json::Str(y)) => x == y,
        (Json::Arr(x), Json::Arr(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(i, j)| equal(i, j))
        }
        (Json::Obj(x), Json::Obj(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.iter().any(|(k2, v2)| k == k2 && equal(v, v2)))
        }
        _ => false,
    }
}

/// A value from the schema (enum members, const), built from Python objects.
fn from_python(obj: &Bound<'_, PyAny>) -> PyResult<Json> {
    if obj.is_none() {
        return Ok(Json::Null);
    }
    if let Ok(b) = obj.cast_exact::<PyBool>() {
        return Ok(Json::Bool(b.is_true()));
    }
    if obj.cast_exact::<PyInt>().is_ok() {
        return Ok(Json::Num(Num::I(obj.extract()?)));
    }
    if obj.cast_exact::<PyFloat>().is_ok() {
        return Ok(Json::Num(Num::F(obj.extract()?)));
    }
    if obj.cast_exact::<PyString>().is_ok() {
        return Ok(Json::Str(obj.extract::<String>()?.into_bytes()));
    }
    if let Ok(list) = obj.cast_exact::<PyList>() {
        return Ok(Json::Arr(list.iter().map(|i| from_python(&i)).collect::<PyResult<_>>()?));
    }
    if let Ok(dict) = obj.cast_exact::<PyDict>() {
        let mut members = Vec::new();
        for (k, v) in dict.iter() {
            members.push((k.extract::<String>()?.into_bytes(), from_python(&v)?));
        }
        return Ok(Json::Obj(members));
    }
    Err(bad("a schema value that is not JSON".into()))
}

/// Type bits, in native_specs' order: null, boolean, integer, number, string, array, object.
fn type_matches(mask: u8, v: &Json) -> bool {
    let bit = |i: u8| mask & (1 << i) != 0;
    match v {
        Json::Null => bit(0),
        Json::Bool(_) => bit(1),
        Json::Num(n) => {
            let integral = match n {
                Num::I(_) => true,
                Num::F(f) => f.is_finite() && f.fract() == 0.0,
            };
            bit(3) || (bit(2) && integral)
        }
        Json::Str(_) => bit(4),
        Json::Arr(_) => bit(5),
        Json::Obj(_) => bit(6),
    }
}

pub(crate) enum Rule {
    Type(u8),
    Enum(Vec<Json>),
    Const(Json),
    Min(Num, bool),
    Max(Num, bool),
    MinLength(f64),
    MaxLength(f64),
    MinItems(f64),
    MaxItems(f64),
    MinProperties(f64),
    MaxProperties(f64),
    Required(Vec<Vec<u8>>),
    Properties {
        named: Vec<(Vec<u8>, Schema)>,
        additional: Option<Box<Schema>>,
    },
    Items(Box<Schema>),
    AllOf(Vec<Schema>),
    AnyOf(Vec<Schema>),
    OneOf(Vec<Schema>),
    Not(Box<Schema>),
    Pattern(Pattern),
}

pub(crate) enum Schema {
    Always(bool),
    Rules(Vec<Rule>),
}

fn number(item: &Bound<'_, PyAny>) -> PyResult<Num> {
    if item.cast_exact::<PyInt>().is_ok() {
        Ok(Num::I(item.extract()?))
    } else {
        Ok(Num::F(item.extract()?))
    }
}

/// A schema from its spec (`native_specs._schema`): ("bool", b) or ("rules", [(name, arg)]).
pub(crate) fn build(spec: &Bound<'_, PyAny>) -> PyResult<Schema> {
    let kind: String = spec.get_item(0)?.extract()?;
    let arg = spec.get_item(1)?;
    if kind == "bool" {
        return Ok(Schema::Always(arg.extract()?));
    }
    let mut rules = Vec::new();
    for rule in arg.try_iter()? {
        let rule = rule?;
        let name: String = rule.get_item(0)?.extract()?;
        let a = rule.get_item(1)?;
        let schemas = |a: &Bound<'_, PyAny>| -> PyResult<Vec<Schema>> {
            a.try_iter()?.map(|s| build(&s?)).collect()
        };
        rules.push(match name.as_str() {
            "type" => Rule::Type(a.extract()?),
            "enum" => Rule::Enum(a.try_iter()?.map(|v| from_python(&v?)).collect::<PyResult<_>>()?),
            "const" => Rule::Const(from_python(&a)?),
            "minimum" => Rule::Min(number(&a)?, false),
            "exclusiveMinimum" => Rule::Min(number(&a)?, true),
            "maximum" => Rule::Max(number(&a)?, false),
            "exclusiveMaximum" => Rule::Max(number(&a)?, true),
            "minLength" => Rule::MinLength(a.extract()?),
            "maxLength" => Rule::MaxLength(a.extract()?),
            "minItems" => Rule::MinItems(a.extract()?),
            "maxItems" => Rule::MaxItems(a.extract()?),
            "minProperties" => Rule::MinProperties(a.extract()?),
            "maxProperties" => Rule::MaxProperties(a.extract()?),
            "required" => Rule::Required(
                a.extract::<Vec<String>>()?.into_iter().map(String::into_bytes).collect(),
            ),
            "properties" => {
                let named: Vec<(String, Bound<'_, PyAny>)> = a.get_item(0)?.extract()?;
                let additional = a.get_item(1)?;
                Rule::Properties {
                    named: named
                        .iter()
                        .map(|(k, s)| Ok((k.clone().into_bytes(), build(s)?)))
                        .collect::<PyResult<_>>()?,
                    additional: if additional.is_none() {
                        None
                    } else {
                        Some(Box::new(build(&additional)?))
                    },
                }
            }
            "items" => Rule::Items(Box::new(build(&a)?)),
            "allOf" => Rule::AllOf(schemas(&a)?),
            "anyOf" => Rule::AnyOf(schemas(&a)?),
            "oneOf" => Rule::OneOf(schemas(&a)?),
            "not" => Rule::Not(Box::new(build(&a)?)),
            "pattern" => {
                let (source, ascii_only, newline): (String, bool, u8) = a.extract()?;
                Rule::Pattern(Pattern::new(&source, ascii_only, newline)?)
            }
            other => return Err(bad(format!("schema keyword {other:?}"))),
        });
    }
    Ok(Schema::Rules(rules))
}

/// Every value of `results` true (None: one undecided and none false).
fn all_of(results: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let mut unsure = false;
    for r in results {
        match r {
            Some(false) => return Some(false),
            None => unsure = true,
            Some(true) => {}
        }
    }
    if unsure {
        None
    } else {
        Some(true)
    }
}

impl Schema {
    pub(crate) fn valid(&self, v: &Json) -> Option<bool> {
        match self {
            Schema::Always(b) => Some(*b),
            Schema::Rules(rules) => all_of(rules.iter().map(|r| r.valid(v))),
        }
    }
}

impl Rule {
    fn valid(&self, v: &Json) -> Option<bool> {
        let number = match v {
            Json::Num(n) => Some(*n),
            _ => None,
        };
        Some(match self {
            Rule::Type(mask) => type_matches(*mask, v),
            Rule::Enum(members) => members.iter().any(|m| equal(m, v)),
            Rule::Const(c) => equal(c, v),
            Rule::Min(limit, exclusive) => match number {
                Some(n) => match cmp_num(n, *limit) {
                    Some(Ordering::Less) => false,
                    Some(Ordering::Equal) => !exclusive,
                    _ => true, // greater, or a NaN: `nan < limit` is False
                },
                None => true,
            },
            Rule::Max(limit, exclusive) => match number {
                Some(n) => match cmp_num(n, *limit) {
                    Some(Ordering::Greater) => false,
                    Some(Ordering::Equal) => !exclusive,
                    _ => true,
                },
                None => true,
            },
            Rule::MinLength(limit) => match v {
                Json::Str(s) => char_count(s) as f64 >= *limit,
                _ => true,
            },
            Rule::MaxLength(limit) => match v {
                Json::Str(s) => char_count(s) as f64 <= *limit,
                _ => true,
            },
            Rule::MinItems(limit) => match v {
                Json::Arr(a) => a.len() as f64 >= *limit,
                _ => true,
            },
            Rule::MaxItems(limit) => match v {
                Json::Arr(a) => a.len() as f64 <= *limit,
                _ => true,
            },
            Rule::MinProperties(limit) => match v {
                Json::Obj(o) => o.len() as f64 >= *limit,
                _ => true,
            },
            Rule::MaxProperties(limit) => match v {
                Json::Obj(o) => o.len() as f64 <= *limit,
                _ => true,
            },
            Rule::Required(names) => match v {
                Json::Obj(o) => names.iter().all(|n| o.iter().any(|(k, _)| k == n)),
                _ => true,
            },
            Rule::Properties { named, additional } => match v {
                Json::Obj(o) => {
                    let checks = o.iter().map(|(k, value)| {
                        match named.iter().find(|(name, _)| name == k) {
                            Some((_, schema)) => schema.valid(value),
                            None => additional.as_ref().map_or(Some(true), |s| s.valid(value)),
                        }
                    });
                    return all_of(checks);
                }
                _ => true,
            },
            Rule::Items(schema) => match v {
                Json::Arr(items) => return all_of(items.iter().map(|i| schema.valid(i))),
                _ => true,
            },
            Rule::AllOf(schemas) => return all_of(schemas.iter().map(|s| s.valid(v))),
            Rule::AnyOf(schemas) => {
                let results: Vec<Option<bool>> = schemas.iter().map(|s| s.valid(v)).collect();
                if results.contains(&Some(true)) {
                    true
                } else if results.contains(&None) {
                    return None;
                } else {
                    false
                }
            }
            Rule::OneOf(schemas) => {
                let results: Vec<Option<bool>> = schemas.iter().map(|s| s.valid(v)).collect();
                if results.contains(&None) {
                    return None;
                }
                results.iter().filter(|r| **r == Some(true)).count() == 1
            }
            Rule::Not(schema) => return schema.valid(v).map(|b| !b),
            Rule::Pattern(p) => match v {
                Json::Str(s) => return p.search(s),
                _ => true,
            },
        })
    }
}
