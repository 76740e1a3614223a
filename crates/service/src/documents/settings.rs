//! Saved settings of a unit's report documents: who signs, with what title, and to whom the
//! report goes. A request's own parameters win over them, and they over the defaults. Read by
//! whoever reads the unit's document; replaced by whoever submits for the unit (a province admin
//! for the department's report; the commune's officer or its province admin for a commune's).

use innoreport_core::{Action, CommuneCode, Principal, ProvinceCode, Target};
pub use innoreport_store::documents::DocumentSettings;

use super::DocumentOptions;
use crate::{Service, ServiceError};

/// Which unit's documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentUnit<'a> {
    Province(&'a str),
    Commune(&'a str),
}

/// What a caller saves (every field replaces the saved one; `None` clears it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettingsInput {
    pub signer: Option<String>,
    pub signer_title: Option<String>,
    pub recipients: Option<Vec<String>>,
}

impl DocumentOptions {
    /// These options, with what the request leaves out taken from `saved`.
    pub(super) fn with_saved(&self, saved: Option<DocumentSettings>) -> DocumentOptions {
        let Some(saved) = saved else {
            return self.clone();
        };
        DocumentOptions {
            signer: self.signer.clone().or(saved.signer),
            signer_title: self.signer_title.clone().or(saved.signer_title),
            recipients: self.recipients.clone().or(saved.recipients),
            ..self.clone()
        }
    }
}

impl Service {
    /// The province a unit belongs to, after checking `action` on it (404 for a unit that does
    /// not exist, as far as the caller may know).
    fn document_unit(
        &self,
        conn: &mut innoreport_store::DbConnection,
        who: &Principal,
        unit: DocumentUnit<'_>,
        action: Action,
    ) -> Result<String, ServiceError> {
        match unit {
            DocumentUnit::Commune(code) => self.authorize_commune(conn, who, code, action),
            DocumentUnit::Province(code) => {
                who.require(action, Target::Province(code))?;
                let known = ProvinceCode::parse(code).is_ok()
                    && self
                        .reference(conn, |r| r.province(code).is_some())?
                        .province(code)
                        .is_some();
                if known {
                    Ok(code.to_owned())
                } else {
                    Err(ServiceError::not_found(format!(
                        "There is no province {:?}.",
                        crate::reports::clip(code)
                    )))
                }
            }
        }
    }

    /// The saved settings of a unit's documents (`None`: nothing saved).
    pub fn document_settings(
        &self,
        who: &Principal,
        unit: DocumentUnit<'_>,
    ) -> Result<Option<DocumentSettings>, ServiceError> {
        let mut conn = self.conn()?;
        self.document_unit(&mut conn, who, unit, Action::Read)?;
        let code = match unit {
            DocumentUnit::Province(c) | DocumentUnit::Commune(c) => c,
        };
        Ok(innoreport_store::documents::get_settings(&mut conn, code)?)
    }

    /// Replaces the saved settings of a unit's documents (every problem listed, nothing saved
    /// on any); the change log records old and new.
    pub fn put_document_settings(
        &self,
        who: &Principal,
        unit: DocumentUnit<'_>,
        input: &SettingsInput,
    ) -> Result<DocumentSettings, ServiceError> {
        let mut conn = self.conn()?;
        let province = self.document_unit(&mut conn, who, unit, Action::Submit)?;
        let checked = DocumentOptions {
            signer: input.signer.clone(),
            signer_title: input.signer_title.clone(),
            recipients: input.recipients.clone(),
            ..Default::default()
        }
        .tidied();
        if let Err(ServiceError::BadInput { issues, .. }) = checked.check_texts() {
            return Err(ServiceError::invalid("document settings", issues));
        }
        let (code, commune) = match unit {
            DocumentUnit::Province(c) => (c, None),
            DocumentUnit::Commune(c) => (c, CommuneCode::parse(c).ok().map(|_| c)),
        };
        let old = innoreport_store::documents::get_settings(&mut conn, code)?;
        let now = self.now();
        let settings = DocumentSettings {
            unit: code.to_owned(),
            province: province.clone(),
            signer: checked.signer.clone(),
            signer_title: checked.signer_title.clone(),
            recipients: checked.recipients.clone(),
            updated_by: who.subject.clone(),
            updated_at: now,
        };
        let json = |s: Option<&DocumentSettings>| {
            s.map_or(serde_json::Value::Null, |s| {
                serde_json::json!({
                    "signer": s.signer,
                    "signer_title": s.signer_title,
                    "recipients": s.recipients,
                })
            })
        };
        innoreport_store::documents::put_settings_logged(
            &mut conn,
            &settings,
            &innoreport_store::changes::NewChange {
                at: now,
                actor: &who.subject,
                action: "documents.settings",
                province: Some(&province),
                commune,
                subject: code.to_owned(),
                detail: serde_json::json!({"old": json(old.as_ref()), "new": json(Some(&settings))}),
            },
        )?;
        Ok(settings)
    }
}
