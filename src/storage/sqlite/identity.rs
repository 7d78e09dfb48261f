//! Accounts, access keys and domains in SQLite.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row};
use time::OffsetDateTime;

use super::{backend, from_millis, to_millis, SqliteStore};
use crate::domain::DomainName;
use crate::storage::{
    found_if, model::generate_key_pair, AccessKey, AccountId, IdentityStore, IngestDomain,
    KeyStatus, StorageError, StorageResult,
};

#[async_trait]
impl IdentityStore for SqliteStore {
    async fn create_account(&self) -> StorageResult<AccountId> {
        let account = AccountId::generate();
        let id = account.0.clone();
        let now = to_millis(OffsetDateTime::now_utc());
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO accounts (id, created_at) VALUES (?1, ?2)",
                params![id, now],
            )
            .map_err(backend)
        })
        .await?;
        Ok(account)
    }

    async fn account_exists(&self, account: &AccountId) -> StorageResult<bool> {
        let id = account.0.clone();
        self.read(move |conn| {
            conn.query_row("SELECT 1 FROM accounts WHERE id = ?1", [id], |_| Ok(()))
                .optional()
                .map(|found| found.is_some())
                .map_err(backend)
        })
        .await
    }

    async fn count_accounts(&self) -> StorageResult<u64> {
        self.read(|conn| {
            conn.query_row("SELECT count(*) FROM accounts", [], |row| {
                row.get::<_, i64>(0)
            })
            .map(|n| n.max(0) as u64)
            .map_err(backend)
        })
        .await
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
        let row = key.clone();
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO access_keys (id, secret, account_id, status, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    row.id,
                    row.secret,
                    row.account.0,
                    row.status.as_str(),
                    to_millis(row.created_at)
                ],
            )
            .map_err(backend)
        })
        .await?;
        Ok(key)
    }

    async fn access_key(&self, access_key_id: &str) -> StorageResult<Option<AccessKey>> {
        let id = access_key_id.to_string();
        self.read_point(move |conn| {
            conn.prepare_cached(
                "SELECT id, secret, account_id, status, created_at, ram_user_id FROM access_keys
                 WHERE id = ?1",
            )
            .and_then(|mut stmt| stmt.query_row([id], key_from_row))
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn list_access_keys(&self, account: Option<&AccountId>) -> StorageResult<Vec<AccessKey>> {
        let account = account.map(|a| a.0.clone());
        self.read(move |conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT id, secret, account_id, status, created_at, ram_user_id
                     FROM access_keys WHERE ?1 IS NULL OR account_id = ?1 ORDER BY created_at, id",
                )
                .map_err(backend)?;
            let rows = stmt.query_map([account], key_from_row).map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
        .await
    }

    async fn set_access_key_status(
        &self,
        access_key_id: &str,
        status: KeyStatus,
    ) -> StorageResult<()> {
        let id = access_key_id.to_string();
        let changed = self
            .write(move |conn| {
                conn.execute(
                    "UPDATE access_keys SET status = ?2 WHERE id = ?1",
                    params![id, status.as_str()],
                )
                .map_err(backend)
            })
            .await?;
        found_if(changed as u64, "access key")
    }

    async fn delete_access_key(&self, access_key_id: &str) -> StorageResult<()> {
        let id = access_key_id.to_string();
        let changed = self
            .write(move |conn| {
                conn.execute("DELETE FROM access_keys WHERE id = ?1", [id])
                    .map_err(backend)
            })
            .await?;
        found_if(changed as u64, "access key")
    }

    async fn add_domain(
        &self,
        account: &AccountId,
        name: &DomainName,
    ) -> StorageResult<IngestDomain> {
        if !self.account_exists(account).await? {
            return Err(StorageError::NotFound { what: "account" });
        }
        let (account_id, domain_name) = (account.0.clone(), name.as_str().to_string());
        let now = OffsetDateTime::now_utc();
        let id = self
            .write(move |conn| {
                let inserted = conn.execute(
                    "INSERT INTO domains (name, account_id, created_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (name) DO NOTHING",
                    params![domain_name, account_id, to_millis(now)],
                );
                match inserted.map_err(backend)? {
                    0 => Err(StorageError::Conflict { what: "domain" }),
                    _ => Ok(conn.last_insert_rowid()),
                }
            })
            .await?;
        Ok(IngestDomain {
            id,
            name: name.clone(),
            account: account.clone(),
            created_at: now,
        })
    }

    async fn remove_domain(&self, name: &DomainName) -> StorageResult<()> {
        let name = name.as_str().to_string();
        let changed = self
            .write(move |conn| {
                conn.execute("DELETE FROM domains WHERE name = ?1", [name])
                    .map_err(backend)
            })
            .await?;
        found_if(changed as u64, "domain")
    }

    async fn list_domains(&self, account: Option<&AccountId>) -> StorageResult<Vec<IngestDomain>> {
        let account = account.map(|a| a.0.clone());
        self.read(move |conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT id, name, account_id, created_at FROM domains
                     WHERE ?1 IS NULL OR account_id = ?1 ORDER BY name",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map([account], domain_from_row)
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
        .await
    }

    async fn domain_by_name(&self, name: &DomainName) -> StorageResult<Option<IngestDomain>> {
        let name = name.as_str().to_string();
        self.read_point(move |conn| {
            conn.prepare_cached(
                "SELECT id, name, account_id, created_at FROM domains WHERE name = ?1",
            )
            .and_then(|mut stmt| stmt.query_row([name], domain_from_row))
            .optional()
            .map_err(backend)
        })
        .await
    }
}

fn key_from_row(row: &Row<'_>) -> rusqlite::Result<AccessKey> {
    let status: String = row.get(3)?;
    Ok(AccessKey {
        id: row.get(0)?,
        secret: row.get(1)?,
        account: AccountId(row.get(2)?),
        status: if status == "Active" {
            KeyStatus::Active
        } else {
            KeyStatus::Inactive
        },
        created_at: from_millis(row.get(4)?),
        ram_user: row.get(5)?,
    })
}

pub(super) fn domain_from_row(row: &Row<'_>) -> rusqlite::Result<IngestDomain> {
    let name: String = row.get(1)?;
    let name = DomainName::parse(&name).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(IngestDomain {
        id: row.get(0)?,
        name,
        account: AccountId(row.get(2)?),
        created_at: from_millis(row.get(3)?),
    })
}
