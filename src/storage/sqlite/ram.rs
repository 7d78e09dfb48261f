//! RAM users, their keys and policies in SQLite. Policies are stored in canonical form and
//! parsed again when read; a stored document that no longer parses fails the read rather
//! than being skipped, so a user never silently gains what a lost Deny took away.

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row};
use time::OffsetDateTime;

use super::{backend, from_millis, to_millis, SqliteStore};
use crate::auth::policy::Policy;
use crate::storage::{
    model::generate_key_pair,
    ram::{AttachedPolicy, KeyOwner, PolicyName, RamStore, RamUser, RamUserId, RamUserName},
    AccessKey, AccountId, KeyStatus, StorageError, StorageResult,
};

const USER_COLUMNS: &str = "id, name, account_id, created_at";

#[async_trait]
impl RamStore for SqliteStore {
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
        let row = user.clone();
        self.write(move |conn| {
            require(
                conn,
                "SELECT 1 FROM accounts WHERE id = ?1",
                &row.account.0,
                "account",
            )?;
            let inserted = conn
                .execute(
                    "INSERT INTO ram_users (id, account_id, name, created_at)
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (account_id, name) DO NOTHING",
                    params![
                        row.id.0,
                        row.account.0,
                        row.name.as_str(),
                        to_millis(row.created_at)
                    ],
                )
                .map_err(backend)?;
            match inserted {
                0 => Err(StorageError::Conflict { what: "RAM user" }),
                _ => Ok(()),
            }
        })
        .await?;
        Ok(user)
    }

    async fn ram_user(&self, id: &RamUserId) -> StorageResult<Option<RamUser>> {
        let id = id.0.clone();
        self.read(move |conn| user_by_id(conn, &id)).await
    }

    async fn list_ram_users(&self, account: Option<&AccountId>) -> StorageResult<Vec<RamUser>> {
        let account = account.map(|a| a.0.clone());
        self.read(move |conn| {
            let sql = format!(
                "SELECT {USER_COLUMNS} FROM ram_users
                 WHERE ?1 IS NULL OR account_id = ?1 ORDER BY account_id, name"
            );
            let mut stmt = conn.prepare(&sql).map_err(backend)?;
            let rows = stmt.query_map([account], user_from_row).map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
        .await
    }

    async fn delete_ram_user(&self, id: &RamUserId) -> StorageResult<()> {
        let id = id.0.clone();
        self.write(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            for sql in [
                "DELETE FROM access_keys WHERE ram_user_id = ?1",
                "DELETE FROM ram_policies WHERE ram_user_id = ?1",
            ] {
                tx.execute(sql, [&id]).map_err(backend)?;
            }
            let deleted = tx
                .execute("DELETE FROM ram_users WHERE id = ?1", [&id])
                .map_err(backend)?;
            if deleted == 0 {
                return Err(StorageError::NotFound { what: "RAM user" });
            }
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn create_ram_access_key(&self, user: &RamUserId) -> StorageResult<AccessKey> {
        let user_id = user.0.clone();
        let (id, secret) = generate_key_pair();
        let created_at = stored_now();
        self.write(move |conn| {
            let user =
                user_by_id(conn, &user_id)?.ok_or(StorageError::NotFound { what: "RAM user" })?;
            let key = AccessKey {
                id,
                secret,
                account: user.account,
                status: KeyStatus::Active,
                created_at,
                ram_user: Some(user_id.clone()),
            };
            conn.execute(
                "INSERT INTO access_keys (id, secret, account_id, status, created_at, ram_user_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    key.id,
                    key.secret,
                    key.account.0,
                    key.status.as_str(),
                    to_millis(created_at),
                    user_id
                ],
            )
            .map_err(backend)?;
            Ok(key)
        })
        .await
    }

    async fn list_ram_access_keys(&self, user: &RamUserId) -> StorageResult<Vec<String>> {
        let user = user.0.clone();
        self.read(move |conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT id FROM access_keys WHERE ram_user_id = ?1 ORDER BY created_at, id",
                )
                .map_err(backend)?;
            let rows = stmt.query_map([user], |row| row.get(0)).map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
        .await
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
        let (user, name, document) = (user.0.clone(), name.as_str().to_string(), policy.to_json());
        let at = to_millis(attached.attached_at);
        self.write(move |conn| {
            require(
                conn,
                "SELECT 1 FROM ram_users WHERE id = ?1",
                &user,
                "RAM user",
            )?;
            let inserted = conn
                .execute(
                    "INSERT INTO ram_policies (ram_user_id, name, document, created_at)
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (ram_user_id, name) DO NOTHING",
                    params![user, name, document, at],
                )
                .map_err(backend)?;
            match inserted {
                0 => Err(StorageError::Conflict { what: "policy" }),
                _ => Ok(()),
            }
        })
        .await?;
        Ok(attached)
    }

    async fn list_policies(&self, user: &RamUserId) -> StorageResult<Vec<AttachedPolicy>> {
        let user = user.0.clone();
        self.read(move |conn| {
            require(
                conn,
                "SELECT 1 FROM ram_users WHERE id = ?1",
                &user,
                "RAM user",
            )?;
            policies_of(conn, &user)
        })
        .await
    }

    async fn detach_policy(&self, user: &RamUserId, name: &PolicyName) -> StorageResult<()> {
        let (user, name) = (user.0.clone(), name.as_str().to_string());
        let deleted = self
            .write(move |conn| {
                conn.execute(
                    "DELETE FROM ram_policies WHERE ram_user_id = ?1 AND name = ?2",
                    params![user, name],
                )
                .map_err(backend)
            })
            .await?;
        match deleted {
            0 => Err(StorageError::NotFound { what: "policy" }),
            _ => Ok(()),
        }
    }

    async fn key_owner(&self, access_key_id: &str) -> StorageResult<Option<KeyOwner>> {
        let id = access_key_id.to_string();
        self.read(move |conn| {
            // One read transaction: the key, its user and the policies from one snapshot.
            let tx = conn.unchecked_transaction().map_err(backend)?;
            let owner = key_owner_in(&tx, &id);
            tx.finish().map_err(backend)?;
            owner
        })
        .await
    }
}

/// The current time at the precision the schema keeps (milliseconds), so that what a call
/// returns equals what a later read gives back.
fn stored_now() -> OffsetDateTime {
    from_millis(to_millis(OffsetDateTime::now_utc()))
}

fn key_owner_in(conn: &Connection, access_key_id: &str) -> StorageResult<Option<KeyOwner>> {
    let user_id: Option<Option<String>> = conn
        .query_row(
            "SELECT ram_user_id FROM access_keys WHERE id = ?1",
            [access_key_id],
            |row| row.get(0),
        )
        .optional()
        .map_err(backend)?;
    let user_id = match user_id {
        None => return Ok(None),
        Some(None) => return Ok(Some(KeyOwner::Account)),
        Some(Some(user_id)) => user_id,
    };
    // The cascade removes a deleted user's keys, so a missing user means a missing key.
    let Some(user) = user_by_id(conn, &user_id)? else {
        return Ok(None);
    };
    let policies = policies_of(conn, &user_id)?;
    Ok(Some(KeyOwner::RamUser { user, policies }))
}

fn user_by_id(conn: &Connection, id: &str) -> StorageResult<Option<RamUser>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM ram_users WHERE id = ?1");
    conn.query_row(&sql, [id], user_from_row)
        .optional()
        .map_err(backend)
}

fn policies_of(conn: &Connection, user: &str) -> StorageResult<Vec<AttachedPolicy>> {
    let mut stmt = conn
        .prepare(
            "SELECT name, document, created_at FROM ram_policies
             WHERE ram_user_id = ?1 ORDER BY name",
        )
        .map_err(backend)?;
    let rows = stmt.query_map([user], policy_from_row).map_err(backend)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(backend)
}

/// Fails with `NotFound { what }` unless `sql` finds a row for `id`.
fn require(conn: &Connection, sql: &str, id: &str, what: &'static str) -> StorageResult<()> {
    conn.query_row(sql, [id], |_| Ok(()))
        .optional()
        .map_err(backend)?
        .ok_or(StorageError::NotFound { what })
}

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<RamUser> {
    let name: String = row.get(1)?;
    Ok(RamUser {
        id: RamUserId(row.get(0)?),
        name: RamUserName::parse(&name).map_err(|e| conversion(1, e))?,
        account: AccountId(row.get(2)?),
        created_at: from_millis(row.get(3)?),
    })
}

fn policy_from_row(row: &Row<'_>) -> rusqlite::Result<AttachedPolicy> {
    let (name, document): (String, String) = (row.get(0)?, row.get(1)?);
    Ok(AttachedPolicy {
        name: PolicyName::parse(&name).map_err(|e| conversion(0, e))?,
        policy: Policy::parse(&document).map_err(|e| conversion(1, e))?,
        attached_at: from_millis(row.get(2)?),
    })
}

fn conversion<E: std::error::Error + Send + Sync + 'static>(
    column: usize,
    error: E,
) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(error))
}

#[cfg(test)]
#[path = "ram_tests.rs"]
mod tests;
