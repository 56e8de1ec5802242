//! The `tier0` binary as an operator runs it: start and stop, configuration
//! layering, migrations, backups, tenants, timeouts.

// Children are killed and reaped in `Server::drop`.
#![allow(clippy::zombie_processes)]

mod support;

use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

#[test]
fn serve_with_no_flags_uses_sqlite_in_tier0_data_and_drains_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start(serve_cmd(dir.path()));
    assert!(dir.path().join("tier0-data/tier0.db").exists(), "database created in ./tier0-data");
    assert!(s.url.starts_with("http://localhost:"), "{}", s.url);
    let r = http().get(format!("{}/healthz", s.base())).send().unwrap();
    assert_eq!(r.status(), 200);

    // An in-flight request (body still arriving) completes after SIGTERM.
    let mut conn = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let body = br#"{"email":"nobody@example.com","password":"wrong password here"}"#;
    let head = format!(
        "POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        s.port,
        body.len()
    );
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(&body[..10]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let pid = s.child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    // New connections are no longer accepted…
    let refused =
        TcpStream::connect_timeout(&format!("127.0.0.1:{}", s.port).parse().unwrap(), Duration::from_secs(1)).is_err();
    assert!(refused, "listener still accepting after SIGTERM");
    // …but the in-flight request finishes.
    conn.write_all(&body[10..]).unwrap();
    let mut resp = String::new();
    conn.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 401"), "{resp}");
    assert!(resp.contains("invalid_credentials"), "{resp}");
    let status = wait_exit(&mut s.child, Duration::from_secs(30));
    assert!(status.success(), "exit status {status}");
}

