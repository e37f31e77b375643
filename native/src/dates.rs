//! strftime formats in their canonical shape, as `dqgate.suites.dates._canonical` builds it:
//! ASCII digits of fixed width, exact literals, `+HH:MM`/`+HHMM`/`Z` offsets. A value of that
//! shape gets strptime's verdict (a range check); any other value gets None (undecided).

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Tok {
    Lit(u8),
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Offset,
}

/// The canonical shape of a strftime format, as dqgate.suites.dates._canonical builds it.
pub(crate) fn strftime_tokens(fmt: &str) -> Result<Vec<Tok>, String> {
    let bytes = fmt.as_bytes();
    let mut toks = Vec::new();
    let mut previous_numeric = false;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'%' && i + 1 < bytes.len() {
            let directive = bytes[i + 1];
            i += 2;
            let tok = match directive {
                b'%' => {
                    toks.push(Tok::Lit(b'%'));
                    previous_numeric = false;
                    continue;
                }
                b'Y' => Tok::Year,
                b'm' => Tok::Month,
                b'd' => Tok::Day,
                b'H' => Tok::Hour,
                b'M' => Tok::Minute,
                b'S' => Tok::Second,
                b'z' => Tok::Offset,
                _ => {
                    return Err(format!(
                        "strftime directive %{} is not supported",
                        directive as char
                    ))
                }
            };
            if toks.contains(&tok) {
                return Err("a strftime directive appears twice".into());
            }
            let numeric = tok != Tok::Offset;
            if numeric && previous_numeric {
                return Err("two numeric strftime fields touch".into());
            }
            toks.push(tok);
            previous_numeric = numeric;
            continue;
        }
        if !c.is_ascii() || c.is_ascii_digit() || c == b'%' {
            return Err("strftime literal is not supported".into());
        }
        toks.push(Tok::Lit(c));
        previous_numeric = false;
        i += 1;
    }
    for needed in [Tok::Year, Tok::Month, Tok::Day] {
        if !toks.contains(&needed) {
            return Err("strftime format needs %Y, %m and %d".into());
        }
    }
    Ok(toks)
}

fn two_digits(v: &[u8], i: usize) -> Option<[u8; 2]> {
    let a = *v.get(i)?;
    let b = *v.get(i + 1)?;
    if a.is_ascii_digit() && b.is_ascii_digit() {
        Some([a, b])
    } else {
        None
    }
}

fn last_day(month: [u8; 2]) -> [u8; 2] {
    match &month {
        b"02" => *b"29",
        b"04" | b"06" | b"09" | b"11" => *b"30",
        _ => *b"31",
    }
}

/// strptime's verdict for a value of the format's canonical shape; None for any other value.
pub(crate) fn canonical(toks: &[Tok], v: &[u8]) -> Option<bool> {
    let mut i = 0;
    let mut year = [0u8; 4];
    let mut month = [0u8; 2];
    let mut day = [0u8; 2];
    let mut limits_ok = true;
    for tok in toks {
        match *tok {
            Tok::Lit(c) => {
                if *v.get(i)? != c {
                    return None;
                }
                i += 1;
            }
            Tok::Year => {
                let hi = two_digits(v, i)?;
                let lo = two_digits(v, i + 2)?;
                year = [hi[0], hi[1], lo[0], lo[1]];
                i += 4;
            }
            Tok::Month => {
                month = two_digits(v, i)?;
                i += 2;
            }
            Tok::Day => {
                day = two_digits(v, i)?;
                i += 2;
            }
            Tok::Hour | Tok::Minute | Tok::Second => {
                let field = two_digits(v, i)?;
                let limit = if *tok == Tok::Hour { b"23" } else { b"59" };
                limits_ok &= field <= *limit;
                i += 2;
            }
            Tok::Offset => match *v.get(i)? {
                b'Z' => i += 1,
                b'+' | b'-' => {
                    let hours = two_digits(v, i + 1)?;
                    i += 3;
                    if v.get(i) == Some(&b':') {
                        i += 1;
                    }
                    let minutes = two_digits(v, i)?;
                    i += 2;
                    limits_ok &= hours <= *b"23" && minutes <= *b"59";
                }
                _ => return None,
            },
        }
    }
    if i != v.len() {
        return None;
    }
    if &year == b"0000" || month < *b"01" || month > *b"12" || day < *b"01" || day > last_day(month)
    {
        return Some(false);
    }
    if &month == b"02" && &day == b"29" {
        let y: u32 = year.iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0'));
        if y % 4 != 0 || (y % 100 == 0 && y % 400 != 0) {
            return Some(false);
        }
    }
    Some(limits_ok)
}

fn digits_at(v: &[u8], i: usize, n: usize) -> Option<u32> {
    let field = v.get(i..i + n)?;
    let mut value = 0u32;
    for &d in field {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(d - b'0');
    }
    Some(value)
}

fn days_in(year: u32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// True when dateutil certainly parses `v`: an ISO 8601 date (`YYYY-MM-DD`), optionally
/// with `T` or a space and `HH:MM[:SS[.ffffff]]`, optionally `Z` or `+HH:MM`, every field in
/// range. Anything else is not decided here (dateutil is lenient in ways a shape cannot say).
pub(crate) fn dateutil_certain(v: &[u8]) -> bool {
    let Some(year) = digits_at(v, 0, 4) else {
        return false;
    };
    if v.get(4) != Some(&b'-') || v.get(7) != Some(&b'-') {
        return false;
    }
    let (Some(month), Some(day)) = (digits_at(v, 5, 2), digits_at(v, 8, 2)) else {
        return false;
    };
    if year == 0 || !(1..=12).contains(&month) || day == 0 || day > days_in(year, month) {
        return false;
    }
    let mut i = 10;
    if i == v.len() {
        return true;
    }
    if !matches!(v[i], b'T' | b' ') {
        return false;
    }
    let (Some(hour), Some(minute)) = (digits_at(v, i + 1, 2), digits_at(v, i + 4, 2)) else {
        return false;
    };
    if v.get(i + 3) != Some(&b':') || hour > 23 || minute > 59 {
        return false;
    }
    i += 6;
    if v.get(i) == Some(&b':') {
        match digits_at(v, i + 1, 2) {
            Some(second) if second <= 59 => i += 3,
            _ => return false,
        }
        if v.get(i) == Some(&b'.') {
            let digits = v[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if !(1..=6).contains(&digits) {
                return false;
            }
            i += 1 + digits;
        }
    }
    match v.get(i) {
        None => true,
        Some(b'Z') => i + 1 == v.len(),
        Some(b'+' | b'-') => {
            let (Some(hours), Some(minutes)) = (digits_at(v, i + 1, 2), digits_at(v, i + 4, 2))
            else {
                return false;
            };
            v.get(i + 3) == Some(&b':') && hours <= 23 && minutes <= 59 && i + 6 == v.len()
        }
        _ => false,
    }
}
