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
    Policy::parse(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"live:Describe*","Resource":"*"}]}"#,
    )
    .expect("valid policy")
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

#[tokio::test]
async fn a_key_signs_for_its_user_or_its_account() {
    let (_dir, store, account) = store_with_account().await;
    let root = store.create_access_key(&account).await.expect("root key");
    let user = store
        .create_ram_user(&account, &name("ops"))
        .await
        .expect("user");
    let key = store
        .create_ram_access_key(&user.id)
        .await
        .expect("RAM key");
    assert_eq!(key.account, account);
    store
        .attach_policy(
            &user.id,
            &PolicyName::parse("read").expect("name"),
            &policy(),
        )
        .await
        .expect("attached");

    assert_eq!(
        store.key_owner(&root.id).await.expect("owner"),
        Some(KeyOwner::Account)
    );
    let Some(KeyOwner::RamUser {
        user: owner,
        policies,
    }) = store.key_owner(&key.id).await.expect("owner")
    else {
        panic!("a RAM key signs for its user")
    };
    assert_eq!(owner, user);
    assert_eq!(policies.len(), 1);
    assert_eq!(policies[0].policy, policy());
    assert_eq!(store.key_owner("LTAInope").await.expect("owner"), None);
    assert_eq!(
        store.list_ram_access_keys(&user.id).await.expect("keys"),
        vec![key.id.clone()]
    );
    assert_eq!(
        store
            .access_key(&key.id)
            .await
            .expect("key")
            .map(|k| k.secret),
        Some(key.secret)
    );
}

#[tokio::test]
async fn deleting_a_user_deletes_its_keys_and_policies() {
    let (_dir, store, account) = store_with_account().await;
    let user = store
        .create_ram_user(&account, &name("ops"))
        .await
        .expect("user");
    let key = store
        .create_ram_access_key(&user.id)
        .await
        .expect("RAM key");
    store
        .attach_policy(
            &user.id,
            &PolicyName::parse("read").expect("name"),
            &policy(),
        )
        .await
        .expect("attached");

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
