//! RAM users, their keys and policies in PostgreSQL. As in the SQLite store, policies are
//! stored in canonical form and parsed again when read; a stored document that no longer
//! parses fails the read rather than being skipped.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use time::OffsetDateTime;
use tokio_postgres::{IsolationLevel, Row};

use super::rows::{bad, get};
use super::{backend, from_millis, to_millis, PostgresStore};
use crate::auth::policy::Policy;
use crate::storage::{
    model::generate_key_pair,
    ram::{AttachedPolicy, KeyOwner, PolicyName, RamStore, RamUser, RamUserId, RamUserName},
    AccessKey, AccountId, KeyStatus, StorageError, StorageResult,
};

const USER_COLUMNS: &str = "id, name, account_id, created_at";

#[async_trait]
impl RamStore for PostgresStore {
    async fn create_ram_user(
        &self,
        account: &AccountId,
        name: &RamUserName,
    ) -> StorageResult<RamUser> {
        let user = RamUser {
            id: RamUserId::generate(),
            name: name.clone(),
            account: account.clone(),
            created_at: stored_now(),
        };
        let client = self.client().await?;
        require(
            &client,
            "SELECT 1 FROM accounts WHERE id = $1",
            &account.0,
            "account",
        )
        .await?;
        let inserted = client
            .execute(
                "INSERT INTO ram_users (id, account_id, name, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (account_id, name) DO NOTHING",
                &[
                    &user.id.0,
                    &user.account.0,
                    &user.name.as_str(),
                    &to_millis(user.created_at),
                ],
            )
            .await
            .map_err(backend)?;
        match inserted {
            0 => Err(StorageError::Conflict { what: "RAM user" }),
            _ => Ok(user),
        }
    }

    async fn ram_user(&self, id: &RamUserId) -> StorageResult<Option<RamUser>> {
        user_by_id(&self.client().await?, &id.0).await
    }

    async fn list_ram_users(&self, account: Option<&AccountId>) -> StorageResult<Vec<RamUser>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM ram_users
             WHERE $1::TEXT IS NULL OR account_id = $1 ORDER BY account_id, name"
        );
        let account = account.map(|a| a.0.clone());
        let rows = self
            .client()
            .await?
            .query(&sql, &[&account])
            .await
            .map_err(backend)?;
        rows.iter().map(user_from_row).collect()
    }

    async fn delete_ram_user(&self, id: &RamUserId) -> StorageResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        for sql in [
            "DELETE FROM access_keys WHERE ram_user_id = $1",
            "DELETE FROM ram_policies WHERE ram_user_id = $1",
        ] {
            tx.execute(sql, &[&id.0]).await.map_err(backend)?;
        }
        let deleted = tx
            .execute("DELETE FROM ram_users WHERE id = $1", &[&id.0])
            .await
            .map_err(backend)?;
        if deleted == 0 {
            return Err(StorageError::NotFound { what: "RAM user" });
        }
        tx.commit().await.map_err(backend)
    }

    async fn create_ram_access_key(&self, user: &RamUserId) -> StorageResult<AccessKey> {
        let client = self.client().await?;
        let owner = user_by_id(&client, &user.0)
            .await?
            .ok_or(StorageError::NotFound { what: "RAM user" })?;
        let (id, secret) = generate_key_pair();
        let key = AccessKey {
            id,
            secret,
            account: owner.account,
            status: KeyStatus::Active,
            created_at: stored_now(),
            ram_user: Some(user.0.clone()),
        };
        client
            .execute(
                "INSERT INTO access_keys (id, secret, account_id, status, created_at, ram_user_id)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &key.id,
                    &key.secret,
                    &key.account.0,
                    &key.status.as_str(),
                    &to_millis(key.created_at),
                    &user.0,
                ],
            )
            .await
            .map_err(backend)?;
        Ok(key)
    }

    async fn list_ram_access_keys(&self, user: &RamUserId) -> StorageResult<Vec<String>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT id FROM access_keys WHERE ram_user_id = $1 ORDER BY created_at, id",
                &[&user.0],
            )
            .await
            .map_err(backend)?;
        rows.iter().map(|row| get(row, 0)).collect()
    }

    async fn attach_policy(
        &self,
        user: &RamUserId,
        name: &PolicyName,
        policy: &Policy,
    ) -> StorageResult<AttachedPolicy> {
        let attached = AttachedPolicy {
            name: name.clone(),
            policy: policy.clone(),
            attached_at: stored_now(),
        };
        let client = self.client().await?;
        require(
            &client,
            "SELECT 1 FROM ram_users WHERE id = $1",
            &user.0,
            "RAM user",
        )
        .await?;
        let inserted = client
            .execute(
                "INSERT INTO ram_policies (ram_user_id, name, document, created_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (ram_user_id, name) DO NOTHING",
                &[
                    &user.0,
                    &name.as_str(),
                    &policy.to_json(),
                    &to_millis(attached.attached_at),
                ],
            )
            .await
            .map_err(backend)?;
        match inserted {
            0 => Err(StorageError::Conflict { what: "policy" }),
            _ => Ok(attached),
        }
    }

    async fn list_policies(&self, user: &RamUserId) -> StorageResult<Vec<AttachedPolicy>> {
        let client = self.client().await?;
        require(
            &client,
            "SELECT 1 FROM ram_users WHERE id = $1",
            &user.0,
            "RAM user",
        )
        .await?;
        policies_of(&client, &user.0).await
    }

    async fn detach_policy(&self, user: &RamUserId, name: &PolicyName) -> StorageResult<()> {
        let deleted = self
            .client()
            .await?
            .execute(
                "DELETE FROM ram_policies WHERE ram_user_id = $1 AND name = $2",
                &[&user.0, &name.as_str()],
            )
            .await
            .map_err(backend)?;
        match deleted {
            0 => Err(StorageError::NotFound { what: "policy" }),
            _ => Ok(()),
        }
    }

    async fn key_owner(&self, access_key_id: &str) -> StorageResult<Option<KeyOwner>> {
        // One snapshot: the key, its user and the policies as of one instant.
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(backend)?;
        let owner = key_owner_in(&tx, access_key_id).await?;
        tx.commit().await.map_err(backend)?;
        Ok(owner)
    }
}

