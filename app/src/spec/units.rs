//! Quantities a person writes with their unit: durations (`90s`, `15m`, `2h`, `1h30m`, `3d`),
//! memory sizes (`8 GiB`, `512 MiB`) and token amounts (`2.5`, in whole tokens of the mint's
//! decimals). Each parser returns a message without the field's name; the caller names it.
use std::fmt;

/// Seconds of a duration written with units: one or more `<integer><unit>` parts, units `s`,
/// `m`, `h`, `d` (a bare number has no unit and is refused).
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let s: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if s.is_empty() {
        return Err("empty duration; write e.g. \"90s\", \"15m\", \"2h\" or \"1h30m\"".into());
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            other => {
                return Err(format!(
                    "`{text}`: unknown unit `{other}`; use s, m, h or d (e.g. \"1h30m\")"
                ))
            }
        };
        if digits.is_empty() {
            return Err(format!("`{text}`: a unit without a number before it"));
        }
        let n: u64 = digits
            .parse()
            .map_err(|_| format!("`{text}`: {digits} is too large"))?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("`{text}` is too long"))?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(format!(
            "`{text}` needs a unit: \"{digits}s\", \"{digits}m\", \"{digits}h\" or \"{digits}d\""
        ));
    }
    Ok(total)
}

/// A duration in its largest exact units (`3600` → `1h`, `5400` → `1h30m`).
pub fn format_duration(mut secs: u64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, name) in [(86_400, 'd'), (3_600, 'h'), (60, 'm'), (1, 's')] {
        if secs >= unit {
            out.push_str(&format!("{}{name}", secs / unit));
            secs %= unit;
        }
    }
    out
}

/// MiB of a memory size written with a binary unit: `MiB`, `GiB` or `TiB` (`8 GiB`, `1.5GiB`,
/// `512 MiB`); the result must be a whole number of MiB.
pub fn parse_mib(text: &str) -> Result<u32, String> {
    let s = text.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("`{text}` needs a unit: e.g. \"8 GiB\" or \"512 MiB\""))?;
    let (number, unit) = (s[..split].trim(), s[split..].trim());
    let per: u64 = match unit {
        "MiB" => 1,
        "GiB" => 1 << 10,
        "TiB" => 1 << 20,
        "MB" | "GB" | "TB" | "M" | "G" | "T" => {
            return Err(format!(
                "`{text}`: write binary units (MiB, GiB, TiB), as GPUs report memory"
            ))
        }
        other => return Err(format!("`{text}`: unknown unit `{other}`; use MiB or GiB")),
    };
    let mib = parse_decimal(number, 10)
        .map_err(|e| format!("`{text}`: {e}"))
        .and_then(|(units, scale)| {
            let total = u128::from(units) * u128::from(per);
            let div = 10u128.pow(scale);
            if total % div != 0 {
                return Err(format!("`{text}` is not a whole number of MiB"));
            }
            u32::try_from(total / div).map_err(|_| format!("`{text}` is too large"))
        })?;
    Ok(mib)
}

/// `mib` in GiB when whole, else in MiB.
pub fn format_mib(mib: u32) -> String {
    if mib != 0 && mib.is_multiple_of(1024) {
        format!("{} GiB", mib / 1024)
    } else {
        format!("{mib} MiB")
    }
}

/// A decimal number's digits as an integer and the count of digits after the point
/// (`"2.50"` → `(250, 2)`), at most `max_scale` of them.
fn parse_decimal(text: &str, max_scale: u32) -> Result<(u64, u32), String> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
    {
        return Err(format!("`{text}` is not a decimal number"));
    }
    let fraction = fraction.trim_end_matches('0');
    let scale = fraction.len() as u32;
    if scale > max_scale {
        return Err(format!(
            "`{text}` has {scale} digits after the point; at most {max_scale}"
        ));
    }
    let digits = format!("{whole}{fraction}");
    let value = if digits.is_empty() {
        0
    } else {
        digits
            .parse::<u64>()
            .map_err(|_| format!("`{text}` is too large"))?
    };
    Ok((value, scale))
}

