//! Saved settings of a unit's report documents (signer, title, recipients), replaced whole with
//! their change-log entry in one transaction.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::StoreError;
use crate::changes::NewChange;
use crate::db::DbConnection;
use crate::schema::document_settings as s;

/// A unit's saved settings.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentSettings {
    /// Province or commune code.
    pub unit: String,
    pub province: String,
    pub signer: Option<String>,
    pub signer_title: Option<String>,
    pub recipients: Option<Vec<String>>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

type Row = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    NaiveDateTime,
);

fn from_row(r: Row) -> Result<DocumentSettings, StoreError> {
    let recipients =
        r.4.map(|j| serde_json::from_str::<Vec<String>>(&j))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("document settings of {}: {e}", r.0)))?;
    Ok(DocumentSettings {
        unit: r.0,
        province: r.1,
        signer: r.2,
        signer_title: r.3,
        recipients,
        updated_by: r.5,
        updated_at: r.6.and_utc(),
    })
}

/// The settings of `unit`, if any were saved.
pub fn get_settings(
    conn: &mut DbConnection,
    unit: &str,
) -> Result<Option<DocumentSettings>, StoreError> {
    let row: Option<Row> = s::table
        .filter(s::unit.eq(unit))
        .select((
            s::unit,
            s::province_code,
            s::signer,
            s::signer_title,
            s::recipients,
            s::updated_by,
            s::updated_at,
        ))
        .first(conn)
        .optional()?;
    row.map(from_row).transpose()
}

/// Replaces the settings of `settings.unit` and records `change`, in one transaction.
pub fn put_settings_logged(
    conn: &mut DbConnection,
    settings: &DocumentSettings,
    change: &NewChange<'_>,
) -> Result<(), StoreError> {
    let recipients = settings
        .recipients
        .as_ref()
        .map(|r| serde_json::to_string(r).expect("strings serialize"));
    crate::transaction(conn, |conn| {
        diesel::delete(s::table.filter(s::unit.eq(&settings.unit))).execute(conn)?;
        diesel::insert_into(s::table)
            .values((
                s::unit.eq(&settings.unit),
                s::province_code.eq(&settings.province),
                s::signer.eq(settings.signer.as_deref()),
                s::signer_title.eq(settings.signer_title.as_deref()),
                s::recipients.eq(recipients.as_deref()),
                s::updated_by.eq(&settings.updated_by),
                s::updated_at.eq(settings.updated_at.naive_utc()),
            ))
            .execute(conn)?;
        crate::changes::record(conn, change)?;
        Ok(())
    })
}
