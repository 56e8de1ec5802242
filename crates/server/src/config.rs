//! Configuration: defaults < config file (`--config`, TOML) < `TIER0_*`
//! environment < command-line flags. Secrets may also come from files
//! (`TIER0_DATABASE_URL_FILE`, `TIER0_DATABASE_PASSWORD_FILE`,
//! `TIER0_SMTP_URL_FILE`). Unknown `TIER0_*` variables are warned about.
//! The database password never appears in logs or errors.

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use tier0_store::DatabaseUrl;

#[derive(Debug, Parser)]
#[command(name = "tier0", version, about = "Tier0 IT service desk", propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// TOML configuration file.
    #[arg(long, global = true, env = "TIER0_CONFIG")]
    pub config: Option<PathBuf>,
    /// Directory of the embedded database [default: ./tier0-data].
    #[arg(long, global = true, env = "TIER0_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite://FILE or postgres://USER@HOST/DB [default: SQLite in the data dir].
    #[arg(long, global = true, env = "TIER0_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Log format [default: text].
    #[arg(long, global = true, env = "TIER0_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
    /// Log filter, e.g. `info` or `tier0=debug` [default: info].
    #[arg(long, global = true, env = "TIER0_LOG")]
    pub log_level: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Write a consistent copy of the running database to FILE.
    Backup { file: PathBuf },
    /// Restore FILE into an empty data directory (or empty PostgreSQL database).
    Restore { file: PathBuf },
    /// Check the database: the engine's integrity check plus Tier0's own
    /// invariants (gap-free human numbers). Exits non-zero on a problem.
    Check,
    /// Build the knowledge search index from the database in this process
    /// and verify it (a check and timing tool: each running server keeps its
    /// own index and refreshes it by itself).
    Reindex {
        /// Skip the verification pass.
        #[arg(long)]
        no_verify: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and print a one-time admin invite URL.
    Create {
        slug: String,
        #[arg(long)]
        name: String,
    },
    /// List tenants.
    List,
}

#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "TIER0_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Tenants are served at <slug>.<base-domain> [default: localhost].
    #[arg(long, env = "TIER0_BASE_DOMAIN")]
    pub base_domain: Option<String>,
    /// Public URL of the default tenant; links in e-mails use it [default: http://localhost:<port>].
    #[arg(long, env = "TIER0_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// smtp://[user:pass@]host:port (or smtps://); without it links are shown instead of mailed.
    #[arg(long, env = "TIER0_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender of outgoing mail [default: Tier0 <tier0@localhost>].
    #[arg(long, env = "TIER0_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// Comma-separated proxy addresses whose X-Forwarded-For is trusted.
    #[arg(long, env = "TIER0_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Option<Vec<IpAddr>>,
    /// Let anonymous visitors read (GET) as a read-only guest. Demo use only.
    #[arg(long, env = "TIER0_SHARED_ANONYMOUS_ACCESS", value_parser = parse_bool, num_args = 0..=1, default_missing_value = "true")]
    pub shared_anonymous_access: Option<bool>,
    /// Maximum database connections [default: 16].
    #[arg(long, env = "TIER0_MAX_CONNECTIONS")]
    pub max_connections: Option<u32>,
    /// Seconds a client may take to send request headers [default: 10].
    #[arg(long, env = "TIER0_HEADER_TIMEOUT_SECS")]
    pub header_timeout_secs: Option<u64>,
    /// Fill the default organisation with demo data (people for every role,
    /// catalog, knowledge base, status page, requests) on first start, and
    /// print the demo sign-ins.
    #[arg(long, env = "TIER0_DEMO", value_parser = parse_bool, num_args = 0..=1, default_missing_value = "true")]
    pub demo: Option<bool>,
}

fn parse_bool(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        other => Err(format!("expected true or false, got {other:?}")),
    }
}

/// The config file: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub log_format: Option<LogFormat>,
    pub log_level: Option<String>,
    pub listen: Option<SocketAddr>,
    pub base_domain: Option<String>,
    pub public_url: Option<String>,
    pub smtp_url: Option<String>,
    pub mail_from: Option<String>,
    pub trusted_proxies: Option<Vec<IpAddr>>,
    pub shared_anonymous_access: Option<bool>,
    pub max_connections: Option<u32>,
    pub header_timeout_secs: Option<u64>,
    pub demo: Option<bool>,
}