/// Base units of a token amount written in whole tokens (`"2.5"` with 6 decimals →
/// 2,500,000); more fractional digits than the mint has are refused, never rounded.
pub fn parse_tokens(text: &str, decimals: u8) -> Result<u64, String> {
    let (value, scale) = parse_decimal(text.trim(), u32::from(decimals)).map_err(|e| {
        if e.contains("digits after the point") {
            format!("{e} (the mint has {decimals} decimals)")
        } else {
            e
        }
    })?;
    let factor = 10u64
        .checked_pow(u32::from(decimals) - scale)
        .ok_or_else(|| format!("`{text}` is too large"))?;
    value
        .checked_mul(factor)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// How the CLI prints token amounts: in tokens of the mint's decimals, or in base units when
/// asked (`--base-units`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amounts {
    pub decimals: u8,
    pub base_units: bool,
}

impl Amounts {
    /// Tokens with the mint's decimals (trailing zeros dropped), or base units.
    pub fn show(&self, base: u64) -> Tokens {
        Tokens(base, *self)
    }
}

/// An amount ready to print (see [`Amounts`]).
pub struct Tokens(u64, Amounts);

impl fmt::Display for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Tokens(base, a) = self;
        if a.base_units {
            return write!(f, "{base}");
        }
        let text = format_tokens(*base, a.decimals);
        f.pad(&text)
    }
}

/// `base` base units in whole tokens: `2_500_000` with 6 decimals → `2.5`.
pub fn format_tokens(base: u64, decimals: u8) -> String {
    let factor = 10u128.pow(u32::from(decimals));
    let whole = u128::from(base) / factor;
    let fraction = u128::from(base) % factor;
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:0width$}", width = usize::from(decimals));
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_need_units_and_round_trip() {
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("1h30m"), Ok(5_400));
        assert_eq!(parse_duration("2 d"), Ok(172_800));
        assert!(parse_duration("3600").unwrap_err().contains("needs a unit"));
        assert!(parse_duration("1 fortnight")
            .unwrap_err()
            .contains("unknown unit `f`"));
        assert!(parse_duration("h").is_err());
        for secs in [1, 59, 60, 3_600, 5_400, 86_461] {
            assert_eq!(parse_duration(&format_duration(secs)), Ok(secs));
        }
    }

    #[test]
    fn memory_sizes_take_binary_units() {
        assert_eq!(parse_mib("8 GiB"), Ok(8_192));
        assert_eq!(parse_mib("1.5GiB"), Ok(1_536));
        assert_eq!(parse_mib("512 MiB"), Ok(512));
        assert!(parse_mib("8").unwrap_err().contains("needs a unit"));
        assert!(parse_mib("8 GB").unwrap_err().contains("binary units"));
        assert!(parse_mib("0.3 MiB").unwrap_err().contains("whole number"));
        assert_eq!(parse_mib(&format_mib(24_576)), Ok(24_576));
    }

    #[test]
    fn token_amounts_are_exact() {
        assert_eq!(parse_tokens("2.5", 6), Ok(2_500_000));
        assert_eq!(parse_tokens("0.000001", 6), Ok(1));
        assert_eq!(parse_tokens("7", 0), Ok(7));
        assert!(parse_tokens("0.0000001", 6)
            .unwrap_err()
            .contains("at most 6"));
        assert!(parse_tokens("1e3", 6).is_err());
        assert!(parse_tokens("-1", 6).is_err());
        assert!(parse_tokens("99999999999999999999", 6).is_err());
        for base in [0, 1, 2_500_000, 1_000_000, 123_456_789] {
            assert_eq!(parse_tokens(&format_tokens(base, 6), 6), Ok(base));
        }
        let a = Amounts {
            decimals: 6,
            base_units: false,
        };
        assert_eq!(a.show(1_500_000).to_string(), "1.5");
        let b = Amounts {
            base_units: true,
            ..a
        };
        assert_eq!(b.show(1_500_000).to_string(), "1500000");
    }
}