/// The current time at the precision the schema keeps (milliseconds).
fn stored_now() -> OffsetDateTime {
    from_millis(to_millis(OffsetDateTime::now_utc()))
}

async fn key_owner_in(
    client: &impl GenericClient,
    access_key_id: &str,
) -> StorageResult<Option<KeyOwner>> {
    let row = client
        .query_opt(
            "SELECT ram_user_id FROM access_keys WHERE id = $1",
            &[&access_key_id],
        )
        .await
        .map_err(backend)?;
    let user_id: String = match row {
        None => return Ok(None),
        Some(row) => match get::<Option<String>>(&row, 0)? {
            None => return Ok(Some(KeyOwner::Account)),
            Some(user_id) => user_id,
        },
    };
    // The cascade removes a deleted user's keys, so a missing user means a missing key.
    let Some(user) = user_by_id(client, &user_id).await? else {
        return Ok(None);
    };
    let policies = policies_of(client, &user_id).await?;
    Ok(Some(KeyOwner::RamUser { user, policies }))
}

async fn user_by_id(client: &impl GenericClient, id: &str) -> StorageResult<Option<RamUser>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM ram_users WHERE id = $1");
    let row = client.query_opt(&sql, &[&id]).await.map_err(backend)?;
    row.as_ref().map(user_from_row).transpose()
}

async fn policies_of(
    client: &impl GenericClient,
    user: &str,
) -> StorageResult<Vec<AttachedPolicy>> {
    let rows = client
        .query(
            "SELECT name, document, created_at FROM ram_policies
             WHERE ram_user_id = $1 ORDER BY name",
            &[&user],
        )
        .await
        .map_err(backend)?;
    rows.iter().map(policy_from_row).collect()
}

/// Fails with `NotFound { what }` unless `sql` finds a row for `id`.
async fn require(
    client: &impl GenericClient,
    sql: &str,
    id: &str,
    what: &'static str,
) -> StorageResult<()> {
    let row = client.query_opt(sql, &[&id]).await.map_err(backend)?;
    row.map(drop).ok_or(StorageError::NotFound { what })
}

fn user_from_row(row: &Row) -> StorageResult<RamUser> {
    let name: String = get(row, 1)?;
    Ok(RamUser {
        id: RamUserId(get(row, 0)?),
        name: RamUserName::parse(&name).map_err(|e| bad(1, e))?,
        account: AccountId(get(row, 2)?),
        created_at: from_millis(get(row, 3)?),
    })
}

fn policy_from_row(row: &Row) -> StorageResult<AttachedPolicy> {
    let (name, document): (String, String) = (get(row, 0)?, get(row, 1)?);
    Ok(AttachedPolicy {
        name: PolicyName::parse(&name).map_err(|e| bad(0, e))?,
        policy: Policy::parse(&document).map_err(|e| bad(1, e))?,
        attached_at: from_millis(get(row, 2)?),
    })
}