/// Every `TIER0_*` variable the binary reads.
pub const KNOWN_ENV: &[&str] = &[
    "TIER0_CONFIG",
    "TIER0_DATA_DIR",
    "TIER0_DATABASE_URL",
    "TIER0_DATABASE_URL_FILE",
    "TIER0_DATABASE_PASSWORD",
    "TIER0_DATABASE_PASSWORD_FILE",
    "TIER0_LOG_FORMAT",
    "TIER0_LOG",
    "TIER0_LISTEN",
    "TIER0_BASE_DOMAIN",
    "TIER0_PUBLIC_URL",
    "TIER0_SMTP_URL",
    "TIER0_SMTP_URL_FILE",
    "TIER0_MAIL_FROM",
    "TIER0_TRUSTED_PROXIES",
    "TIER0_SHARED_ANONYMOUS_ACCESS",
    "TIER0_MAX_CONNECTIONS",
    "TIER0_HEADER_TIMEOUT_SECS",
    "TIER0_DEMO",
];

/// `TIER0_*` variables that nothing reads (typos, removed settings).
/// `TIER0_TEST_*` belong to the test suite and are ignored.
pub fn unknown_env_vars(vars: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = vars
        .filter(|k| k.starts_with("TIER0_") && !k.starts_with("TIER0_TEST_") && !KNOWN_ENV.contains(&k.as_str()))
        .collect();
    out.sort();
    out
}

/// Settings shared by every subcommand.
#[derive(Debug, Clone)]
pub struct Common {
    pub data_dir: PathBuf,
    pub database: DatabaseUrl,
    pub log_format: LogFormat,
    pub log_level: String,
}

/// Settings of `tier0 serve`.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    pub listen: SocketAddr,
    pub base_domain: String,
    pub public_url: Option<url::Url>,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub trusted_proxies: Vec<IpAddr>,
    pub anonymous_read: bool,
    pub max_connections: u32,
    pub header_timeout: std::time::Duration,
    /// `--demo`: seed the default organisation on first start.
    pub demo: bool,
}

/// Read a secret from `<VAR>_FILE` if set (trailing newline removed).
fn secret_file(var: &str) -> anyhow::Result<Option<String>> {
    match std::env::var_os(format!("{var}_FILE")) {
        Some(path) => {
            let p = PathBuf::from(path);
            let s = std::fs::read_to_string(&p).with_context(|| format!("cannot read {var}_FILE ({})", p.display()))?;
            Ok(Some(s.trim_end_matches(['\n', '\r']).to_owned()))
        }
        None => Ok(None),
    }
}

pub fn load_file(path: Option<&Path>) -> anyhow::Result<FileConfig> {
    let Some(path) = path else { return Ok(FileConfig::default()) };
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
    // The message names the key and line, never echoing values.
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("config file {} is invalid: {}", path.display(), e.message()))
}

impl Common {
    pub fn resolve(g: &GlobalArgs, file: &FileConfig) -> anyhow::Result<Self> {
        let data_dir =
            g.data_dir.clone().or_else(|| file.data_dir.clone()).unwrap_or_else(|| PathBuf::from("./tier0-data"));
        let url = match g.database_url.clone() {
            Some(u) => Some(u),
            None => secret_file("TIER0_DATABASE_URL")?.or_else(|| file.database_url.clone()),
        };
        let mut database = match url {
            Some(u) => DatabaseUrl::parse(&u).map_err(anyhow::Error::msg)?,
            None => DatabaseUrl::sqlite_in(&data_dir),
        };
        let password = match std::env::var("TIER0_DATABASE_PASSWORD") {
            Ok(p) => Some(p),
            Err(_) => secret_file("TIER0_DATABASE_PASSWORD")?,
        };
        if let Some(p) = password {
            if database.backend() != tier0_store::Backend::Postgres {
                bail!("TIER0_DATABASE_PASSWORD is only used with a PostgreSQL database URL");
            }
            database = database.with_password(&p);
        }
        Ok(Self {
            data_dir,
            database,
            log_format: g.log_format.or(file.log_format).unwrap_or(LogFormat::Text),
            log_level: g.log_level.clone().or_else(|| file.log_level.clone()).unwrap_or_else(|| "info".into()),
        })
    }
}

