//! Crash safety, as an operator would meet it: eight clients file requests,
//! the server is killed with SIGKILL in the middle, and after a restart on
//! the same data every acknowledged request is there exactly once and
//! intact, and `tier0 check` (the database's integrity check plus Tier0's
//! gap-free numbering) passes. A backup taken during the same load restores
//! to a consistent database holding everything acknowledged before it
//! started. The same on SQLite and on PostgreSQL (where the app is killed,
//! never the database).

// Children are killed and reaped in `Server::drop`.
#![allow(clippy::zombie_processes)]

mod support;

use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

const WRITERS: usize = 8;

/// One acknowledged (201) request, as the client saw it.
#[derive(Debug, Clone)]
struct Ack {
    id: String,
    number: i64,
    title: String,
    details: String,
    /// When the client received the acknowledgement.
    at: Instant,
}

/// Where the data lives: the arguments that point a `tier0` command at it.
struct Target {
    args: Vec<String>,
    /// The backup file name (SQLite file or pg_dump archive).
    backup: &'static str,
}

impl Target {
    fn cmd(&self, dir: &Path, sub: &[&str]) -> Command {
        let mut c = tier0(dir);
        c.args(&self.args).args(sub);
        c
    }

    fn serve(&self, dir: &Path) -> Server {
        Server::start(self.cmd(dir, &["serve", "--listen", "127.0.0.1:0"]))
    }

    fn check(&self, dir: &Path) {
        let out = run(self.cmd(dir, &["check"]));
        assert!(
            out.status.success(),
            "tier0 check failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains(": ok"));
    }
}

/// File requests from `WRITERS` threads until told to stop or the server
/// goes away; returns every acknowledged request.
fn load(base: &str, token: &str, stop: Arc<AtomicBool>) -> Vec<std::thread::JoinHandle<Vec<Ack>>> {
    (0..WRITERS)
        .map(|w| {
            let (base, token, stop) = (base.to_owned(), token.to_owned(), stop.clone());
            std::thread::spawn(move || {
                let c = reqwest::blocking::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
                let mut acks = Vec::new();
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let title = format!("Crash test w{w} n{n}");
                    let details = format!("writer {w}, request {n}: {}end", "é✓ ".repeat(n % 7 + 1));
                    let r = c
                        .post(format!("{base}/api/itsm/requests"))
                        .bearer_auth(&token)
                        .json(&json!({"title": title, "details": details, "priority": "high"}))
                        .send();
                    // A refused or cut connection: the server is gone.
                    let Ok(r) = r else { break };
                    if r.status() != 201 {
                        panic!("filing answered {}: {}", r.status(), r.text().unwrap_or_default());
                    }
                    let Ok(body) = r.json::<Value>() else { break };
                    acks.push(Ack {
                        id: body["id"].as_str().unwrap().to_owned(),
                        number: body["number"]
                            .as_str()
                            .and_then(|s| s.strip_prefix("REQ-"))
                            .map_or_else(|| body["number"].as_i64().unwrap(), |s| s.parse().unwrap()),
                        title,
                        details,
                        at: Instant::now(),
                    });
                }
                acks
            })
        })
        .collect()
}

/// Every request of the tenant, through the API (the whole queue, any
/// status), by id.
fn all_requests(base: &str, token: &str) -> HashMap<String, Value> {
    let c = http();
    let mut out = HashMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/api/itsm/requests?limit=200");
        if let Some(cur) = &cursor {
            url.push_str(&format!("&cursor={cur}"));
        }
        let page: Value = c.get(url).bearer_auth(token).send().unwrap().json().unwrap();
        for r in page["items"].as_array().unwrap() {
            let prev = out.insert(r["id"].as_str().unwrap().to_owned(), r.clone());
            assert!(prev.is_none(), "a request listed twice: {r}");
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    out
}

fn login(base: &str) -> String {
    let r = http()
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"email": "root@example.com", "password": PASSWORD}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap_or_default());
    r.json::<Value>().unwrap()["token"].as_str().unwrap().to_owned()
}

fn number_of(v: &Value) -> i64 {
    v["number"]
        .as_str()
        .and_then(|s| s.strip_prefix("REQ-"))
        .map_or_else(|| v["number"].as_i64().unwrap(), |s| s.parse().unwrap())
}

