//! The change log of what is not a report (targets, the index framework, logins), as each role
//! may read it: national roles everything (or one province's, with the national entries),
//! province roles their own province's entries, commune officers their own commune's. Who
//! created the national logins is national business.

use innoreport_core::{Principal, Scope as Reading};
pub use innoreport_store::changes::{ChangeRow, Scope};

use crate::{Service, ServiceError};

/// The part of the change log `who` reads, narrowed by an optional province filter (403 when
/// the filter is outside the caller's scope).
pub fn scope(who: &Principal, province: Option<&str>) -> Result<Scope, ServiceError> {
    let narrowed = who.province_filter(province)?;
    Ok(match who.scope() {
        Reading::All => match narrowed {
            None => Scope::All,
            Some(code) => Scope::Province {
                code,
                national: true,
            },
        },
        Reading::Province(code) => Scope::Province {
            code,
            national: false,
        },
        Reading::Commune { commune, .. } => Scope::Commune(commune),
    })
}

impl Service {
    /// One page of changes in `who`'s scope after the id `after`, oldest first.
    pub fn changes(
        &self,
        who: &Principal,
        province: Option<&str>,
        action: Option<&str>,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ChangeRow>, ServiceError> {
        let scope = scope(who, province)?;
        Ok(innoreport_store::changes::list_changes(
            &mut *self.conn()?,
            &scope,
            action,
            after,
            limit,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::who;
    use innoreport_core::Role;

    #[test]
    fn each_role_reads_only_its_own_part_of_the_change_log() {
        let officer = who(Role::CommuneOfficer, Some("14"), Some("03808"));
        assert_eq!(
            scope(&officer, None).unwrap(),
            Scope::Commune("03808".into())
        );
        assert!(scope(&officer, Some("01")).is_err());
        let analyst = who(Role::ProvinceAnalyst, Some("14"), None);
        assert_eq!(
            scope(&analyst, None).unwrap(),
            Scope::Province {
                code: "14".into(),
                national: false
            }
        );
        let national = who(Role::NationalAnalyst, None, None);
        assert_eq!(scope(&national, None).unwrap(), Scope::All);
        assert_eq!(
            scope(&national, Some("01")).unwrap(),
            Scope::Province {
                code: "01".into(),
                national: true
            }
        );
    }
}
