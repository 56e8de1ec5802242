//! The `tier0` subcommands.

use crate::config::{
    Cli, Command, Common, FileConfig, LogFormat, ServeSettings, TenantCommand, load_file, unknown_env_vars,
};
use crate::{StartOptions, open_store, start};
use anyhow::{Context, bail};
use std::path::Path;
use std::process::ExitCode;
use tier0_app::{App, AppConfig};
use tier0_store::DatabaseUrl;

/// Run the parsed command line; errors are printed by the caller.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let file = load_file(cli.global.config.as_deref())?;
    let common = Common::resolve(&cli.global, &file)?;
    init_logging(common.log_format, &common.log_level);
    for var in unknown_env_vars(std::env::vars().map(|(k, _)| k)) {
        tracing::warn!(variable = %var, "unknown TIER0_* environment variable ignored (typo?)");
    }
    match cli.command {
        Command::Serve(args) => serve(&common, ServeSettings::resolve(&args, &file)?).await,
        Command::Tenant { command } => tenant(&common, &file, command).await,
        Command::Backup { file: dest } => backup(&common, &dest).await,
        Command::Restore { file: src } => restore(&common, &src).await,
        Command::Check => check(&common).await,
        Command::Reindex { no_verify } => reindex(&common, &file, !no_verify).await,
    }
}

