//! dqgate_native: a conservative decider for dqgate's compiled per-record checks.
//!
//! A `Decider` is built once per suite from the specs of its compiled checks (see
//! `dqgate/suites/native_specs.py`) and the suite's columns. For a record's raw bytes it
//! gives one code per check (pass, fail, error, skip, or undecided when it is not certain
//! of the Python check's result) and, per column, whether the value is absent or null; or
//! it abstains for the whole record when it is not certain how Python decodes it (invalid
//! UTF-8, anything that is not strict RFC 8259 JSON, a top level that is not an object, a
//! duplicate key that matters, an integer outside i64, nesting deeper than 64 levels).
//! `decide_many` does a whole batch in one call, without holding the GIL.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString};

mod checks;
mod dates;
mod json;
mod jsontext;
mod schema;
mod value;

use checks::{bad, build_test, compile_regex, condition, Check, Pattern, Record, UNDECIDED};
use json::parse_record;

/// Row states: every check decided, some undecided (Python runs those), record abstained.
const DECIDED: u8 = 0;
const PARTLY: u8 = 1;
const ABSTAINED: u8 = 2;
/// A span's start for an absent column.
const NO_SPAN: u32 = u32::MAX;

/// A check's spec from Python: (kind, column indexes, params, condition or None).
type Spec<'py> = (String, Vec<usize>, Bound<'py, PyAny>, Bound<'py, PyAny>);

/// Decides records for one compiled suite, check by check, or says it cannot.
#[pyclass(frozen, module = "dqgate_native")]
struct Decider {
    max_record_bytes: usize,
    columns: Vec<Vec<u8>>,
    checks: Vec<Check>,
    keys: bool,
}

/// One batch's output, before it becomes Python objects.
struct Batch {
    rows: Vec<u8>,
    missing: Vec<u64>,
    parsed: u64,
    spans: Vec<u32>,
}

impl Decider {
    /// The row of one record (state, then one code per check) into `row`; fills `missing`
    /// and `spans` (when `want_spans` says which states want them).
    fn decide_into(
        &self,
        raw: &[u8],
        row: &mut [u8],
        missing: &mut [u64],
        spans: &mut Vec<u32>,
        want_spans: u8,
    ) -> bool {
        row[0] = ABSTAINED;
        if raw.len() > self.max_record_bytes {
            return false;
        }
        let Some(parsed) = parse_record(raw, &self.columns, self.keys) else {
            return false;
        };
        let record = Record {
            raw,
            vals: &parsed.vals,
            keys: &parsed.keys,
            members: parsed.members,
            columns: &self.columns,
        };
        let mut state = DECIDED;
        for (code, check) in row[1..].iter_mut().zip(&self.checks) {
            *code = check.judge(&record);
            if *code == UNDECIDED {
                state = PARTLY;
            }
        }
        row[0] = state;
        for (count, val) in missing.iter_mut().zip(&parsed.vals) {
            *count += u64::from(val.is_null());
        }
        if want_spans == 2 || (want_spans == 1 && state == PARTLY) {
            for val in &parsed.vals {
                if val.kind == json::Kind::Absent {
                    spans.extend_from_slice(&[NO_SPAN, 0]);
                } else {
                    spans.extend_from_slice(&[val.start as u32, val.end as u32]);
                }
            }
        }
        true
    }

    fn batch(&self, values: &[Option<&[u8]>], want_spans: u8) -> Batch {
        let width = 1 + self.checks.len();
        let mut out = Batch {
            rows: vec![0u8; values.len() * width],
            missing: vec![0u64; self.columns.len()],
            parsed: 0,
            spans: Vec::new(),
        };
        for (raw, row) in values.iter().zip(out.rows.chunks_mut(width)) {
            match raw {
                Some(raw) => {
                    let ok =
                        self.decide_into(raw, row, &mut out.missing, &mut out.spans, want_spans);
                    out.parsed += u64::from(ok);
                }
                None => row[0] = ABSTAINED,
            }
        }
        out
    }
}

