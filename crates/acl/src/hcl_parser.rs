//! A parser for HCL v1, the language Consul reads rules in (`hcl.Decode`), producing the
//! neutral [`Node`] tree. Only the parts of HCL v1 that data needs: objects, blocks with
//! labels (`key "a" { ... }` is `key = { "a" = { ... } }`), lists, strings, numbers,
//! booleans and heredocs; no expressions are evaluated, as in Consul.
//!
//! Written by hand rather than with hcl-rs because hcl-rs parses HCL2, which refuses
//! forms HCL v1 accepts (commas between attributes, several attributes on one line,
//! quoted keys), and because its expression parser backtracks exponentially on some
//! inputs (the fuzzer found 435 bytes that take two seconds). This parser reads each
//! token once and limits nesting, so its time is linear and its stack bounded.

use std::collections::HashMap;

use crate::go_string::quote;
use crate::hcl_lexer::{Lexer, Position, Token};
use crate::syntax_tree::Node;

/// Objects and lists may nest this deep; rules need three or four levels.
const MAX_DEPTH: usize = 64;

/// Parses HCL v1 text into a tree. Errors read `At line:column: message`.
pub(crate) fn parse(text: &str) -> Result<Node, String> {
    let mut parser = Parser::new(text)?;
    let entries = parser.object_list(0, false)?;
    Ok(Node::Object(entries))
}