fn init_logging(format: LogFormat, level: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

async fn serve(common: &Common, settings: ServeSettings) -> anyhow::Result<ExitCode> {
    // Listen for SIGTERM before anything is announced, so a signal sent as
    // soon as the URL is printed still drains instead of killing.
    let signal = Shutdown::install()?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(database = %common.database, listen = %addr, "starting");
    let running = start(StartOptions::new(settings.clone(), common.database.clone()), listener).await?;
    let url = running.app.tenant_url("default");
    println!();
    println!("  Tier0 is running at {url}");
    println!("  Database: {}", common.database);
    if let Some(invite) = &running.first_invite {
        println!("  First start: create the administrator account at");
        println!("    {invite}");
        println!("  (or POST /api/auth/register while the organisation has no users)");
    }
    if let Some(demo) = &running.demo {
        print_demo(demo);
    }
    println!();
    let stop = running.shutdown_signal();
    tokio::spawn(async move {
        signal.wait().await;
        tracing::info!("shutdown signal received");
        let _ = stop.send(true);
    });
    running.wait().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// The demo sign-ins (or why there are none), under the URL.
fn print_demo(outcome: &tier0_app::demo::DemoOutcome) {
    use tier0_app::demo::DemoOutcome;
    match outcome {
        DemoOutcome::Seeded { summary, .. } => println!(
            "  Demo data added: {} people, {} catalog items in {} categories, {} knowledge articles, {} requests.",
            summary.users, summary.catalog_items, summary.categories, summary.articles, summary.requests
        ),
        DemoOutcome::AlreadySeeded { .. } => {
            println!("  Demo data: already added on an earlier start (nothing changed).")
        }
        DemoOutcome::NotAdded { reason } => {
            println!("  Demo data was not added: {reason}.");
            println!("  (--demo only fills an organisation that has no accounts yet; try it on an empty database.)");
        }
    }
    let rows = outcome.sign_ins();
    if rows.is_empty() {
        return;
    }
    let headers = ["ROLE", "NAME", "E-MAIL", "PASSWORD"];
    let cells: Vec<[&str; 4]> =
        rows.iter().map(|r| [r.label.as_str(), r.name.as_str(), r.email.as_str(), r.password.as_str()]).collect();
    let width = |i: usize| cells.iter().map(|c| c[i].chars().count()).chain([headers[i].len()]).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    println!("  Sign in as:");
    println!("    {:<w0$}  {:<w1$}  {:<w2$}  {}", headers[0], headers[1], headers[2], headers[3]);
    for c in &cells {
        println!("    {:<w0$}  {:<w1$}  {:<w2$}  {}", c[0], c[1], c[2], c[3]);
    }
}

/// SIGTERM or Ctrl-C.
struct Shutdown {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Shutdown {
    fn install() -> anyhow::Result<Self> {
        Ok(Self {
            #[cfg(unix)]
            term: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .context("cannot install the SIGTERM handler")?,
        })
    }

    async fn wait(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

async fn cli_app(common: &Common, file: &FileConfig) -> anyhow::Result<App> {
    let store = open_store(&common.database, 4).await?;
    let base_domain = file
        .base_domain
        .clone()
        .or_else(|| std::env::var("TIER0_BASE_DOMAIN").ok())
        .unwrap_or_else(|| "localhost".into());
    let public = file
        .public_url
        .clone()
        .or_else(|| std::env::var("TIER0_PUBLIC_URL").ok())
        .and_then(|u| url::Url::parse(&u).ok())
        .unwrap_or_else(|| {
            crate::default_public_url(file.listen.unwrap_or_else(|| ([127, 0, 0, 1], 8080).into()), &base_domain)
        });
    let app = App::new(
        store,
        AppConfig::new(public, base_domain),
        std::sync::Arc::new(tier0_app::system::SystemClock),
        std::sync::Arc::new(tier0_app::system::SystemRandom),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(app)
}

async fn tenant(common: &Common, file: &FileConfig, cmd: TenantCommand) -> anyhow::Result<ExitCode> {
    let app = cli_app(common, file).await?;
    match cmd {
        TenantCommand::Create { slug, name } => match app.create_tenant(&slug, &name).await {
            Ok((t, url)) => {
                println!("Created tenant {} ({}) at {}", t.slug, t.name, app.tenant_url(&t.slug));
                println!("One-time admin invite (valid 72 hours, single use):");
                println!("{url}");
            }
            Err(tier0_app::AppError::Validation(v)) => {
                let (field, msg) = v.fields.into_iter().next().unwrap_or_default();
                bail!("{field} {msg}");
            }
            Err(e) => bail!("{e}"),
        },
        TenantCommand::List => {
            let tenants = app.list_tenants().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{:<24} {:<32} {:<26} URL", "SLUG", "NAME", "CREATED");
            for t in tenants {
                println!("{:<24} {:<32} {:<26} {}", t.slug, t.name, t.created_at, app.tenant_url(&t.slug));
            }
        }
    }
    app.store().db().close().await;
    Ok(ExitCode::SUCCESS)
}

fn progress_bar(what: &str) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg:10} [{bar:40}] {pos}/{len} ({per_sec}, {elapsed} elapsed, ETA {eta})",
    ) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(what.to_owned());
    pb
}

fn rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = s.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// `tier0 reindex`: build an index of every article and known error the
/// way a server does at start, report how long it took and how much memory
/// it needs, and verify it. Running servers are not touched: each keeps its
/// own index in memory and refreshes it from the database's change feed.
async fn reindex(common: &Common, file: &FileConfig, verify: bool) -> anyhow::Result<ExitCode> {
    let app = cli_app(common, file).await?;
    let rss_before = rss_mib();
    let index = tier0_search::SearchIndex::new(tier0_search::IndexOptions {
        writer_memory_bytes: 200_000_000,
        cache_entries: 0,
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let pb = progress_bar("indexing");
    let started = std::time::Instant::now();
    let stats = app
        .kb_build_index(&index, &|done, total| {
            pb.set_length(total);
            pb.set_position(done);
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    pb.finish_and_clear();
    let took = started.elapsed();
    let docs = stats.articles + stats.known_errors;
    println!(
        "Indexed {} articles and {} known errors in {:.2} s ({:.0} records/s): reading {:.2} s, indexing {:.2} s, commit and merge {:.2} s",
        stats.articles,
        stats.known_errors,
        took.as_secs_f64(),
        docs as f64 / took.as_secs_f64().max(1e-9),
        stats.load.as_secs_f64(),
        stats.index.as_secs_f64(),
        stats.commit.as_secs_f64()
    );
    if let (Some(before), Some(after)) = (rss_before, rss_mib()) {
        println!("Memory (RSS): {before:.0} MiB before, {after:.0} MiB with the index");
    }
    let mut code = ExitCode::SUCCESS;
    if verify {
        let pb = progress_bar("verifying");
        let started = std::time::Instant::now();
        let report = app
            .kb_verify_index(&index, &|done, total| {
                pb.set_length(total);
                pb.set_position(done);
            })
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        pb.finish_and_clear();
        let secs = started.elapsed().as_secs_f64();
        println!(
            "Verified {} records ({} found by searching for their number) in {:.2} s ({:.3} ms per search)",
            report.checked,
            report.searched,
            secs,
            secs * 1000.0 / report.searched.max(1) as f64
        );
        if report.problems.is_empty() {
            println!("The index matches the database.");
        } else {
            for p in report.problems.iter().take(50) {
                println!("  problem: {p}");
            }
            println!("{} problems found.", report.problems.len());
            code = ExitCode::FAILURE;
        }
    }
    app.store().db().close().await;
    Ok(code)
}

async fn check(common: &Common) -> anyhow::Result<ExitCode> {
    if let DatabaseUrl::Sqlite(path) = &common.database
        && !path.exists()
    {
        bail!("no database at {}; nothing to check", path.display());
    }
    let store = open_store(&common.database, 2).await?;
    let problems = store.global_integrity_check().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    store.db().close().await;
    if problems.is_empty() {
        println!("Database {}: ok", common.database);
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("Database {}: {} problem(s)", common.database, problems.len());
    for p in &problems {
        eprintln!("  {p}");
    }
    Ok(ExitCode::FAILURE)
}

async fn backup(common: &Common, dest: &Path) -> anyhow::Result<ExitCode> {
    match &common.database {
        DatabaseUrl::Sqlite(path) => {
            if !path.exists() {
                bail!("no database at {}; nothing to back up", path.display());
            }
            let store = open_store(&common.database, 2).await?;
            tier0_store::backup::sqlite_backup(store.db(), dest).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            store.db().close().await;
            println!("Backup written to {}", dest.display());
            Ok(ExitCode::SUCCESS)
        }
        DatabaseUrl::Postgres(url) => {
            pg_tool("pg_dump", &["--format=custom", "--no-owner", "--file"], dest, url, common)
        }
    }
}

async fn restore(common: &Common, src: &Path) -> anyhow::Result<ExitCode> {
    match &common.database {
        DatabaseUrl::Sqlite(path) => {
            tier0_store::backup::sqlite_restore(src, path).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            // Open once so migrations of a newer binary apply now, not at serve.
            let store = open_store(&common.database, 2).await?;
            store.db().close().await;
            println!("Restored {} into {}", src.display(), path.display());
            Ok(ExitCode::SUCCESS)
        }
        DatabaseUrl::Postgres(url) => {
            let store = open_store(&common.database, 2).await;
            if let Ok(store) = &store
                && !store.global_list_tenants().await.map_err(|e| anyhow::anyhow!("{e}"))?.is_empty()
            {
                bail!("the target PostgreSQL database is not empty; restore into an empty database");
            }
            drop(store);
            pg_tool("pg_restore", &["--no-owner", "--clean", "--if-exists", "--single-transaction"], src, url, common)
        }
    }
}

/// Delegate to PostgreSQL's own tools. The password travels in PGPASSWORD,
/// never on the command line.
fn pg_tool(tool: &str, args: &[&str], file: &Path, url: &str, common: &Common) -> anyhow::Result<ExitCode> {
    let parsed = url::Url::parse(url).context("invalid PostgreSQL URL")?;
    let mut clean = parsed.clone();
    let _ = clean.set_password(None);
    let mut cmd = std::process::Command::new(tool);
    cmd.args(args);
    if tool == "pg_dump" {
        cmd.arg(file).arg("--dbname").arg(clean.as_str());
    } else {
        cmd.arg("--dbname").arg(clean.as_str()).arg(file);
    }
    if let Some(pw) = parsed.password() {
        let pw = percent_encoding::percent_decode_str(pw).decode_utf8_lossy().into_owned();
        cmd.env("PGPASSWORD", pw);
    }
    let status = match cmd.status() {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "{tool} is not installed. For PostgreSQL, back up and restore with PostgreSQL's own tools: \
             `pg_dump --format=custom --file FILE <database>` and `pg_restore --dbname <empty database> FILE` \
             (install the postgresql-client package)"
        ),
        Err(e) => bail!("cannot run {tool}: {e}"),
    };
    if !status.success() {
        bail!("{tool} failed ({status}) for {}", common.database);
    }
    println!("{} {} ({})", if tool == "pg_dump" { "Backup written to" } else { "Restored from" }, file.display(), tool);
    Ok(ExitCode::SUCCESS)
}
