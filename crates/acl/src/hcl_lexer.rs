//! Tokens of HCL v1, the configuration language Consul parses rules with: identifiers,
//! strings (with escapes and `${...}` kept as text), numbers, heredocs, punctuation;
//! comments (`#`, `//`, `/* */`) and whitespace are skipped.
//!
//! The lexer runs in one pass over the text, so its time is linear in the input.

use std::fmt;

/// Where a token starts, for error messages (`At 3:7: ...`), 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Position {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One token.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Token {
    /// A bare word: `key_prefix`, `policy`, `true`.
    Ident(String),
    /// A double-quoted string, unescaped, or a heredoc's text.
    String(String),
    /// A number, as written.
    Number(String),
    /// `=`.
    Assign,
    /// `,`.
    Comma,
    /// `{`.
    LeftBrace,
    /// `}`.
    RightBrace,
    /// `[`.
    LeftBracket,
    /// `]`.
    RightBracket,
    /// The end of the text.
    End,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Ident(word) => write!(f, "IDENT {word}"),
            Token::String(_) => f.write_str("STRING"),
            Token::Number(number) => write!(f, "NUMBER {number}"),
            Token::Assign => f.write_str("ASSIGN"),
            Token::Comma => f.write_str("COMMA"),
            Token::LeftBrace => f.write_str("LBRACE"),
            Token::RightBrace => f.write_str("RBRACE"),
            Token::LeftBracket => f.write_str("LBRACK"),
            Token::RightBracket => f.write_str("RBRACK"),
            Token::End => f.write_str("EOF"),
        }
    }
}

