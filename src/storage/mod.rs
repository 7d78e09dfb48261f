//! The storage interface: one trait per concern, gathered into [`Store`], with an embedded
//! SQLite implementation (the default) and a PostgreSQL one for several processes.
//!
//! Every query that reads customer data is scoped by account: records and callback
//! configuration are reached only through an [`IngestDomain`] found for one account.

pub(crate) mod model;
pub mod nonce;
pub mod open;
pub mod postgres;
pub mod queue;
pub mod ram;
pub(crate) mod record_pages;
pub mod sqlite;

use async_trait::async_trait;

pub use model::{
    AccessKey, AccountId, ImportBatch, IngestDomain, KeyStatus, NewNotifyRecord, NotifyRecord,
    NotifyUrlConfig, RecordCursor, RecordFilter, RecordPage, RecordQuery,
};

pub use open::{open, DatabaseUrl, StoreLocation};
pub use queue::QueueStore;
pub use ram::RamStore;

use crate::domain::DomainName;

/// Why a storage call failed. Callers tell a missing or conflicting row from a broken store.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("{what} already exists")]
    Conflict { what: &'static str },
    #[error("the import was abandoned before its commit")]
    Aborted,
    #[error("the store failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type StorageResult<T> = Result<T, StorageError>;

/// `NotFound { what }` when a statement changed no row, for updates and deletes by key.
pub(crate) fn found_if(changed: u64, what: &'static str) -> StorageResult<()> {
    match changed {
        0 => Err(StorageError::NotFound { what }),
        _ => Ok(()),
    }
}

/// Accounts, their access keys and the ingest domains they own.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    async fn create_account(&self) -> StorageResult<AccountId>;
    async fn account_exists(&self, account: &AccountId) -> StorageResult<bool>;
    async fn count_accounts(&self) -> StorageResult<u64>;

    async fn create_access_key(&self, account: &AccountId) -> StorageResult<AccessKey>;
    async fn access_key(&self, access_key_id: &str) -> StorageResult<Option<AccessKey>>;
    async fn list_access_keys(&self, account: Option<&AccountId>) -> StorageResult<Vec<AccessKey>>;
    async fn set_access_key_status(
        &self,
        access_key_id: &str,
        status: KeyStatus,
    ) -> StorageResult<()>;
    async fn delete_access_key(&self, access_key_id: &str) -> StorageResult<()>;

    async fn add_domain(
        &self,
        account: &AccountId,
        name: &DomainName,
    ) -> StorageResult<IngestDomain>;
    async fn remove_domain(&self, name: &DomainName) -> StorageResult<()>;
    async fn list_domains(&self, account: Option<&AccountId>) -> StorageResult<Vec<IngestDomain>>;
    /// The domain `name` if `account` owns it; `None` both when it does not exist and when
    /// another account owns it, so callers cannot tell the two apart.
    async fn find_domain(
        &self,
        account: &AccountId,
        name: &DomainName,
    ) -> StorageResult<Option<IngestDomain>> {
        Ok(self
            .domain_by_name(name)
            .await?
            .filter(|domain| &domain.account == account))
    }
    /// The domain `name` whoever owns it: for ingest hooks and import, not for API callers.
    async fn domain_by_name(&self, name: &DomainName) -> StorageResult<Option<IngestDomain>>;
}

/// Notify records: one per callback attempt.
#[async_trait]
pub trait RecordStore: Send + Sync {
    /// Inserts all records or none.
    async fn insert_records(&self, records: Vec<NewNotifyRecord>) -> StorageResult<u64>;
    /// Inserts every batch received in one transaction, committed only when
    /// [`ImportBatch::Commit`] arrives; a channel closed without it rolls everything back.
    async fn import_records(
        &self,
        batches: tokio::sync::mpsc::Receiver<ImportBatch>,
    ) -> StorageResult<u64>;
    /// One page of a domain's records, newest first, and the total matching the filter.
    async fn query_records(&self, query: &RecordQuery) -> StorageResult<RecordPage>;
    /// Records in insertion order after `cursor`, for export and live tails.
    async fn scan_records(
        &self,
        filter: &RecordFilter,
        after: RecordCursor,
        limit: u32,
    ) -> StorageResult<Vec<NotifyRecord>>;
    /// Deletes records older than `before`; returns how many went.
    async fn prune_records(&self, before: time::OffsetDateTime) -> StorageResult<u64>;
}

/// The stream callback configuration of each ingest domain.
#[async_trait]
pub trait NotifyConfigStore: Send + Sync {
    async fn set_notify_config(&self, config: &NotifyUrlConfig) -> StorageResult<()>;
    async fn notify_config(&self, domain: &IngestDomain) -> StorageResult<Option<NotifyUrlConfig>>;
    async fn delete_notify_config(&self, domain: &IngestDomain) -> StorageResult<()>;
}

/// Everything livenotify keeps, behind one interface.
pub trait Store: IdentityStore + RecordStore + NotifyConfigStore + QueueStore + RamStore {}

impl<T: IdentityStore + RecordStore + NotifyConfigStore + QueueStore + RamStore> Store for T {}
