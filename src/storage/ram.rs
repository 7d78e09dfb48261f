//! RAM users, their access keys and the policies attached to them.
//!
//! A RAM user belongs to one account. Its access keys live with the account's own keys (same
//! format, same signing) and carry the user's id; deleting the user deletes its keys and
//! policies with it, so a key never outlives its user and becomes an account key.

use std::fmt;

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{AccessKey, AccountId, StorageResult};
use crate::auth::policy::Policy;

/// A RAM user's id: 16 decimal digits, like Alibaba's.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RamUserId(pub String);

impl RamUserId {
    pub fn generate() -> Self {
        Self(AccountId::generate().0)
    }
}

impl fmt::Display for RamUserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a RAM user or policy name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("a {what} name has 1 to {max} characters")]
    Length { what: &'static str, max: usize },
    #[error("a {what} name has only letters, digits and {allowed}")]
    Character {
        what: &'static str,
        allowed: &'static str,
    },
}

/// A RAM user's name, unique within its account: 1 to 64 letters, digits, `.`, `_`, `-`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RamUserName(String);

/// A policy's name, unique per user: 1 to 128 letters, digits, `-`, `_`, `.`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyName(String);

fn check_name(text: &str, what: &'static str, max: usize) -> Result<(), NameError> {
    if text.is_empty() || text.chars().count() > max {
        return Err(NameError::Length { what, max });
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if !text.chars().all(allowed) {
        let allowed = "'.', '_', '-'";
        return Err(NameError::Character { what, allowed });
    }
    Ok(())
}

impl RamUserName {
    pub fn parse(text: &str) -> Result<Self, NameError> {
        check_name(text, "RAM user", 64).map(|()| Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PolicyName {
    pub fn parse(text: &str) -> Result<Self, NameError> {
        check_name(text, "policy", 128).map(|()| Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A RAM user of an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RamUser {
    pub id: RamUserId,
    pub name: RamUserName,
    pub account: AccountId,
    pub created_at: OffsetDateTime,
}

/// A policy attached to a RAM user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachedPolicy {
    pub name: PolicyName,
    pub policy: Policy,
    pub attached_at: OffsetDateTime,
}

/// Who an access key signs for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOwner {
    /// The account itself: every right on its resources.
    Account,
    /// A RAM user, with the policies attached to it when the key was looked up.
    RamUser {
        user: RamUser,
        policies: Vec<AttachedPolicy>,
    },
}

/// RAM users, their keys and policies.
#[async_trait]
pub trait RamStore: Send + Sync {
    /// Fails with `NotFound` for an unknown account and `Conflict` for a taken name.
    async fn create_ram_user(
        &self,
        account: &AccountId,
        name: &RamUserName,
    ) -> StorageResult<RamUser>;
    async fn ram_user(&self, id: &RamUserId) -> StorageResult<Option<RamUser>>;
    async fn list_ram_users(&self, account: Option<&AccountId>) -> StorageResult<Vec<RamUser>>;
    /// Deletes the user, its access keys and its policies in one transaction.
    async fn delete_ram_user(&self, id: &RamUserId) -> StorageResult<()>;

    /// A new access key signing as `user`, in the user's account.
    async fn create_ram_access_key(&self, user: &RamUserId) -> StorageResult<AccessKey>;
    /// The ids of `user`'s access keys.
    async fn list_ram_access_keys(&self, user: &RamUserId) -> StorageResult<Vec<String>>;

    /// Fails with `NotFound` for an unknown user and `Conflict` for a taken policy name.
    async fn attach_policy(
        &self,
        user: &RamUserId,
        name: &PolicyName,
        policy: &Policy,
    ) -> StorageResult<AttachedPolicy>;
    async fn list_policies(&self, user: &RamUserId) -> StorageResult<Vec<AttachedPolicy>>;
    async fn detach_policy(&self, user: &RamUserId, name: &PolicyName) -> StorageResult<()>;

    /// Who `access_key_id` signs for, read in one snapshot; `None` when the key is gone.
    async fn key_owner(&self, access_key_id: &str) -> StorageResult<Option<KeyOwner>>;
}
