//! The sample plans, transcribed from the source documents: the key tasks of Annex II of the
//! Mường La plan for 2026 (Sơn La; the province's template in the demo, adopted by its
//! communes) and the 32 tasks of the Đại Sơn plan implementing Decision 709/QĐ-TTg (Hải Phòng).
//! `innoreport demo` stores them and has communes report progress on them.

use chrono::{DateTime, Utc};
use innoreport_core::Catalog;
use innoreport_core::plans::{
    PlanBody, Progress, Task, TaskOrigin, TaskProgress, TaskStatus, check_plan,
};
use innoreport_store::DbConnection;
use innoreport_store::changes::NewChange;
use innoreport_store::plans::{self as store, PlanWrite};

use super::import::{AnnexFormat, read_annex};
use crate::ServiceError;

/// Annex II of the Mường La plan for 2026 (seed 002): 4 sections, 9 tasks.
pub const MUONG_LA_2026_CSV: &str = include_str!("../../plans/muong-la-2026.csv");
pub const MUONG_LA_TITLE: &str =
    "Kế hoạch phát triển khoa học, công nghệ, đổi mới sáng tạo năm 2026 (Phụ lục II)";
/// The task list of the Đại Sơn plan (seed 003): 10 sections, 32 tasks.
pub const DAI_SON_2026_CSV: &str = include_str!("../../plans/dai-son-2026.csv");
pub const DAI_SON_TITLE: &str =
    "Kế hoạch thực hiện Quyết định số 709/QĐ-TTg trên địa bàn xã Đại Sơn";
/// Sơn La, whose template the Mường La tasks are in the demo, and Đại Sơn's code.
pub const SON_LA: &str = "14";
pub const DAI_SON: &str = "11086";

/// A sample plan read and checked (a sample that does not read is a bug of the build).
pub fn sample(csv: &str, title: &str, year: i32, catalog: &Catalog) -> PlanBody {
    let annex = read_annex(csv.as_bytes(), AnnexFormat::Csv, title, None)
        .expect("a sample plan is a readable CSV");
    assert!(
        annex.problems.is_empty(),
        "a sample plan has no rejected row"
    );
    let draft = annex.draft;
    check_plan(&draft, year, &|c| catalog.indicator(c).is_some()).expect("a sample plan is valid")
}

fn store_approved(
    conn: &mut DbConnection,
    owner: &str,
    unit: &str,
    province: &str,
    body: &PlanBody,
    action: &str,
    at: DateTime<Utc>,
) -> Result<(), ServiceError> {
    if store::covering(conn, owner, unit, body.first_year)?.is_some() {
        return Ok(());
    }
    let json = serde_json::to_string(body).expect("plans serialize");
    store::write(
        conn,
        None,
        &PlanWrite {
            owner,
            unit,
            province,
            first_year: body.first_year,
            last_year: body.last_year,
            status: "approved",
            body: &json,
            action,
            author: "demo",
            at,
            comment: Some("Dữ liệu minh họa (demo)"),
        },
        &NewChange {
            at,
            actor: "demo",
            action: &format!("plan.{action}"),
            province: Some(province),
            commune: (owner == "commune").then_some(unit),
            subject: format!("{owner}/{unit}/{}", body.first_year),
            detail: serde_json::json!({"revision": 1, "status": "approved", "tasks": body.tasks.len()}),
        },
    )?;
    Ok(())
}

