//! The built-in dashboard pages (trang tổng hợp): one HTML shell, a stylesheet and a script,
//! compiled into the binary. The pages hold no data: the script signs in through
//! `POST /api/v1/auth/token` and reads everything from the same v1 API third-party dashboards
//! use, with the signed-in user's token, so a page shows exactly what the API lets that role
//! read. Charts are SVG drawn by the script; downloads are the API's CSV and xlsx exports.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

const SHELL: &str = include_str!("../web/index.html");
const SCRIPT: &str = include_str!("../web/app.js");
const SHEETS: &str = include_str!("../web/sheets.js");
const ACCOUNTS: &str = include_str!("../web/accounts.js");
const TASKS: &str = include_str!("../web/tasks.js");
const NOTICES: &str = include_str!("../web/notices.js");
const ENTRY: &str = include_str!("../web/entry.js");
const WORKER: &str = include_str!("../web/sw.js");
const STYLE: &str = include_str!("../web/app.css");
const ICON: &str = include_str!("../web/icon.svg");

/// Only this origin's script and style; no inline script, no frames, no other hosts.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn page(body: &'static str, content_type: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

async fn shell() -> HttpResponse {
    page(SHELL, "text/html; charset=utf-8")
}

async fn script() -> HttpResponse {
    page(SCRIPT, "text/javascript; charset=utf-8")
}

async fn sheets() -> HttpResponse {
    page(SHEETS, "text/javascript; charset=utf-8")
}

async fn accounts() -> HttpResponse {
    page(ACCOUNTS, "text/javascript; charset=utf-8")
}

async fn tasks() -> HttpResponse {
    page(TASKS, "text/javascript; charset=utf-8")
}

async fn notices() -> HttpResponse {
    page(NOTICES, "text/javascript; charset=utf-8")
}

async fn entry() -> HttpResponse {
    page(ENTRY, "text/javascript; charset=utf-8")
}

/// The service worker: served from the root so its scope is every page.
async fn worker() -> HttpResponse {
    page(WORKER, "text/javascript; charset=utf-8")
}

async fn style() -> HttpResponse {
    page(STYLE, "text/css; charset=utf-8")
}

async fn icon() -> HttpResponse {
    page(ICON, "image/svg+xml")
}

/// The page routes: every view is the same shell (the script reads the path), so any view's
/// URL, with its period and data set in the query, can be shared.
pub fn configure(cfg: &mut web::ServiceConfig) {
    for path in [
        "/",
        "/signin",
        "/national",
        "/province/{code}",
        "/commune/{code}",
        "/province/{code}/tasks",
        "/commune/{code}/tasks",
        "/province/{code}/notices",
        "/commune/{code}/notices",
        "/commune/{code}/entry",
        "/accounts",
    ] {
        cfg.service(
            web::resource(path)
                .route(web::get().to(shell))
                .route(web::head().to(shell)),
        );
    }
    cfg.route("/assets/app.js", web::get().to(script))
        .route("/assets/sheets.js", web::get().to(sheets))
        .route("/assets/accounts.js", web::get().to(accounts))
        .route("/assets/tasks.js", web::get().to(tasks))
        .route("/assets/notices.js", web::get().to(notices))
        .route("/assets/entry.js", web::get().to(entry))
        .route("/sw.js", web::get().to(worker))
        .route("/sw.js", web::head().to(worker))
        .route("/assets/app.css", web::get().to(style))
        .route("/assets/icon.svg", web::get().to(icon))
        .route("/favicon.ico", web::get().to(icon));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shell_loads_only_its_own_script_and_style() {
        assert!(SHELL.contains(r#"<script type="module" src="/assets/app.js"></script>"#));
        assert!(SHELL.contains(r#"href="/assets/app.css""#));
        assert!(
            !SHELL.contains("http://") && !SHELL.contains("https://"),
            "no CDN"
        );
        // The addresses in the script are XML namespaces (SVG, the xlsx parts): names, never
        // requested.
        for script in [SCRIPT, SHEETS, ACCOUNTS, TASKS, NOTICES, ENTRY, WORKER] {
            let script = script
                .replace("http://www.w3.org/2000/svg", "")
                .replace("http://schemas.openxmlformats.org/", "");
            assert!(
                !script.contains("http://") && !script.contains("https://"),
                "no CDN"
            );
        }
        // Modules import only their siblings.
        for line in SCRIPT.lines().filter(|l| l.starts_with("import ")) {
            assert!(line.contains("from \"./"), "{line}");
        }
        assert!(SHELL.contains(r#"<html lang="vi">"#));
    }
}