impl ServeSettings {
    pub fn resolve(a: &ServeArgs, file: &FileConfig) -> anyhow::Result<Self> {
        let public_url = match a.public_url.clone().or_else(|| file.public_url.clone()) {
            Some(u) => {
                let parsed = url::Url::parse(&u).with_context(|| format!("public URL {u:?} is not a URL"))?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                    bail!("public URL must be http(s)://host[:port]");
                }
                Some(parsed)
            }
            None => None,
        };
        let smtp_url = match a.smtp_url.clone() {
            Some(u) => Some(u),
            None => secret_file("TIER0_SMTP_URL")?.or_else(|| file.smtp_url.clone()),
        };
        if let Some(u) = &smtp_url
            && !(u.starts_with("smtp://") || u.starts_with("smtps://"))
        {
            bail!("SMTP URL must start with smtp:// or smtps://");
        }
        Ok(Self {
            listen: a.listen.or(file.listen).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            base_domain: a
                .base_domain
                .clone()
                .or_else(|| file.base_domain.clone())
                .unwrap_or_else(|| "localhost".into()),
            public_url,
            smtp_url: smtp_url.filter(|s| !s.trim().is_empty()),
            mail_from: a
                .mail_from
                .clone()
                .or_else(|| file.mail_from.clone())
                .unwrap_or_else(|| "Tier0 <tier0@localhost>".into()),
            trusted_proxies: a.trusted_proxies.clone().or_else(|| file.trusted_proxies.clone()).unwrap_or_default(),
            anonymous_read: a.shared_anonymous_access.or(file.shared_anonymous_access).unwrap_or(false),
            max_connections: a.max_connections.or(file.max_connections).unwrap_or(16).clamp(1, 1000),
            header_timeout: std::time::Duration::from_secs(
                a.header_timeout_secs.or(file.header_timeout_secs).unwrap_or(10).clamp(1, 300),
            ),
            demo: a.demo.or(file.demo).unwrap_or(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_vars_are_found() {
        let vars = ["TIER0_LISTEN", "TIER0_LISTN", "PATH", "TIER0_TEST_POSTGRES_URL", "TIER0_DATABASE_URL_FILE"];
        assert_eq!(unknown_env_vars(vars.iter().map(|s| s.to_string())), vec!["TIER0_LISTN".to_string()]);
    }

    #[test]
    fn precedence_flag_over_file_over_default() {
        let file: FileConfig = toml::from_str("base_domain = \"file.example\"\nmax_connections = 7\n").unwrap();
        let s = ServeSettings::resolve(&ServeArgs::default(), &file).unwrap();
        assert_eq!(s.base_domain, "file.example");
        assert_eq!(s.max_connections, 7);
        let args = ServeArgs { base_domain: Some("flag.example".into()), ..Default::default() };
        assert_eq!(ServeSettings::resolve(&args, &file).unwrap().base_domain, "flag.example");
        assert_eq!(
            ServeSettings::resolve(&ServeArgs::default(), &FileConfig::default()).unwrap().base_domain,
            "localhost"
        );
    }

    #[test]
    fn demo_from_flag_env_or_file() {
        use clap::Parser;
        let file: FileConfig = toml::from_str("demo = true\n").unwrap();
        assert!(ServeSettings::resolve(&ServeArgs::default(), &file).unwrap().demo);
        assert!(!ServeSettings::resolve(&ServeArgs::default(), &FileConfig::default()).unwrap().demo);
        let off = ServeArgs { demo: Some(false), ..Default::default() };
        assert!(!ServeSettings::resolve(&off, &file).unwrap().demo, "the flag wins over the file");
        let cli = Cli::try_parse_from(["tier0", "serve", "--demo"]).unwrap();
        let Command::Serve(args) = cli.command else { panic!("serve") };
        assert_eq!(args.demo, Some(true));
        assert!(unknown_env_vars(["TIER0_DEMO".to_string()].into_iter()).is_empty());
    }

    #[test]
    fn file_rejects_unknown_keys() {
        assert!(toml::from_str::<FileConfig>("bogus = 1").is_err());
    }
}
