//! `sync-server`: the command line. `seed` writes demo tenants into a database file;
//! `serve` runs the HTTP server. All logic lives in the library.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use sync_core::protocol::cursor::CursorCodec;
use sync_server::seed::{reseed_tenant, TenantSpec, TenantSummary};
use sync_server::startup::{resolve_admin, resolve_cursor_key, CursorKeyChoice, CursorKeyInput};
use sync_server::{cursor_key, serve, ApiError, AppState, Db, ServerOptions};

#[derive(Parser)]
#[command(
    name = "sync-server",
    version,
    about = "Reference sync server for sync-core"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write deterministic demo tenants (tnt_demo, tnt_t2, …), replacing existing ones.
    Seed(SeedArgs),
    /// Serve the sync contract over HTTP.
    Serve(ServeArgs),
}

#[derive(Args)]
struct SeedArgs {
    /// SQLite file, or a PostgreSQL URL (`postgres://user@host:port/database`).
    #[arg(long, env = "SYNC_DATABASE_URL", hide_env_values = true)]
    db: String,
    #[arg(long, default_value_t = 1)]
    tenants: usize,
    #[arg(long, default_value_t = TenantSpec::default().users)]
    users: usize,
    #[arg(long, default_value_t = TenantSpec::default().dashboards)]
    dashboards: usize,
    #[arg(long, default_value_t = TenantSpec::default().widgets_per_dashboard)]
    widgets_per_dashboard: usize,
    #[arg(long, default_value_t = TenantSpec::default().snapshots_per_widget)]
    snapshots_per_widget: usize,
    #[arg(long, default_value_t = TenantSpec::default().alerts)]
    alerts: usize,
    #[arg(long, default_value_t = TenantSpec::default().queries)]
    queries: usize,
    #[arg(long, default_value_t = TenantSpec::default().seed)]
    seed: u64,
}

#[derive(Args)]
struct ServeArgs {
    /// SQLite file, `:memory:`, or a PostgreSQL URL (`postgres://user@host:port/database`):
    /// any number of `serve` processes may share one PostgreSQL database.
    #[arg(long, env = "SYNC_DATABASE_URL", hide_env_values = true)]
    db: String,
    /// Connections this process opens to PostgreSQL at most.
    #[arg(long, env = "SYNC_DB_POOL_SIZE", default_value_t = sync_server::db::DEFAULT_POOL_SIZE)]
    db_pool_size: usize,
    #[arg(long)]
    port: u16,
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Enable the admin API (loopback `--host` only; needs the admin token).
    #[arg(long)]
    admin: bool,
    /// The admin API's bearer token (at least 16 characters); generated and printed if absent.
    #[arg(long, env = "SYNC_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// An Origin allowed to call the admin API from a browser (`http://host:port`, or
    /// `http://host:*` for any port). Repeatable. The server's own origin is always allowed.
    #[arg(long)]
    admin_allow_origin: Vec<String>,
    /// Seed the default demo tenant when the database has no tenant.
    #[arg(long)]
    seed_demo: bool,
    #[arg(long, env = "SYNC_CURSOR_KEY", hide_env_values = true)]
    cursor_key: Option<String>,
    /// A file holding the cursor key (trailing newline ignored).
    #[arg(long)]
    cursor_key_file: Option<PathBuf>,
    /// Sign cursors with the published development key (anyone can forge cursors).
    #[arg(long)]
    insecure_dev_cursor_key: bool,
    #[arg(long, env = "SYNC_PREVIOUS_CURSOR_KEY", hide_env_values = true)]
    previous_cursor_key: Option<String>,
    /// Simulated time runs this many times faster (snapshot cadences, alert ageing).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Do not run the snapshot generator.
    #[arg(long)]
    no_generator: bool,
}

fn print_summary(s: &TenantSummary) {
    let counts: Vec<String> = s.counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    println!(
        "seeded {} ({}): {}; log position {}",
        s.tenant_id,
        s.name,
        counts.join(", "),
        s.last_position
    );
    for u in &s.users {
        println!("  {:<12} {:<18} token {}", u.user_id, u.role, u.token);
    }
}

fn now_ms() -> i64 {
    sync_server::clock::SimClock::new(1.0).now_ms()
}

fn seed(args: SeedArgs) -> Result<(), ApiError> {
    let db = Db::open(&args.db)?;
    for i in 0..args.tenants.max(1) {
        let spec = TenantSpec {
            tenant_id: if i == 0 {
                "tnt_demo".into()
            } else {
                format!("tnt_t{}", i + 1)
            },
            users: args.users,
            dashboards: args.dashboards,
            widgets_per_dashboard: args.widgets_per_dashboard,
            snapshots_per_widget: args.snapshots_per_widget,
            alerts: args.alerts,
            queries: args.queries,
            seed: args.seed,
        };
        let summary = db.with(|conn| reseed_tenant(conn, &spec, now_ms()))?;
        print_summary(&summary);
    }
    println!("(re-seeding replaces these tenants; devices holding old cursors reset and refill)");
    Ok(())
}

async fn run_server(args: ServeArgs) -> Result<(), ApiError> {
    let startup = |e: sync_server::startup::StartupError| ApiError::Internal(e.to_string());
    let key = resolve_cursor_key(&CursorKeyInput {
        key: args.cursor_key.as_deref(),
        key_file: args.cursor_key_file.as_deref(),
        insecure_dev: args.insecure_dev_cursor_key,
    })
    .map_err(startup)?;
    if key == CursorKeyChoice::InsecureDev {
        tracing::warn!(
            "INSECURE: --insecure-dev-cursor-key signs cursors with the PUBLISHED development \
             key; anyone can forge cursors. Never use it outside local development."
        );
    }
    let admin = resolve_admin(
        args.admin,
        &args.host,
        args.admin_token.as_deref(),
        &args.admin_allow_origin,
    )
    .map_err(startup)?;
    let db = Db::open_with_pool(&args.db, args.db_pool_size)?;
    if args.seed_demo {
        let empty = db.with(|conn| {
            Ok(conn
                .query_one("SELECT COUNT(*) FROM tenants", &[])?
                .u64(0)?
                == 0)
        })?;
        if empty {
            let summary = db.with(|conn| reseed_tenant(conn, &TenantSpec::default(), now_ms()))?;
            print_summary(&summary);
        }
    }
    let codec = CursorCodec::new(
        cursor_key(key.secret()),
        args.previous_cursor_key.as_deref().map(cursor_key),
    );
    if let Some(admin) = &admin {
        match &admin.generated_token {
            Some(token) => println!("admin API on (loopback only), token: {token}"),
            None => {
                println!("admin API on (loopback only), token from --admin-token/SYNC_ADMIN_TOKEN")
            }
        }
    }
    let options = ServerOptions {
        admin: admin.map(|a| a.access),
        codec,
        time_scale: args.time_scale,
        generator: !args.no_generator,
    };
    let (state, wake) = AppState::new(db, options);
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
        .await
        .map_err(|e| {
            ApiError::Internal(format!("cannot listen on {}:{}: {e}", args.host, args.port))
        })?;
    serve(listener, state, wake)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Seed(args) => seed(args),
        Command::Serve(args) => match tokio::runtime::Runtime::new() {
            Ok(rt) => rt.block_on(run_server(args)),
            Err(e) => Err(ApiError::Internal(format!("cannot start the runtime: {e}"))),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sync-server: {e}");
            ExitCode::FAILURE
        }
    }
}
