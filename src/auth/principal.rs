//! The authenticated caller of one request: the account it acts in, who signed (the account
//! itself or one of its RAM users), and the authorization check every action runs before it
//! touches a resource.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::api::error::ApiError;
use crate::storage::ram::{KeyOwner, RamUserId};
use crate::storage::{AccountId, IngestDomain};

use super::policy::{self, Policy, Verdict};
use super::throttle::UserKey;

/// Who signed a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// The account's own key: every right on the account's resources.
    Account,
    /// A RAM user of the account, with its policies as they were when the request arrived.
    RamUser {
        id: RamUserId,
        policies: Vec<Policy>,
    },
}

impl From<KeyOwner> for Principal {
    fn from(owner: KeyOwner) -> Self {
        match owner {
            KeyOwner::Account => Self::Account,
            KeyOwner::RamUser { user, policies } => Self::RamUser {
                id: user.id,
                policies: policies.into_iter().map(|p| p.policy).collect(),
            },
        }
    }
}

/// The authenticated principal behind a request, and the action it asked for.
#[derive(Debug)]
pub struct Caller {
    pub account: AccountId,
    pub access_key_id: String,
    pub principal: Principal,
    /// The API action, such as `DescribeLiveStreamsNotifyRecords`.
    pub action: &'static str,
    /// Set when a policy allowed the action on some resource; see [`Caller::was_authorized`].
    allowed_once: AtomicBool,
}

impl Caller {
    pub fn new(
        account: AccountId,
        access_key_id: String,
        principal: Principal,
        action: &'static str,
    ) -> Self {
        Self {
            account,
            access_key_id,
            principal,
            action,
            allowed_once: AtomicBool::new(false),
        }
    }

    /// Whether the caller may keep what its action produced: always for the account's own
    /// keys; for a RAM user, only if the action asked [`Caller::authorize`] and got an allow.
    /// The API checks it after every action, so an action that forgets to authorize fails
    /// closed with `Forbidden.RAM` instead of serving a RAM user unchecked.
    pub fn was_authorized(&self) -> bool {
        matches!(self.principal, Principal::Account) || self.allowed_once.load(Ordering::Relaxed)
    }

    /// Whose rate limit the request spends: the account, or the RAM user, across its keys.
    pub fn user_key(&self) -> UserKey {
        match &self.principal {
            Principal::Account => UserKey::Account(self.account.0.clone()),
            Principal::RamUser { id, .. } => UserKey::RamUser(id.0.clone()),
        }
    }

    /// Checks that the caller may run its action on `domain`, which the caller's account
    /// owns (tenant isolation is the store's lookup, done before this check).
    pub fn authorize_domain(&self, domain: &IngestDomain) -> Result<(), ApiError> {
        let resource = policy::domain_resource(&domain.account.0, domain.name.as_str());
        self.authorize(&resource)
    }

    /// Checks that the caller may run its action on `resource`: always for the account's
    /// own keys, by the user's policies for a RAM user.
    pub fn authorize(&self, resource: &str) -> Result<(), ApiError> {
        let Principal::RamUser { id, policies } = &self.principal else {
            return Ok(());
        };
        let action = policy::action_name(self.action);
        match policy::evaluate(policies, &action, resource) {
            Verdict::Allowed => {
                self.allowed_once.store(true, Ordering::Relaxed);
                Ok(())
            }
            verdict => {
                let reason = verdict.reason();
                tracing::debug!(ram_user = %id, action, resource, reason, "RAM policy denied");
                Err(ApiError::Forbidden)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::policy::Policy;

    fn ram_caller(document: &str) -> Caller {
        let policy = Policy::parse(document).expect("policy");
        let principal = Principal::RamUser {
            id: RamUserId("7".into()),
            policies: vec![policy],
        };
        Caller::new(AccountId("1".into()), "LTAIx".into(), principal, "Describe")
    }

    #[test]
    fn a_ram_caller_is_authorized_only_after_an_allow() {
        let statement = r#"{"Effect":"Allow","Action":"live:Describe","Resource":"acs:x"}"#;
        let caller = ram_caller(&format!(r#"{{"Version":"1","Statement":[{statement}]}}"#));
        assert!(!caller.was_authorized());
        assert!(matches!(
            caller.authorize("acs:y"),
            Err(ApiError::Forbidden)
        ));
        assert!(!caller.was_authorized(), "a denial does not count");
        assert!(caller.authorize("acs:x").is_ok());
        assert!(caller.was_authorized());
    }

    #[test]
    fn the_accounts_own_key_is_always_authorized() {
        let caller = Caller::new(AccountId("1".into()), "k".into(), Principal::Account, "X");
        assert!(caller.was_authorized());
        assert!(caller.authorize("acs:anything").is_ok());
    }
}