/// A recursive-descent parser with one token of lookahead.
struct Parser<'a> {
    lexer: Lexer<'a>,
    token: Token,
    position: Position,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Result<Parser<'a>, String> {
        let mut lexer = Lexer::new(text);
        let (token, position) = lexer.next_token()?;
        Ok(Parser {
            lexer,
            token,
            position,
        })
    }

    /// Moves to the next token, returning the current one.
    fn advance(&mut self) -> Result<Token, String> {
        let (next, position) = self.lexer.next_token()?;
        self.position = position;
        Ok(std::mem::replace(&mut self.token, next))
    }

    fn unexpected(&self, expected: &str) -> String {
        format!(
            "At {}: expected: {expected} got: {}",
            self.position, self.token
        )
    }

    /// The items of an object: up to the end of the text at the top level, or up to
    /// and including the closing `}` inside braces. Items may be separated by commas.
    fn object_list(
        &mut self,
        depth: usize,
        in_braces: bool,
    ) -> Result<Vec<(String, Node)>, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "At {}: nesting deeper than {MAX_DEPTH} levels",
                self.position
            ));
        }
        let mut entries = Vec::new();
        // HCL v1 (as Consul calls it) refuses an argument assigned twice in one object.
        let mut assigned: HashMap<String, Position> = HashMap::new();
        loop {
            match &self.token {
                Token::End if !in_braces => return Ok(entries),
                Token::RightBrace if in_braces => {
                    self.advance()?;
                    return Ok(entries);
                }
                Token::Comma => {
                    self.advance()?;
                }
                Token::Ident(_) | Token::String(_) => {
                    let position = self.position;
                    let (key, value, is_assignment) = self.object_item(depth)?;
                    if is_assignment {
                        if let Some(first) = assigned.get(&key) {
                            return Err(format!(
                                "At {position}: The argument {} at {first} was already set. Each argument can only be defined once",
                                quote(&key)
                            ));
                        }
                        assigned.insert(key.clone(), position);
                    }
                    entries.push((key, value));
                }
                _ => {
                    let closing = if in_braces { " | RBRACE" } else { "" };
                    return Err(self.unexpected(&format!("IDENT | STRING{closing}")));
                }
            }
        }
    }

    /// `key = value`, or `key "label" ... { body }`. Returns the key, its value (the
    /// labels become nested objects) and whether it was an `=` assignment.
    fn object_item(&mut self, depth: usize) -> Result<(String, Node, bool), String> {
        let mut keys = Vec::new();
        loop {
            match &self.token {
                Token::Ident(_) | Token::String(_) => match self.advance()? {
                    Token::Ident(key) | Token::String(key) => keys.push(key),
                    _ => unreachable!("the token was just matched"),
                },
                Token::Assign if keys.len() == 1 => {
                    self.advance()?;
                    let value = self.value(depth + 1)?;
                    return Ok((keys.remove(0), value, true));
                }
                Token::Assign => return Err(self.unexpected("LBRACE")),
                Token::LeftBrace => {
                    self.advance()?;
                    let body = Node::Object(self.object_list(depth + 1, true)?);
                    let first = keys.remove(0);
                    let nested = keys
                        .into_iter()
                        .rev()
                        .fold(body, |inner, label| Node::Object(vec![(label, inner)]));
                    return Ok((first, nested, false));
                }
                _ => return Err(self.unexpected("IDENT | STRING | ASSIGN | LBRACE")),
            }
        }
    }

    /// The value after `=`, or a list element.
    fn value(&mut self, depth: usize) -> Result<Node, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "At {}: nesting deeper than {MAX_DEPTH} levels",
                self.position
            ));
        }
        match &self.token {
            Token::String(_) | Token::Number(_) | Token::Ident(_) => {
                let position = self.position;
                Ok(match self.advance()? {
                    Token::String(text) => Node::String(text),
                    Token::Number(text) => Node::Number(text),
                    Token::Ident(word) if word == "true" => Node::Bool(true),
                    Token::Ident(word) if word == "false" => Node::Bool(false),
                    Token::Ident(word) => {
                        return Err(format!("At {position}: Unknown token: IDENT {word}"));
                    }
                    _ => unreachable!("the token was just matched"),
                })
            }
            Token::LeftBrace => {
                self.advance()?;
                Ok(Node::Object(self.object_list(depth, true)?))
            }
            Token::LeftBracket => {
                self.advance()?;
                self.list(depth)
            }
            _ => Err(self.unexpected("value")),
        }
    }

    /// The elements of a list after `[`, up to and including `]`; commas between them,
    /// one after the last is allowed.
    fn list(&mut self, depth: usize) -> Result<Node, String> {
        let mut items = Vec::new();
        loop {
            if self.token == Token::RightBracket {
                self.advance()?;
                return Ok(Node::List(items));
            }
            items.push(self.value(depth + 1)?);
            match self.token {
                Token::Comma => {
                    self.advance()?;
                }
                Token::RightBracket => {}
                _ => return Err(self.unexpected("COMMA | RBRACK")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(entries: &[(&str, Node)]) -> Node {
        Node::Object(
            entries
                .iter()
                .map(|(key, value)| (key.to_string(), value.clone()))
                .collect(),
        )
    }

    fn string(text: &str) -> Node {
        Node::String(text.to_owned())
    }

    #[test]
    fn blocks_with_labels_are_nested_objects() {
        let policy = object(&[("policy", string("read"))]);
        assert_eq!(
            parse("key \"a\" { policy = \"read\" }").unwrap(),
            object(&[("key", object(&[("a", policy.clone())]))])
        );
        assert_eq!(
            parse("key a b { policy = \"read\" }").unwrap(),
            object(&[("key", object(&[("a", object(&[("b", policy.clone())]))]))])
        );
        assert_eq!(
            parse("key = { \"a\" = { policy = \"read\" } }").unwrap(),
            parse("key \"a\" { policy = \"read\" }").unwrap()
        );
    }

    #[test]
    fn hcl_v1_forms_hcl2_refuses() {
        for text in [
            "service \"app\" { policy = \"write\" intentions = \"read\" }",
            "service \"app\" { policy = \"write\", intentions = \"read\" }",
            "service \"app\" {\n  policy = \"write\",\n  intentions = \"read\",\n}",
        ] {
            assert_eq!(
                parse(text).unwrap(),
                object(&[(
                    "service",
                    object(&[(
                        "app",
                        object(&[("policy", string("write")), ("intentions", string("read"))])
                    )])
                )]),
                "{text}"
            );
        }
        assert_eq!(
            parse("\"acl\" = \"write\"").unwrap(),
            object(&[("acl", string("write"))])
        );
    }

    #[test]
    fn values() {
        assert_eq!(
            parse("a = [1, \"x\", true, {b = false},]\nc = -2.5e+3").unwrap(),
            object(&[
                (
                    "a",
                    Node::List(vec![
                        Node::Number("1".into()),
                        string("x"),
                        Node::Bool(true),
                        object(&[("b", Node::Bool(false))]),
                    ])
                ),
                ("c", Node::Number("-2.5e+3".into())),
            ])
        );
    }

    #[test]
    fn errors_name_the_position() {
        assert_eq!(
            parse("acl = read").unwrap_err(),
            "At 1:7: Unknown token: IDENT read"
        );
        assert_eq!(
            parse("key \"a\" {").unwrap_err(),
            "At 1:10: expected: IDENT | STRING | RBRACE got: EOF"
        );
        assert_eq!(
            parse("key \"a\" = \"b\"").unwrap_err(),
            "At 1:9: expected: LBRACE got: ASSIGN"
        );
        assert_eq!(
            parse("acl = \"read\"\nacl = \"write\"").unwrap_err(),
            "At 2:1: The argument \"acl\" at 1:1 was already set. Each argument can only be defined once"
        );
        assert!(parse("}").is_err());
        assert!(parse("a = [1 2]").is_err());
    }

    #[test]
    fn repeated_blocks_are_kept() {
        let parsed =
            parse("key \"a\" { policy = \"read\" }\nkey \"a\" { policy = \"deny\" }").unwrap();
        let Node::Object(entries) = parsed else {
            panic!("not an object")
        };
        assert_eq!(entries.len(), 2);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = format!("a = {}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(&deep).unwrap_err().contains("nesting deeper"));
        let deep = format!("{}{}", "a {".repeat(100_000), "}".repeat(100_000));
        assert!(parse(&deep).unwrap_err().contains("nesting deeper"));
    }
}
