//! dqgate_native: a conservative decider for dqgate's compiled per-record checks.
//!
//! A `Decider` is built once per suite from a spec of its compiled checks (see
//! `dqgate/suites/native.py`). `decide(raw)` parses one record's raw JSON bytes and
//! returns the checks that fail (bits 0..n) and the checks that skip the record (bits
//! 64..64+n), or `None` ("undecided") whenever it is not certain that the Python checks
//! give exactly that result: then Python evaluates the record itself. Every doubt is
//! `None`: invalid UTF-8, anything that is not strict RFC 8259 JSON, a top level that is
//! not an object, a key with an escape, a duplicate of a checked key, an integer outside
//! i64, nesting deeper than `MAX_DEPTH`, and values a check cannot judge exactly.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use regex::bytes::{Regex, RegexBuilder};

mod dates;
mod json;

use dates::{canonical, strftime_tokens, Tok};
use json::{checked_values, Val};

/// The result packs fail bits (0..64) and skip bits (64..128).
const MAX_CHECKS: usize = 64;
/// Integers up to this magnitude convert to f64 exactly.
const EXACT_F64: i64 = 1 << 53;

enum Outcome {
    Pass,
    Fail,
    Skip,
    Undecided,
}

enum Kind {
    NotNull,
    BeNull,
    Regex {
        re: Regex,
        negate: bool,
    },
    Strftime(Vec<Tok>),
    Between {
        min: Option<f64>,
        max: Option<f64>,
        strict_min: bool,
        strict_max: bool,
    },
    InSet(Option<Vec<Vec<u8>>>),
}

struct Check {
    column: usize,
    kind: Kind,
}

/// Decides records for one compiled suite, or says it cannot.
#[pyclass(frozen, module = "dqgate_native")]
struct Decider {
    max_record_bytes: usize,
    columns: Vec<Vec<u8>>,
    checks: Vec<Check>,
}

fn bad(message: String) -> PyErr {
    PyValueError::new_err(message)
}

fn printable_ascii(text: &[u8]) -> bool {
    text.iter().all(|&c| (0x20..0x7F).contains(&c))
}

impl Decider {
    fn judge(check: &Check, val: Val, raw: &[u8]) -> Outcome {
        let null = matches!(val, Val::Absent | Val::Null);
        match &check.kind {
            Kind::NotNull => {
                if null {
                    Outcome::Fail
                } else {
                    Outcome::Pass
                }
            }
            Kind::BeNull => {
                if null {
                    Outcome::Pass
                } else {
                    Outcome::Fail
                }
            }
            Kind::InSet(None) => Outcome::Pass,
            _ if null => Outcome::Skip,
            Kind::Regex { re, negate } => {
                let mut buffer = [0u8; 24];
                let text: &[u8] = match val {
                    Val::Str {
                        start,
                        end,
                        escaped: false,
                    } if printable_ascii(&raw[start..end]) => &raw[start..end],
                    Val::Int(n) => {
                        use std::io::Write;
                        let mut cursor = std::io::Cursor::new(&mut buffer[..]);
                        if write!(cursor, "{n}").is_err() {
                            return Outcome::Undecided;
                        }
                        let len = cursor.position() as usize;
                        &buffer[..len]
                    }
                    _ => return Outcome::Undecided,
                };
                if re.is_match(text) != *negate {
                    Outcome::Pass
                } else {
                    Outcome::Fail
                }
            }
            Kind::Strftime(toks) => match val {
                Val::Str {
                    start,
                    end,
                    escaped: false,
                } => match canonical(toks, &raw[start..end]) {
                    Some(true) => Outcome::Pass,
                    Some(false) => Outcome::Fail,
                    None => Outcome::Undecided,
                },
                _ => Outcome::Undecided,
            },
            Kind::Between {
                min,
                max,
                strict_min,
                strict_max,
            } => match val {
                Val::Int(n) if (-EXACT_F64..=EXACT_F64).contains(&n) => {
                    let x = n as f64;
                    if let Some(low) = min {
                        let above = if *strict_min { x > *low } else { x >= *low };
                        if !above {
                            return Outcome::Fail;
                        }
                    }
                    if let Some(high) = max {
                        let below = if *strict_max { x < *high } else { x <= *high };
                        if !below {
                            return Outcome::Fail;
                        }
                    }
                    Outcome::Pass
                }
                _ => Outcome::Undecided,
            },
            Kind::InSet(Some(allowed)) => match val {
                Val::Str {
                    start,
                    end,
                    escaped: false,
                } => {
                    let text = &raw[start..end];
                    if allowed.iter().any(|a| a.as_slice() == text) {
                        Outcome::Pass
                    } else {
                        Outcome::Fail
                    }
                }
                Val::Str { escaped: true, .. } => Outcome::Undecided,
                // a non-null, non-str value is never in a set of strings
                _ => Outcome::Fail,
            },
        }
    }
}