#[pymethods]
impl Decider {
    /// `columns`: every column the suite reads. `checks`: (kind, column indexes, params,
    /// condition or None) per compiled check, in evaluation order.
    #[new]
    fn new(
        max_record_bytes: usize,
        columns: Vec<String>,
        checks: Vec<Spec<'_>>,
    ) -> PyResult<Self> {
        if u32::try_from(max_record_bytes).is_err() {
            return Err(bad("max_record_bytes must fit 32 bits".into()));
        }
        let mut compiled = Vec::with_capacity(checks.len());
        for (kind, cols, params, cond) in checks {
            if let Some(c) = cols.iter().find(|&&c| c >= columns.len()) {
                return Err(bad(format!("column index {c} out of range")));
            }
            let test = build_test(&kind, &params)?;
            let cond = if cond.is_none() {
                None
            } else {
                Some(condition(&cond)?)
            };
            compiled.push(Check { cols, test, cond });
        }
        Ok(Decider {
            max_record_bytes,
            keys: compiled.iter().any(Check::needs_keys),
            columns: columns.into_iter().map(String::into_bytes).collect(),
            checks: compiled,
        })
    }

    /// The row of one record: its state (0 decided, 1 partly, 2 abstained), then one code
    /// per check (0 pass, 1 fail, 2 error, 3 skip, 4 undecided).
    fn decide<'py>(&self, py: Python<'py>, raw: &[u8]) -> Bound<'py, PyBytes> {
        let mut row = vec![0u8; 1 + self.checks.len()];
        let mut missing = vec![0u64; self.columns.len()];
        self.decide_into(raw, &mut row, &mut missing, &mut Vec::new(), 0);
        PyBytes::new(py, &row)
    }

    /// One call for a batch of values (bytes; anything else is abstained): the rows, one
    /// after another; per column, the parsed records where it is absent or null; how many
    /// records were parsed (states 0 and 1); and, per record that `spans` asks for (1: the
    /// partly decided ones, 2: every parsed one), a (start, end) pair of native u32 per
    /// column (start 2**32-1 when absent). The GIL is released while deciding.
    #[pyo3(signature = (values, spans=0))]
    fn decide_many<'py>(
        &self,
        py: Python<'py>,
        values: &Bound<'py, PyList>,
        spans: u8,
    ) -> (Bound<'py, PyBytes>, Vec<u64>, u64, Bound<'py, PyBytes>) {
        let items: Vec<Bound<'py, PyAny>> = values.iter().collect();
        let slices: Vec<Option<&[u8]>> = items
            .iter()
            .map(|item| item.cast_exact::<PyBytes>().ok().map(|b| b.as_bytes()))
            .collect();
        let batch = py.detach(|| self.batch(&slices, spans));
        let span_bytes: Vec<u8> = batch.spans.iter().flat_map(|s| s.to_ne_bytes()).collect();
        (
            PyBytes::new(py, &batch.rows),
            batch.missing,
            batch.parsed,
            PyBytes::new(py, &span_bytes),
        )
    }

    #[getter]
    fn checks(&self) -> usize {
        self.checks.len()
    }
}

/// A translated regex for the Python checks: `re.search`'s answer in linear time, on the
/// texts its translation is exact for.
#[pyclass(frozen, module = "dqgate_native")]
struct Regex {
    pattern: Pattern,
}

/// Texts longer than this are searched without holding the GIL.
const DETACH_BYTES: usize = 4096;

#[pymethods]
impl Regex {
    #[new]
    fn new(source: &str, ascii_only: bool, newline: u8) -> PyResult<Self> {
        Ok(Regex {
            pattern: Pattern::new(source, ascii_only, newline)?,
        })
    }

    /// Whether `re.search` finds a match in `text`; None when the text is outside the
    /// translation's domain (or holds a lone surrogate).
    fn search(&self, py: Python<'_>, text: &Bound<'_, PyString>) -> Option<bool> {
        let text = text.to_str().ok()?;
        if text.len() > DETACH_BYTES {
            py.detach(|| self.pattern.search(text.as_bytes()))
        } else {
            self.pattern.search(text.as_bytes())
        }
    }
}

/// Why a translated regex does not build (too large for the engine's limits), or None.
#[pyfunction]
fn regex_error(source: &str) -> Option<String> {
    compile_regex(source).err().map(|e| e.to_string())
}

/// Python's repr of a float, as the decider computes it (for tests).
#[pyfunction]
fn float_repr(value: f64) -> String {
    value::py_float_repr(value)
}

#[pymodule]
fn dqgate_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Decider>()?;
    m.add_class::<Regex>()?;
    m.add_function(wrap_pyfunction!(regex_error, m)?)?;
    m.add_function(wrap_pyfunction!(float_repr, m)?)?;
    Ok(())
}
