use std::io::BufRead;

use clap::Parser;
use innoreport_core::{CommuneCode, Principal, ProvinceCode, Role};
use innoreport_server::startup::{
    Application, bootstrap_admin, init_tracing, prepare_store, token_keys,
};
use innoreport_server::{Cli, Command, Config, TokenArgs, UserCommand};

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
        Command::Token(args) => mint_token(&config, args),
        Command::User(UserCommand::Create {
            username,
            role,
            province,
            commune,
            password_stdin,
        }) => create_user(&config, username, role, province, commune, password_stdin),
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
        if let Some(password) = bootstrap_admin(&store)? {
            tracing::warn!("no logins existed: created the login 'admin'; its password is printed once on stderr");
            eprintln!("\n  innoreport: first start. Sign in as  admin / {password}\n  (change it by creating your own admin and disabling this one)\n");
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

fn mint_token(config: &Config, args: TokenArgs) -> Result<(), Failure> {
    let store = prepare_store(config)?;
    let role: Role = args.role.parse()?;
    let commune = args
        .commune
        .as_deref()
        .map(CommuneCode::parse)
        .transpose()?;
    let mut province = args
        .province
        .as_deref()
        .map(ProvinceCode::parse)
        .transpose()?;
    if let Some(c) = &commune {
        let mut conn = store.conn()?;
        let of_commune = innoreport_store::reference::commune_province(&mut conn, c.as_str())?
            .ok_or_else(|| format!("there is no commune {c}"))?;
        match &province {
            Some(p) if p.as_str() != of_commune => {
                return Err(format!("commune {c} is in province {of_commune}, not {p}").into());
            }
            Some(_) => {}
            None => province = Some(ProvinceCode::parse(&of_commune)?),
        }
    }
    let principal = Principal {
        subject: args.sub,
        role,
        province,
        commune,
    };
    principal.check_shape()?;
    let keys = token_keys(config, &store)?;
    println!("{}", keys.mint(&principal, args.ttl));
    Ok(())
}

fn create_user(
    config: &Config,
    username: String,
    role: String,
    province: Option<String>,
    commune: Option<String>,
    password_stdin: bool,
) -> Result<(), Failure> {
    let store = prepare_store(config)?;
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Some(line.trim_end_matches(['\r', '\n']).to_owned())
    } else {
        None
    };
    let account = innoreport_service::accounts::NewAccount {
        username,
        role: Some(role.parse()?),
        province,
        commune,
        password,
        display_name: String::new(),
    };
    let mut conn = store.conn()?;
    match innoreport_service::accounts::create_account(
        &mut conn,
        account,
        "innoreport user create (command line)",
        chrono::Utc::now(),
    ) {
        Ok(created) => {
            println!(
                "created {} ({}{}{})",
                created.username,
                created.role,
                created
                    .province
                    .as_deref()
                    .map(|p| format!(", province {p}"))
                    .unwrap_or_default(),
                created
                    .commune
                    .as_deref()
                    .map(|c| format!(", commune {c}"))
                    .unwrap_or_default()
            );
            if let Some(p) = created.generated_password {
                println!("password: {p}");
            }
            Ok(())
        }
        Err(innoreport_service::ServiceError::Invalid { issues, .. }) => Err(issues
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ")
            .into()),
        Err(e) => Err(e.chain().into()),
    }
}
