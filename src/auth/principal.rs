//! The authenticated caller of one request: the account it acts in, who signed (the account
//! itself or one of its RAM users), and the authorization check every action runs before it
//! touches a resource.

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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub account: AccountId,
    pub access_key_id: String,
    pub principal: Principal,
    /// The API action, such as `DescribeLiveStreamsNotifyRecords`.
    pub action: &'static str,
}

impl Caller {
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
            Verdict::Allowed => Ok(()),
            verdict => {
                tracing::debug!(ram_user = %id, action, resource, reason = verdict.reason(), "RAM policy denied");
                Err(ApiError::Forbidden)
            }
        }
    }
}
