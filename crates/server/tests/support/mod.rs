//! Running the `tier0` binary as an operator would: start it, find its
//! port, stop it. Shared by the process-level test binaries.

// Not every test binary uses every helper.
#![allow(dead_code)]

use serde_json::json;
use std::io::BufRead;
use std::io::BufReader;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_tier0");
pub const PASSWORD: &str = "correct horse battery staple 42";

pub fn tier0(dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir).env_remove("TIER0_DATABASE_URL").env("TIER0_LOG", "info");
    for (k, _) in std::env::vars() {
        if k.starts_with("TIER0_") && !k.starts_with("TIER0_TEST_") {
            c.env_remove(k);
        }
    }
    c
}

/// A server process started with `serve --listen 127.0.0.1:0`.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub port: u16,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    pub fn start(mut cmd: Command) -> Server {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start tier0");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let err_pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err_pipe).lines().map_while(Result::ok) {
                sink.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(200))
                && let Some(url) = line.trim().strip_prefix("Tier0 is running at ")
            {
                let url = url.trim().trim_end_matches('/').to_owned();
                let port = url.rsplit(':').next().unwrap().parse().unwrap();
                return Server { child, url, port, stderr };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("tier0 exited early ({status}): {}", stderr.lock().unwrap());
            }
        }
        let _ = child.kill();
        panic!("tier0 did not print its URL: {}", stderr.lock().unwrap());
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn term(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
        wait_exit(&mut self.child, Duration::from_secs(30))
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(Some(s)) = child.try_wait() {
            return s;
        }
        assert!(Instant::now() < deadline, "process did not exit in time");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn run(mut cmd: Command) -> Output {
    cmd.output().expect("run tier0")
}

pub fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

pub fn register(base: &str) -> String {
    let r = http()
        .post(format!("{base}/api/auth/register"))
        .json(&json!({"email": "root@example.com", "password": PASSWORD, "name": "Root"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<serde_json::Value>().unwrap()["token"].as_str().unwrap().to_owned()
}

pub fn serve_cmd(dir: &Path) -> Command {
    let mut c = tier0(dir);
    c.args(["serve", "--listen", "127.0.0.1:0"]);
    c
}

/// Fresh PostgreSQL databases on the server of `TIER0_TEST_POSTGRES_URL`,
/// named `<name>_<pid>`, dropped again at the end. `None` (after printing
/// `SKIPPED: …`, or failing under `TIER0_TEST_REQUIRE_ALL`) without it.
pub struct FreshPg {
    base: url::Url,
    names: Vec<String>,
    rt: tokio::runtime::Runtime,
}

impl FreshPg {
    pub fn new(names: &[&str]) -> Option<FreshPg> {
        let Ok(url) = std::env::var("TIER0_TEST_POSTGRES_URL") else {
            tier0_testkit::skip("TIER0_TEST_POSTGRES_URL not set");
            return None;
        };
        let pg = FreshPg {
            base: url::Url::parse(&url).expect("TIER0_TEST_POSTGRES_URL is a URL"),
            names: names.iter().map(|n| format!("{n}_{}", std::process::id())).collect(),
            rt: tokio::runtime::Runtime::new().unwrap(),
        };
        for db in &pg.names {
            pg.admin(format!("DROP DATABASE IF EXISTS {db}"));
            pg.admin(format!("CREATE DATABASE {db}"));
        }
        Some(pg)
    }

    /// The URL of the `i`-th database.
    pub fn url(&self, i: usize) -> String {
        let mut u = self.base.clone();
        u.set_path(&format!("/{}", self.names[i]));
        u.to_string()
    }

    fn admin(&self, sql: String) {
        self.rt.block_on(async {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(self.base.as_str()).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await.unwrap();
        })
    }
}

impl Drop for FreshPg {
    fn drop(&mut self) {
        for db in self.names.clone() {
            self.admin(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
        }
    }
}
