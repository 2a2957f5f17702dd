//! Consul's `?filter=` language (go-bexpr), parsed once per request and evaluated against
//! each result item as JSON, so every endpoint filters on exactly the fields it returns.
//!
//! Grammar (go-bexpr's, from Consul's filtering documentation):
//! ```text
//! expr     := or
//! or       := and ("or" and)*
//! and      := unary ("and" unary)*
//! unary    := "not" unary | "(" expr ")" | match
//! match    := selector ("==" | "!=") value
//!           | selector "is" ["not"] "empty"
//!           | value ["not"] "in" selector
//!           | selector ["not"] ("contains" | "matches") value
//! selector := ident ("." ident | "[" string "]")*  |  "/json/pointer" in quotes
//! value    := "string" | `raw string` | number | true | false | bare-word
//! ```
//! There is no maintained Rust crate for this language; the grammar is small enough
//! that a hand-written tokenizer and recursive-descent parser are the simplest choice.

mod eval;
mod lexer;
mod parser;

pub use parser::{Expr, Filter, FilterError};
