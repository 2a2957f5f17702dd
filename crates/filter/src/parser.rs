//! Parses tokens into an expression tree.

use regex::Regex;

use crate::lexer::{Token, tokenize};

/// Why an expression could not be parsed. The text follows Consul's prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Failed to create boolean expression evaluator: {0}")]
pub struct FilterError(String);

impl FilterError {
    pub(crate) fn new(message: impl Into<String>) -> FilterError {
        FilterError(message.into())
    }
}

/// A parsed filter, ready to be evaluated against many items.
#[derive(Debug, Clone)]
pub struct Filter {
    expr: Expr,
}

/// A boolean expression over one item.
#[derive(Debug, Clone)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Match(Matcher),
}

/// One comparison: a selector, an operator, and a value.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub(crate) selector: Vec<String>,
    pub(crate) op: Op,
    pub(crate) value: String,
}

/// The comparison operators of go-bexpr.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Equal,
    NotEqual,
    IsEmpty,
    IsNotEmpty,
    In,
    NotIn,
    Contains,
    NotContains,
    Matches(Regex),
    NotMatches(Regex),
}

impl Filter {
    /// Parses a filter expression.
    pub fn parse(input: &str) -> Result<Filter, FilterError> {
        let tokens = tokenize(input)?;
        let mut parser = Parser { tokens, at: 0 };
        let expr = parser.or()?;
        if parser.at != parser.tokens.len() {
            return Err(FilterError::new(format!(
                "unexpected {:?} at token {}",
                parser.tokens[parser.at], parser.at
            )));
        }
        Ok(Filter { expr })
    }

    /// Whether `item` satisfies the filter.
    pub fn matches(&self, item: &serde_json::Value) -> bool {
        self.expr.eval(item)
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn peek_word(&self, offset: usize) -> Option<&str> {
        match self.tokens.get(self.at + offset) {
            Some(Token::Word(word)) => Some(word.as_str()),
            _ => None,
        }
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if self.peek_word(0) == Some(word) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.eat_word("or") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        while self.eat_word("and") {
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        if self.peek_word(0) == Some("not") && self.peek_word(1) != Some("in") {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Token::LParen) {
            self.at += 1;
            let inner = self.or()?;
            if self.next() != Some(Token::RParen) {
                return Err(FilterError::new("missing closing parenthesis"));
            }
            return Ok(inner);
        }
        self.matcher().map(Expr::Match)
    }

    /// `value [not] in selector`, or `selector OP [value]`.
    fn matcher(&mut self) -> Result<Matcher, FilterError> {
        let value_first = matches!(
            (self.peek(), self.peek_word(1), self.peek_word(2)),
            (
                Some(Token::Quoted(_) | Token::Number(_) | Token::Word(_)),
                Some("in"),
                _
            ) | (
                Some(Token::Quoted(_) | Token::Number(_) | Token::Word(_)),
                Some("not"),
                Some("in")
            )
        );
        if value_first {
            let value = self.value()?;
            let op = if self.eat_word("not") {
                Op::NotIn
            } else {
                Op::In
            };
            self.eat_word("in");
            let selector = self.selector()?;
            return Ok(Matcher {
                selector,
                op,
                value,
            });
        }
        let selector = self.selector()?;
        let (op, value) = match self.next() {
            Some(Token::Eq) => (Op::Equal, self.value()?),
            Some(Token::NotEq) => (Op::NotEqual, self.value()?),
            Some(Token::Word(word)) => match word.as_str() {
                "is" => {
                    let negated = self.eat_word("not");
                    if !self.eat_word("empty") {
                        return Err(FilterError::new("expected 'empty' after 'is'"));
                    }
                    let op = if negated { Op::IsNotEmpty } else { Op::IsEmpty };
                    (op, String::new())
                }
                "contains" => (Op::Contains, self.value()?),
                "matches" => {
                    let pattern = self.value()?;
                    (Op::Matches(regex(&pattern)?), pattern)
                }
                "not" => match self.next() {
                    Some(Token::Word(word)) if word == "contains" => {
                        (Op::NotContains, self.value()?)
                    }
                    Some(Token::Word(word)) if word == "matches" => {
                        let pattern = self.value()?;
                        (Op::NotMatches(regex(&pattern)?), pattern)
                    }
                    _ => {
                        return Err(FilterError::new(
                            "expected 'contains' or 'matches' after 'not'",
                        ));
                    }
                },
                other => return Err(FilterError::new(format!("unknown operator {other:?}"))),
            },
            other => {
                return Err(FilterError::new(format!(
                    "expected an operator, found {other:?}"
                )));
            }
        };
        Ok(Matcher {
            selector,
            op,
            value,
        })
    }

    fn selector(&mut self) -> Result<Vec<String>, FilterError> {
        let mut path = Vec::new();
        match self.next() {
            Some(Token::Word(word)) => path.push(word),
            Some(Token::Quoted(pointer)) if pointer.starts_with('/') => {
                return Ok(pointer[1..]
                    .split('/')
                    .map(|part| part.replace("~1", "/").replace("~0", "~"))
                    .collect());
            }
            other => {
                return Err(FilterError::new(format!(
                    "expected a selector, found {other:?}"
                )));
            }
        }
        loop {
            match self.peek() {
                Some(Token::Dot) => {
                    self.at += 1;
                    match self.next() {
                        Some(Token::Word(word)) => path.push(word),
                        other => {
                            return Err(FilterError::new(format!(
                                "expected a field name after '.', found {other:?}"
                            )));
                        }
                    }
                }
                Some(Token::LBracket) => {
                    self.at += 1;
                    match (self.next(), self.next()) {
                        (Some(Token::Quoted(key)), Some(Token::RBracket)) => path.push(key),
                        _ => return Err(FilterError::new("expected [\"key\"] in selector")),
                    }
                }
                _ => return Ok(path),
            }
        }
    }

    fn value(&mut self) -> Result<String, FilterError> {
        match self.next() {
            Some(Token::Quoted(text) | Token::Number(text) | Token::Word(text)) => Ok(text),
            other => Err(FilterError::new(format!(
                "expected a value, found {other:?}"
            ))),
        }
    }
}

fn regex(pattern: &str) -> Result<Regex, FilterError> {
    Regex::new(pattern)
        .map_err(|error| FilterError::new(format!("invalid regular expression: {error}")))
}
