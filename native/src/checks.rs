//! The compiled checks as the decider runs them, built from the specs that
//! `dqgate/suites/native_specs.py` writes, each giving the Python check's exact result for
//! one record or `UNDECIDED`.

use std::borrow::Cow;
use std::cmp::Ordering;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use regex::bytes::{Regex, RegexBuilder};

use crate::dates::{canonical, dateutil_certain, strftime_tokens, Tok};
use crate::json::{Kind, Val};
use crate::jsontext::loads_ok;
use crate::schema::{self, Bad, Schema};
use crate::value::{char_count, cmp_num, eq_num, num_of, py_str, text_of, Num};

pub(crate) const PASS: u8 = 0;
pub(crate) const FAIL: u8 = 1;
pub(crate) const ERROR: u8 = 2;
pub(crate) const SKIP: u8 = 3;
pub(crate) const UNDECIDED: u8 = 4;

/// A regex is compiled with room for Python's Unicode classes spelled out as ranges.
const REGEX_SIZE_LIMIT: usize = 64 << 20;

pub(crate) fn bad(message: String) -> PyErr {
    PyValueError::new_err(message)
}

/// A value a check compares with: from the suite (`native_specs.scalar`).
#[derive(Clone, Debug)]
pub(crate) enum Scalar {
    Num(Num),
    Str(Vec<u8>),
    Null,
    NaN,
    Other,
}

pub(crate) fn scalar(item: &Bound<'_, PyAny>) -> PyResult<Scalar> {
    let (tag, value): (String, Bound<'_, PyAny>) = item.extract()?;
    Ok(match tag.as_str() {
        "i" => Scalar::Num(Num::I(value.extract::<i128>()?)),
        "f" => Scalar::Num(Num::F(value.extract::<f64>()?)),
        "s" => Scalar::Str(value.extract::<String>()?.into_bytes()),
        "z" => Scalar::Null,
        "nan" => Scalar::NaN,
        "o" => Scalar::Other,
        other => return Err(bad(format!("unknown scalar tag {other:?}"))),
    })
}

/// One value of the record as Python compares it.
pub(crate) enum Cell<'a> {
    Missing,
    Null,
    Num(Num),
    Str(Cow<'a, [u8]>),
    List,
    Dict,
}

/// The cell of a value; None for a string with a lone surrogate (no UTF-8 form).
pub(crate) fn cell<'a>(val: &Val, raw: &'a [u8]) -> Option<Cell<'a>> {
    Some(match val.kind {
        Kind::Absent => Cell::Missing,
        Kind::Null => Cell::Null,
        Kind::Str { .. } => Cell::Str(text_of(val, raw)?),
        Kind::List => Cell::List,
        Kind::Dict => Cell::Dict,
        _ => Cell::Num(num_of(val, raw)?),
    })
}

impl Cell<'_> {
    fn is_null(&self) -> bool {
        matches!(self, Cell::Missing | Cell::Null)
    }

    fn container(&self) -> bool {
        matches!(self, Cell::List | Cell::Dict)
    }
}

/// Python's `a == b` for two non-null cells; None when a container meets a container.
fn cells_equal(a: &Cell<'_>, b: &Cell<'_>) -> Option<bool> {
    match (a, b) {
        (Cell::Num(x), Cell::Num(y)) => Some(eq_num(*x, *y)),
        (Cell::Str(x), Cell::Str(y)) => Some(x == y),
        _ if a.container() && b.container() => None,
        _ => Some(false),
    }
}

/// Python's ordering of two non-null cells: Ok(None) when a NaN makes every comparison
/// False, Err(true) for a TypeError, Err(false) when undecided (two lists).
fn cells_order(a: &Cell<'_>, b: &Cell<'_>) -> Result<Option<Ordering>, bool> {
    match (a, b) {
        (Cell::Num(x), Cell::Num(y)) => Ok(cmp_num(*x, *y)),
        (Cell::Str(x), Cell::Str(y)) => Ok(Some(x.as_ref().cmp(y.as_ref()))),
        (Cell::List, Cell::List) => Err(false),
        _ => Err(true),
    }
}

/// Python's `cell == scalar` (the scalar a set member, bound or parameter).
fn equals_scalar(c: &Cell<'_>, s: &Scalar) -> bool {
    match (c, s) {
        (Cell::Num(x), Scalar::Num(y)) => eq_num(*x, *y),
        (Cell::Str(x), Scalar::Str(y)) => x.as_ref() == y.as_slice(),
        (Cell::Null, Scalar::Null) => true,
        _ => false,
    }
}

