//! Go's double-quoted string syntax (`%q`, and strings inside `%#v`), which Consul's
//! rule errors and denial texts embed: `on "web"`, `Invalid acl policy: "nope"`.

use std::fmt::Write;

/// `name` in Go's `strconv.Quote` form: in double quotes, with `"` and `\` escaped and
/// control characters written as escapes; other characters as they are.
pub(crate) fn quote(name: &str) -> String {
    let mut quoted = String::with_capacity(name.len() + 2);
    quoted.push('"');
    for c in name.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\u{7}' => quoted.push_str("\\a"),
            '\u{8}' => quoted.push_str("\\b"),
            '\u{c}' => quoted.push_str("\\f"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            '\u{b}' => quoted.push_str("\\v"),
            c if (c as u32) < 0x80 && c.is_control() => {
                let _ = write!(quoted, "\\x{:02x}", c as u32);
            }
            c if c.is_control() && (c as u32) <= 0xffff => {
                let _ = write!(quoted, "\\u{:04x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(quoted, "\\U{:08x}", c as u32);
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_like_go() {
        assert_eq!(quote("web"), "\"web\"");
        assert_eq!(quote(""), "\"\"");
        assert_eq!(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quote("a\nb\u{1}"), "\"a\\nb\\x01\"");
        assert_eq!(quote("é\u{85}"), "\"é\\u0085\"");
    }
}
