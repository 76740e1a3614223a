//! Who may do what, where: the one authorization policy of the product.
//!
//! Every endpoint names the action it performs and the unit it touches, and asks [`allows`].
//! Keeping the policy here, free of HTTP, makes the whole role × scope matrix testable in one
//! table.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::codes::{CommuneCode, ProvinceCode};

/// The roles of API.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A commune's officer or its reporting system: its own commune.
    CommuneOfficer,
    /// Reads its own province.
    ProvinceAnalyst,
    /// Its own province: read, review, reopen, targets, users.
    ProvinceAdmin,
    /// Reads everything.
    NationalAnalyst,
    /// Everything.
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::CommuneOfficer,
        Role::ProvinceAnalyst,
        Role::ProvinceAdmin,
        Role::NationalAnalyst,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::CommuneOfficer => "commune_officer",
            Role::ProvinceAnalyst => "province_analyst",
            Role::ProvinceAdmin => "province_admin",
            Role::NationalAnalyst => "national_analyst",
            Role::Admin => "admin",
        }
    }

    /// Does the role need a province (and a commune) to be meaningful?
    pub fn needs_province(self) -> bool {
        matches!(
            self,
            Role::CommuneOfficer | Role::ProvinceAnalyst | Role::ProvinceAdmin
        )
    }

    pub fn needs_commune(self) -> bool {
        self == Role::CommuneOfficer
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?}: expected one of commune_officer, province_analyst, province_admin, national_analyst, admin"))
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    pub role: Role,
    pub province: Option<ProvinceCode>,
    pub commune: Option<CommuneCode>,
}

impl Principal {
    /// Checks that the scope fields fit the role (a commune officer has a commune and its
    /// province; a province role has a province and no commune; national roles have neither).
    pub fn check_shape(&self) -> Result<(), String> {
        match (
            self.role.needs_province(),
            &self.province,
            self.role.needs_commune(),
            &self.commune,
        ) {
            (true, None, ..) => Err(format!("role {} needs a province", self.role)),
            (false, Some(_), ..) => Err(format!("role {} has no province", self.role)),
            (_, _, true, None) => Err(format!("role {} needs a commune", self.role)),
            (_, _, false, Some(_)) => Err(format!("role {} has no commune", self.role)),
            _ => Ok(()),
        }
    }
}

/// What a request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read reports, aggregates, compliance, targets.
    Read,
    /// Submit or correct a commune's report.
    Submit,
    /// Approve, return, unapprove or reopen a report.
    Review,
    /// Set a commune's targets.
    ManageTargets,
    /// Create logins.
    ManageUsers,
    /// Replace the innovation index framework.
    ManageFramework,
    /// Register or remove a webhook that hears a commune's (or a province's) notices.
    ManageWebhooks,
}

impl Action {
    /// What the action is, for messages ("may not ...").
    pub fn describe(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Submit => "submit reports",
            Action::Review => "review reports",
            Action::ManageTargets => "set targets",
            Action::ManageUsers => "manage logins",
            Action::ManageFramework => "edit the index framework",
            Action::ManageWebhooks => "manage webhooks",
        }
    }
}

