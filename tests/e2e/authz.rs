//! The authorization matrix (OWASP API1, object-level authorization first): every operation of
//! the route table × every role (and no token) × own scope, another commune of the same
//! province, another province. The operations come from the OpenAPI document the route table
//! generates, so a new endpoint without a row here fails the test.
//!
//! The expected answer of each cell is the README's role rules, restated here independently of
//! `innoreport_core::access`. Allowed reads must also not leak: every commune and province named
//! in the answer must be one the caller may see.
//!
//! (Longer than most files on purpose: the expected-answer table is one piece, read side by side
//! with the README's rules; split, it would be harder to check that no operation is missing.)

use std::collections::{BTreeMap, BTreeSet};

use innoreport_core::Role;
use serde_json::{Value, json};

use crate::support::{Answer, TestApp, token};

/// What a request touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Nothing in particular (public data, or a list the server narrows to the caller).
    Any,
    /// The whole country.
    Nation,
    /// A province's totals.
    Totals(Place),
    /// The commune-by-commune rows of a province.
    Communes(Place),
    /// One commune's own data.
    Commune(Place),
    /// The provinces' innovation index: province totals of every province, for every signed-in
    /// role (like the published PII).
    Ranking,
    /// The ranking of a province's communes (never for a commune officer: it is the other
    /// communes' values).
    Ranks(Place),
}

/// Where, relative to the callers (all of Sơn La, 14, and its commune Mường La).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Own,
    /// Another commune of the same province (for province-wide scopes: the same province).
    Sibling,
    /// Another province.
    Other,
}

/// What the operation does with its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Act {
    Public,
    Login,
    Read,
    Submit,
    /// A bulk submission.
    Import,
    Review,
    Targets,
    Users,
    Framework,
    /// A login's own password: only a login's token has one (operator tokens get 403).
    OwnPassword,
    /// Registering and removing webhooks: a commune system for its commune, a province admin in
    /// the province.
    Webhooks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// 2xx: every request below is valid, so an allowed caller is served.
    Allowed,
    /// A bulk import answers 200 and rejects the rows outside the caller's scope, storing none.
    RowRejected,
    Forbidden,
    Unauthorized,
}

/// The README's rules.
fn expected(role: Option<Role>, act: Act, scope: Scope) -> Expect {
    use Expect::*;
    match act {
        Act::Public => return Allowed,
        Act::Login => return Unauthorized, // a wrong password, whoever asks
        _ => {}
    }
    let Some(_) = role else {
        return Unauthorized;
    };
    if act == Act::OwnPassword {
        return Forbidden; // every caller of the matrix holds an operator token
    }
    let role = role.expect("checked above");
    let in_province = |s: Scope| match s {
        Scope::Any | Scope::Ranking => true,
        Scope::Nation => false,
        Scope::Totals(p) | Scope::Communes(p) | Scope::Commune(p) | Scope::Ranks(p) => {
            p != Place::Other
        }
    };
    let rule = if act == Act::Import { Act::Submit } else { act };
    let allowed = match role {
        Role::Admin => true,
        Role::NationalAnalyst => rule == Act::Read,
        Role::ProvinceAdmin => rule != Act::Framework && in_province(scope),
        Role::ProvinceAnalyst => rule == Act::Read && in_province(scope),
        Role::CommuneOfficer => match (rule, scope) {
            (Act::Read | Act::Submit, Scope::Commune(Place::Own)) => true,
            // Lists of the own province answer, narrowed to the officer's commune.
            (Act::Read, Scope::Totals(Place::Own) | Scope::Communes(Place::Own)) => true,
            (Act::Read, Scope::Any | Scope::Ranking) => true,
            (Act::Webhooks, Scope::Commune(Place::Own)) => true,
            _ => false,
        },
    };
    // A role that may submit somewhere sends an import with a row outside its scope: the row
    // is rejected; a role that may never submit is refused the whole import.
    let submits = matches!(
        role,
        Role::Admin | Role::ProvinceAdmin | Role::CommuneOfficer
    );
    match (allowed, act) {
        (true, _) => Allowed,
        (false, Act::Import) if submits => RowRejected,
        (false, _) => Forbidden,
    }
}

