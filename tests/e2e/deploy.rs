//! The deployment files agree with the binary: every variable and flag they use exists.

use std::collections::BTreeSet;

use clap::CommandFactory;
use innoreport_server::Cli;

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn cli_envs_and_flags() -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let cmd = Cli::command();
    let mut envs = BTreeSet::new();
    let mut flags = BTreeSet::new();
    let mut subcommands = BTreeSet::new();
    let mut visit = vec![cmd];
    while let Some(c) = visit.pop() {
        for a in c.get_arguments() {
            if let Some(e) = a.get_env() {
                envs.insert(e.to_string_lossy().into_owned());
            }
            if let Some(l) = a.get_long() {
                flags.insert(format!("--{l}"));
            }
        }
        for s in c.get_subcommands() {
            subcommands.insert(s.get_name().to_owned());
            visit.push(s.clone());
        }
    }
    (envs, flags, subcommands)
}

fn variables(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("INNOREPORT_") {
        let name: String = text[i..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        out.insert(name);
    }
    if text.contains("DATABASE_URL") {
        out.insert("DATABASE_URL".into());
    }
    out
}

#[test]
fn compose_and_dockerfile_use_only_variables_flags_and_commands_the_binary_has() {
    let (envs, flags, subcommands) = cli_envs_and_flags();
    let compose = read("docker-compose.yml");
    let dockerfile = read("Dockerfile");
    for text in [&compose, &dockerfile] {
        for v in variables(text) {
            assert!(
                envs.contains(&v),
                "{v} is not read by innoreport (known: {envs:?})"
            );
        }
    }
    let mut commands = 0;
    for line in compose
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("command:"))
    {
        let list = line
            .trim_start_matches("command:")
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let words: Vec<String> = list
            .split(',')
            .map(|w| w.trim().trim_matches('"').to_owned())
            .collect();
        assert!(
            subcommands.contains(&words[0]),
            "compose runs unknown subcommand {:?}",
            words[0]
        );
        for w in words.iter().filter(|w| w.starts_with("--")) {
            assert!(flags.contains(w), "compose passes unknown flag {w}");
        }
        commands += 1;
    }
    assert_eq!(commands, 3, "migrate and two replicas");
    assert!(dockerfile.contains("CMD [\"serve\"]") && subcommands.contains("serve"));
}

#[test]
fn no_password_or_secret_has_a_working_default() {
    let compose = read("docker-compose.yml");
    assert!(
        compose.contains("${POSTGRES_PASSWORD:?"),
        "the database password must be required"
    );
    assert!(
        compose.contains("${INNOREPORT_JWT_SECRET:?"),
        "the signing secret must be required"
    );
    for line in compose
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter(|l| l.contains("PASSWORD") || l.contains("SECRET"))
    {
        let value = line.split_once(':').map(|(_, v)| v.trim()).unwrap_or("");
        assert!(
            value.is_empty() || value.contains("${"),
            "a literal credential in docker-compose.yml: {line}"
        );
    }
}

#[test]
fn the_proxy_forwards_to_both_replicas_and_allows_the_upload_limit() {
    let nginx = read("deploy/nginx.conf");
    let compose = read("docker-compose.yml");
    for replica in ["app1", "app2"] {
        assert!(
            nginx.contains(&format!("server {replica}:8080")),
            "{replica} is behind the proxy"
        );
        assert!(
            compose.contains(&format!("  {replica}:")),
            "{replica} is a compose service"
        );
    }
    assert!(nginx.contains("client_max_body_size 16m"));
    assert_eq!(innoreport_api::MAX_UPLOAD_BYTES, 16 * 1024 * 1024);
}