#[pymethods]
impl Decider {
    /// `checks`: (kind, column, params) per compiled check, in evaluation order.
    #[new]
    fn new(
        max_record_bytes: usize,
        checks: Vec<(String, String, Bound<'_, PyAny>)>,
    ) -> PyResult<Self> {
        if checks.len() > MAX_CHECKS {
            return Err(bad(format!(
                "at most {MAX_CHECKS} checks, got {}",
                checks.len()
            )));
        }
        let mut columns: Vec<Vec<u8>> = Vec::new();
        let mut compiled = Vec::with_capacity(checks.len());
        for (kind, column, params) in checks {
            let name = column.into_bytes();
            let at = match columns.iter().position(|c| *c == name) {
                Some(at) => at,
                None => {
                    columns.push(name);
                    columns.len() - 1
                }
            };
            let kind = match kind.as_str() {
                "not_null" => Kind::NotNull,
                "be_null" => Kind::BeNull,
                "regex" => {
                    let (pattern, negate): (String, bool) = params.extract()?;
                    let re = RegexBuilder::new(&pattern)
                        .unicode(false)
                        .build()
                        .map_err(|e| bad(format!("regex {pattern:?}: {e}")))?;
                    Kind::Regex { re, negate }
                }
                "strftime" => {
                    Kind::Strftime(strftime_tokens(&params.extract::<String>()?).map_err(bad)?)
                }
                "between" => {
                    let (min, max, strict_min, strict_max): (Option<f64>, Option<f64>, bool, bool) =
                        params.extract()?;
                    if min.is_some_and(f64::is_nan) || max.is_some_and(f64::is_nan) {
                        return Err(bad("NaN bounds are not supported".into()));
                    }
                    Kind::Between {
                        min,
                        max,
                        strict_min,
                        strict_max,
                    }
                }
                "in_set" => {
                    let values: Option<Vec<String>> = params.extract()?;
                    Kind::InSet(values.map(|v| v.into_iter().map(String::into_bytes).collect()))
                }
                other => return Err(bad(format!("check kind {other:?} is not supported"))),
            };
            compiled.push(Check { column: at, kind });
        }
        Ok(Decider {
            max_record_bytes,
            columns,
            checks: compiled,
        })
    }

    /// Fail bits (0..n) | skip bits (64..64+n), or None when undecided.
    fn decide(&self, raw: &[u8]) -> Option<u128> {
        if raw.len() > self.max_record_bytes {
            return None;
        }
        let vals = checked_values(raw, &self.columns)?;
        let mut result: u128 = 0;
        for (index, check) in self.checks.iter().enumerate() {
            match Self::judge(check, vals[check.column], raw) {
                Outcome::Pass => {}
                Outcome::Fail => result |= 1 << index,
                Outcome::Skip => result |= 1 << (index + 64),
                Outcome::Undecided => return None,
            }
        }
        Some(result)
    }

    #[getter]
    fn checks(&self) -> usize {
        self.checks.len()
    }
}

#[pymodule]
fn dqgate_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Decider>()?;
    m.add("MAX_CHECKS", MAX_CHECKS)?;
    Ok(())
}
