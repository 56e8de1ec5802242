//! A real SMTP server on loopback for mail tests: Python's `aiosmtpd`
//! writing to a maildir. Skips (or fails under TIER0_TEST_REQUIRE_ALL)
//! when Python or aiosmtpd is missing.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

/// One received message (raw RFC 5322 text, transfer encodings undone
/// where simple).
#[derive(Debug, Clone)]
pub struct Mail {
    pub raw: String,
}

impl Mail {
    pub fn to(&self) -> String {
        header(&self.raw, "To")
    }

    pub fn subject(&self) -> String {
        header(&self.raw, "Subject")
    }

    /// The text with quoted-printable soft breaks and escapes undone.
    pub fn decoded(&self) -> String {
        decode_qp(&self.raw)
    }
}

fn header(raw: &str, name: &str) -> String {
    raw.lines().find_map(|l| l.strip_prefix(&format!("{name}: "))).unwrap_or_default().trim().to_owned()
}

fn decode_qp(s: &str) -> String {
    let joined = s.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(v) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl SmtpSink {
    /// Start aiosmtpd on a free port, or `None` after reporting a skip.
    pub fn start() -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let dir = tempfile::tempdir().ok()?;
        let maildir = dir.path().join("mail");
        let python = std::env::var("TIER0_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let child = Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(_) => {
                crate::skip("python3 not found for the SMTP sink");
                return None;
            }
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(Self { port, dir, child });
            }
            if let Ok(Some(_)) = child.try_wait() {
                crate::skip("aiosmtpd is not installed (pip install aiosmtpd)");
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        crate::skip("aiosmtpd did not start");
        None
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("mail")
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Mail> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(rd) = std::fs::read_dir(self.maildir().join(sub)) {
                let mut files: Vec<_> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
                files.sort_by_key(|f| arrival(f));
                for f in files {
                    if let Ok(raw) = std::fs::read_to_string(&f) {
                        out.push(Mail { raw });
                    }
                }
            }
        }
        out
    }

    /// Wait until a message to `to` arrives (up to `secs`).
    pub async fn wait_for(&self, to: &str, secs: u64) -> Option<Mail> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if let Some(m) = self.messages().into_iter().find(|m| m.to().contains(to)) {
                return Some(m);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// When a maildir file arrived. Python's `mailbox.Maildir` names it
/// `SECONDS.M<microseconds>P<pid>Q<count>.<host>` without zero padding, so
/// sorting names as text puts two messages of one second in the wrong order
/// whenever their microseconds have different numbers of digits.
fn arrival(path: &std::path::Path) -> (u64, u64, u64, String) {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
    let mut parts = name.splitn(3, '.');
    let secs = parts.next().and_then(|s| s.parse().ok()).unwrap_or(u64::MAX);
    let uniq = parts.next().unwrap_or_default();
    let field = |tag: char| -> u64 {
        uniq.split_once(tag)
            .map(|(_, rest)| rest.chars().take_while(char::is_ascii_digit).collect::<String>())
            .and_then(|d| d.parse().ok())
            .unwrap_or(u64::MAX)
    };
    (secs, field('M'), field('Q'), name)
}

#[cfg(test)]
mod arrival_tests {
    #[test]
    fn maildir_names_sort_by_time() {
        let p = |s: &str| super::arrival(std::path::Path::new(s));
        assert!(p("1733280000.M99999P7Q1.host") < p("1733280000.M100000P7Q2.host"));
        assert!(p("1733280000.M999999P7Q3.host") < p("1733280001.M5P7Q4.host"));
    }
}