#[test]
fn first_start_prints_a_working_admin_invite() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tier0(dir.path());
    cmd.args(["serve", "--listen", "127.0.0.1:0"]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut invite = None;
    let mut port = 0u16;
    for line in lines.by_ref().map_while(Result::ok).take(12) {
        let l = line.trim();
        if let Some(u) = l.strip_prefix("Tier0 is running at ") {
            port = u.trim().trim_end_matches('/').rsplit(':').next().unwrap().parse().unwrap();
        }
        if l.contains("/signup?token=") {
            invite = Some(l.to_owned());
            break;
        }
    }
    let invite = invite.expect("invite URL printed");
    let token = invite.split("token=").nth(1).unwrap();
    let r = http()
        .post(format!("http://127.0.0.1:{port}/api/auth/signup-exchange"))
        .json(&json!({"token": token, "password": PASSWORD, "email": "first@example.com", "name": "First"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["user"]["role"], "admin");
    let _ = child.kill();
    let _ = child.wait();
}

/// Start `serve` and collect what it prints up to the blank line that ends
/// the start-up banner. Returns the child, the port and the lines.
fn banner(mut cmd: Command) -> (Child, u16, Vec<String>) {
    cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut port = 0u16;
    let mut out = Vec::new();
    for line in lines.map_while(Result::ok).take(40) {
        if let Some(u) = line.trim().strip_prefix("Tier0 is running at ") {
            port = u.trim().trim_end_matches('/').rsplit(':').next().unwrap().parse().unwrap();
        }
        if line.trim().is_empty() && port != 0 {
            break;
        }
        out.push(line);
    }
    assert_ne!(port, 0, "URL printed: {out:?}");
    (child, port, out)
}

/// The sign-ins table: (role, e-mail, password) per row.
fn sign_ins(lines: &[String]) -> Vec<(String, String, String)> {
    let at = lines.iter().position(|l| l.trim() == "Sign in as:").expect("a sign-in table");
    let header = &lines[at + 1];
    let col = |name: &str| header.find(name).unwrap_or_else(|| panic!("{name} column in {header:?}"));
    let (email_at, password_at) = (col("E-MAIL"), col("PASSWORD"));
    lines[at + 2..]
        .iter()
        .map(|l| {
            let role = l[..col("NAME")].trim().to_owned();
            (role, l[email_at..password_at].trim().to_owned(), l[password_at..].trim().to_owned())
        })
        .collect()
}

#[test]
fn serve_demo_prints_sign_ins_that_work_and_seeds_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = serve_cmd(dir.path());
    cmd.arg("--demo");
    let (mut child, port, lines) = banner(cmd);
    let text = lines.join("\n");
    assert!(!text.contains("/signup?token="), "no first-admin link with --demo: {text}");
    assert!(text.contains("Demo data added"), "{text}");
    let rows = sign_ins(&lines);
    let roles: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    for role in ["Requester", "Fulfiller", "Operator", "Admin"] {
        assert!(roles.contains(&role), "{role} in {roles:?}");
    }
    for (role, email, password) in &rows {
        let r = http()
            .post(format!("http://127.0.0.1:{port}/api/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{role} {email} signs in");
    }
    let _ = child.kill();
    let _ = child.wait();

    // A second start (here through the environment) adds nothing and
    // prints the same sign-ins.
    let mut cmd = serve_cmd(dir.path());
    cmd.env("TIER0_DEMO", "1");
    let (mut child, _, again) = banner(cmd);
    assert!(again.iter().any(|l| l.contains("already added")), "{again:?}");
    assert_eq!(sign_ins(&again), rows);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn configuration_layers_defaults_file_env_flags() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.toml"), "base_domain = \"file.test\"\n").unwrap();
    let start = |env: Option<&str>, flag: Option<&str>| {
        let mut c = tier0(dir.path());
        c.args(["--config", "t.toml", "serve", "--listen", "127.0.0.1:0"]);
        if let Some(e) = env {
            c.env("TIER0_BASE_DOMAIN", e);
        }
        if let Some(f) = flag {
            c.args(["--base-domain", f]);
        }
        Server::start(c)
    };
    let s = start(None, None);
    assert!(s.url.starts_with("http://file.test:"), "{}", s.url);
    drop(s);
    let s = start(Some("env.test"), None);
    assert!(s.url.starts_with("http://env.test:"), "{}", s.url);
    drop(s);
    let s = start(Some("env.test"), Some("flag.test"));
    assert!(s.url.starts_with("http://flag.test:"), "{}", s.url);
    drop(s);
    // Unknown TIER0_* variables are warned about.
    let mut c = serve_cmd(dir.path());
    c.env("TIER0_LISTN", "oops");
    let mut s = Server::start(c);
    std::thread::sleep(Duration::from_millis(200));
    let _ = s.term();
    assert!(s.stderr().contains("TIER0_LISTN"), "{}", s.stderr());
    // A bad config file stops the start with a clear message.
    std::fs::write(dir.path().join("bad.toml"), "listen = 5\nbogus = true\n").unwrap();
    let mut c = tier0(dir.path());
    c.args(["--config", "bad.toml", "serve"]);
    let out = run(c);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.toml"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn database_password_never_appears_in_errors_or_logs() {
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("pw");
    std::fs::write(&secret_file, "Sup3rSecretFromFile\n").unwrap();
    for (url, extra) in [
        ("postgres://tier0:Sup3rSecretInUrl@127.0.0.1:1/tier0", None),
        ("postgres://tier0@127.0.0.1:1/tier0", Some(&secret_file)),
    ] {
        let mut c = serve_cmd(dir.path());
        c.env("TIER0_DATABASE_URL", url);
        if let Some(f) = extra {
            c.env("TIER0_DATABASE_PASSWORD_FILE", f);
        }
        let out = run(c);
        assert!(!out.status.success());
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!all.contains("Sup3rSecret"), "password leaked: {all}");
        assert!(all.contains("cannot open database"), "{all}");
    }
    // The URL itself may come from a *_FILE secret.
    let url_file = dir.path().join("url");
    std::fs::write(&url_file, "postgres://tier0:Sup3rSecretInFile@127.0.0.1:1/tier0\n").unwrap();
    let mut c = serve_cmd(dir.path());
    c.env("TIER0_DATABASE_URL_FILE", &url_file);
    let out = run(c);
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(all.contains("postgres://tier0:***@127.0.0.1:1/tier0"), "{all}");
    assert!(!all.contains("Sup3rSecret"), "{all}");
}

