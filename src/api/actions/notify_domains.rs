//! `DescribeLiveNotifyDomains`, a livenotify extension (Alibaba has no such action): the
//! ingest domains of the caller's account, so the web console can list them. Read-only, signed
//! like every action; a RAM user sees only the domains its policies let it run this action on.

use serde_json::{json, Map, Value};

use super::ActionBody;
use crate::api::{error::ApiError, ApiState};
use crate::auth::Caller;
use crate::domain::format_utc_seconds;

pub async fn describe(state: &ApiState, caller: &Caller) -> Result<ActionBody, ApiError> {
    let domains = state.store.list_domains(Some(&caller.account)).await?;
    let listed: Vec<Value> = domains
        .iter()
        .filter(|domain| caller.authorize_domain(domain).is_ok())
        .map(|domain| {
            json!({
                "DomainName": domain.name.as_str(),
                "CreateTime": format_utc_seconds(domain.created_at),
            })
        })
        .collect();
    let mut body = Map::new();
    body.insert("Domains".into(), json!({ "Domain": listed }));
    Ok(body)
}
