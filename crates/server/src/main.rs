use clap::Parser;
use innoreport_server::startup::{Application, init_tracing, prepare_store};
use innoreport_server::{Cli, Command, Config};

/// mimalloc returns freed memory to the system (glibc's malloc kept the live view's load-time
/// garbage resident) and serves the aggregator's many small allocations faster.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Failure = Box<dyn std::error::Error>;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = cli.config;
    if let Some(Command::Openapi) = cli.command {
        print!("{}", innoreport_api::openapi_json());
        return std::process::ExitCode::SUCCESS;
    }
    init_tracing(config.log_format);
    let result: Result<(), Failure> = match cli.command.unwrap_or(Command::Serve) {
        Command::Migrate => innoreport_store::Store::open(&config.database_url, 1)
            .and_then(|s| s.migrate())
            .map(|applied| tracing::info!(?applied, "migrations up to date"))
            .map_err(Into::into),
        Command::Seed => prepare_store(&Config {
            load_reference_data: false,
            ..config.clone()
        })
        .and_then(|s| s.seed().map_err(Into::into))
        .map(|seeded| tracing::info!(?seeded, "reference data loaded"))
        .map_err(Into::into),
        Command::Token(args) => innoreport_server::cli::mint_token(&config, args),
        Command::User(command) => innoreport_server::cli::user(&config, command),
        Command::Demo(args) => demo(&config, args),
        Command::Serve => serve(config),
        Command::Openapi => unreachable!("handled above"),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "innoreport failed");
            eprintln!("innoreport: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn serve(config: Config) -> Result<(), Failure> {
    actix_web::rt::System::new().block_on(async move {
        let store = prepare_store(&config)?;
        let first = innoreport_service::Service::new(
            store.clone(),
            innoreport_service::Clock::system(),
            innoreport_service::Options::default(),
        );
        if let Some(password) = first.bootstrap_admin().map_err(|e| e.chain())? {
            tracing::warn!("no logins existed: created the login 'admin'; its password is printed once on stderr");
            eprintln!(
                "\n  innoreport: first start. Sign in as  admin / {password}\n  \
                 Replace this login: `innoreport user create --username <you> --role admin`,\n  \
                 then `innoreport user disable admin` (same database: DATABASE_URL or --database-url)\n"
            );
        }
        let app = Application::with_store(&config, store)?;
        tracing::info!(
            address = %config.bind,
            port = app.port(),
            database = %innoreport_store::Backend::from_url(&config.database_url).name(),
            "innoreport listening; API docs at /docs/"
        );
        app.run_until_stopped().await?;
        tracing::info!("innoreport stopped");
        Ok(())
    })
}

fn demo(config: &Config, args: innoreport_server::DemoArgs) -> Result<(), Failure> {
    let store = prepare_store(config)?;
    let catalog = innoreport_store::reference::load_catalog(&mut *store.conn()?)?;
    let national = args.national || args.scale == "national";
    let province = (!national).then_some(args.province.as_str());
    if let Some(p) = province
        && innoreport_store::reference::get_province(&mut *store.conn()?, p)?.is_none()
    {
        return Err(format!("there is no province {p:?}").into());
    }
    let started = std::time::Instant::now();
    let done = innoreport_service::demo::generate(
        &store,
        &catalog,
        province,
        args.years,
        args.seed,
        chrono::Utc::now(),
        usize::from(args.jobs),
    )?;
    println!(
        "demo: {} communes, {} reports stored, {} corrected, {} already there, {} left missing, \
         in {:.1} s",
        done.communes,
        done.reports,
        done.corrections,
        done.unchanged,
        done.skipped,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
