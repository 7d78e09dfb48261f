//! `livenotify admin`: accounts, access keys, ingest domains and RAM users (see [`ram`]),
//! working on the store directly and printing JSON on stdout.

mod ram;

use anyhow::Context;
use clap::Subcommand;
use serde_json::{json, Value};

use crate::domain::{format_utc_seconds, DomainName};
use crate::storage::{
    AccessKey, AccountId, IdentityStore, IngestDomain, KeyStatus, RamStore, StorageError,
};

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Access keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Ingest domains.
    #[command(subcommand)]
    Domain(DomainCommand),
    /// RAM users, their access keys and policies.
    #[command(subcommand)]
    Ram(ram::RamCommand),
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account and print its AccountId.
    Create,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an access key; prints the secret once.
    Create {
        #[arg(long)]
        account: String,
    },
    /// List access keys (never their secrets).
    List {
        #[arg(long)]
        account: Option<String>,
    },
    /// Stop a key from signing requests.
    Disable { access_key_id: String },
    /// Let a disabled key sign requests again.
    Enable { access_key_id: String },
    /// Delete a key.
    Delete { access_key_id: String },
}

#[derive(Debug, Subcommand)]
pub enum DomainCommand {
    /// Give an ingest domain to an account.
    Add {
        domain: String,
        #[arg(long)]
        account: String,
    },
    /// Remove an ingest domain and its callback configuration.
    Remove { domain: String },
    /// List ingest domains.
    List {
        #[arg(long)]
        account: Option<String>,
    },
}

pub async fn run<S>(command: AdminCommand, store: &S) -> anyhow::Result<()>
where
    S: IdentityStore + RamStore,
{
    let output = match command {
        AdminCommand::Account(AccountCommand::Create) => {
            json!({ "AccountId": store.create_account().await?.0 })
        }
        AdminCommand::Key(command) => key(command, store).await?,
        AdminCommand::Domain(command) => domain(command, store).await?,
        AdminCommand::Ram(command) => ram::run(command, store).await?,
    };
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(())
}

async fn key(command: KeyCommand, store: &dyn IdentityStore) -> anyhow::Result<Value> {
    Ok(match command {
        KeyCommand::Create { account } => {
            let key = store
                .create_access_key(&AccountId(account.clone()))
                .await
                .map_err(|e| not_found_as(e, &format!("account {account} does not exist")))?;
            json!({
                "AccessKeyId": key.id,
                "AccessKeySecret": key.secret,
                "AccountId": key.account.0,
            })
        }
        KeyCommand::List { account } => {
            let keys = store
                .list_access_keys(account.map(AccountId).as_ref())
                .await?;
            Value::Array(keys.iter().map(key_json).collect())
        }
        KeyCommand::Disable { access_key_id } => {
            set_status(store, access_key_id, KeyStatus::Inactive).await?
        }
        KeyCommand::Enable { access_key_id } => {
            set_status(store, access_key_id, KeyStatus::Active).await?
        }
        KeyCommand::Delete { access_key_id } => {
            store.delete_access_key(&access_key_id).await.map_err(|e| {
                not_found_as(e, &format!("access key {access_key_id} does not exist"))
            })?;
            json!({ "AccessKeyId": access_key_id, "Deleted": true })
        }
    })
}

async fn set_status(
    store: &dyn IdentityStore,
    id: String,
    status: KeyStatus,
) -> anyhow::Result<Value> {
    store
        .set_access_key_status(&id, status)
        .await
        .map_err(|e| not_found_as(e, &format!("access key {id} does not exist")))?;
    Ok(json!({ "AccessKeyId": id, "Status": status.as_str() }))
}

async fn domain(command: DomainCommand, store: &dyn IdentityStore) -> anyhow::Result<Value> {
    Ok(match command {
        DomainCommand::Add { domain, account } => {
            let name = DomainName::parse(&domain)
                .with_context(|| format!("{domain:?} is not a domain name"))?;
            let added = store
                .add_domain(&AccountId(account.clone()), &name)
                .await
                .map_err(|e| match e {
                    StorageError::Conflict { .. } => {
                        anyhow::anyhow!("domain {name} already belongs to an account")
                    }
                    other => not_found_as(other, &format!("account {account} does not exist")),
                })?;
            domain_json(&added)
        }
        DomainCommand::Remove { domain } => {
            let name = DomainName::parse(&domain)
                .with_context(|| format!("{domain:?} is not a domain name"))?;
            store
                .remove_domain(&name)
                .await
                .map_err(|e| not_found_as(e, &format!("domain {name} does not exist")))?;
            json!({ "DomainName": name.as_str(), "Removed": true })
        }
        DomainCommand::List { account } => {
            let domains = store.list_domains(account.map(AccountId).as_ref()).await?;
            Value::Array(domains.iter().map(domain_json).collect())
        }
    })
}

fn not_found_as(error: StorageError, message: &str) -> anyhow::Error {
    match error {
        StorageError::NotFound { .. } => anyhow::anyhow!("{message}"),
        other => anyhow::Error::new(other),
    }
}

fn key_json(key: &AccessKey) -> Value {
    json!({
        "AccessKeyId": key.id,
        "AccountId": key.account.0,
        "Status": key.status.as_str(),
        "CreateTime": format_utc_seconds(key.created_at),
        "RamUserId": key.ram_user,
    })
}

fn domain_json(domain: &IngestDomain) -> Value {
    json!({
        "DomainName": domain.name.as_str(),
        "AccountId": domain.account.0,
        "CreateTime": format_utc_seconds(domain.created_at),
    })
}
