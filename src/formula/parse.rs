//! The formula parser: `name(arg,…)` calls and terminal names, spaces allowed between tokens.
//! Every error names the byte position (0-based) where it was found.

use super::{Aggregate, Formula, Node, Op, Terminal};

/// Why a text is not a formula, with the position (byte offset) where it was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("formula {text:?}: at {position}: {message}")]
pub struct FormulaError {
    pub text: String,
    pub position: usize,
    pub message: String,
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, position: usize, message: impl Into<String>) -> FormulaError {
        FormulaError {
            text: self.text.to_string(),
            position,
            message: message.into(),
        }
    }

    fn skip_spaces(&mut self) {
        while self.text[self.pos..].starts_with(char::is_whitespace) {
            self.pos += self.text[self.pos..]
                .chars()
                .next()
                .map_or(1, char::len_utf8);
        }
    }

    /// An identifier `[A-Za-z_][A-Za-z0-9_]*` and its start.
    fn ident(&mut self) -> Result<(usize, &'a str), FormulaError> {
        self.skip_spaces();
        let start = self.pos;
        let rest = &self.text[start..];
        let len = rest
            .char_indices()
            .find(|&(i, c)| !(c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
            .map_or(rest.len(), |(i, _)| i);
        if len == 0 {
            return Err(match rest.chars().next() {
                None => self.err(start, "unexpected end, expected an operation or a terminal"),
                Some(c) => self.err(
                    start,
                    format!("unexpected {c:?}, expected an operation or a terminal"),
                ),
            });
        }
        self.pos += len;
        Ok((start, &rest[..len]))
    }

    fn expect(&mut self, c: char) -> Result<(), FormulaError> {
        self.skip_spaces();
        match self.text[self.pos..].chars().next() {
            Some(got) if got == c => {
                self.pos += 1;
                Ok(())
            }
            Some(got) => Err(self.err(self.pos, format!("expected {c:?}, found {got:?}"))),
            None => Err(self.err(self.pos, format!("unexpected end, expected {c:?}"))),
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_spaces();
        self.text[self.pos..].chars().next()
    }

    fn node(&mut self) -> Result<Node, FormulaError> {
        let (start, name) = self.ident()?;
        if let Some(t) = Terminal::parse(name) {
            if self.peek() == Some('(') {
                return Err(self.err(start, format!("{name} is a terminal, not an operation")));
            }
            return Ok(Node::Term(t));
        }
        let Some(op) = Op::parse(name) else {
            let ops: Vec<&str> = Op::ALL.iter().map(|o| o.name()).collect();
            return Err(self.err(
                start,
                format!(
                    "unknown operation or terminal {name:?} (terminals: W, G, Z, GZ; operations: {})",
                    ops.join(", ")
                ),
            ));
        };
        self.expect('(')?;
        let mut args = vec![self.node()?];
        while self.peek() == Some(',') {
            self.pos += 1;
            args.push(self.node()?);
        }
        self.expect(')')?;
        let node = Node::Op(op, args);
        node.check().map_err(|m| self.err(start, m))?;
        Ok(node)
    }
}

pub(super) fn parse(text: &str) -> Result<Formula, FormulaError> {
    let mut p = Parser { text, pos: 0 };
    let (start, name) = p.ident()?;
    let Some(aggregate) = Aggregate::parse(name) else {
        return Err(p.err(
            start,
            format!("a formula starts with layer_sum(, layer_mean( or cell_sum(, found {name:?}"),
        ));
    };
    p.expect('(')?;
    let body = p.node()?;
    p.expect(')')?;
    p.skip_spaces();
    if p.pos < text.len() {
        return Err(p.err(p.pos, "unexpected text after the formula"));
    }
    Formula::new(aggregate, body).map_err(|m| p.err(start, m))
}
