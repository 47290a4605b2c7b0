// An honest Rust program for RAMP's integrity tests: it tokenises SysY source and folds the
// constant expressions of `const int` declarations, printing `name = value` for each.
// Built offline with plain rustc (no crates); its binary must not look like the toolchain.

use std::collections::HashMap;
use std::env;
use std::fs;
use std::process::ExitCode;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Int(i64),
    Punct(&'static str),
    Other(char),
}

const PUNCTS: [&str; 23] = [
    "<=", ">=", "==", "!=", "&&", "||", "+", "-", "*", "/", "%", "!", "<", ">", "=", "(", ")",
    "[", "]", "{", "}", ",", ";",
];

fn tokenize(source: &str) -> Vec<Token> {
    let bytes = source.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if source[i..].starts_with("//") || c == '#' {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if source[i..].starts_with("/*") {
            i = source[i + 2..].find("*/").map_or(bytes.len(), |end| i + 2 + end + 2);
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push(Token::Ident(source[start..i].to_string()));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let text = &source[start..i];
            let value = if let Some(hex) = text.strip_prefix("0x").or(text.strip_prefix("0X")) {
                i64::from_str_radix(hex, 16).unwrap_or(0)
            } else if text.len() > 1 && text.starts_with('0') {
                i64::from_str_radix(&text[1..], 8).unwrap_or(0)
            } else {
                text.parse().unwrap_or(0)
            };
            out.push(Token::Int(value));
        } else if let Some(p) = PUNCTS.iter().find(|p| source[i..].starts_with(**p)) {
            out.push(Token::Punct(p));
            i += p.len();
        } else {
            out.push(Token::Other(c));
            i += 1;
        }
    }
    out
}

struct Folder<'a> {
    tokens: &'a [Token],
    pos: usize,
    consts: &'a HashMap<String, i64>,
}

impl Folder<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn binary(&mut self, level: usize) -> Option<i64> {
        const LEVELS: [&[&str]; 6] = [
            &["||"],
            &["&&"],
            &["==", "!="],
            &["<", ">", "<=", ">="],
            &["+", "-"],
            &["*", "/", "%"],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        while let Some(Token::Punct(op)) = self.peek() {
            let op = *op;
            if !LEVELS[level].contains(&op) {
                break;
            }
            self.pos += 1;
            let right = self.binary(level + 1)?;
            left = apply(op, left, right)?;
        }
        Some(left)
    }

    fn unary(&mut self) -> Option<i64> {
        match self.peek()?.clone() {
            Token::Punct("-") => {
                self.pos += 1;
                Some(self.unary()?.wrapping_neg())
            }
            Token::Punct("+") => {
                self.pos += 1;
                self.unary()
            }
            Token::Punct("!") => {
                self.pos += 1;
                Some((self.unary()? == 0) as i64)
            }
            Token::Punct("(") => {
                self.pos += 1;
                let value = self.binary(0)?;
                (self.peek() == Some(&Token::Punct(")"))).then(|| self.pos += 1)?;
                Some(value)
            }
            Token::Int(v) => {
                self.pos += 1;
                Some(v)
            }
            Token::Ident(name) => {
                self.pos += 1;
                self.consts.get(&name).copied()
            }
            _ => None,
        }
    }
}

fn apply(op: &str, a: i64, b: i64) -> Option<i64> {
    Some(match op {
        "+" => a.wrapping_add(b),
        "-" => a.wrapping_sub(b),
        "*" => a.wrapping_mul(b),
        "/" => a.checked_div(b)?,
        "%" => a.checked_rem(b)?,
        "<" => (a < b) as i64,
        ">" => (a > b) as i64,
        "<=" => (a <= b) as i64,
        ">=" => (a >= b) as i64,
        "==" => (a == b) as i64,
        "!=" => (a != b) as i64,
        "&&" => (a != 0 && b != 0) as i64,
        "||" => (a != 0 || b != 0) as i64,
        _ => return None,
    })
}

fn fold_constants(tokens: &[Token]) -> Vec<(String, i64)> {
    let mut consts = HashMap::new();
    let mut found = Vec::new();
    let mut i = 0;
    while i + 3 < tokens.len() {
        let is_decl = tokens[i] == Token::Ident("const".into())
            && tokens[i + 1] == Token::Ident("int".into());
        if !is_decl {
            i += 1;
            continue;
        }
        i += 2;
        while let (Some(Token::Ident(name)), Some(Token::Punct("="))) =
            (tokens.get(i), tokens.get(i + 1))
        {
            let mut folder = Folder { tokens, pos: i + 2, consts: &consts };
            let value = folder.binary(0);
            i = folder.pos;
            if let Some(v) = value {
                consts.insert(name.clone(), v);
                found.push((name.clone(), v));
            }
            if tokens.get(i) != Some(&Token::Punct(",")) {
                break;
            }
            i += 1;
        }
    }
    found
}

fn main() -> ExitCode {
    let mut status = ExitCode::SUCCESS;
    for path in env::args().skip(1) {
        match fs::read_to_string(&path) {
            Ok(source) => {
                for (name, value) in fold_constants(&tokenize(&source)) {
                    println!("{path}: {name} = {value}");
                }
            }
            Err(err) => {
                eprintln!("{path}: {err}");
                status = ExitCode::from(2);
            }
        }
    }
    status
}