/// `isin` membership: like `==`, but a missing key is NaN and matches a NaN member.
fn isin(c: &Cell<'_>, members: &[Scalar]) -> bool {
    if c.container() {
        return false; // unhashable: never in the set
    }
    members.iter().any(|m| match (c, m) {
        (Cell::Missing, Scalar::NaN) => true,
        _ => equals_scalar(c, m),
    })
}

/// Python's ordering of a cell and a scalar; Err(()) for a TypeError.
fn order_scalar(c: &Cell<'_>, s: &Scalar) -> Result<Option<Ordering>, ()> {
    match (c, s) {
        (Cell::Num(x), Scalar::Num(y)) => Ok(cmp_num(*x, *y)),
        (Cell::Str(x), Scalar::Str(y)) => Ok(Some(x.as_ref().cmp(y.as_slice()))),
        _ => Err(()),
    }
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

fn holds(op: Op, ordering: Option<Ordering>) -> bool {
    match ordering {
        None => op == Op::Ne,
        Some(o) => match op {
            Op::Eq => o == Ordering::Equal,
            Op::Ne => o != Ordering::Equal,
            Op::Lt => o == Ordering::Less,
            Op::Le => o != Ordering::Greater,
            Op::Gt => o == Ordering::Greater,
            Op::Ge => o != Ordering::Less,
        },
    }
}

/// A structured row condition (comparison, nullity, and, or), pandas' semantics per record.
pub(crate) enum Cond {
    Cmp { col: usize, op: Op, param: Scalar },
    In { col: usize, negate: bool, members: Vec<Scalar> },
    Nullity { col: usize, is_null: bool },
    And(Vec<Cond>),
    Or(Vec<Cond>),
}

/// Why a condition has no answer: the Python condition raises, or the decider is unsure.
pub(crate) enum Abort {
    Error,
    Undecided,
}

pub(crate) fn condition(spec: &Bound<'_, PyAny>) -> PyResult<Cond> {
    let kind: String = spec.get_item(0)?.extract()?;
    Ok(match kind.as_str() {
        "cmp" => {
            let op: String = spec.get_item(2)?.extract()?;
            let op = match op.as_str() {
                "==" => Op::Eq,
                "!=" => Op::Ne,
                "<" => Op::Lt,
                "<=" => Op::Le,
                ">" => Op::Gt,
                ">=" => Op::Ge,
                other => return Err(bad(format!("condition operator {other:?}"))),
            };
            let param = scalar(&spec.get_item(3)?)?;
            Cond::Cmp {
                col: spec.get_item(1)?.extract()?,
                op,
                param,
            }
        }
        "in" => {
            let members: Vec<Bound<'_, PyAny>> = spec.get_item(3)?.extract()?;
            Cond::In {
                col: spec.get_item(1)?.extract()?,
                negate: spec.get_item(2)?.extract()?,
                members: members.iter().map(scalar).collect::<PyResult<_>>()?,
            }
        }
        "null" => Cond::Nullity {
            col: spec.get_item(1)?.extract()?,
            is_null: spec.get_item(2)?.extract()?,
        },
        "and" | "or" => {
            let parts: Vec<Bound<'_, PyAny>> = spec.get_item(1)?.extract()?;
            let parts = parts.iter().map(condition).collect::<PyResult<Vec<_>>>()?;
            if kind == "and" {
                Cond::And(parts)
            } else {
                Cond::Or(parts)
            }
        }
        other => return Err(bad(format!("condition kind {other:?}"))),
    })
}

impl Cond {
    pub(crate) fn eval(&self, vals: &[Val], raw: &[u8]) -> Result<bool, Abort> {
        match self {
            Cond::Nullity { col, is_null } => Ok(vals[*col].is_null() == *is_null),
            Cond::In {
                col,
                negate,
                members,
            } => {
                let c = cell(&vals[*col], raw).ok_or(Abort::Undecided)?;
                Ok(isin(&c, members) != *negate)
            }
            Cond::Cmp { col, op, param } => {
                let c = cell(&vals[*col], raw).ok_or(Abort::Undecided)?;
                if c.is_null() {
                    return Ok(*op == Op::Ne);
                }
                match op {
                    Op::Eq | Op::Ne => {
                        if c.container() && matches!(param, Scalar::Str(_) | Scalar::Num(_)) {
                            return Ok(*op == Op::Ne);
                        }
                        Ok(equals_scalar(&c, param) == (*op == Op::Eq))
                    }
                    _ => match order_scalar(&c, param) {
                        Ok(ordering) => Ok(holds(*op, ordering)),
                        Err(()) => Err(Abort::Error),
                    },
                }
            }
            Cond::And(parts) | Cond::Or(parts) => {
                let mut results = Vec::with_capacity(parts.len());
                let mut undecided = false;
                for part in parts {
                    match part.eval(vals, raw) {
                        Ok(b) => results.push(b),
                        Err(Abort::Error) => return Err(Abort::Error),
                        Err(Abort::Undecided) => undecided = true,
                    }
                }
                if undecided {
                    return Err(Abort::Undecided);
                }
                Ok(if matches!(self, Cond::And(_)) {
                    results.iter().all(|b| *b)
                } else {
                    results.iter().any(|b| *b)
                })
            }
        }
    }
}

/// One regex of a check, and the texts on which it gives Python's answer.
pub(crate) struct Pattern {
    re: Regex,
    ascii_only: bool,
    /// 0 any text; 1 none with a newline before its last character; 2 any text, searched
    /// also without its final newline (a final plain `$` emitted as `\z`).
    newline: u8,
}

pub(crate) fn compile_regex(source: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(source)
        .unicode(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
}

impl Pattern {
    pub(crate) fn new(source: &str, ascii_only: bool, newline: u8) -> PyResult<Self> {
        let re = compile_regex(source).map_err(|e| bad(format!("regex: {e}")))?;
        Ok(Pattern {
            re,
            ascii_only,
            newline,
        })
    }

    /// Whether `re.search` finds a match in `text`; None when the text is outside the
    /// translation's domain.
    pub(crate) fn search(&self, text: &[u8]) -> Option<bool> {
        if self.ascii_only && !text.is_ascii() {
            return None;
        }
        match self.newline {
            1 => {
                if let Some(at) = text.iter().position(|&c| c == b'\n') {
                    if at + 1 != text.len() {
                        return None;
                    }
                }
            }
            2 => {
                if self.re.is_match(text) {
                    return Some(true);
                }
                return Some(match text.strip_suffix(b"\n") {
                    Some(shorter) => self.re.is_match(shorter),
                    None => false,
                });
            }
            _ => {}
        }
        Some(self.re.is_match(text))
    }
}

/// What a check tests, per kind (see `native_specs.py` for each spec).
pub(crate) enum Test {
    Python,
    Const(u8),
    NotNull,
    BeNull,
    InSet {
        members: Vec<Scalar>,
        negate: bool,
    },
    Between {
        min: Option<Scalar>,
        max: Option<Scalar>,
        strict_min: bool,
        strict_max: bool,
    },
    Length {
        min: Option<f64>,
        max: Option<f64>,
        strict_min: bool,
        strict_max: bool,
    },
    Regex {
        patterns: Vec<Pattern>,
        all: bool,
        negate: bool,
    },
    Strftime(Vec<Tok>),
    Dateutil,
    Json,
    JsonSchema(Option<Schema>),
    OfType(u8),
    Exists(Option<i64>),
    /// Every column present; with `exact`, no other key (a duplicate of a column abstains).
    MatchSet(bool),
    Count {
        min: Option<f64>,
        max: Option<f64>,
    },
    PairEqual(u8),
    PairGreater {
        ignore: u8,
        or_equal: bool,
    },
    PairInSet {
        ignore: u8,
        pairs: Vec<(Scalar, Scalar)>,
    },
    MultiSum {
        ignore: u8,
        total: Scalar,
    },
    MultiEqual(u8),
    Unique(u8),
}

pub(crate) struct Check {
    pub cols: Vec<usize>,
    pub test: Test,
    pub cond: Option<Cond>,
}

impl Check {
    /// True when the check reads the record's keys beyond its columns' presence.
    pub(crate) fn needs_keys(&self) -> bool {
        matches!(
            self.test,
            Test::Exists(Some(_)) | Test::Count { .. }
        )
    }
}

fn opt_f64(item: &Bound<'_, PyAny>) -> PyResult<Option<f64>> {
    item.extract()
}

fn opt_scalar(item: &Bound<'_, PyAny>) -> PyResult<Option<Scalar>> {
    if item.is_none() {
        Ok(None)
    } else {
        scalar(item).map(Some)
    }
}

pub(crate) fn build_test(kind: &str, params: &Bound<'_, PyAny>) -> PyResult<Test> {
    let item = |i: usize| params.get_item(i);
    Ok(match kind {
        "python" => Test::Python,
        "const" => Test::Const(params.extract()?),
        "not_null" => Test::NotNull,
        "be_null" => Test::BeNull,
        "in_set" => {
            let members: Vec<Bound<'_, PyAny>> = item(0)?.extract()?;
            Test::InSet {
                members: members.iter().map(scalar).collect::<PyResult<_>>()?,
                negate: item(1)?.extract()?,
            }
        }
        "between" => Test::Between {
            min: opt_scalar(&item(0)?)?,
            max: opt_scalar(&item(1)?)?,
            strict_min: item(2)?.extract()?,
            strict_max: item(3)?.extract()?,
        },
        "length" => Test::Length {
            min: opt_f64(&item(0)?)?,
            max: opt_f64(&item(1)?)?,
            strict_min: item(2)?.extract()?,
            strict_max: item(3)?.extract()?,
        },
        "regex" => {
            let specs: Vec<(String, bool, u8)> = item(0)?.extract()?;
            let patterns = specs
                .iter()
                .map(|(source, ascii_only, newline)| Pattern::new(source, *ascii_only, *newline))
                .collect::<PyResult<Vec<_>>>()?;
            Test::Regex {
                patterns,
                all: item(1)?.extract()?,
                negate: item(2)?.extract()?,
            }
        }
        "strftime" => Test::Strftime(strftime_tokens(&params.extract::<String>()?).map_err(bad)?),
        "dateutil" => Test::Dateutil,
        "json" => Test::Json,
        "json_schema" => Test::JsonSchema(if params.is_none() {
            None
        } else {
            Some(schema::build(params)?)
        }),
        "of_type" => Test::OfType(params.extract()?),
        "exists" => Test::Exists(params.extract()?),
        "match_set" => Test::MatchSet(params.extract()?),
        "count" => Test::Count {
            min: opt_f64(&item(0)?)?,
            max: opt_f64(&item(1)?)?,
        },
        "pair_equal" => Test::PairEqual(params.extract()?),
        "pair_greater" => Test::PairGreater {
            ignore: item(0)?.extract()?,
            or_equal: item(1)?.extract()?,
        },
        "pair_in_set" => {
            let pairs: Vec<(Bound<'_, PyAny>, Bound<'_, PyAny>)> = item(1)?.extract()?;
            Test::PairInSet {
                ignore: item(0)?.extract()?,
                pairs: pairs
                    .iter()
                    .map(|(a, b)| Ok((scalar(a)?, scalar(b)?)))
                    .collect::<PyResult<_>>()?,
            }
        }
        "multi_sum" => Test::MultiSum {
            ignore: item(0)?.extract()?,
            total: scalar(&item(1)?)?,
        },
        "multi_equal" => Test::MultiEqual(params.extract()?),
        "unique" => Test::Unique(params.extract()?),
        other => return Err(bad(format!("check kind {other:?} is not supported"))),
    })
}

/// `ignore_row_if`: 0 all (both) values missing, 1 any (either), 2 never (neither).
fn ignored(mode: u8, vals: &[&Val]) -> bool {
    match mode {
        0 => vals.iter().all(|v| v.is_null()),
        1 => vals.iter().any(|v| v.is_null()),
        _ => false,
    }
}

/// The JSON kind bit `of_type` masks are made of (native_specs._TYPE_SAMPLES order).
fn kind_bit(kind: Kind) -> u8 {
    match kind {
        Kind::Bool(_) => 1,
        Kind::Int(_) => 2,
        Kind::Float => 4,
        Kind::Str { .. } => 8,
        Kind::List => 16,
        Kind::Dict => 32,
        Kind::Absent | Kind::Null => 0,
    }
}

fn compare_bound(value: &Cell<'_>, bound: &Scalar) -> Result<Option<Ordering>, u8> {
    match (value, bound) {
        (Cell::Num(x), Scalar::Num(y)) => Ok(cmp_num(*x, *y)),
        (Cell::Str(x), Scalar::Str(y)) => Ok(Some(x.as_ref().cmp(y.as_slice()))),
        _ => Err(ERROR), // a TypeError in Python: the record's verdict is an error
    }
}

fn satisfies(ordering: Option<Ordering>, strict: bool, want: Ordering) -> bool {
    match ordering {
        None => false,
        Some(o) => o == want || (!strict && o == Ordering::Equal),
    }
}

fn between(
    value: &Cell<'_>,
    min: &Option<Scalar>,
    max: &Option<Scalar>,
    strict_min: bool,
    strict_max: bool,
) -> u8 {
    let is_str = matches!(value, Cell::Str(_));
    for bound in [min, max].into_iter().flatten() {
        if is_str != matches!(bound, Scalar::Str(_)) {
            return ERROR;
        }
    }
    if let Some(low) = min {
        let above = match compare_bound(value, low) {
            Ok(o) => satisfies(o, strict_min, Ordering::Greater),
            Err(code) => return code,
        };
        if !above {
            return FAIL;
        }
        if max.is_none() {
            return PASS;
        }
    }
    match max {
        Some(high) => match compare_bound(value, high) {
            Ok(o) if satisfies(o, strict_max, Ordering::Less) => PASS,
            Ok(_) => FAIL,
            Err(code) => code,
        },
        None => PASS,
    }
}

fn bounded(n: f64, min: Option<f64>, max: Option<f64>, strict_min: bool, strict_max: bool) -> u8 {
    if let Some(low) = min {
        if if strict_min { n <= low } else { n < low } {
            return FAIL;
        }
    }
    if let Some(high) = max {
        if if strict_max { n >= high } else { n > high } {
            return FAIL;
        }
    }
    PASS
}

/// A running `reduce(operator.add, values)` as Python computes it.
enum Sum {
    Num(Num),
    Text,
}

fn add(acc: Sum, c: &Cell<'_>) -> Result<Sum, u8> {
    match (acc, c) {
        (Sum::Num(Num::I(a)), Cell::Num(Num::I(b))) => {
            a.checked_add(*b).map(|s| Sum::Num(Num::I(s))).ok_or(UNDECIDED)
        }
        (Sum::Num(a), Cell::Num(b)) => {
            let x = match a {
                Num::I(i) => i as f64,
                Num::F(f) => f,
            };
            let y = match b {
                Num::I(i) => *i as f64,
                Num::F(f) => *f,
            };
            Ok(Sum::Num(Num::F(x + y)))
        }
        (Sum::Text, Cell::Str(_)) => Ok(Sum::Text),
        (_, Cell::List | Cell::Dict) => Err(UNDECIDED),
        _ => Err(ERROR), // str + number, number + str: TypeError
    }
}

fn multi_sum(cells: &[Cell<'_>], total: &Scalar) -> u8 {
    if cells.iter().any(Cell::is_null) {
        return FAIL; // pandas nulls the row's sum when skipna=False
    }
    let mut acc = match &cells[0] {
        Cell::Num(n) => Sum::Num(*n),
        Cell::Str(_) => Sum::Text,
        _ => return UNDECIDED,
    };
    for c in &cells[1..] {
        acc = match add(acc, c) {
            Ok(next) => next,
            Err(code) => return code,
        };
    }
    match (acc, total) {
        (Sum::Num(Num::F(f)), _) if f.is_nan() => FAIL,
        (Sum::Num(n), Scalar::Num(t)) if eq_num(n, *t) => PASS,
        _ => FAIL,
    }
}

fn multi_equal(cells: &[Cell<'_>]) -> u8 {
    let reference = &cells[0];
    let mut undecided = false;
    for c in cells {
        match (c.is_null(), reference.is_null()) {
            (true, true) => continue,
            (true, false) | (false, true) => return FAIL,
            _ => match cells_equal(c, reference) {
                Some(true) => {}
                Some(false) => return FAIL,
                None => undecided = true,
            },
        }
    }
    if undecided {
        UNDECIDED
    } else {
        PASS
    }
}

/// `len({hash_key(v) for v in values}) >= len(values)`: a missing key is NaN, unlike null.
fn unique(cells: &[Cell<'_>]) -> u8 {
    if cells.iter().any(Cell::container) {
        return ERROR; // unhashable
    }
    for (i, a) in cells.iter().enumerate() {
        for b in &cells[i + 1..] {
            let same = match (a, b) {
                (Cell::Missing, Cell::Missing) | (Cell::Null, Cell::Null) => true,
                (Cell::Num(x), Cell::Num(y)) => eq_num(*x, *y),
                (Cell::Str(x), Cell::Str(y)) => x == y,
                _ => false,
            };
            if same {
                return FAIL;
            }
        }
    }
    PASS
}

/// The cells of a check's columns; None when one has no UTF-8 form.
fn cells_of<'a>(cols: &[usize], vals: &[Val], raw: &'a [u8]) -> Option<Vec<Cell<'a>>> {
    cols.iter().map(|&c| cell(&vals[c], raw)).collect()
}

pub(crate) struct Record<'r, 'a> {
    pub raw: &'a [u8],
    pub vals: &'r [Val],
    pub keys: &'r [Cow<'a, [u8]>],
    pub members: usize,
    pub columns: &'r [Vec<u8>],
}

impl Check {
    pub(crate) fn judge(&self, r: &Record<'_, '_>) -> u8 {
        if let Some(cond) = &self.cond {
            match cond.eval(r.vals, r.raw) {
                Ok(true) => {}
                Ok(false) => return SKIP,
                Err(Abort::Error) => return ERROR,
                Err(Abort::Undecided) => return UNDECIDED,
            }
        }
        self.test_record(r)
    }

    fn test_record(&self, r: &Record<'_, '_>) -> u8 {
        let raw = r.raw;
        let first = self.cols.first().map(|&c| &r.vals[c]);
        match &self.test {
            Test::Python => UNDECIDED,
            Test::Const(code) => *code,
            Test::NotNull => u8::from(first.is_some_and(Val::is_null)) * FAIL,
            Test::BeNull => u8::from(!first.is_some_and(Val::is_null)) * FAIL,
            Test::Exists(None) => u8::from(first.is_some_and(|v| v.kind == Kind::Absent)) * FAIL,
            Test::Exists(Some(index)) => {
                let n = r.keys.len() as i64;
                let at = if *index < 0 { n + index } else { *index };
                let name = &r.columns[self.cols[0]];
                match usize::try_from(at).ok().and_then(|i| r.keys.get(i)) {
                    Some(key) if key.as_ref() == name.as_slice() => PASS,
                    _ => FAIL,
                }
            }
            Test::MatchSet(exact) => {
                let subset = self.cols.iter().all(|&c| r.vals[c].kind != Kind::Absent);
                let same = subset && r.members == self.cols.len();
                u8::from(!if *exact { same } else { subset }) * FAIL
            }
            Test::Count { min, max } => bounded(r.keys.len() as f64, *min, *max, false, false),
            Test::PairEqual(ignore) | Test::MultiEqual(ignore) | Test::Unique(ignore) => {
                let vals: Vec<&Val> = self.cols.iter().map(|&c| &r.vals[c]).collect();
                if ignored(*ignore, &vals) {
                    return SKIP;
                }
                let Some(cells) = cells_of(&self.cols, r.vals, raw) else {
                    return UNDECIDED;
                };
                match &self.test {
                    Test::PairEqual(_) => {
                        if cells[0].is_null() || cells[1].is_null() {
                            return FAIL;
                        }
                        match cells_equal(&cells[0], &cells[1]) {
                            Some(true) => PASS,
                            Some(false) => FAIL,
                            None => UNDECIDED,
                        }
                    }
                    Test::MultiEqual(_) => multi_equal(&cells),
                    _ => unique(&cells),
                }
            }
            Test::PairGreater { ignore, or_equal } => {
                let vals = [&r.vals[self.cols[0]], &r.vals[self.cols[1]]];
                if ignored(*ignore, &vals) {
                    return SKIP;
                }
                let Some(cells) = cells_of(&self.cols, r.vals, raw) else {
                    return UNDECIDED;
                };
                if cells[0].is_null() || cells[1].is_null() {
                    return FAIL;
                }
                match cells_order(&cells[0], &cells[1]) {
                    Ok(o) => u8::from(!satisfies(o, !or_equal, Ordering::Greater)) * FAIL,
                    Err(true) => ERROR,
                    Err(false) => UNDECIDED,
                }
            }
            Test::PairInSet { ignore, pairs } => {
                let vals = [&r.vals[self.cols[0]], &r.vals[self.cols[1]]];
                if ignored(*ignore, &vals) {
                    return SKIP;
                }
                let Some(mut cells) = cells_of(&self.cols, r.vals, raw) else {
                    return UNDECIDED;
                };
                if cells.iter().any(|c| matches!(c, Cell::Dict)) {
                    return ERROR; // an object in the pair tuple: unhashable
                }
                if cells.iter().any(|c| matches!(c, Cell::List)) {
                    return UNDECIDED; // GX's pd.isnull(list): [None] becomes None, others raise
                }
                for c in cells.iter_mut() {
                    if matches!(c, Cell::Missing) {
                        *c = Cell::Null; // GX's pair cell: None for every null
                    }
                }
                let found = pairs
                    .iter()
                    .any(|(a, b)| equals_scalar(&cells[0], a) && equals_scalar(&cells[1], b));
                u8::from(!found) * FAIL
            }
            Test::MultiSum { ignore, total } => {
                let vals: Vec<&Val> = self.cols.iter().map(|&c| &r.vals[c]).collect();
                if ignored(*ignore, &vals) {
                    return SKIP;
                }
                match cells_of(&self.cols, r.vals, raw) {
                    Some(cells) => multi_sum(&cells, total),
                    None => UNDECIDED,
                }
            }
            _ => match first {
                Some(v) if !v.is_null() => self.column_value(v, raw),
                _ => SKIP,
            },
        }
    }

    /// A column-map check on a non-null value.
    fn column_value(&self, v: &Val, raw: &[u8]) -> u8 {
        let is_str = matches!(v.kind, Kind::Str { .. });
        match &self.test {
            Test::InSet { members, negate } => {
                let Some(c) = cell(v, raw) else {
                    return UNDECIDED;
                };
                let member = !c.container() && members.iter().any(|m| equals_scalar(&c, m));
                u8::from(member == *negate) * FAIL
            }
            Test::Between {
                min,
                max,
                strict_min,
                strict_max,
            } => match cell(v, raw) {
                Some(c) => between(&c, min, max, *strict_min, *strict_max),
                None => UNDECIDED,
            },
            Test::Length {
                min,
                max,
                strict_min,
                strict_max,
            } => match py_str(v, raw) {
                Some(text) => bounded(
                    char_count(&text) as f64,
                    *min,
                    *max,
                    *strict_min,
                    *strict_max,
                ),
                None => UNDECIDED,
            },
            Test::Regex {
                patterns,
                all,
                negate,
            } => {
                let Some(text) = py_str(v, raw) else {
                    return UNDECIDED;
                };
                let mut found = Vec::with_capacity(patterns.len());
                for p in patterns {
                    match p.search(&text) {
                        Some(m) => found.push(m),
                        None => return UNDECIDED,
                    }
                }
                let matched = if *all {
                    found.iter().all(|m| *m)
                } else {
                    found.iter().any(|m| *m)
                };
                u8::from(matched == *negate) * FAIL
            }
            Test::Strftime(toks) if is_str => match text_of(v, raw) {
                Some(text) => match canonical(toks, &text) {
                    Some(ok) => u8::from(!ok) * FAIL,
                    None => UNDECIDED,
                },
                None => UNDECIDED,
            },
            Test::Dateutil if is_str => match text_of(v, raw) {
                Some(text) if dateutil_certain(&text) => PASS,
                _ => UNDECIDED,
            },
            Test::Strftime(_) | Test::Dateutil | Test::JsonSchema(_) if !is_str => ERROR,
            Test::JsonSchema(Some(schema)) => {
                let Some(text) = text_of(v, raw) else {
                    return UNDECIDED;
                };
                match schema::loads(&text) {
                    Ok(document) => match schema.valid(&document) {
                        Some(ok) => u8::from(!ok) * FAIL,
                        None => UNDECIDED,
                    },
                    Err(Bad::Invalid) => ERROR, // json.loads raises: GX errors on the value
                    Err(Bad::Unsure) => UNDECIDED,
                }
            }
            Test::Json if is_str => match text_of(v, raw).and_then(|t| loads_ok(&t)) {
                Some(ok) => u8::from(!ok) * FAIL,
                None => UNDECIDED,
            },
            Test::Json => FAIL, // json.loads(non-str) raises TypeError: not parseable
            Test::OfType(mask) => u8::from(mask & kind_bit(v.kind) == 0) * FAIL,
            _ => UNDECIDED,
        }
    }
}
