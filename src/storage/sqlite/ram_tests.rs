//! The SQLite RAM store's contract: users per account, keys that sign as their user and go
//! with it, policies stored and read back typed.

use super::*;
use crate::storage::IdentityStore;

async fn store_with_account() -> (tempfile::TempDir, SqliteStore, AccountId) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path()).expect("open");
    let account = store.create_account().await.expect("account");
    (dir, store, account)
}

fn name(text: &str) -> RamUserName {
    RamUserName::parse(text).expect("valid name")
}

fn policy() -> Policy {
    let allow = r#"{"Effect":"Allow","Action":"live:Describe*","Resource":"*"}"#;
    let document = format!(r#"{{"Version":"1","Statement":[{allow}]}}"#);
    Policy::parse(&document).expect("valid policy")
}

#[tokio::test]
async fn users_are_per_account_with_unique_names() {
    let (_dir, store, account) = store_with_account().await;
    let user = store
        .create_ram_user(&account, &name("ops"))
        .await
        .expect("created");
    assert_eq!(
        store.ram_user(&user.id).await.expect("read"),
        Some(user.clone())
    );
    let again = store.create_ram_user(&account, &name("ops")).await;
    assert!(matches!(again, Err(StorageError::Conflict { .. })));

    let other = store.create_account().await.expect("account");
    store
        .create_ram_user(&other, &name("ops"))
        .await
        .expect("same name, other account");
    assert_eq!(
        store.list_ram_users(Some(&account)).await.expect("list"),
        vec![user]
    );
    assert_eq!(store.list_ram_users(None).await.expect("list").len(), 2);

    let nobody = AccountId("1".into());
    let missing = store.create_ram_user(&nobody, &name("x")).await;
    assert!(matches!(
        missing,
        Err(StorageError::NotFound { what: "account" })
    ));
}

/// A RAM user named `ops` with one key and the policy `read`.
async fn user_with_key(store: &SqliteStore, account: &AccountId) -> (RamUser, AccessKey) {
    let user = store.create_ram_user(account, &name("ops")).await;
    let user = user.expect("user");
    let key = store.create_ram_access_key(&user.id).await.expect("key");
    let read = PolicyName::parse("read").expect("name");
    let attached = store.attach_policy(&user.id, &read, &policy()).await;
    attached.expect("attached");
    (user, key)
}

#[tokio::test]
async fn a_key_signs_for_its_user_or_its_account() {
    let (_dir, store, account) = store_with_account().await;
    let root = store.create_access_key(&account).await.expect("root key");
    let (user, key) = user_with_key(&store, &account).await;
    assert_eq!(key.account, account);

    let owner_of = |id: String| {
        let store = store.clone();
        async move { store.key_owner(&id).await.expect("owner") }
    };
    assert_eq!(owner_of(root.id).await, Some(KeyOwner::Account));
    let Some(KeyOwner::RamUser {
        user: owner,
        policies,
    }) = owner_of(key.id.clone()).await
    else {
        panic!("a RAM key signs for its user")
    };
    assert_eq!(owner, user);
    let documents: Vec<_> = policies.into_iter().map(|p| p.policy).collect();
    assert_eq!(documents, vec![policy()]);
    assert_eq!(owner_of("LTAInope".into()).await, None);

    let keys = store.list_ram_access_keys(&user.id).await.expect("keys");
    assert_eq!(keys, vec![key.id.clone()]);
    let stored = store.access_key(&key.id).await.expect("key");
    assert_eq!(stored.map(|k| k.secret), Some(key.secret));
}

#[tokio::test]
async fn deleting_a_user_deletes_its_keys_and_policies() {
    let (_dir, store, account) = store_with_account().await;
    let (user, key) = user_with_key(&store, &account).await;

    store.delete_ram_user(&user.id).await.expect("deleted");
    assert_eq!(
        store.key_owner(&key.id).await.expect("owner"),
        None,
        "never an account key"
    );
    assert!(store.access_key(&key.id).await.expect("read").is_none());
    assert!(matches!(
        store.delete_ram_user(&user.id).await,
        Err(StorageError::NotFound { .. })
    ));
    assert!(matches!(
        store.list_policies(&user.id).await,
        Err(StorageError::NotFound { .. })
    ));
}

#[tokio::test]
async fn policies_attach_once_per_name_and_detach() {
    let (_dir, store, account) = store_with_account().await;
    let user = store
        .create_ram_user(&account, &name("ops"))
        .await
        .expect("user");
    let read = PolicyName::parse("read").expect("name");
    store
        .attach_policy(&user.id, &read, &policy())
        .await
        .expect("attached");
    let twice = store.attach_policy(&user.id, &read, &policy()).await;
    assert!(matches!(twice, Err(StorageError::Conflict { .. })));

    store
        .detach_policy(&user.id, &read)
        .await
        .expect("detached");
    assert!(store
        .list_policies(&user.id)
        .await
        .expect("list")
        .is_empty());
    let again = store.detach_policy(&user.id, &read).await;
    assert!(matches!(again, Err(StorageError::NotFound { .. })));
    let ghost = RamUserId("1".into());
    assert!(matches!(
        store.attach_policy(&ghost, &read, &policy()).await,
        Err(StorageError::NotFound { .. })
    ));
    assert!(matches!(
        store.create_ram_access_key(&ghost).await,
        Err(StorageError::NotFound { .. })
    ));
}

#[test]
fn names_are_checked() {
    assert!(RamUserName::parse("ops.team_1-a").is_ok());
    assert!(RamUserName::parse("").is_err());
    assert!(RamUserName::parse(&"a".repeat(65)).is_err());
    assert!(RamUserName::parse("a b").is_err());
    assert!(PolicyName::parse(&"a".repeat(128)).is_ok());
    assert!(PolicyName::parse("a/b").is_err());
}
