//! Accounts, access keys and domains in PostgreSQL.

use async_trait::async_trait;
use time::OffsetDateTime;
use tokio_postgres::Row;

use super::rows::{self, get};
use super::{backend, from_millis, to_millis, PostgresStore};
use crate::domain::DomainName;
use crate::storage::{
    found_if, model::generate_key_pair, AccessKey, AccountId, IdentityStore, IngestDomain,
    KeyStatus, StorageError, StorageResult,
};

const KEY_COLUMNS: &str = "id, secret, account_id, status, created_at, ram_user_id";
const DOMAIN_COLUMNS: &str = "id, name, account_id, created_at";

#[async_trait]
impl IdentityStore for PostgresStore {
    async fn create_account(&self) -> StorageResult<AccountId> {
        let account = AccountId::generate();
        let now = to_millis(OffsetDateTime::now_utc());
        self.client()
            .await?
            .execute(
                "INSERT INTO accounts (id, created_at) VALUES ($1, $2)",
                &[&account.0, &now],
            )
            .await
            .map_err(backend)?;
        Ok(account)
    }

    async fn account_exists(&self, account: &AccountId) -> StorageResult<bool> {
        let row = self
            .client()
            .await?
            .query_opt("SELECT 1 FROM accounts WHERE id = $1", &[&account.0])
            .await
            .map_err(backend)?;
        Ok(row.is_some())
    }

    async fn count_accounts(&self) -> StorageResult<u64> {
        let row = self
            .client()
            .await?
            .query_one("SELECT count(*) FROM accounts", &[])
            .await
            .map_err(backend)?;
        Ok(get::<i64>(&row, 0)?.max(0) as u64)
    }

    async fn create_access_key(&self, account: &AccountId) -> StorageResult<AccessKey> {
        if !self.account_exists(account).await? {
            return Err(StorageError::NotFound { what: "account" });
        }
        let (id, secret) = generate_key_pair();
        let key = AccessKey {
            id,
            secret,
            account: account.clone(),
            status: KeyStatus::Active,
            created_at: OffsetDateTime::now_utc(),
            ram_user: None,
        };
        self.client()
            .await?
            .execute(
                "INSERT INTO access_keys (id, secret, account_id, status, created_at)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &key.id,
                    &key.secret,
                    &key.account.0,
                    &key.status.as_str(),
                    &to_millis(key.created_at),
                ],
            )
            .await
            .map_err(backend)?;
        Ok(key)
    }

    async fn access_key(&self, access_key_id: &str) -> StorageResult<Option<AccessKey>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM access_keys WHERE id = $1");
        let client = self.client().await?;
        let row = client
            .query_opt(&sql, &[&access_key_id])
            .await
            .map_err(backend)?;
        row.as_ref().map(key_from_row).transpose()
    }

    async fn list_access_keys(&self, account: Option<&AccountId>) -> StorageResult<Vec<AccessKey>> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM access_keys
             WHERE $1::TEXT IS NULL OR account_id = $1 ORDER BY created_at, id"
        );
        let account = account.map(|a| a.0.clone());
        let rows = self
            .client()
            .await?
            .query(&sql, &[&account])
            .await
            .map_err(backend)?;
        rows.iter().map(key_from_row).collect()
    }

    async fn set_access_key_status(
        &self,
        access_key_id: &str,
        status: KeyStatus,
    ) -> StorageResult<()> {
        let changed = self
            .client()
            .await?
            .execute(
                "UPDATE access_keys SET status = $2 WHERE id = $1",
                &[&access_key_id, &status.as_str()],
            )
            .await
            .map_err(backend)?;
        found_if(changed, "access key")
    }

    async fn delete_access_key(&self, access_key_id: &str) -> StorageResult<()> {
        let changed = self
            .client()
            .await?
            .execute("DELETE FROM access_keys WHERE id = $1", &[&access_key_id])
            .await
            .map_err(backend)?;
        found_if(changed, "access key")
    }

    async fn add_domain(
        &self,
        account: &AccountId,
        name: &DomainName,
    ) -> StorageResult<IngestDomain> {
        if !self.account_exists(account).await? {
            return Err(StorageError::NotFound { what: "account" });
        }
        let now = OffsetDateTime::now_utc();
        let row = self
            .client()
            .await?
            .query_opt(
                "INSERT INTO domains (name, account_id, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO NOTHING RETURNING id",
                &[&name.as_str(), &account.0, &to_millis(now)],
            )
            .await
            .map_err(backend)?;
        let row = row.ok_or(StorageError::Conflict { what: "domain" })?;
        Ok(IngestDomain {
            id: get(&row, 0)?,
            name: name.clone(),
            account: account.clone(),
            created_at: now,
        })
    }

    async fn remove_domain(&self, name: &DomainName) -> StorageResult<()> {
        let changed = self
            .client()
            .await?
            .execute("DELETE FROM domains WHERE name = $1", &[&name.as_str()])
            .await
            .map_err(backend)?;
        found_if(changed, "domain")
    }

    async fn list_domains(&self, account: Option<&AccountId>) -> StorageResult<Vec<IngestDomain>> {
        let sql = format!(
            "SELECT {DOMAIN_COLUMNS} FROM domains
             WHERE $1::TEXT IS NULL OR account_id = $1 ORDER BY name"
        );
        let account = account.map(|a| a.0.clone());
        let rows = self
            .client()
            .await?
            .query(&sql, &[&account])
            .await
            .map_err(backend)?;
        rows.iter().map(|row| rows::domain(row, 0)).collect()
    }

    async fn domain_by_name(&self, name: &DomainName) -> StorageResult<Option<IngestDomain>> {
        let sql = format!("SELECT {DOMAIN_COLUMNS} FROM domains WHERE name = $1");
        let client = self.client().await?;
        let row = client
            .query_opt(&sql, &[&name.as_str()])
            .await
            .map_err(backend)?;
        row.map(|row| rows::domain(&row, 0)).transpose()
    }
}

pub(super) fn key_from_row(row: &Row) -> StorageResult<AccessKey> {
    let status: String = get(row, 3)?;
    Ok(AccessKey {
        id: get(row, 0)?,
        secret: get(row, 1)?,
        account: AccountId(get(row, 2)?),
        status: if status == "Active" {
            KeyStatus::Active
        } else {
            KeyStatus::Inactive
        },
        created_at: from_millis(get(row, 4)?),
        ram_user: get(row, 5)?,
    })
}
