//! Property test of every parser of user input on the Rust side: random option trees and
//! random URL-ish strings never panic, and every rejection is an option error that names an
//! option. A seeded xorshift keeps it dependency-free and reproducible
//! (`FUZZ_CASES=1000000 cargo test options_fuzz` for a longer run).

use std::collections::BTreeMap;

use crate::error::Code;
use crate::options::{resolve, Raw, RawOptions};

/// A seeded xorshift, shared by the property tests.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const PIECES: &[&str] = &[
    "redis://",
    "rediss://",
    "unix://",
    "redis+unix://",
    "http://",
    "",
    "/",
    ":",
    "@",
    "?",
    "#",
    "%",
    "%zz",
    "db=",
    "protocol=",
    "127.0.0.1",
    "localhost",
    "[::1]",
    "6379",
    "0",
    "65536",
    "-1",
    "99999999999",
    "user",
    "pass",
    "é",
    "\u{0}",
    " ",
    "//",
    "/tmp/r.sock",
    "{",
    "}",
    "*",
    "\\",
];

fn text(rng: &mut Rng) -> String {
    (0..rng.below(8)).map(|_| rng.pick(PIECES)).collect()
}

fn value(rng: &mut Rng, depth: u32) -> Raw {
    match rng.below(if depth > 2 { 6 } else { 8 }) {
        0 => Raw::Str(text(rng)),
        1 => Raw::Num(match rng.below(6) {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => -(rng.below(70_000) as f64),
            3 => rng.below(70_000) as f64 + 0.5,
            _ => rng.below(70_000) as f64,
        }),
        2 => Raw::Bool(rng.below(2) == 0),
        3 => Raw::Bytes(text(rng).into_bytes()),
        4 => Raw::Other("function"),
        5 => Raw::Str(format!("-----BEGIN {}", text(rng))),
        6 => Raw::List((0..rng.below(4)).map(|_| value(rng, depth + 1)).collect()),
        _ => {
            let keys = [
                "host",
                "port",
                "sentinels",
                "name",
                "password",
                "ca",
                "cert",
                "key",
                "rejectUnauthorized",
                "x",
            ];
            let map: BTreeMap<String, Raw> = (0..rng.below(5))
                .map(|_| (rng.pick(&keys).to_string(), value(rng, depth + 1)))
                .collect();
            Raw::Obj(map)
        }
    }
}

fn maybe(rng: &mut Rng) -> Option<Raw> {
    (rng.below(3) == 0).then(|| value(rng, 0))
}

#[test]
fn random_options_never_panic_and_errors_name_an_option() {
    let cases: u64 = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..cases {
        let raw = RawOptions {
            url: maybe(&mut rng),
            host: maybe(&mut rng),
            port: maybe(&mut rng),
            socket: maybe(&mut rng),
            db: maybe(&mut rng),
            password: maybe(&mut rng),
            username: maybe(&mut rng),
            tls: maybe(&mut rng),
            cluster: maybe(&mut rng),
            read_from_replicas: maybe(&mut rng),
            sentinel: maybe(&mut rng),
            connect_timeout: maybe(&mut rng),
            command_timeout: maybe(&mut rng),
        };
        if let Err(err) = resolve(&raw) {
            assert_eq!(err.code, Code::InvalidOption, "{raw:?} -> {}", err.message);
            assert!(
                err.message.contains("option `"),
                "{raw:?} -> {}",
                err.message
            );
        }
    }
}

#[test]
fn random_urls_never_panic() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for _ in 0..20_000 {
        let raw = RawOptions {
            url: Some(Raw::Str(text(&mut rng))),
            ..Default::default()
        };
        if let Err(err) = resolve(&raw) {
            assert!(err.message.contains("`url`"), "{}", err.message);
        }
    }
}