/// Stores the sample plans for 2026 (once): Sơn La's template and its adoption by each of
/// `communes` of Sơn La, and Đại Sơn's own plan when it is among `communes`.
pub fn seed(
    conn: &mut DbConnection,
    catalog: &Catalog,
    communes: &[(String, String)],
    at: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let year = 2026;
    let in_son_la: Vec<&String> = communes
        .iter()
        .filter(|(_, p)| p == SON_LA)
        .map(|(c, _)| c)
        .collect();
    if !in_son_la.is_empty() {
        let template = sample(MUONG_LA_2026_CSV, MUONG_LA_TITLE, year, catalog);
        store_approved(conn, "province", SON_LA, SON_LA, &template, "import", at)?;
        let adopted = PlanBody {
            tasks: template
                .tasks
                .iter()
                .map(|t| Task {
                    origin: TaskOrigin::Template,
                    ..t.clone()
                })
                .collect(),
            ..template.clone()
        };
        for c in in_son_la {
            store_approved(conn, "commune", c, SON_LA, &adopted, "adopt", at)?;
        }
    }
    if let Some((_, province)) = communes.iter().find(|(c, _)| c == DAI_SON) {
        let plan = sample(DAI_SON_2026_CSV, DAI_SON_TITLE, year, catalog);
        store_approved(conn, "commune", DAI_SON, province, &plan, "import", at)?;
    }
    Ok(())
}

const DIFFICULTIES: [&str; 4] = [
    "Kinh phí bố trí cho hoạt động khoa học, công nghệ còn hạn chế.",
    "Cán bộ phụ trách kiêm nhiệm nhiều việc, chưa được đào tạo chuyên sâu.",
    "Hạ tầng mạng ở các bản vùng cao chưa ổn định.",
    "Người dân còn e ngại khi sử dụng dịch vụ công trực tuyến.",
];
const PROPOSALS: [&str; 4] = [
    "Đề nghị Sở Khoa học và Công nghệ tổ chức tập huấn cho cán bộ cấp xã.",
    "Đề nghị tỉnh hỗ trợ kinh phí xây dựng mô hình ứng dụng tiến bộ kỹ thuật.",
    "Đề nghị hướng dẫn thống nhất biểu mẫu báo cáo chỉ số đổi mới sáng tạo.",
    "Đề nghị hỗ trợ trang thiết bị cho Tổ công nghệ số cộng đồng.",
];

/// A number in [0, 1) from `seed` and `n` (the same every time: a task moves at one pace).
fn unit(seed: u64, n: u64) -> f64 {
    let mut z = seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

/// The plan part a demo commune (`seed`) reports for quarter `q` (1–4) of its plan's year: each
/// task moves on at its own pace, faster in more innovative communes, and never goes back;
/// some reports carry difficulties and proposals.
pub fn demo_progress(plan: &PlanBody, q: u8, innovation: f64, seed: u64) -> Progress {
    let mut p = Progress::default();
    for (i, t) in plan.tasks.iter().enumerate() {
        let i = i as u64 * 8;
        let pace = (0.15 + 0.35 * innovation) * (0.5 + unit(seed, i));
        let stage = f64::from(q) * pace;
        let status = match stage {
            s if s < 0.4 => TaskStatus::NotStarted,
            s if s < 1.6 => TaskStatus::InProgress,
            _ if unit(seed, i + 1) < 0.04 => TaskStatus::NotFeasible,
            _ => TaskStatus::Completed,
        };
        let percent = match status {
            TaskStatus::InProgress => Some(((stage / 1.6 * 100.0) as u8).clamp(10, 90)),
            TaskStatus::Completed => Some(100),
            _ => None,
        };
        let q = u64::from(q) * 1000;
        let pick = |list: &[&str; 4], n| list[(unit(seed, n) * 4.0) as usize % 4].to_owned();
        let difficulties = (unit(seed, q + i + 2) < 0.08).then(|| pick(&DIFFICULTIES, q + i + 3));
        let proposals = (unit(seed, q + i + 4) < 0.06).then(|| pick(&PROPOSALS, q + i + 5));
        p.tasks.insert(
            t.code.clone(),
            TaskProgress {
                status,
                percent,
                result: None,
                difficulties,
                proposals,
            },
        );
    }
    let q = u64::from(q);
    if unit(seed, q + 7_000_001) < 0.4 {
        p.texts.insert(
            "difficulties".into(),
            DIFFICULTIES[(unit(seed, q + 7_000_002) * 4.0) as usize % 4].into(),
        );
    }
    if unit(seed, q + 7_000_003) < 0.3 {
        p.texts.insert(
            "proposals".into(),
            PROPOSALS[(unit(seed, q + 7_000_004) * 4.0) as usize % 4].into(),
        );
    }
    p
}
