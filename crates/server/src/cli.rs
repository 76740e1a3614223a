//! The operator's commands on an existing database: `innoreport token` and `innoreport user
//! ...`. They never create a database they were only asked to read (a SQLite file that does not
//! exist is refused, naming it), say which database they use, and act through the same rules as
//! the API, as an operator with an admin's rights whose actions the change log records.

use std::io::BufRead;

use innoreport_core::{Principal, Role};
use innoreport_service::accounts::{Login, LoginChange, LoginQuery, NewAccount};
use innoreport_service::{Clock, Options, Service, ServiceError};
use innoreport_store::{Backend, Store};

use crate::config::{Config, TokenArgs, UserCommand};
use crate::startup::token_keys;

type Failure = Box<dyn std::error::Error>;

/// The database URL with any password hidden, for messages.
pub fn shown(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// The store of an existing database (migrated to this version), or why there is none.
pub fn existing_store(config: &Config) -> Result<Store, Failure> {
    let url = &config.database_url;
    if Backend::from_url(url) == Backend::Sqlite {
        let path = innoreport_store::db::sqlite_path(url);
        if !std::path::Path::new(path).exists() {
            return Err(format!(
                "there is no database at {} (from {}): start the service once there, or set \
                 DATABASE_URL / --database-url to the database the service uses",
                std::path::absolute(path)
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|_| path.to_owned()),
                if std::env::var_os("DATABASE_URL").is_some() {
                    "DATABASE_URL"
                } else {
                    "the default"
                }
            )
            .into());
        }
    }
    eprintln!("innoreport: using database {}", shown(url));
    let store = Store::open(url, 2)?;
    store.migrate()?;
    Ok(store)
}

/// The operator acting from the command line.
fn operator() -> Principal {
    let who = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    Principal {
        subject: format!("command line ({who})"),
        role: Role::Admin,
        province: None,
        commune: None,
    }
}

fn service(store: Store) -> Service {
    Service::new(store, Clock::system(), Options::default())
}

fn password_from_stdin() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn failure(e: ServiceError) -> Failure {
    match e {
        ServiceError::Invalid { issues, .. } | ServiceError::Conflict { issues, .. } => issues
            .iter()
            .map(|i| format!("{}: {}", i.field, i.message))
            .collect::<Vec<_>>()
            .join("; ")
            .into(),
        other => other.chain().into(),
    }
}

fn describe(l: &Login) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}",
        l.username,
        l.role,
        l.province.as_deref().unwrap_or("-"),
        l.commune.as_deref().unwrap_or("-"),
        if l.disabled { "disabled" } else { "enabled" },
        l.updated_at.to_rfc3339()
    )
}

/// `innoreport token`: a token signed with the server's key, for a named subject, at most 30
/// days; recorded in the change log.
pub fn mint_token(config: &Config, args: TokenArgs) -> Result<(), Failure> {
    let store = existing_store(config)?;
    let role: Role = args.role.parse()?;
    let keys = token_keys(config, &store)?;
    let service = service(store);
    let expires_at = service.now() + chrono::Duration::from_std(args.ttl).unwrap_or_default();
    let principal = service
        .operator_token(
            &operator().subject,
            &args.sub,
            role,
            args.province.as_deref(),
            args.commune.as_deref(),
            expires_at,
        )
        .map_err(failure)?;
    println!("{}", keys.mint(&principal, args.ttl));
    Ok(())
}

/// `innoreport user ...`.
pub fn user(config: &Config, command: UserCommand) -> Result<(), Failure> {
    let store = existing_store(config)?;
    let service = service(store);
    let op = operator();
    match command {
        UserCommand::Create {
            username,
            role,
            province,
            commune,
            password_stdin,
            email,
            language,
        } => {
            let password = password_stdin.then(password_from_stdin).transpose()?;
            let created = service
                .create_login(
                    &op,
                    NewAccount {
                        username,
                        role: Some(role.parse()?),
                        province,
                        commune,
                        password,
                        display_name: String::new(),
                        email,
                        language,
                    },
                )
                .map_err(failure)?;
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
        }
        UserCommand::List {
            role,
            province,
            commune,
            disabled,
        } => {
            let q = LoginQuery {
                role: role.as_deref().map(str::parse).transpose()?,
                province,
                commune,
                disabled,
            };
            let mut after = None;
            println!("username\trole\tprovince\tcommune\tstate\tupdated_at");
            loop {
                let page = service.logins(&op, &q, after, 1000).map_err(failure)?;
                for (_, l) in &page {
                    println!("{}", describe(l));
                }
                match page.last() {
                    Some((id, _)) if page.len() == 1000 => after = Some(*id),
                    _ => break,
                }
            }
        }
        UserCommand::Show { username } => {
            println!(
                "{}",
                describe(&service.login(&op, &username).map_err(failure)?)
            );
        }
        UserCommand::Disable { username } => {
            let l = service
                .update_login(
                    &op,
                    &username,
                    LoginChange {
                        disabled: Some(true),
                        ..LoginChange::default()
                    },
                )
                .map_err(failure)?;
            println!("disabled {} (its tokens are ended)", l.username);
        }
        UserCommand::Enable { username } => {
            let l = service
                .update_login(
                    &op,
                    &username,
                    LoginChange {
                        disabled: Some(false),
                        ..LoginChange::default()
                    },
                )
                .map_err(failure)?;
            println!("enabled {}", l.username);
        }
        UserCommand::SetRole {
            username,
            role,
            province,
            commune,
        } => {
            let l = service
                .update_login(
                    &op,
                    &username,
                    LoginChange {
                        role: Some(role.parse()?),
                        province: province.map(Some),
                        commune: commune.map(Some),
                        ..LoginChange::default()
                    },
                )
                .map_err(failure)?;
            println!("{} (its tokens are ended)", describe(&l));
        }
        UserCommand::ResetPassword {
            username,
            password_stdin,
        } => {
            let password = password_stdin.then(password_from_stdin).transpose()?;
            let (l, generated) = service
                .reset_password(&op, &username, password)
                .map_err(failure)?;
            println!(
                "reset the password of {} (its tokens are ended)",
                l.username
            );
            if let Some(p) = generated {
                println!("password: {p}");
            }
        }
    }
    Ok(())
}
