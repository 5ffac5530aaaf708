//! What a plain scalar means, by the YAML 1.2 core schema (what serde_yaml
//! used to apply): `~` is null, `true` a boolean, `0x10` an integer, `1e3`
//! a float. A quoted scalar is always a string.

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    /// Written as an integer, beyond what i64 holds.
    BigInt,
    /// A float, possibly infinite (`.inf`, or `1e309` beyond f64).
    Float(f64),
    Str,
}

pub(crate) fn resolve(text: &str, plain: bool) -> Resolved {
    if !plain {
        return Resolved::Str;
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        _ => {}
    }
    if let Some(int) = integer(text) {
        return int;
    }
    float(text).map_or(Resolved::Str, Resolved::Float)
}

fn integer(text: &str) -> Option<Resolved> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(hex) = body.strip_prefix("0x") {
        (16, hex)
    } else if let Some(oct) = body.strip_prefix("0o") {
        (8, oct)
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let parsed = i64::from_str_radix(digits, radix)
        .ok()
        .and_then(|n| if negative { n.checked_neg() } else { Some(n) });
    Some(parsed.map_or(Resolved::BigInt, Resolved::Int))
}

fn float(text: &str) -> Option<f64> {
    let unsigned = text.trim_start_matches(['-', '+']);
    let negative = text.starts_with('-');
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") {
        return Some(if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if matches!(text, ".nan" | ".NaN" | ".NAN") {
        return Some(f64::NAN);
    }
    // Rust would also take `inf` and `NaN`, which YAML reads as strings.
    let shaped = unsigned.len() + 1 >= text.len()
        && unsigned.bytes().any(|b| b.is_ascii_digit())
        && unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if shaped { text.parse().ok() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_schema() {
        assert_eq!(resolve("~", true), Resolved::Null);
        assert_eq!(resolve("", true), Resolved::Null);
        assert_eq!(resolve("~", false), Resolved::Str);
        assert_eq!(resolve("True", true), Resolved::Bool(true));
        assert_eq!(resolve("yes", true), Resolved::Str);
        assert_eq!(resolve("0x10", true), Resolved::Int(16));
        assert_eq!(resolve("-60", true), Resolved::Int(-60));
        assert_eq!(resolve("99999999999999999999", true), Resolved::BigInt);
        assert_eq!(resolve("2.5", true), Resolved::Float(2.5));
        assert_eq!(resolve("1e309", true), Resolved::Float(f64::INFINITY));
        assert_eq!(resolve("-.inf", true), Resolved::Float(f64::NEG_INFINITY));
        assert!(matches!(resolve(".nan", true), Resolved::Float(f) if f.is_nan()));
        assert_eq!(resolve("inf", true), Resolved::Str);
        assert_eq!(resolve("1.2.3", true), Resolved::Str);
        assert_eq!(resolve("80", false), Resolved::Str);
    }
}
