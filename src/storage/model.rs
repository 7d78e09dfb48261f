//! The rows the store keeps, as typed values.

use std::fmt;

use time::OffsetDateTime;

use crate::domain::{DomainName, NotifyResult, NotifyType};

/// An account: the owner of ingest domains and access keys (16 decimal digits, like
/// Alibaba Cloud's).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AccountId(pub String);

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether an access key may sign requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    Inactive,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Inactive => "Inactive",
        }
    }
}

/// An AccessKeyId and its secret.
#[derive(Clone)]
pub struct AccessKey {
    pub id: String,
    pub secret: String,
    pub account: AccountId,
    pub status: KeyStatus,
    pub created_at: OffsetDateTime,
    /// The RAM user the key signs for; `None` for the account's own key.
    pub ram_user: Option<String>,
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKey")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .field("account", &self.account)
            .field("status", &self.status)
            .field("ram_user", &self.ram_user)
            .finish()
    }
}

/// An ingest domain and the account that owns it. `id` changes when a domain is removed and
/// added again, so records of a former owner never show up for a new one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngestDomain {
    pub id: i64,
    pub name: DomainName,
    pub account: AccountId,
    pub created_at: OffsetDateTime,
}

/// A notify record to be stored: one callback attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewNotifyRecord {
    pub domain_id: i64,
    pub app_name: String,
    pub stream_name: String,
    pub notify_type: NotifyType,
    pub notify_time: OffsetDateTime,
    pub notify_result: NotifyResult,
    pub description: String,
    pub notify_url: String,
    pub notify_content: String,
    pub notify_response: String,
    pub notify_header: String,
    /// Extensions Alibaba's record lacks.
    pub event_id: Option<String>,
    pub attempt: Option<u32>,
    pub http_status: Option<u16>,
    pub latency_ms: Option<u32>,
}

/// A step of an all-or-nothing import.
#[derive(Debug)]
pub enum ImportBatch {
    Records(Vec<NewNotifyRecord>),
    Commit,
}

/// A stored notify record with its position in insertion order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyRecord {
    pub cursor: RecordCursor,
    pub domain_name: DomainName,
    pub record: NewNotifyRecord,
}

/// A position in the record log: records after it were stored later.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct RecordCursor(pub i64);

/// Which records of one domain a query or scan selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordFilter {
    pub domain: Option<IngestDomain>,
    pub app_name: Option<String>,
    pub stream_name: Option<String>,
    pub result: Option<NotifyResult>,
}

/// One page of DescribeLiveStreamsNotifyRecords: a domain's records whose NotifyTime, in
/// whole seconds, lies in `[start, end]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordQuery {
    pub domain: IngestDomain,
    pub app_name: Option<String>,
    pub stream_name: Option<String>,
    pub result: Option<NotifyResult>,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub page_size: u32,
    pub page_number: u32,
}

/// A page of records, newest first, and how many match in all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordPage {
    pub records: Vec<NotifyRecord>,
    pub total: u64,
}

/// A domain's stream callback configuration, as SetLiveStreamsNotifyUrlConfig takes it.
#[derive(Clone, PartialEq, Eq)]
pub struct NotifyUrlConfig {
    pub domain: IngestDomain,
    pub notify_url: String,
    pub exception_notify_url: Option<String>,
    pub switch_notify_url: Option<String>,
    pub notify_req_auth: bool,
    pub notify_auth_key: Option<String>,
}

impl fmt::Debug for NotifyUrlConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotifyUrlConfig")
            .field("domain", &self.domain.name)
            .field("notify_url", &self.notify_url)
            .field("notify_req_auth", &self.notify_req_auth)
            .field(
                "notify_auth_key",
                &self.notify_auth_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl AccountId {
    /// A fresh random account id of 16 decimal digits, not starting with 0.
    pub fn generate() -> Self {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        let first = rng.gen_range(1..=9u8);
        let rest: String = (0..15)
            .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
            .collect();
        Self(format!("{first}{rest}"))
    }
}

/// A fresh AccessKeyId (`LTAI` and 20 letters and digits) and a 30-character secret.
pub(crate) fn generate_key_pair() -> (String, String) {
    use rand::{distributions::Alphanumeric, Rng};
    let mut rng = rand::thread_rng();
    let mut token = |len: usize| -> String {
        (&mut rng)
            .sample_iter(&Alphanumeric)
            .take(len)
            .map(char::from)
            .collect()
    };
    (format!("LTAI{}", token(20)), token(30))
}
