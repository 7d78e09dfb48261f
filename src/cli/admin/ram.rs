//! `livenotify admin ram`: RAM users of an account, their access keys and the policies
//! attached to them. Policies are checked when attached; a malformed one is refused with the
//! reason and nothing is stored.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use serde_json::{json, Value};

use crate::auth::policy::Policy;
use crate::domain::format_utc_seconds;
use crate::storage::ram::{AttachedPolicy, PolicyName, RamStore, RamUser, RamUserId, RamUserName};
use crate::storage::{AccountId, StorageError};

#[derive(Debug, Subcommand)]
pub enum RamCommand {
    /// RAM users of an account.
    #[command(subcommand)]
    User(UserCommand),
    /// Access keys of RAM users.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Policies attached to RAM users.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a RAM user in an account.
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        name: String,
    },
    /// List RAM users.
    List {
        #[arg(long)]
        account: Option<String>,
    },
    /// Delete a RAM user with its access keys and policies.
    Delete { user_id: String },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an access key signing as a RAM user; prints the secret once.
    Create {
        #[arg(long)]
        user: String,
    },
    /// List the access key ids of a RAM user.
    List {
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Attach a policy document (JSON file) to a RAM user.
    Attach {
        #[arg(long)]
        user: String,
        #[arg(long, value_name = "POLICY.json")]
        file: PathBuf,
        /// The policy's name; by default the file name without its extension.
        #[arg(long)]
        name: Option<String>,
    },
    /// List the policies of a RAM user.
    List {
        #[arg(long)]
        user: String,
    },
    /// Detach a policy from a RAM user.
    Detach {
        #[arg(long)]
        user: String,
        #[arg(long)]
        name: String,
    },
}

pub async fn run(command: RamCommand, store: &dyn RamStore) -> anyhow::Result<Value> {
    match command {
        RamCommand::User(command) => user(command, store).await,
        RamCommand::Key(command) => key(command, store).await,
        RamCommand::Policy(command) => policy(command, store).await,
    }
}

async fn user(command: UserCommand, store: &dyn RamStore) -> anyhow::Result<Value> {
    Ok(match command {
        UserCommand::Create { account, name } => {
            let name = RamUserName::parse(&name).with_context(|| format!("{name:?} is refused"))?;
            let user = store
                .create_ram_user(&AccountId(account.clone()), &name)
                .await
                .map_err(|e| match e {
                    StorageError::Conflict { .. } => anyhow::anyhow!(
                        "account {account} already has a RAM user named {}",
                        name.as_str()
                    ),
                    other => not_found_as(other, &format!("account {account} does not exist")),
                })?;
            user_json(&user)
        }
        UserCommand::List { account } => {
            let users = store
                .list_ram_users(account.map(AccountId).as_ref())
                .await?;
            Value::Array(users.iter().map(user_json).collect())
        }
        UserCommand::Delete { user_id } => {
            store
                .delete_ram_user(&RamUserId(user_id.clone()))
                .await
                .map_err(|e| no_user(e, &user_id))?;
            json!({ "UserId": user_id, "Deleted": true })
        }
    })
}

async fn key(command: KeyCommand, store: &dyn RamStore) -> anyhow::Result<Value> {
    Ok(match command {
        KeyCommand::Create { user } => {
            let key = store
                .create_ram_access_key(&RamUserId(user.clone()))
                .await
                .map_err(|e| no_user(e, &user))?;
            json!({
                "AccessKeyId": key.id,
                "AccessKeySecret": key.secret,
                "UserId": user,
                "AccountId": key.account.0,
            })
        }
        KeyCommand::List { user } => {
            let id = RamUserId(user.clone());
            if store.ram_user(&id).await?.is_none() {
                anyhow::bail!("RAM user {user} does not exist");
            }
            let keys = store.list_ram_access_keys(&id).await?;
            json!({ "UserId": user, "AccessKeyIds": keys })
        }
    })
}

async fn policy(command: PolicyCommand, store: &dyn RamStore) -> anyhow::Result<Value> {
    Ok(match command {
        PolicyCommand::Attach { user, file, name } => {
            let (name, policy) = read_policy(&file, name)?;
            let attached = store
                .attach_policy(&RamUserId(user.clone()), &name, &policy)
                .await
                .map_err(|e| match e {
                    StorageError::Conflict { .. } => anyhow::anyhow!(
                        "RAM user {user} already has a policy named {}; detach it first",
                        name.as_str()
                    ),
                    other => no_user(other, &user),
                })?;
            let mut output = policy_json(&attached);
            output["UserId"] = Value::from(user);
            output
        }
        PolicyCommand::List { user } => {
            let policies = store
                .list_policies(&RamUserId(user.clone()))
                .await
                .map_err(|e| no_user(e, &user))?;
            Value::Array(policies.iter().map(policy_json).collect())
        }
        PolicyCommand::Detach { user, name } => {
            let policy_name = PolicyName::parse(&name)?;
            store
                .detach_policy(&RamUserId(user.clone()), &policy_name)
                .await
                .map_err(|e| {
                    not_found_as(e, &format!("RAM user {user} has no policy named {name}"))
                })?;
            json!({ "UserId": user, "PolicyName": name, "Detached": true })
        }
    })
}

/// Reads and parses a policy file, and names it `name` or after the file.
fn read_policy(file: &Path, name: Option<String>) -> anyhow::Result<(PolicyName, Policy)> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the policy file {}", file.display()))?;
    let policy = Policy::parse(&text)
        .with_context(|| format!("the policy in {} is refused", file.display()))?;
    let name = match name {
        Some(name) => name,
        None => file
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or_default()
            .to_string(),
    };
    let name = PolicyName::parse(&name)
        .with_context(|| format!("{name:?} cannot name a policy; give one with --name"))?;
    Ok((name, policy))
}

fn no_user(error: StorageError, user: &str) -> anyhow::Error {
    not_found_as(error, &format!("RAM user {user} does not exist"))
}

fn not_found_as(error: StorageError, message: &str) -> anyhow::Error {
    match error {
        StorageError::NotFound { .. } => anyhow::anyhow!("{message}"),
        other => anyhow::Error::new(other),
    }
}

fn user_json(user: &RamUser) -> Value {
    json!({
        "UserId": user.id.0,
        "UserName": user.name.as_str(),
        "AccountId": user.account.0,
        "CreateDate": format_utc_seconds(user.created_at),
    })
}

fn policy_json(attached: &AttachedPolicy) -> Value {
    let document: Value = serde_json::from_str(&attached.policy.to_json()).unwrap_or_default();
    json!({
        "PolicyName": attached.name.as_str(),
        "PolicyDocument": document,
        "AttachDate": format_utc_seconds(attached.attached_at),
    })
}