/// The acknowledged requests are all present, once each, unchanged; the
/// numbers run 1..=n without gaps or repeats; filing still works and takes
/// the next number.
fn assert_intact(base: &str, acks: &[Ack]) {
    let token = login(base);
    let all = all_requests(base, &token);
    let mut by_title: HashMap<&str, usize> = HashMap::new();
    for r in all.values() {
        *by_title.entry(r["title"].as_str().unwrap()).or_default() += 1;
    }
    let c = http();
    for a in acks {
        assert_eq!(by_title.get(a.title.as_str()), Some(&1), "{} present exactly once", a.title);
        let r = c.get(format!("{base}/api/itsm/requests/{}", a.id)).bearer_auth(&token).send().unwrap();
        assert_eq!(r.status(), 200, "acknowledged {} ({}) is missing", a.title, a.id);
        let r: Value = r.json().unwrap();
        assert_eq!(r["title"], a.title);
        assert_eq!(r["details"], a.details);
        assert_eq!(number_of(&r), a.number);
        assert_eq!(r["status"], "new");
    }
    let mut numbers: Vec<i64> = all.values().map(number_of).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=all.len() as i64).collect::<Vec<_>>(), "numbers are 1..=n");
    let r = c
        .post(format!("{base}/api/itsm/requests"))
        .bearer_auth(&token)
        .json(&json!({"title": "After the crash"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(number_of(&r.json::<Value>().unwrap()), all.len() as i64 + 1);
}

/// Load, back up in the middle, SIGKILL, restart, verify; then restore the
/// backup into `restored` and verify it holds what was acknowledged before
/// the backup started.
fn crash_and_recover(dir: &Path, live: &Target, restored: &Target) {
    let mut s = live.serve(dir);
    let token = register(&s.base());
    let stop = Arc::new(AtomicBool::new(false));
    let writers = load(&s.base(), &token, stop.clone());

    std::thread::sleep(Duration::from_millis(700));
    let backup_started = Instant::now();
    let out = run(live.cmd(dir, &["backup", live.backup]));
    assert!(out.status.success(), "backup under load: {}", String::from_utf8_lossy(&out.stderr));
    // Keep the load going a little after the backup, then kill mid-flight.
    std::thread::sleep(Duration::from_millis(700));
    s.child.kill().unwrap(); // SIGKILL
    s.child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    let acks: Vec<Ack> = writers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    assert!(acks.len() >= 50, "only {} requests acknowledged before the kill", acks.len());
    let ids: Mutex<std::collections::HashSet<&str>> = Mutex::new(Default::default());
    for a in &acks {
        assert!(ids.lock().unwrap().insert(&a.id), "one id acknowledged twice");
    }

    live.check(dir);
    let s2 = live.serve(dir);
    assert_intact(&s2.base(), &acks);
    drop(s2);

    // The backup taken under load.
    let out = run(restored.cmd(dir, &["restore", live.backup]));
    assert!(out.status.success(), "restore: {}", String::from_utf8_lossy(&out.stderr));
    restored.check(dir);
    let before: Vec<Ack> = acks.iter().filter(|a| a.at < backup_started).cloned().collect();
    assert!(!before.is_empty(), "requests were acknowledged before the backup");
    eprintln!("{} requests acknowledged before the kill, {} before the backup started", acks.len(), before.len());
    let s3 = restored.serve(dir);
    assert_intact(&s3.base(), &before);
}

#[test]
fn sqlite_kill_mid_load_loses_no_acknowledged_request() {
    let dir = tempfile::tempdir().unwrap();
    let live = Target { args: vec!["--data-dir".into(), "live".into()], backup: "snap.db" };
    let restored = Target { args: vec!["--data-dir".into(), "restored".into()], backup: "snap.db" };
    crash_and_recover(dir.path(), &live, &restored);
}

#[test]
fn postgres_kill_mid_load_loses_no_acknowledged_request() {
    let Some(pg) = FreshPg::new(&["t0crash_live", "t0crash_restored"]) else { return };
    if Command::new("pg_dump").arg("--version").output().is_err() {
        tier0_testkit::skip("pg_dump not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let live = Target { args: vec!["--database-url".into(), pg.url(0)], backup: "snap.pgdump" };
    let restored = Target { args: vec!["--database-url".into(), pg.url(1)], backup: "snap.pgdump" };
    crash_and_recover(dir.path(), &live, &restored);
}
