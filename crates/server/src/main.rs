use clap::Parser;
use innoreport_server::startup::{Application, init_tracing, prepare_store};
use innoreport_server::{Cli, Command};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = cli.config;
    if let Some(Command::Openapi) = cli.command {
        print!("{}", innoreport_api::openapi_json());
        return std::process::ExitCode::SUCCESS;
    }
    init_tracing(config.log_format);
    let result: Result<(), Box<dyn std::error::Error>> = match cli.command.unwrap_or(Command::Serve)
    {
        Command::Migrate => innoreport_store::Store::open(&config.database_url, 1)
            .and_then(|s| s.migrate())
            .map(|applied| tracing::info!(?applied, "migrations up to date"))
            .map_err(Into::into),
        Command::Seed => prepare_store(&innoreport_server::Config {
            seed: false,
            ..config.clone()
        })
        .and_then(|s| s.seed().map_err(Into::into))
        .map(|seeded| tracing::info!(?seeded, "reference data loaded"))
        .map_err(Into::into),
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

fn serve(config: innoreport_server::Config) -> Result<(), Box<dyn std::error::Error>> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(&config)?;
        tracing::info!(
            address = %config.bind,
            port = app.port(),
            database = %innoreport_store::Backend::from_url(&config.database_url).name(),
            "innoreport listening; API docs at /docs"
        );
        app.run_until_stopped().await?;
        tracing::info!("innoreport stopped");
        Ok(())
    })
}
