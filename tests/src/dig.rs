//! `dig` from Debian's dnsutils, run against an agent and its output parsed: the tests
//! query the DNS interface with the resolver tool operators use.

use std::process::Command;

/// One resource record as dig prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rr {
    pub name: String,
    pub ttl: u32,
    pub kind: String,
    pub data: String,
}

/// A parsed dig answer.
#[derive(Debug, Clone, Default)]
pub struct DigResponse {
    pub status: String,
    pub flags: Vec<String>,
    pub answer: Vec<Rr>,
    pub authority: Vec<Rr>,
    pub additional: Vec<Rr>,
    /// The whole output, for assertion messages.
    pub raw: String,
}

impl DigResponse {
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }

    /// The data of the answers of one type, in order.
    pub fn answers(&self, kind: &str) -> Vec<String> {
        self.answer
            .iter()
            .filter(|rr| rr.kind == kind)
            .map(|rr| rr.data.clone())
            .collect()
    }
}

/// Runs `dig @127.0.0.1 -p PORT <args>` and parses its output. Panics when dig is
/// missing: the DNS tests need it (`apt-get install dnsutils`).
pub fn dig(port: u16, args: &[&str]) -> DigResponse {
    let output = Command::new("dig")
        .args(["@127.0.0.1", "-p", &port.to_string()])
        .args([
            "+noall",
            "+comments",
            "+answer",
            "+authority",
            "+additional",
            "+nocookie",
            "+tries=1",
            "+time=5",
        ])
        .args(args)
        .output()
        .expect("cannot run dig: install Debian's dnsutils");
    let raw = String::from_utf8_lossy(&output.stdout).into_owned();
    parse(&raw)
}

fn parse(raw: &str) -> DigResponse {
    let mut response = DigResponse {
        raw: raw.to_string(),
        ..DigResponse::default()
    };
    let mut section: Option<&str> = None;
    for line in raw.lines() {
        if let Some(rest) = line.split("status: ").nth(1) {
            response.status = rest.split(',').next().unwrap_or("").to_string();
        } else if let Some(rest) = line.strip_prefix(";; flags: ") {
            let flags = rest.split(';').next().unwrap_or("");
            response.flags = flags.split_whitespace().map(str::to_string).collect();
        } else if line.starts_with(";; ") && line.ends_with("SECTION:") {
            section = line.split_whitespace().nth(1);
        } else if line.trim().is_empty() || line.starts_with(';') {
            if line.trim().is_empty() {
                section = None;
            }
        } else if let Some(rr) = parse_rr(line) {
            match section {
                Some("ANSWER") => response.answer.push(rr),
                Some("AUTHORITY") => response.authority.push(rr),
                Some("ADDITIONAL") => response.additional.push(rr),
                _ => {}
            }
        }
    }
    response
}

fn parse_rr(line: &str) -> Option<Rr> {
    let mut fields = line.split_whitespace();
    let name = fields.next()?.to_string();
    let ttl = fields.next()?.parse().ok()?;
    let _class = fields.next()?;
    let kind = fields.next()?.to_string();
    let data = fields.collect::<Vec<_>>().join(" ");
    Some(Rr {
        name,
        ttl,
        kind,
        data,
    })
}