/// The codes the test places stand for.
struct Places {
    province: [&'static str; 2],
    /// own, sibling, other province's.
    communes: [String; 3],
    /// Every commune of the own province (what province roles may see).
    own_communes: BTreeSet<String>,
    /// An integration key of the own province and one of the other.
    keys: [String; 2],
    /// A webhook of the own commune, the sibling and the other province's commune.
    hooks: [i64; 3],
}

impl Places {
    fn province(&self, p: Place) -> &str {
        match p {
            Place::Own | Place::Sibling => self.province[0],
            Place::Other => self.province[1],
        }
    }
    fn key(&self, p: Place) -> &str {
        match p {
            Place::Own | Place::Sibling => &self.keys[0],
            Place::Other => &self.keys[1],
        }
    }
    fn commune(&self, p: Place) -> &str {
        match p {
            Place::Own => &self.communes[0],
            Place::Sibling => &self.communes[1],
            Place::Other => &self.communes[2],
        }
    }
}

struct Request {
    method: &'static str,
    path: String,
    body: Option<Value>,
    /// A CSV body sent as bytes, instead of JSON.
    csv: Option<String>,
}

fn get(path: String) -> Request {
    Request {
        method: "GET",
        path,
        body: None,
        csv: None,
    }
}

fn send(method: &'static str, path: String, body: Value) -> Request {
    Request {
        method,
        path,
        body: Some(body),
        csv: None,
    }
}

/// A commune's own plan for 2026, as the matrix writes it (tasks of its own, outside the
/// template's codes).
fn matrix_plan(cell: usize) -> Value {
    json!({"title": format!("Kế hoạch {cell}"), "sections": [{"code": "X", "title": "Nhiệm vụ riêng"}],
           "tasks": [{"code": "X.1", "section": "X", "title": "Việc riêng", "lead": "UBND xã", "timeframe": "Năm 2026"}]})
}

const DS: &str = "dmst-quarterly";
const READ_PERIOD: &str = "2025Q4";

/// The scopes each operation is tried in, and the request for each. Every operation of the route
/// table must have a row: the match has no catch-all.
fn row(op: &str, at: &Places, cell: usize) -> (Act, Vec<(Scope, Request)>) {
    use Place::*;
    // An export path (`.csv`, `.xlsx`) answers exactly as its JSON operation does.
    for ext in [".csv", ".xlsx"] {
        if let Some(base) = op.strip_suffix(ext).filter(|_| op.starts_with("GET ")) {
            let (act, requests) = row(base, at, cell);
            let requests = requests
                .into_iter()
                .map(|(scope, mut req)| {
                    let (path, query) = req.path.split_once('?').unwrap_or((&req.path, ""));
                    req.path = if query.is_empty() {
                        format!("{path}{ext}")
                    } else {
                        format!("{path}{ext}?{query}")
                    };
                    (scope, req)
                })
                .collect();
            return (act, requests);
        }
    }
    let places = [Own, Sibling, Other];
    let communes = |f: &dyn Fn(&str) -> Request| {
        places
            .iter()
            .map(|&p| (Scope::Commune(p), f(at.commune(p))))
            .collect::<Vec<_>>()
    };
    let provinces = |wrap: fn(Place) -> Scope, f: &dyn Fn(&str) -> Request| {
        [Own, Other]
            .iter()
            .map(|&p| (wrap(p), f(at.province(p))))
            .collect::<Vec<_>>()
    };
    let report = |c: &str, period: &str| json!({"commune": c, "dataset": DS, "period": period, "values": {"dossiers_total": 40 + cell, "dossiers_online_full": 20}});
    let public = |path: &str| (Act::Public, vec![(Scope::Any, get(path.to_owned()))]);
    match op {
        "GET /health" => public("/health"),
        "GET /ready" => public("/ready"),
        "GET /api/v1/provinces" => public("/api/v1/provinces"),
        "GET /api/v1/provinces/{code}" => public("/api/v1/provinces/14"),
        "GET /api/v1/provinces/{code}/communes" => public("/api/v1/provinces/14/communes"),
        "GET /api/v1/communes/{code}" => public("/api/v1/communes/03808"),
        "GET /api/v1/indicators" => public("/api/v1/indicators"),
        "GET /api/v1/indicators/{code}" => public("/api/v1/indicators/dossiers_total"),
        "GET /api/v1/datasets" => public("/api/v1/datasets"),
        "GET /api/v1/datasets/{code}" => public("/api/v1/datasets/dmst-quarterly"),
        "GET /api/v1/index/framework" => public("/api/v1/index/framework"),
        "POST /api/v1/auth/token" => (
            Act::Login,
            vec![(
                Scope::Any,
                send(
                    "POST",
                    "/api/v1/auth/token".into(),
                    json!({"username": format!("nobody-{cell}"), "password": "not-the-password"}),
                ),
            )],
        ),
        "GET /api/v1/aggregates" => {
            let q = format!("/api/v1/aggregates?indicator=dossiers_total&period={READ_PERIOD}");
            let mut v = vec![(Scope::Nation, get(format!("{q}&level=national")))];
            v.extend(provinces(Scope::Totals, &|p| {
                get(format!("{q}&level=province&province={p}"))
            }));
            v.extend(provinces(Scope::Communes, &|p| {
                get(format!("{q}&level=commune&province={p}"))
            }));
            (Act::Read, v)
        }
        // The same rules as /aggregates, for a table of several indicators and periods, and
        // for a unit named in the unit list.
        "GET /api/v1/analytics" => {
            let q = format!(
                "/api/v1/analytics?indicator=dossiers_total,online_dossier_rate&period={READ_PERIOD},2025Q3"
            );
            let mut v = vec![(Scope::Nation, get(format!("{q}&level=national")))];
            v.extend(provinces(Scope::Totals, &|p| {
                get(format!("{q}&level=province&province={p}"))
            }));
            v.extend(provinces(Scope::Totals, &|p| {
                get(format!("{q}&level=province&unit={p}"))
            }));
            v.extend(provinces(Scope::Communes, &|p| {
                get(format!("{q}&level=commune&province={p}"))
            }));
            v.extend(communes(&|c| get(format!("{q}&level=commune&unit={c}"))));
            (Act::Read, v)
        }
        "GET /api/v1/compliance" => {
            let q = format!("/api/v1/compliance?dataset={DS}&period={READ_PERIOD}");
            // Without a province: the caller's own scope (the nation for national roles).
            let mut v = vec![(Scope::Any, get(q.clone()))];
            v.extend(provinces(Scope::Communes, &|p| {
                get(format!("{q}&province={p}"))
            }));
            (Act::Read, v)
        }
        "GET /api/v1/index" => {
            let mut v = vec![(
                Scope::Ranking,
                get("/api/v1/index?period=2025&level=province".into()),
            )];
            v.extend(provinces(Scope::Ranks, &|p| {
                get(format!(
                    "/api/v1/index?period=2025&level=commune&province={p}"
                ))
            }));
            (Act::Read, v)
        }
        // A what-if run can probe every unit's inputs: it needs read access to all of them.
        "POST /api/v1/index/what-if" => {
            let mut v = vec![(
                Scope::Nation,
                send(
                    "POST",
                    "/api/v1/index/what-if".into(),
                    json!({"period": "2025", "level": "province", "overrides": []}),
                ),
            )];
            v.extend(provinces(Scope::Ranks, &|p| {
                send(
                    "POST",
                    "/api/v1/index/what-if".into(),
                    json!({"period": "2025", "level": "commune", "province": p, "overrides": []}),
                )
            }));
            (Act::Read, v)
        }
        "PUT /api/v1/index/framework" => (
            Act::Framework,
            vec![(
                Scope::Nation,
                send("PUT", "/api/v1/index/framework".into(), Value::Null),
            )],
        ),
        "GET /api/v1/provinces/{code}/dashboard" => (
            Act::Read,
            provinces(Scope::Totals, &|p| {
                get(format!(
                    "/api/v1/provinces/{p}/dashboard?period={READ_PERIOD}"
                ))
            }),
        ),
        // The province's report lists every commune's figures and ranks: province roles and
        // above, like the ranking of a province's communes.
        "GET /api/v1/documents/province/{code}" => (
            Act::Read,
            provinces(Scope::Ranks, &|p| {
                get(format!(
                    "/api/v1/documents/province/{p}?period={READ_PERIOD}"
                ))
            }),
        ),
        "GET /api/v1/documents/province/{code}/settings" => (
            Act::Read,
            provinces(Scope::Totals, &|p| {
                get(format!("/api/v1/documents/province/{p}/settings"))
            }),
        ),
        // Saving who signs the department's report: whoever submits for the province.
        "PUT /api/v1/documents/province/{code}/settings" => (
            Act::Submit,
            provinces(Scope::Totals, &|p| {
                send(
                    "PUT",
                    format!("/api/v1/documents/province/{p}/settings"),
                    json!({"signer": format!("Người ký {cell}")}),
                )
            }),
        ),
        "GET /api/v1/documents/commune/{code}/settings" => (
            Act::Read,
            communes(&|c| get(format!("/api/v1/documents/commune/{c}/settings"))),
        ),
        "PUT /api/v1/documents/commune/{code}/settings" => (
            Act::Submit,
            communes(&|c| {
                send(
                    "PUT",
                    format!("/api/v1/documents/commune/{c}/settings"),
                    json!({"signer_title": "CHỦ TỊCH", "recipients": ["Lưu: VT"]}),
                )
            }),
        ),
        "GET /api/v1/documents/commune/{code}" => (
            Act::Read,
            communes(&|c| {
                get(format!(
                    "/api/v1/documents/commune/{c}?period={READ_PERIOD}"
                ))
            }),
        ),
        // Plans: a commune's plan is its own data; the province's views of every commune's tasks
        // are the ranking of its communes (never a commune officer's).
        "GET /api/v1/plans" => {
            let mut v = vec![(Scope::Any, get("/api/v1/plans".into()))];
            v.extend(provinces(Scope::Communes, &|p| {
                get(format!("/api/v1/plans?province={p}"))
            }));
            v.extend(communes(&|c| get(format!("/api/v1/plans?commune={c}"))));
            (Act::Read, v)
        }
        "GET /api/v1/plans/{owner}/{code}/{year}" => (
            Act::Read,
            communes(&|c| get(format!("/api/v1/plans/commune/{c}/2026"))),
        ),
        "GET /api/v1/plans/{owner}/{code}/{year}/revisions" => (
            Act::Read,
            communes(&|c| get(format!("/api/v1/plans/commune/{c}/2026/revisions"))),
        ),
        "PUT /api/v1/plans/{owner}/{code}/{year}" => (
            Act::Submit,
            communes(&|c| {
                send(
                    "PUT",
                    format!("/api/v1/plans/commune/{c}/2026"),
                    matrix_plan(cell),
                )
            }),
        ),
        "POST /api/v1/plans/{owner}/{code}/{year}/import" => (
            Act::Submit,
            communes(&|c| {
                let mut req = send(
                    "POST",
                    format!("/api/v1/plans/commune/{c}/2026/import"),
                    Value::Null,
                );
                req.body = None;
                req.csv = Some(format!(
                    "STT,Nội dung,Cơ quan chủ trì,Thời gian thực hiện\nX,Nhiệm vụ riêng,,\n1,Việc {cell},Phòng Văn hóa - Xã hội,Quý IV/2026\n"
                ));
                req
            }),
        ),
        "POST /api/v1/plans/commune/{code}/{year}/adopt" => (
            Act::Submit,
            communes(&|c| {
                send(
                    "POST",
                    format!("/api/v1/plans/commune/{c}/2026/adopt"),
                    json!({}),
                )
            }),
        ),
        "POST /api/v1/plans/{owner}/{code}/{year}/review" => (
            Act::Review,
            communes(&|c| {
                send(
                    "POST",
                    format!("/api/v1/plans/commune/{c}/2026/review"),
                    json!({"action": "reopen", "comment": "matrix"}),
                )
            }),
        ),
        "GET /api/v1/plans/progress" => (
            Act::Read,
            provinces(Scope::Ranks, &|p| {
                get(format!("/api/v1/plans/progress?province={p}&period=2026"))
            }),
        ),
        "GET /api/v1/plans/feedback" => (
            Act::Read,
            provinces(Scope::Ranks, &|p| {
                get(format!(
                    "/api/v1/plans/feedback?province={p}&period={READ_PERIOD}"
                ))
            }),
        ),
        "GET /api/v1/plans/tasks/{code}" => (
            Act::Read,
            provinces(Scope::Ranks, &|p| {
                get(format!("/api/v1/plans/tasks/I.1?province={p}&period=2026"))
            }),
        ),
        "GET /api/v1/plans/progress/{commune}" => (
            Act::Read,
            communes(&|c| get(format!("/api/v1/plans/progress/{c}?period=2026"))),
        ),
        "GET /api/v1/reports" => {
            let mut v = vec![(Scope::Any, get("/api/v1/reports".into()))];
            v.extend(provinces(Scope::Communes, &|p| {
                get(format!("/api/v1/reports?province={p}"))
            }));
            v.extend(communes(&|c| get(format!("/api/v1/reports?commune={c}"))));
            (Act::Read, v)
        }
        "POST /api/v1/reports" => (
            Act::Submit,
            communes(&|c| send("POST", "/api/v1/reports".into(), report(c, READ_PERIOD))),
        ),
        "POST /api/v1/imports.csv" => (
            Act::Import,
            communes(&|c| {
                let mut req = send("POST", "/api/v1/imports.csv".into(), Value::Null);
                req.body = None;
                req.csv = Some(format!(
                    "commune,dataset,period,indicator,value\n{c},{DS},{READ_PERIOD},dossiers_total,{}\n",
                    40 + cell
                ));
                req
            }),
        ),
        "POST /api/v1/imports" => (
            Act::Import,
            communes(&|c| {
                send(
                    "POST",
                    "/api/v1/imports".into(),
                    json!([report(c, READ_PERIOD)]),
                )
            }),
        ),
        "GET /api/v1/reports/{dataset}/{period}/{commune}" => (
            Act::Read,
            communes(&|c| get(format!("/api/v1/reports/{DS}/{READ_PERIOD}/{c}"))),
        ),
        "GET /api/v1/reports/{dataset}/{period}/{commune}/revisions" => (
            Act::Read,
            communes(&|c| get(format!("/api/v1/reports/{DS}/{READ_PERIOD}/{c}/revisions"))),
        ),
        "GET /api/v1/reports/{dataset}/{period}/{commune}/reviews" => (
            Act::Read,
            communes(&|c| get(format!("/api/v1/reports/{DS}/{READ_PERIOD}/{c}/reviews"))),
        ),
        "POST /api/v1/reports/{dataset}/{period}/{commune}/review" => (
            Act::Review,
            communes(&|c| {
                send(
                    "POST",
                    format!("/api/v1/reports/{DS}/{READ_PERIOD}/{c}/review"),
                    json!({"action": "return", "comment": "matrix"}),
                )
            }),
        ),
        "GET /api/v1/changes" => {
            let mut v = vec![(Scope::Any, get("/api/v1/changes".into()))];
            v.extend(provinces(Scope::Communes, &|p| {
                get(format!("/api/v1/changes?province={p}"))
            }));
            (Act::Read, v)
        }
        "GET /api/v1/targets" => {
            let mut v = vec![(Scope::Any, get("/api/v1/targets?year=2026".into()))];
            v.extend(provinces(Scope::Communes, &|p| {
                get(format!("/api/v1/targets?year=2026&province={p}"))
            }));
            v.extend(communes(&|c| {
                get(format!("/api/v1/targets?year=2026&commune={c}"))
            }));
            (Act::Read, v)
        }
        "PUT /api/v1/targets/{year}/{commune}" => (
            Act::Targets,
            communes(&|c| {
                send(
                    "PUT",
                    format!("/api/v1/targets/2026/{c}"),
                    json!({"values": {"online_dossier_rate": 60}}),
                )
            }),
        ),
        "GET /api/v1/users" => {
            let mut v = vec![(Scope::Any, get("/api/v1/users".into()))];
            v.extend(provinces(Scope::Communes, &|p| {
                get(format!("/api/v1/users?province={p}"))
            }));
            (Act::Users, v)
        }
        "GET /api/v1/users/{username}" => (
            Act::Users,
            communes(&|c| get(format!("/api/v1/users/matrix-login-{c}"))),
        ),
        "PATCH /api/v1/users/{username}" => (
            Act::Users,
            communes(&|c| {
                send(
                    "PATCH",
                    format!("/api/v1/users/matrix-login-{c}"),
                    json!({"display_name": format!("matrix {cell}")}),
                )
            }),
        ),
        "POST /api/v1/users/{username}/password" => (
            Act::Users,
            communes(&|c| {
                send(
                    "POST",
                    format!("/api/v1/users/matrix-login-{c}/password"),
                    json!({}),
                )
            }),
        ),
        "POST /api/v1/auth/password" => (
            Act::OwnPassword,
            vec![(
                Scope::Any,
                send(
                    "POST",
                    "/api/v1/auth/password".into(),
                    json!({"current_password": "x", "new_password": "một mật khẩu mới dài"}),
                ),
            )],
        ),
        // The feed reads as /analytics and /reports do; its document and model need a caller.
        "GET /api/v1/odata" => (
            Act::Read,
            vec![
                (Scope::Any, get("/api/v1/odata".into())),
                (Scope::Any, get("/api/v1/odata/".into())),
            ],
        ),
        "GET /api/v1/odata/$metadata" => (
            Act::Read,
            vec![(Scope::Any, get("/api/v1/odata/$metadata".into()))],
        ),
        "GET /api/v1/odata/{entity_set}" | "GET /api/v1/odata/{entity_set}/$count" => {
            let tail = if op.ends_with("/$count") {
                "/$count"
            } else {
                ""
            };
            let cell_filter = format!(
                "$filter=indicator%20eq%20'dossiers_total'%20and%20period%20eq%20'{READ_PERIOD}'"
            );
            let mut v = vec![
                (
                    Scope::Nation,
                    get(format!("/api/v1/odata/NationalValues{tail}?{cell_filter}")),
                ),
                (Scope::Any, get(format!("/api/v1/odata/Reports{tail}"))),
                (Scope::Any, get(format!("/api/v1/odata/Communes{tail}"))),
                (Scope::Any, get(format!("/api/v1/odata/Indicators{tail}"))),
            ];
            v.extend(provinces(Scope::Totals, &|p| {
                get(format!(
                    "/api/v1/odata/ProvinceValues{tail}?province={p}&{cell_filter}"
                ))
            }));
            v.extend(provinces(Scope::Communes, &|p| {
                get(format!(
                    "/api/v1/odata/CommuneValues{tail}?{cell_filter}%20and%20province%20eq%20'{p}'"
                ))
            }));
            v.extend(provinces(Scope::Communes, &|p| {
                get(format!(
                    "/api/v1/odata/Reports{tail}?$filter=province%20eq%20'{p}'"
                ))
            }));
            v.extend(communes(&|c| {
                get(format!(
                    "/api/v1/odata/Reports{tail}?$filter=commune%20eq%20'{c}'"
                ))
            }));
            (Act::Read, v)
        }
        "GET /api/v1/communes/{code}/periods" => (
            Act::Read,
            communes(&|c| get(format!("/api/v1/communes/{c}/periods"))),
        ),
        "GET /api/v1/notifications" => {
            let mut v = vec![(Scope::Any, get("/api/v1/notifications".into()))];
            v.extend(provinces(Scope::Communes, &|p| {
                get(format!("/api/v1/notifications?province={p}"))
            }));
            v.extend(communes(&|c| {
                get(format!("/api/v1/notifications?commune={c}"))
            }));
            (Act::Read, v)
        }
        "POST /api/v1/webhooks" => {
            let hook = |unit: &str, code: &str| {
                send(
                    "POST",
                    "/api/v1/webhooks".into(),
                    json!({"url": format!("https://example.org/hooks/{cell}"), unit: code}),
                )
            };
            let mut v = communes(&|c| hook("commune", c));
            v.extend(provinces(Scope::Totals, &|p| hook("province", p)));
            (Act::Webhooks, v)
        }
        "GET /api/v1/webhooks" => {
            let mut v = communes(&|c| get(format!("/api/v1/webhooks?commune={c}")));
            v.extend(provinces(Scope::Totals, &|p| {
                get(format!("/api/v1/webhooks?province={p}"))
            }));
            (Act::Webhooks, v)
        }
        "DELETE /api/v1/webhooks/{id}" => (
            Act::Webhooks,
            [(Own, 0), (Sibling, 1), (Other, 2)]
                .iter()
                .map(|&(p, i)| {
                    let mut req = get(format!("/api/v1/webhooks/{}", at.hooks[i]));
                    req.method = "DELETE";
                    (Scope::Commune(p), req)
                })
                .collect(),
        ),
        "GET /api/v1/auth/notifications" => (
            Act::OwnPassword,
            vec![(Scope::Any, get("/api/v1/auth/notifications".into()))],
        ),
        "PUT /api/v1/auth/notifications" => (
            Act::OwnPassword,
            vec![(
                Scope::Any,
                send(
                    "PUT",
                    "/api/v1/auth/notifications".into(),
                    json!({"reminders": false}),
                ),
            )],
        ),
        // Keys are managed as analyst logins of their scope are.
        "POST /api/v1/keys" => {
            let mut v = vec![(
                Scope::Any,
                send(
                    "POST",
                    "/api/v1/keys".into(),
                    json!({"name": format!("matrix {cell}")}),
                ),
            )];
            v.extend(provinces(Scope::Totals, &|p| {
                send(
                    "POST",
                    "/api/v1/keys".into(),
                    json!({"name": format!("matrix {cell}"), "province": p}),
                )
            }));
            (Act::Users, v)
        }
        "GET /api/v1/keys" => {
            let mut v = vec![(Scope::Any, get("/api/v1/keys".into()))];
            v.extend(provinces(Scope::Communes, &|p| {
                get(format!("/api/v1/keys?province={p}"))
            }));
            (Act::Users, v)
        }
        "GET /api/v1/keys/{id}" => (
            Act::Users,
            [Own, Other]
                .iter()
                .map(|&p| (Scope::Totals(p), get(format!("/api/v1/keys/{}", at.key(p)))))
                .collect(),
        ),
        "DELETE /api/v1/keys/{id}" => (
            Act::Users,
            [Own, Other]
                .iter()
                .map(|&p| {
                    let mut req = get(format!("/api/v1/keys/{}", at.key(p)));
                    req.method = "DELETE";
                    (Scope::Totals(p), req)
                })
                .collect(),
        ),
        "POST /api/v1/users" => (
            Act::Users,
            communes(&|c| {
                send(
                    "POST",
                    "/api/v1/users".into(),
                    json!({"username": format!("matrix-{cell}-{c}"), "role": "commune_officer", "commune": c}),
                )
            }),
        ),
        other => panic!(
            "{other} is in the route table but has no row in the authorization matrix: add one"
        ),
    }
}

/// Every commune and province code an answer names, with where it was found.
fn named_codes(value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if let (Some(code), true) = (
                    v.as_str(),
                    matches!(key.as_str(), "commune" | "province" | "unit"),
                ) {
                    out.push((key.clone(), code.to_owned()));
                }
                named_codes(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| named_codes(v, out)),
        _ => {}
    }
}