/// Splits HCL v1 text into tokens.
pub(crate) struct Lexer<'a> {
    text: &'a str,
    offset: usize,
    line: usize,
    column: usize,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(text: &'a str) -> Lexer<'a> {
        Lexer {
            text,
            offset: 0,
            line: 1,
            column: 1,
        }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.offset..].chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        let mut chars = self.text[self.offset..].chars();
        chars.next();
        chars.next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.offset += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn position(&self) -> Position {
        Position {
            line: self.line,
            column: self.column,
        }
    }

    /// The next token and where it starts.
    pub(crate) fn next_token(&mut self) -> Result<(Token, Position), String> {
        self.skip_blanks_and_comments()?;
        let start = self.position();
        let Some(c) = self.peek() else {
            return Ok((Token::End, start));
        };
        let token = match c {
            '=' => self.single(Token::Assign),
            ',' => self.single(Token::Comma),
            '{' => self.single(Token::LeftBrace),
            '}' => self.single(Token::RightBrace),
            '[' => self.single(Token::LeftBracket),
            ']' => self.single(Token::RightBracket),
            '"' => Token::String(self.string(start)?),
            '<' if self.peek_second() == Some('<') => Token::String(self.heredoc(start)?),
            c if c.is_ascii_digit()
                || (c == '-' && self.peek_second().is_some_and(|d| d.is_ascii_digit())) =>
            {
                Token::Number(self.number())
            }
            c if c.is_alphabetic() || c == '_' => Token::Ident(self.ident()),
            other => return Err(format!("At {start}: illegal char {other:?}")),
        };
        Ok((token, start))
    }

    fn single(&mut self, token: Token) -> Token {
        self.bump();
        token
    }

    fn skip_blanks_and_comments(&mut self) -> Result<(), String> {
        loop {
            match (self.peek(), self.peek_second()) {
                (Some(c), _) if c.is_whitespace() => {
                    self.bump();
                }
                (Some('#'), _) | (Some('/'), Some('/')) => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                }
                (Some('/'), Some('*')) => {
                    let start = self.position();
                    self.bump();
                    self.bump();
                    loop {
                        match self.bump() {
                            Some('*') if self.peek() == Some('/') => {
                                self.bump();
                                break;
                            }
                            Some(_) => {}
                            None => return Err(format!("At {start}: comment not terminated")),
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn ident(&mut self) -> String {
        let start = self.offset;
        while self
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
        {
            self.bump();
        }
        self.text[start..self.offset].to_owned()
    }

    fn number(&mut self) -> String {
        let start = self.offset;
        if self.peek() == Some('-') {
            self.bump();
        }
        loop {
            let written = &self.text[start..self.offset];
            match self.peek() {
                Some(c) if c.is_ascii_alphanumeric() || c == '.' => {}
                // The sign of an exponent: `1e+3`, `2.5E-1`.
                Some('+' | '-') if written.ends_with(['e', 'E']) => {}
                _ => return written.to_owned(),
            }
            self.bump();
        }
    }

    /// A double-quoted string. `${...}` is kept as written (Consul does not evaluate
    /// it), and quotes inside it do not end the string, as in HCL v1.
    fn string(&mut self, start: Position) -> Result<String, String> {
        self.bump();
        let mut value = String::new();
        let mut interpolation_depth = 0usize;
        loop {
            let Some(c) = self.bump() else {
                return Err(format!("At {start}: literal not terminated"));
            };
            match c {
                '\n' => return Err(format!("At {start}: literal not terminated")),
                '"' if interpolation_depth == 0 => return Ok(value),
                '$' if self.peek() == Some('{') => {
                    self.bump();
                    interpolation_depth += 1;
                    value.push_str("${");
                }
                '{' if interpolation_depth > 0 => {
                    interpolation_depth += 1;
                    value.push('{');
                }
                '}' if interpolation_depth > 0 => {
                    interpolation_depth -= 1;
                    value.push('}');
                }
                '\\' if interpolation_depth == 0 => value.push(self.escape(start)?),
                c => value.push(c),
            }
        }
    }

    fn escape(&mut self, start: Position) -> Result<char, String> {
        let invalid = || format!("At {start}: invalid escape sequence");
        let c = self.bump().ok_or_else(invalid)?;
        Ok(match c {
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'a' => '\u{7}',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'v' => '\u{b}',
            '\\' => '\\',
            '"' => '"',
            'x' => self.hex_escape(2).ok_or_else(invalid)?,
            'u' => self.hex_escape(4).ok_or_else(invalid)?,
            'U' => self.hex_escape(8).ok_or_else(invalid)?,
            _ => return Err(invalid()),
        })
    }

    fn hex_escape(&mut self, digits: usize) -> Option<char> {
        let mut value = 0u32;
        for _ in 0..digits {
            let digit = self.peek()?.to_digit(16)?;
            self.bump();
            value = value * 16 + digit;
        }
        char::from_u32(value)
    }

    /// `<<EOF` ... `EOF` (or `<<-EOF`, whose closing marker may be indented): the
    /// lines in between, each with its newline.
    fn heredoc(&mut self, start: Position) -> Result<String, String> {
        self.bump();
        self.bump();
        let indented = self.peek() == Some('-');
        if indented {
            self.bump();
        }
        let marker = self.ident();
        if marker.is_empty() || self.bump() != Some('\n') {
            return Err(format!("At {start}: invalid heredoc marker"));
        }
        let mut value = String::new();
        loop {
            let line_start = self.offset;
            while self.peek().is_some_and(|c| c != '\n') {
                self.bump();
            }
            let line = &self.text[line_start..self.offset];
            let candidate = if indented { line.trim_start() } else { line };
            if candidate == marker {
                return Ok(value);
            }
            if self.bump().is_none() {
                return Err(format!("At {start}: heredoc not terminated"));
            }
            value.push_str(line);
            value.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Result<Vec<Token>, String> {
        let mut lexer = Lexer::new(text);
        let mut tokens = Vec::new();
        loop {
            let (token, _) = lexer.next_token()?;
            if token == Token::End {
                return Ok(tokens);
            }
            tokens.push(token);
        }
    }

    #[test]
    fn rule_tokens() {
        assert_eq!(
            tokens("key_prefix \"a\\\"b\" { policy = \"read\", } # c\n// d\n/* e */ [1]").unwrap(),
            vec![
                Token::Ident("key_prefix".into()),
                Token::String("a\"b".into()),
                Token::LeftBrace,
                Token::Ident("policy".into()),
                Token::Assign,
                Token::String("read".into()),
                Token::Comma,
                Token::RightBrace,
                Token::LeftBracket,
                Token::Number("1".into()),
                Token::RightBracket,
            ]
        );
    }

    #[test]
    fn strings_keep_interpolations_and_decode_escapes() {
        assert_eq!(
            tokens(r#""${foo("x")}-\u00e9\t""#).unwrap(),
            vec![Token::String("${foo(\"x\")}-é\t".into())]
        );
        assert!(tokens("\"open").is_err());
        assert!(tokens("\"a\nb\"").is_err());
        assert!(tokens("\"\\q\"").is_err());
    }

    #[test]
    fn heredocs() {
        assert_eq!(
            tokens("code = <<EOF\nimport \"strings\"\nmain = rule { true }\nEOF\n").unwrap(),
            vec![
                Token::Ident("code".into()),
                Token::Assign,
                Token::String("import \"strings\"\nmain = rule { true }\n".into()),
            ]
        );
        assert_eq!(
            tokens("x = <<-EOT\n  a\n  EOT").unwrap()[2],
            Token::String("  a\n".into())
        );
        assert!(tokens("x = <<EOF\nnever closed").is_err());
    }

    #[test]
    fn positions_and_illegal_characters() {
        let err = tokens("acl = \"read\"\n  + 1").unwrap_err();
        assert_eq!(err, "At 2:3: illegal char '+'");
        assert!(tokens("/* open").is_err());
    }
}
