//! The actions the API serves, one file per family, and the table that routes to them.

mod notify_domains;
mod notify_records;
mod notify_url_config;

pub use notify_records::QUERY_WINDOW;

use serde_json::{Map, Value};

use super::{error::ApiError, params::Params, ApiState};
use crate::auth::Caller;
use crate::domain::DomainName;
use crate::storage::IngestDomain;

/// An action's response body, without `RequestId`.
pub type ActionBody = Map<String, Value>;

/// Every action livenotify serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    DescribeLiveStreamsNotifyRecords,
    SetLiveStreamsNotifyUrlConfig,
    DescribeLiveStreamsNotifyUrlConfig,
    DeleteLiveStreamsNotifyUrlConfig,
    /// A livenotify extension: the caller's ingest domains (for the web console).
    DescribeLiveNotifyDomains,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::DescribeLiveStreamsNotifyRecords,
        Action::SetLiveStreamsNotifyUrlConfig,
        Action::DescribeLiveStreamsNotifyUrlConfig,
        Action::DeleteLiveStreamsNotifyUrlConfig,
        Action::DescribeLiveNotifyDomains,
    ];

    /// The action named `name` (case-sensitive, as Alibaba's gateway is).
    pub fn find(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|action| action.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::DescribeLiveStreamsNotifyRecords => "DescribeLiveStreamsNotifyRecords",
            Self::SetLiveStreamsNotifyUrlConfig => "SetLiveStreamsNotifyUrlConfig",
            Self::DescribeLiveStreamsNotifyUrlConfig => "DescribeLiveStreamsNotifyUrlConfig",
            Self::DeleteLiveStreamsNotifyUrlConfig => "DeleteLiveStreamsNotifyUrlConfig",
            Self::DescribeLiveNotifyDomains => "DescribeLiveNotifyDomains",
        }
    }
}

/// Runs `action` for an authenticated caller.
pub async fn dispatch(
    action: Action,
    state: &ApiState,
    caller: &Caller,
    params: &Params,
) -> Result<ActionBody, ApiError> {
    match action {
        Action::DescribeLiveStreamsNotifyRecords => {
            notify_records::describe(state, caller, params).await
        }
        Action::SetLiveStreamsNotifyUrlConfig => {
            notify_url_config::set(state, caller, params).await
        }
        Action::DescribeLiveStreamsNotifyUrlConfig => {
            notify_url_config::describe(state, caller, params).await
        }
        Action::DeleteLiveStreamsNotifyUrlConfig => {
            notify_url_config::delete(state, caller, params).await
        }
        Action::DescribeLiveNotifyDomains => notify_domains::describe(state, caller).await,
    }
}

/// The caller's ingest domain named by the `DomainName` parameter, once the caller is
/// authorized to run its action on it. Every action reaches its domain through here, so
/// this is where RAM policies are enforced.
///
/// A malformed name, a missing domain and another account's domain all answer
/// `InvalidDomain.NotFound` for every caller, root or RAM user, so nobody can probe which
/// domains exist; only a domain of the caller's own account can answer `Forbidden.RAM`.
pub async fn caller_domain(
    state: &ApiState,
    caller: &Caller,
    params: &Params,
) -> Result<IngestDomain, ApiError> {
    let name = params.required("DomainName")?;
    let name = DomainName::parse(name).map_err(|_| ApiError::DomainNotFound)?;
    let domain = state
        .store
        .find_domain(&caller.account, &name)
        .await?
        .ok_or(ApiError::DomainNotFound)?;
    caller.authorize_domain(&domain)?;
    Ok(domain)
}