#[test]
fn a_database_from_a_newer_version_or_an_edited_migration_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start(serve_cmd(dir.path()));
    assert!(s.term().success());
    let db = dir.path().join("tier0-data/tier0.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let exec = |sql: &'static str| {
        rt.block_on(async {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        })
    };
    exec("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (9999, 'future', 'x', 0)");
    let out = run(serve_cmd(dir.path()));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("9999") && err.contains("newer version"), "{err}");
    exec("DELETE FROM schema_migrations WHERE version = 9999");
    exec("UPDATE schema_migrations SET checksum = 'tampered' WHERE version = 1");
    let out = run(serve_cmd(dir.path()));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("migration 1") && err.contains("refusing to start"), "{err}");
}

#[test]
fn tenants_are_created_and_listed_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = tier0(dir.path());
    c.args(["tenant", "create", "acme", "--name", "Acme Corp"]);
    let out = run(c);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("http://acme.localhost:8080/signup?token="), "{text}");
    for bad in ["cp", "Bad_Slug", "x-"] {
        let mut c = tier0(dir.path());
        c.args(["tenant", "create", bad, "--name", "X"]);
        let out = run(c);
        assert!(!out.status.success(), "{bad} accepted");
        assert!(String::from_utf8_lossy(&out.stderr).contains("slug"), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let mut c = tier0(dir.path());
    c.args(["tenant", "create", "acme", "--name", "Again"]);
    assert!(!run(c).status.success());
    let mut c = tier0(dir.path());
    c.args(["tenant", "list"]);
    let out = run(c);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("acme") && text.contains("Acme Corp"), "{text}");

    // The printed invite works against a server on the same data.
    let mut s = Server::start(serve_cmd(dir.path()));
    let invite = String::from_utf8_lossy(
        &run({
            let mut c = tier0(dir.path());
            c.args(["tenant", "create", "beta", "--name", "Beta"]);
            c
        })
        .stdout,
    )
    .into_owned();
    let token = invite.split("token=").nth(1).unwrap().lines().next().unwrap().trim().to_owned();
    let r = http()
        .post(format!("{}/api/auth/signup-exchange", s.base()))
        .header("host", format!("beta.localhost:{}", s.port))
        .json(&json!({"token": token, "password": PASSWORD, "email": "boss@beta.test"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().unwrap_or_default());
    assert!(s.term().success());
}

#[test]
fn sqlite_backup_under_load_restores_into_an_empty_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start(serve_cmd(dir.path()));
    let token = register(&s.base());
    // Keep writing while the backup runs.
    let base = s.base();
    let writer = std::thread::spawn(move || {
        let c = http();
        let mut n = 0;
        for i in 0..60 {
            let r = c
                .post(format!("{base}/api/auth/invite"))
                .bearer_auth(&token)
                .json(&json!({"email": format!("u{i}@example.com")}))
                .send()
                .unwrap();
            assert_eq!(r.status(), 201);
            n += 1;
        }
        n
    });
    std::thread::sleep(Duration::from_millis(100));
    let mut c = tier0(dir.path());
    c.args(["backup", "snap.db"]);
    let out = run(c);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(writer.join().unwrap(), 60);
    // Refuses to overwrite.
    let mut c = tier0(dir.path());
    c.args(["backup", "snap.db"]);
    assert!(!run(c).status.success());
    assert!(s.term().success());

    // Restore refuses a non-empty data dir, accepts an empty one.
    let mut c = tier0(dir.path());
    c.args(["restore", "snap.db"]);
    let out = run(c);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty data directory"));
    let mut c = tier0(dir.path());
    c.args(["--data-dir", "restored", "restore", "snap.db"]);
    let out = run(c);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Garbage is refused.
    std::fs::write(dir.path().join("junk.db"), b"not a database at all").unwrap();
    let mut c = tier0(dir.path());
    c.args(["--data-dir", "other", "restore", "junk.db"]);
    assert!(!run(c).status.success());

    let mut c = serve_cmd(dir.path());
    c.args(["--data-dir", "restored"]);
    let mut s2 = Server::start(c);
    let r = http()
        .post(format!("{}/api/auth/login", s2.base()))
        .json(&json!({"email": "root@example.com", "password": PASSWORD}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let tok = r.json::<serde_json::Value>().unwrap()["token"].as_str().unwrap().to_owned();
    let audit: serde_json::Value = http()
        .get(format!("{}/api/audit?action=user.invited&limit=200", s2.base()))
        .bearer_auth(&tok)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let n = audit["items"].as_array().unwrap().len();
    assert!(n <= 60, "{n}");
    assert!(s2.term().success());
}

#[test]
fn postgres_backup_delegates_to_pg_dump_and_restores() {
    let Some(pg) = FreshPg::new(&["t0cli_src", "t0cli_dst"]) else { return };
    if Command::new("pg_dump").arg("--version").output().is_err() {
        tier0_testkit::skip("pg_dump not installed");
        return;
    }
    let (src_url, dst_url) = (pg.url(0), pg.url(1));

    let dir = tempfile::tempdir().unwrap();
    let mut c = serve_cmd(dir.path());
    c.args(["--database-url", &src_url]);
    let mut s = Server::start(c);
    register(&s.base());
    assert!(s.term().success());
    let mut c = tier0(dir.path());
    c.args(["--database-url", &src_url, "backup", "pg.dump"]);
    let out = run(c);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut c = tier0(dir.path());
    c.args(["--database-url", &dst_url, "restore", "pg.dump"]);
    let out = run(c);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Restoring over a non-empty database is refused.
    let mut c = tier0(dir.path());
    c.args(["--database-url", &dst_url, "restore", "pg.dump"]);
    assert!(!run(c).status.success());

    let mut c = serve_cmd(dir.path());
    c.args(["--database-url", &dst_url]);
    let mut s2 = Server::start(c);
    let r = http()
        .post(format!("{}/api/auth/login", s2.base()))
        .json(&json!({"email": "root@example.com", "password": PASSWORD}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(s2.term().success());
}

#[test]
fn slow_header_clients_are_disconnected() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = serve_cmd(dir.path());
    c.args(["--header-timeout-secs", "1"]);
    let mut s = Server::start(c);
    let mut conn = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let _ = conn.read_to_end(&mut buf);
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(5), "connection held for {waited:?}");
    assert!(waited >= Duration::from_millis(800), "closed too early: {waited:?}");
    // A normal client is still served.
    assert_eq!(http().get(format!("{}/healthz", s.base())).send().unwrap().status(), 200);
    assert!(s.term().success());
}

#[test]
fn json_logs_carry_request_ids() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = serve_cmd(dir.path());
    c.args(["--log-format", "json"]);
    let mut s = Server::start(c);
    let r = http().get(format!("{}/api/me", s.base())).header("x-request-id", "trace-me-42").send().unwrap();
    assert_eq!(r.status(), 401);
    std::thread::sleep(Duration::from_millis(200));
    assert!(s.term().success());
    let logs = s.stderr();
    let line = logs.lines().find(|l| l.contains("trace-me-42")).expect("request logged with its id");
    let v: serde_json::Value = serde_json::from_str(line).expect("JSON log line");
    assert_eq!(v["status"], 401, "{line}");
}

#[test]
fn check_passes_a_healthy_database_and_names_a_broken_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Server::start(serve_cmd(dir.path()));
    let token = register(&s.base());
    let r = http()
        .post(format!("{}/api/itsm/requests", s.base()))
        .bearer_auth(&token)
        .json(&json!({"title": "Printer on floor 2 is jammed"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    assert!(s.term().success());
    let mut c = tier0(dir.path());
    c.arg("check");
    let out = run(c);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains(": ok"));

    // A counter that disagrees with the rows (as a lost write would leave it).
    let db = dir.path().join("tier0-data/tier0.db");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.unwrap();
        sqlx::query("UPDATE counters SET value = value + 5 WHERE kind = 'REQ'").execute(&mut c).await.unwrap();
    });
    let mut c = tier0(dir.path());
    c.arg("check");
    let out = run(c);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1 requests rows, highest REQ number 1, counter 6"), "{err}");
}