/// What a request touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// The whole country (every province).
    Nation,
    /// One province as a whole (its totals).
    Province(&'a str),
    /// One commune (its own values), in its province.
    Commune { commune: &'a str, province: &'a str },
    /// Every commune of a province side by side (a ranking, a commune index): more than a
    /// commune officer's own values.
    Communes(&'a str),
}

impl<'a> Target<'a> {
    /// Where a login of `role` belongs, for managing it: its province for the province roles
    /// and commune officers, the whole country for national roles (and for a province role
    /// without a province, which only a national manager could fix).
    pub fn login(role: Role, province: Option<&'a str>) -> Target<'a> {
        match (role.needs_province(), province) {
            (true, Some(p)) => Target::Province(p),
            _ => Target::Nation,
        }
    }
}

/// Whether `role` may do `action` anywhere at all (a bulk request of an action the role may never
/// do is refused whole, before its rows are looked at).
pub fn may_ever(role: Role, action: Action) -> bool {
    match role {
        Role::Admin => true,
        Role::NationalAnalyst | Role::ProvinceAnalyst => action == Action::Read,
        Role::ProvinceAdmin => action != Action::ManageFramework,
        Role::CommuneOfficer => matches!(
            action,
            Action::Read | Action::Submit | Action::ManageWebhooks
        ),
    }
}

/// The policy. Commune officers see their own commune and their province's totals, never
/// another commune's values; province roles stay in their province; national analysts read
/// everything; admins do everything.
pub fn allows(p: &Principal, action: Action, target: Target<'_>) -> bool {
    let own_province = |code: &str| {
        p.province
            .as_ref()
            .is_some_and(|mine| mine.as_str() == code)
    };
    let own_commune = |code: &str| p.commune.as_ref().is_some_and(|mine| mine.as_str() == code);
    match p.role {
        Role::Admin => true,
        Role::NationalAnalyst => action == Action::Read,
        Role::ProvinceAdmin => {
            action != Action::ManageFramework
                && match target {
                    Target::Nation => false,
                    Target::Province(code) | Target::Communes(code) => own_province(code),
                    Target::Commune { province, .. } => own_province(province),
                }
        }
        Role::ProvinceAnalyst => {
            action == Action::Read
                && match target {
                    Target::Nation => false,
                    Target::Province(code) | Target::Communes(code) => own_province(code),
                    Target::Commune { province, .. } => own_province(province),
                }
        }
        Role::CommuneOfficer => match (action, target) {
            (
                Action::Read | Action::Submit | Action::ManageWebhooks,
                Target::Commune { commune, province },
            ) => own_commune(commune) && own_province(province),
            (Action::Read, Target::Province(code)) => own_province(code),
            _ => false,
        },
    }
}

/// What a caller may read: everything, one province (its totals and its communes), or one
/// commune (its own values, and its province's totals).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    All,
    Province(String),
    Commune { commune: String, province: String },
}

/// A request outside the caller's scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub String);

impl Principal {
    /// The caller's reading scope.
    pub fn scope(&self) -> Scope {
        match (self.role, &self.province, &self.commune) {
            (Role::Admin | Role::NationalAnalyst, ..) => Scope::All,
            (Role::CommuneOfficer, Some(p), Some(c)) => Scope::Commune {
                commune: c.to_string(),
                province: p.to_string(),
            },
            (_, Some(p), _) => Scope::Province(p.to_string()),
            // A token of a province role without a province reads nothing (refused at sign-in).
            _ => Scope::Province(String::new()),
        }
    }

    /// `Ok` when the policy allows `action` on `target`, else why not.
    pub fn require(&self, action: Action, target: Target<'_>) -> Result<(), Denied> {
        if allows(self, action, target) {
            Ok(())
        } else {
            let who = match (&self.province, &self.commune) {
                (_, Some(c)) => format!("{} of commune {c}", self.role),
                (Some(p), None) => format!("{} of province {p}", self.role),
                (None, None) => self.role.to_string(),
            };
            let place = match target {
                Target::Nation => "the whole country".to_owned(),
                Target::Province(p) => format!("province {p}"),
                Target::Communes(p) => format!("the communes of province {p}"),
                Target::Commune { commune, province } => {
                    format!("commune {commune} (province {province})")
                }
            };
            Err(Denied(format!(
                "{who} may not {} for {place}",
                action.describe()
            )))
        }
    }

    /// The province whose communes a list or rollup covers: the `filter` when the caller may
    /// read it, the caller's own province without one (`None`: every province). A filter
    /// outside the scope is refused, never answered with an empty list.
    pub fn province_filter(&self, filter: Option<&str>) -> Result<Option<String>, Denied> {
        if let Some(f) = filter {
            self.require(Action::Read, Target::Province(f))?;
            return Ok(Some(f.to_owned()));
        }
        Ok(match self.scope() {
            Scope::All => None,
            Scope::Province(p) | Scope::Commune { province: p, .. } => Some(p),
        })
    }

    /// The only commune whose own values the caller may read (commune officers), if any.
    pub fn own_commune(&self) -> Option<&str> {
        match self.role {
            Role::CommuneOfficer => self.commune.as_ref().map(|c| c.as_str()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(role: Role, province: Option<&str>, commune: Option<&str>) -> Principal {
        Principal {
            subject: "t".into(),
            role,
            province: province.map(|p| ProvinceCode::parse(p).unwrap()),
            commune: commune.map(|c| CommuneCode::parse(c).unwrap()),
        }
    }

    const OWN: Target<'static> = Target::Commune {
        commune: "03808",
        province: "14",
    };
    const NEIGHBOUR: Target<'static> = Target::Commune {
        commune: "03811",
        province: "14",
    };
    const ELSEWHERE: Target<'static> = Target::Commune {
        commune: "00070",
        province: "01",
    };

    #[test]
    fn the_role_scope_matrix() {
        use Action::*;
        let officer = who(Role::CommuneOfficer, Some("14"), Some("03808"));
        let analyst = who(Role::ProvinceAnalyst, Some("14"), None);
        let padmin = who(Role::ProvinceAdmin, Some("14"), None);
        let national = who(Role::NationalAnalyst, None, None);
        let admin = who(Role::Admin, None, None);
        // (principal, action, target, allowed)
        let cases = [
            (&officer, Submit, OWN, true),
            (&officer, Read, OWN, true),
            (&officer, Submit, NEIGHBOUR, false),
            (&officer, Read, NEIGHBOUR, false),
            (&officer, Read, Target::Province("14"), true),
            (&officer, Read, Target::Province("01"), false),
            (&officer, Read, Target::Nation, false),
            (&officer, Review, OWN, false),
            (&officer, ManageTargets, OWN, false),
            (&analyst, Read, NEIGHBOUR, true),
            (&analyst, Read, ELSEWHERE, false),
            (&analyst, Submit, OWN, false),
            (&analyst, Review, OWN, false),
            (&analyst, Read, Target::Province("14"), true),
            (&analyst, Read, Target::Province("01"), false),
            (&padmin, Review, NEIGHBOUR, true),
            (&padmin, Review, ELSEWHERE, false),
            (&padmin, ManageTargets, OWN, true),
            (&padmin, ManageUsers, Target::Province("14"), true),
            (&padmin, Read, Target::Nation, false),
            (&padmin, ManageFramework, Target::Nation, false),
            (&padmin, Read, Target::Communes("14"), true),
            (&analyst, Read, Target::Communes("14"), true),
            (&analyst, Read, Target::Communes("01"), false),
            (&officer, Read, Target::Communes("14"), false),
            (&national, Read, Target::Communes("01"), true),
            (&national, ManageFramework, Target::Nation, false),
            (&admin, ManageFramework, Target::Nation, true),
            (&national, Read, ELSEWHERE, true),
            (&national, Read, Target::Nation, true),
            (&national, Submit, OWN, false),
            (&national, Review, OWN, false),
            (&admin, Review, ELSEWHERE, true),
            (&admin, Submit, OWN, true),
            // A commune system registers its own webhook; a province system the province's.
            (&officer, ManageWebhooks, OWN, true),
            (&officer, ManageWebhooks, NEIGHBOUR, false),
            (&officer, ManageWebhooks, Target::Province("14"), false),
            (&padmin, ManageWebhooks, Target::Province("14"), true),
            (&padmin, ManageWebhooks, NEIGHBOUR, true),
            (&padmin, ManageWebhooks, ELSEWHERE, false),
            (&analyst, ManageWebhooks, OWN, false),
            (&national, ManageWebhooks, OWN, false),
        ];
        for (p, action, target, expected) in cases {
            assert_eq!(
                allows(p, action, target),
                expected,
                "{:?} {action:?} {target:?}",
                p.role
            );
        }
    }

    #[test]
    fn an_officer_whose_commune_is_in_another_province_gets_nothing() {
        // A token claiming commune 03808 but province 01 must not open commune 03808 of 14.
        let odd = who(Role::CommuneOfficer, Some("01"), Some("03808"));
        assert!(!allows(&odd, Action::Submit, OWN));
    }

    #[test]
    fn may_ever_is_true_exactly_when_some_target_is_allowed() {
        let actions = [
            Action::Read,
            Action::Submit,
            Action::Review,
            Action::ManageTargets,
            Action::ManageUsers,
            Action::ManageFramework,
            Action::ManageWebhooks,
        ];
        for role in Role::ALL {
            let p = Principal {
                subject: "x".into(),
                role,
                province: role
                    .needs_province()
                    .then(|| ProvinceCode::parse("14").unwrap()),
                commune: role
                    .needs_commune()
                    .then(|| CommuneCode::parse("03808").unwrap()),
            };
            let targets = [
                Target::Nation,
                Target::Province("14"),
                Target::Communes("14"),
                Target::Commune {
                    commune: "03808",
                    province: "14",
                },
            ];
            for action in actions {
                let somewhere = targets.iter().any(|t| allows(&p, action, *t));
                assert_eq!(may_ever(role, action), somewhere, "{role} {action:?}");
            }
        }
    }

    #[test]
    fn scope_shapes_follow_the_role() {
        assert!(
            who(Role::CommuneOfficer, Some("14"), Some("03808"))
                .check_shape()
                .is_ok()
        );
        assert!(
            who(Role::CommuneOfficer, Some("14"), None)
                .check_shape()
                .is_err()
        );
        assert!(
            who(Role::ProvinceAnalyst, None, None)
                .check_shape()
                .is_err()
        );
        assert!(
            who(Role::ProvinceAdmin, Some("14"), Some("03808"))
                .check_shape()
                .is_err()
        );
        assert!(
            who(Role::NationalAnalyst, Some("14"), None)
                .check_shape()
                .is_err()
        );
        assert!(who(Role::Admin, None, None).check_shape().is_ok());
        assert_eq!(
            "province_admin".parse::<Role>().unwrap(),
            Role::ProvinceAdmin
        );
        assert!("root".parse::<Role>().is_err());
    }
}

#[cfg(test)]
mod scope_tests {
    use super::*;

    fn who(role: Role, province: Option<&str>, commune: Option<&str>) -> Principal {
        Principal {
            subject: "t".into(),
            role,
            province: province.map(|p| ProvinceCode::parse(p).unwrap()),
            commune: commune.map(|c| CommuneCode::parse(c).unwrap()),
        }
    }

    #[test]
    fn lists_are_narrowed_to_the_scope_and_a_filter_outside_it_is_refused() {
        let officer = who(Role::CommuneOfficer, Some("14"), Some("03808"));
        let analyst = who(Role::ProvinceAnalyst, Some("14"), None);
        let national = who(Role::NationalAnalyst, None, None);
        assert_eq!(national.province_filter(None), Ok(None));
        assert_eq!(national.province_filter(Some("01")), Ok(Some("01".into())));
        assert_eq!(analyst.province_filter(None), Ok(Some("14".into())));
        assert_eq!(analyst.province_filter(Some("14")), Ok(Some("14".into())));
        assert!(analyst.province_filter(Some("01")).is_err());
        assert_eq!(officer.province_filter(None), Ok(Some("14".into())));
        assert!(officer.province_filter(Some("01")).is_err());
        assert_eq!(officer.own_commune(), Some("03808"));
        assert_eq!(analyst.own_commune(), None);
        assert_eq!(
            officer.scope(),
            Scope::Commune {
                commune: "03808".into(),
                province: "14".into()
            }
        );
    }
}
