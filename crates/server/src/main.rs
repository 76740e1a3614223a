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
        Command::Notify(args) => innoreport_server::notify::command(&config, args),
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
    let progress = DemoProgress::new(started);
    let done = innoreport_service::demo::generate(
        &store,
        &catalog,
        province,
        args.years,
        args.seed,
        chrono::Utc::now(),
        usize::from(args.jobs),
        &|p| progress.show(p),
    )?;
    progress.finish();
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

/// The demo's progress: a bar with its ETA on a terminal; otherwise a plain line at each tenth
/// of the communes, with the rate of that tenth (so a slowdown as the tables grow shows).
struct DemoProgress {
    bar: Option<indicatif::ProgressBar>,
    started: std::time::Instant,
    /// The last tenth printed, the reports and the instant then.
    tenth: std::sync::Mutex<(usize, usize, std::time::Instant)>,
}

impl DemoProgress {
    fn new(started: std::time::Instant) -> DemoProgress {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} communes, {msg} [{elapsed_precise}, ETA {eta}]",
                )
                .expect("a valid template"),
            );
            bar
        });
        DemoProgress {
            bar,
            started,
            tenth: std::sync::Mutex::new((0, 0, started)),
        }
    }

    fn show(&self, p: innoreport_service::demo::Progress) {
        if let Some(bar) = &self.bar {
            bar.set_length(p.communes as u64);
            bar.set_position(p.communes_done as u64);
            bar.set_message(format!("{} reports", p.reports));
            return;
        }
        let tenth = p.communes_done * 10 / p.communes.max(1);
        let mut last = self.tenth.lock().unwrap_or_else(|e| e.into_inner());
        if tenth > last.0 {
            let now = std::time::Instant::now();
            let rate = (p.reports - last.1) as f64 / (now - last.2).as_secs_f64().max(1e-9);
            eprintln!(
                "demo: {}% of communes ({} of {}), {} reports in {:.1} s; {rate:.0} reports/s in this tenth",
                tenth * 10,
                p.communes_done,
                p.communes,
                p.reports,
                self.started.elapsed().as_secs_f64()
            );
            *last = (tenth, p.reports, now);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
