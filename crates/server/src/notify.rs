//! The notifier: the server runs it every `--notify-interval`; `innoreport notify` runs it once
//! (or, with `--dry-run`, prints what it would write).

use std::time::Duration;

use innoreport_service::notify::Schedule;
use innoreport_service::notify::deliver::{Deliverer, Delivery, Security, SmtpSettings};
use innoreport_service::{Clock, Options, Service, WeakService};

use crate::config::{Config, NotifyArgs, SmtpSecurity};

type Failure = Box<dyn std::error::Error>;

/// Messages tried per delivery round (the rest wait for the next round).
const ROUND_LIMIT: usize = 2_000;

/// The schedule the configuration asks for.
pub fn schedule(config: &Config) -> Schedule {
    let days = &config.reminder_days;
    Schedule {
        reminder_days: days
            .all
            .clone()
            .unwrap_or_else(|| Schedule::default().reminder_days),
        per_dataset: days.per_dataset.iter().cloned().collect(),
    }
}

/// How delivery is configured.
pub fn delivery(config: &Config) -> Delivery {
    Delivery {
        smtp: config.smtp_host.as_ref().map(|host| SmtpSettings {
            host: host.clone(),
            port: config.smtp_port,
            security: match config.smtp_security {
                SmtpSecurity::Starttls => Security::StartTls,
                SmtpSecurity::Tls => Security::Tls,
                SmtpSecurity::None => Security::None,
            },
            username: config.smtp_username.clone(),
            password: config.smtp_password.clone(),
            from: config.mail_from.clone(),
        }),
        public_url: public_url(config),
        retry_base: config.notify_retry_base,
        max_attempts: config.notify_max_attempts,
        lease: config.notify_lease,
        allow_loopback: config.webhook_allow_loopback,
        ..Delivery::default()
    }
}

/// The address of the pages in notices: --public-url, else this service's own address (a bind to
/// every interface names this machine by 127.0.0.1, with a warning: recipients elsewhere need
/// --public-url).
pub fn public_url(config: &Config) -> String {
    if let Some(url) = &config.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let bind = &config.bind;
    let wildcard = bind.starts_with("0.0.0.0:") || bind.starts_with("[::]:");
    if wildcard {
        tracing::warn!(bind = %bind, "INNOREPORT_PUBLIC_URL is not set: notices link to 127.0.0.1, which recipients cannot open; set it to the address people use");
        let port = bind.rsplit(':').next().unwrap_or("8080");
        return format!("http://127.0.0.1:{port}");
    }
    format!("http://{bind}")
}

/// Schedules what is due now and delivers what is due, every `--notify-interval` seconds, for
/// as long as the application lives (a failure is logged and the next run tries again).
pub fn spawn(service: WeakService, config: &Config) -> Result<(), Failure> {
    if config.notify_interval == 0 {
        return Ok(());
    }
    let deliverer = Deliverer::new(delivery(config))?;
    let schedule = schedule(config);
    if let Some(service) = service.upgrade() {
        service.check_schedule(&schedule).map_err(|e| e.chain())?;
    }
    let every = Duration::from_secs(config.notify_interval);
    std::thread::Builder::new()
        .name("notifier".into())
        .spawn(move || {
            loop {
                std::thread::sleep(every);
                let Some(service) = service.upgrade() else {
                    return;
                };
                if service.ready().is_err() {
                    continue;
                }
                match run_once(&service, &deliverer, &schedule, service.now()) {
                    Ok((written, round)) if written + round.sent + round.failed > 0 => {
                        tracing::info!(written, sent = round.sent, retrying = round.retrying, failed = round.failed, "notifications");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e.chain(), "notifier run failed; trying again next run"),
                }
            }
        })?;
    Ok(())
}

fn run_once(
    service: &Service,
    deliverer: &Deliverer,
    schedule: &Schedule,
    as_of: chrono::DateTime<chrono::Utc>,
) -> Result<(usize, innoreport_service::notify::deliver::Round), innoreport_service::ServiceError> {
    let written = service.schedule_notifications(as_of, schedule)?;
    let round = deliverer.deliver_due(service, ROUND_LIMIT)?;
    Ok((written, round))
}

/// `innoreport notify`.
pub fn command(config: &Config, args: NotifyArgs) -> Result<(), Failure> {
    let store = crate::cli::existing_store(config)?;
    let service = Service::new(store, Clock::system(), Options::default());
    let as_of = args.as_of.unwrap_or_else(|| service.now());
    let schedule = schedule(config);
    let fail = |e: innoreport_service::ServiceError| -> Failure { e.chain().into() };
    service.check_schedule(&schedule).map_err(fail)?;
    if as_of > service.now() + chrono::Duration::minutes(1) && !args.dry_run {
        return Err(format!(
            "--as-of {} is in the future: what is due then is sent then (try it with --dry-run)",
            as_of.to_rfc3339()
        )
        .into());
    }
    if args.dry_run {
        let planned = service.unsent(as_of, &schedule).map_err(fail)?;
        for p in &planned {
            println!(
                "{}\t{}\t{}\t{}\t{}\t{}",
                p.kind.as_str(),
                p.listener.to.channel(),
                p.listener.to.label(),
                p.province,
                p.commune.as_deref().unwrap_or("-"),
                p.text.subject
            );
        }
        eprintln!(
            "innoreport: {} messages due at {} not yet written (dry run: nothing written or sent)",
            planned.len(),
            as_of.to_rfc3339()
        );
        return Ok(());
    }
    let deliverer = Deliverer::new(delivery(config))?;
    let (written, round) = run_once(&service, &deliverer, &schedule, as_of).map_err(fail)?;
    eprintln!(
        "innoreport: {written} messages written for {}; {} sent, {} to retry, {} failed, {} no longer true",
        as_of.to_rfc3339(),
        round.sent,
        round.retrying,
        round.failed,
        round.cancelled
    );
    Ok(())
}