/// A read the caller was allowed must name only what the caller may see.
fn assert_no_leak(role: Role, at: &Places, what: &str, answer: &Answer) {
    if matches!(role, Role::Admin | Role::NationalAnalyst) {
        return;
    }
    if !answer.content_type().starts_with("application/json") {
        return;
    }
    let mut codes = Vec::new();
    named_codes(&answer.json(), &mut codes);
    for (key, code) in codes {
        let visible = match (code.len(), role) {
            (2, _) => code == at.province[0],
            (5, Role::CommuneOfficer) => code == at.communes[0],
            (5, _) => at.own_communes.contains(&code),
            _ => true, // not a unit code (e.g. a national row)
        };
        assert!(
            visible,
            "{role} {what}: the answer names {key} {code}, outside the caller's scope"
        );
    }
}

#[actix_web::test]
async fn every_endpoint_every_role_every_scope_answers_as_the_rules_say() {
    let app = TestApp::spawn_at("2025-12-20T03:00:00Z").await;
    let admin = token(Role::Admin, None, None);
    let list = |p: &str| format!("/api/v1/provinces/{p}/communes?limit=1000");
    let own: Vec<String> = app.get(&list("14")).await.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_owned())
        .collect();
    let other = app.get(&list("01")).await.json()["items"][0]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let sibling = own.iter().find(|c| *c != "03808").unwrap().clone();
    let mut keys = Vec::new();
    for p in ["14", "01"] {
        let res = app
            .post_json(
                Some(&admin),
                "/api/v1/keys",
                &json!({"name": format!("matrix key {p}"), "province": p}),
            )
            .await;
        assert_eq!(res.status, 201, "seed key: {}", res.text());
        keys.push(res.json()["key"]["id"].as_str().unwrap().to_owned());
    }
    let mut hooks = Vec::new();
    for c in ["03808", sibling.as_str(), other.as_str()] {
        let res = app
            .post_json(
                Some(&admin),
                "/api/v1/webhooks",
                &json!({"url": "https://example.org/matrix", "commune": c}),
            )
            .await;
        assert_eq!(res.status, 201, "seed webhook: {}", res.text());
        hooks.push(res.json()["webhook"]["id"].as_i64().unwrap());
    }
    let at = Places {
        province: ["14", "01"],
        communes: ["03808".to_owned(), sibling, other],
        own_communes: own.into_iter().collect(),
        keys: [keys[0].clone(), keys[1].clone()],
        hooks: [hooks[0], hooks[1], hooks[2]],
    };
    // Something to read in every place: a 2025Q4 report per commune, submitted late by the admin.
    for c in &at.communes {
        let body = json!({"commune": c, "dataset": DS, "period": READ_PERIOD,
                          "values": {"dossiers_total": 100, "dossiers_online_full": 50}});
        let res = app.submit(&admin, &body).await;
        assert!(res.status.is_success(), "seed report: {}", res.text());
    }
    // And changes on record everywhere: a target per commune, set by the admin.
    for c in &at.communes {
        let res = app
            .put_json(
                &admin,
                &format!("/api/v1/targets/2026/{c}"),
                &json!({"values": {"online_dossier_rate": 50}}),
            )
            .await;
        assert_eq!(res.status, 200, "seed target: {}", res.text());
    }
    // And a login in every place, to read and manage.
    for c in &at.communes {
        let res = app
            .post_json(
                Some(&admin),
                "/api/v1/users",
                &json!({"username": format!("matrix-login-{c}"), "role": "commune_officer", "commune": c}),
            )
            .await;
        assert_eq!(res.status, 201, "seed login: {}", res.text());
    }
    // And plans: each province's published template for 2026, and each commune's plan.
    for p in at.province {
        let template = json!({"title": "Mẫu kế hoạch 2026", "sections": [{"code": "I", "title": "Thể chế"}],
            "tasks": [{"code": "I.1", "section": "I", "title": "Tuyên truyền", "lead": "Phòng Văn hóa - Xã hội", "timeframe": "Năm 2026"}]});
        let res = app
            .put_json(
                &admin,
                &format!("/api/v1/plans/province/{p}/2026"),
                &template,
            )
            .await;
        assert_eq!(res.status, 200, "seed template: {}", res.text());
        let res = app
            .post_json(
                Some(&admin),
                &format!("/api/v1/plans/province/{p}/2026/review"),
                &json!({"action": "approve"}),
            )
            .await;
        assert_eq!(res.status, 200, "publish template: {}", res.text());
    }
    for c in &at.communes {
        let res = app
            .put_json(
                &admin,
                &format!("/api/v1/plans/commune/{c}/2026"),
                &matrix_plan(0),
            )
            .await;
        assert_eq!(res.status, 200, "seed plan: {}", res.text());
    }
    let framework = app.get_as(&admin, "/api/v1/index/framework").await.json();

    let callers: Vec<(Option<Role>, Option<String>)> = vec![
        (None, None),
        (
            Some(Role::CommuneOfficer),
            Some(token(Role::CommuneOfficer, Some("14"), Some("03808"))),
        ),
        (
            Some(Role::ProvinceAnalyst),
            Some(token(Role::ProvinceAnalyst, Some("14"), None)),
        ),
        (
            Some(Role::ProvinceAdmin),
            Some(token(Role::ProvinceAdmin, Some("14"), None)),
        ),
        (
            Some(Role::NationalAnalyst),
            Some(token(Role::NationalAnalyst, None, None)),
        ),
        (Some(Role::Admin), Some(admin.clone())),
    ];

    let doc = innoreport_api::openapi();
    let mut operations = Vec::new();
    for (path, item) in &doc.paths.paths {
        for (method, op) in [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
            ("PATCH", &item.patch),
        ] {
            if op.is_some() {
                operations.push(format!("{method} {path}"));
            }
        }
    }
    assert!(operations.len() >= 28, "the route table has {operations:?}");

    let mut cells = 0usize;
    let mut table: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut failures = Vec::new();
    for op in &operations {
        for (role, bearer) in &callers {
            let (act, requests) = row(op, &at, cells);
            for (scope, mut req) in requests {
                cells += 1;
                if act == Act::Framework {
                    req.body = Some(framework.clone());
                }
                let expect = expected(*role, act, scope);
                let res = match &req.csv {
                    Some(csv) => {
                        app.post_bytes(
                            bearer.as_deref(),
                            &req.path,
                            "application/octet-stream",
                            csv,
                        )
                        .await
                    }
                    None => {
                        app.request(req.method, &req.path, bearer.as_deref(), req.body.as_ref())
                            .await
                    }
                };
                let status = res.status.as_u16();
                let ok = match expect {
                    Expect::Unauthorized => status == 401,
                    Expect::Forbidden => status == 403,
                    Expect::RowRejected => {
                        status == 200
                            && res.json()["rejected"] == 1
                            && res.json()["conflicts"][0]["code"] == "forbidden"
                    }
                    Expect::Allowed => res.status.is_success(),
                };
                let who = role.map_or("anonymous".to_owned(), |r| r.to_string());
                if !ok {
                    failures.push(format!(
                        "{op} as {who} on {scope:?} ({} {}): expected {expect:?}, got {status}: {}",
                        req.method,
                        req.path,
                        res.text()
                    ));
                } else if let (Expect::Allowed, Some(role), "GET", false) =
                    (expect, role, req.method, scope == Scope::Ranking)
                {
                    assert_no_leak(*role, &at, &format!("{} {}", req.method, req.path), &res);
                }
                table
                    .entry(format!("{op} [{scope:?}]"))
                    .or_default()
                    .push(format!("{who}:{status}"));
            }
        }
    }
    let report = table
        .iter()
        .map(|(k, v)| format!("{k}: {}", v.join(" ")))
        .collect::<Vec<_>>()
        .join("\n");
    if let Ok(dir) = std::env::var("AUTHZ_MATRIX_OUT") {
        std::fs::write(dir, format!("{cells} cells\n{report}\n")).unwrap();
    }
    assert!(
        failures.is_empty(),
        "{} of {cells} cells answer against the rules:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        cells > operations.len() * callers.len(),
        "{cells} cells checked"
    );
}
