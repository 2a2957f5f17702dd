//! Numbers and times written as Go writes them, so that the output reads like Consul's:
//! Prometheus values as `strconv.FormatFloat(v, 'g', -1, 64)` (`1.234567e+06`, `0.5`,
//! `NaN`), JSON numbers as `encoding/json` writes `float64` and `float32` (`4.704344e+06`
//! never, `4704344` always; exponents only below 1e-6 or from 1e21), and interval
//! timestamps as `time.Time.String()` in UTC (`2024-05-01 10:00:00 +0000 UTC`).

/// The shortest decimal digits that read back as `value` (at `f32` precision when
/// `single`), and the decimal exponent of the first digit: `1234.5` is `("12345", 3)`.
fn shortest(value: f64, single: bool) -> (String, i32) {
    // Rust's `{:e}` prints the shortest round-trip digits, like Go's `-1` precision.
    let text = if single {
        format!("{:e}", value.abs() as f32)
    } else {
        format!("{:e}", value.abs())
    };
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (digits, exponent.parse().unwrap_or(0))
}

/// Go's `%e` layout of `digits` (first digit's exponent `exp`): `1.5e+06`, `1e-07`.
fn exponent_form(digits: &str, exp: i32) -> String {
    let mut out = String::with_capacity(digits.len() + 6);
    out.push_str(&digits[..1]);
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    let magnitude = exp.unsigned_abs();
    if magnitude < 10 {
        out.push('0');
    }
    out.push_str(&magnitude.to_string());
    out
}

/// Go's `%f` layout of `digits` with the decimal point after `exp + 1` digits.
fn plain_form(digits: &str, exp: i32) -> String {
    let point = exp + 1;
    let count = digits.len() as i32;
    if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point >= count {
        format!("{digits}{}", "0".repeat((point - count) as usize))
    } else {
        let (whole, fraction) = digits.split_at(point as usize);
        format!("{whole}.{fraction}")
    }
}

/// A Prometheus sample value as client_golang writes it (`'g'`, shortest).
pub fn prometheus_value(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let sign = if value.is_sign_negative() { "-" } else { "" };
    if value == 0.0 {
        return format!("{sign}0");
    }
    let (digits, exp) = shortest(value, false);
    // With the shortest precision Go switches to %e from exponent 6 on (and below -4).
    let body = if !(-4..6).contains(&exp) {
        exponent_form(&digits, exp)
    } else {
        plain_form(&digits, exp)
    };
    format!("{sign}{body}")
}

/// A JSON number as `encoding/json` writes a `float64` (`single`: a `float32`):
/// plain decimals, an exponent only below 1e-6 or from 1e21 (`1e-7`, `1e+21`).
/// Not finite values cannot occur in Consul's answers; they are written as 0.
pub fn json_number(value: f64, single: bool) -> String {
    if !value.is_finite() || value == 0.0 {
        return "0".to_string();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    let (digits, exp) = shortest(value, single);
    let magnitude = if single {
        f64::from(value.abs() as f32)
    } else {
        value.abs()
    };
    let body = if !(1e-6..1e21).contains(&magnitude) {
        // encoding/json cleans `e-07` up to `e-7`.
        let form = exponent_form(&digits, exp);
        match form.find("e-0") {
            Some(at) => format!("{}e-{}", &form[..at], &form[at + 3..]),
            None => form,
        }
    } else {
        plain_form(&digits, exp)
    };
    format!("{sign}{body}")
}

/// `time.Time.String()` of a whole second in UTC: `2024-05-01 10:00:00 +0000 UTC`.
pub fn utc_timestamp(unix_seconds: u64) -> String {
    let days = (unix_seconds / 86_400) as i64;
    let seconds = unix_seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} +0000 UTC",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_values_read_like_go() {
        let cases = [
            (0.0, "0"),
            (1.0, "1"),
            (290.0, "290"),
            (0.5, "0.5"),
            (123_456.0, "123456"),
            (1_000_000.0, "1e+06"),
            (1_234_567.0, "1.234567e+06"),
            (24_576_000.0, "2.4576e+07"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (f64::from(0.123_f32), "0.12300000339746475"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ];
        for (value, expected) in cases {
            assert_eq!(prometheus_value(value), expected, "{value}");
        }
    }

    #[test]
    fn json_numbers_read_like_encoding_json() {
        assert_eq!(json_number(1.0, false), "1");
        assert_eq!(json_number(0.1, false), "0.1");
        assert_eq!(json_number(4_704_344.0, true), "4704344");
        assert_eq!(json_number(123_456_789.0, true), "123456790");
        assert_eq!(json_number(0.018, false), "0.018");
        assert_eq!(json_number(1e-7, false), "1e-7");
        assert_eq!(json_number(1e21, false), "1e+21");
        assert_eq!(json_number(1e20, false), "100000000000000000000");
        assert_eq!(json_number(-0.25, false), "-0.25");
        assert_eq!(
            json_number(f64::from(0.18_f32), false),
            "0.18000000715255737"
        );
    }

    #[test]
    fn timestamps_read_like_go_time_string() {
        assert_eq!(utc_timestamp(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(
            utc_timestamp(1_502_160_910),
            "2017-08-08 02:55:10 +0000 UTC"
        );
        assert_eq!(
            utc_timestamp(1_714_557_600),
            "2024-05-01 10:00:00 +0000 UTC"
        );
        assert_eq!(utc_timestamp(951_782_400), "2000-02-29 00:00:00 +0000 UTC");
    }
}
