//! Schema migrations for the PostgreSQL store, a list of their own, applied in order and
//! tracked in `livenotify_schema`. A session advisory lock makes two processes starting at
//! once take turns: the second finds the work done.

use deadpool_postgres::Object;

use super::backend;
use crate::storage::StorageResult;

/// The advisory lock key of migrations (any fixed number; "lnmigrat" in ASCII).
const LOCK_KEY: i64 = 0x6c6e_6d69_6772_6174;

/// Each entry moves the schema from version `index` to `index + 1`. Never edit a released
/// entry: add a new one.
const MIGRATIONS: &[&str] = &[
    // 1: identity, RAM users and policies, callback configuration.
    r#"
    CREATE TABLE accounts (
        id          TEXT PRIMARY KEY,
        created_at  BIGINT NOT NULL
    );
    CREATE TABLE ram_users (
        id          TEXT PRIMARY KEY,
        account_id  TEXT NOT NULL REFERENCES accounts(id),
        name        TEXT NOT NULL,
        created_at  BIGINT NOT NULL,
        UNIQUE (account_id, name)
    );
    CREATE TABLE access_keys (
        id           TEXT PRIMARY KEY,
        secret       TEXT NOT NULL,
        account_id   TEXT NOT NULL REFERENCES accounts(id),
        status       TEXT NOT NULL,
        created_at   BIGINT NOT NULL,
        ram_user_id  TEXT REFERENCES ram_users(id) ON DELETE CASCADE
    );
    CREATE INDEX access_keys_by_account ON access_keys(account_id);
    CREATE INDEX access_keys_by_ram_user ON access_keys(ram_user_id);
    CREATE TABLE ram_policies (
        id           BIGSERIAL PRIMARY KEY,
        ram_user_id  TEXT NOT NULL REFERENCES ram_users(id) ON DELETE CASCADE,
        name         TEXT NOT NULL,
        document     TEXT NOT NULL,
        created_at   BIGINT NOT NULL,
        UNIQUE (ram_user_id, name)
    );
    CREATE TABLE domains (
        id          BIGSERIAL PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        account_id  TEXT NOT NULL REFERENCES accounts(id),
        created_at  BIGINT NOT NULL
    );
    CREATE INDEX domains_by_account ON domains(account_id);
    CREATE TABLE notify_url_configs (
        domain_id             BIGINT PRIMARY KEY REFERENCES domains(id) ON DELETE CASCADE,
        notify_url            TEXT NOT NULL,
        exception_notify_url  TEXT,
        switch_notify_url     TEXT,
        notify_req_auth       BOOLEAN NOT NULL,
        notify_auth_key       TEXT,
        updated_at            BIGINT NOT NULL
    );
    "#,
    // 2: notify records, partitioned by day of notify_time (see partitions.rs), and their
    // hourly counts (see record_counts.rs).
    r#"
    CREATE SEQUENCE notify_records_id_seq AS BIGINT;
    CREATE TABLE notify_records (
        id               BIGINT NOT NULL DEFAULT nextval('notify_records_id_seq'),
        domain_id        BIGINT NOT NULL,
        app_name         TEXT NOT NULL,
        stream_name      TEXT NOT NULL,
        notify_type      TEXT NOT NULL,
        notify_time      BIGINT NOT NULL,
        notify_result    BOOLEAN NOT NULL,
        description      TEXT NOT NULL,
        notify_url       TEXT NOT NULL,
        notify_content   TEXT NOT NULL,
        notify_response  TEXT NOT NULL,
        notify_header    TEXT NOT NULL,
        event_id         TEXT,
        attempt          BIGINT,
        http_status      BIGINT,
        latency_ms       BIGINT
    ) PARTITION BY RANGE (notify_time);
    CREATE INDEX notify_records_by_id ON notify_records(id);
    CREATE INDEX notify_records_by_time ON notify_records(domain_id, notify_time);
    CREATE INDEX notify_records_by_app_stream
        ON notify_records(domain_id, app_name, stream_name, notify_time);
    CREATE INDEX notify_records_by_stream
        ON notify_records(domain_id, stream_name, notify_time);
    CREATE INDEX notify_records_by_result
        ON notify_records(domain_id, notify_result, notify_time);
    CREATE TABLE notify_record_hours (
        domain_id      BIGINT NOT NULL,
        hour           BIGINT NOT NULL,
        notify_result  BOOLEAN NOT NULL,
        records        BIGINT NOT NULL,
        PRIMARY KEY (domain_id, hour, notify_result)
    );
    CREATE TABLE notify_record_app_hours (
        domain_id      BIGINT NOT NULL,
        app_name       TEXT NOT NULL,
        hour           BIGINT NOT NULL,
        notify_result  BOOLEAN NOT NULL,
        records        BIGINT NOT NULL,
        PRIMARY KEY (domain_id, app_name, hour, notify_result)
    );
    "#,
    // 3: stream events and the delivery queue (see storage::queue).
    r#"
    CREATE TABLE stream_events (
        seq              BIGSERIAL PRIMARY KEY,
        id               TEXT NOT NULL UNIQUE,
        domain_id        BIGINT NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
        app_name         TEXT NOT NULL,
        stream_name      TEXT NOT NULL,
        client_id        TEXT NOT NULL,
        action           TEXT NOT NULL,
        client_ip        TEXT NOT NULL,
        usrargs          TEXT NOT NULL,
        node             TEXT NOT NULL,
        height           BIGINT,
        width            BIGINT,
        event_time       BIGINT NOT NULL,
        received_at      BIGINT NOT NULL,
        source           TEXT NOT NULL,
        source_event_id  TEXT,
        paired_event_id  TEXT
    );
    CREATE INDEX stream_events_by_session
        ON stream_events(domain_id, app_name, stream_name, client_id, seq);
    CREATE UNIQUE INDEX stream_events_by_source_id
        ON stream_events(domain_id, source_event_id) WHERE source_event_id IS NOT NULL;
    CREATE INDEX stream_events_for_retention ON stream_events(received_at);
    CREATE TABLE deliveries (
        seq              BIGSERIAL PRIMARY KEY,
        event_id         TEXT NOT NULL UNIQUE
                         REFERENCES stream_events(id) ON DELETE CASCADE,
        domain_id        BIGINT NOT NULL,
        app_name         TEXT NOT NULL,
        stream_name      TEXT NOT NULL,
        attempts         BIGINT NOT NULL DEFAULT 0,
        next_attempt_at  BIGINT NOT NULL,
        lease_until      BIGINT,
        lease_owner      TEXT,
        lease_token      TEXT
    );
    CREATE INDEX deliveries_due ON deliveries(next_attempt_at, seq);
    CREATE INDEX deliveries_by_stream ON deliveries(domain_id, app_name, stream_name, seq);
    CREATE INDEX deliveries_by_lease ON deliveries(lease_token);
    CREATE INDEX deliveries_by_owner ON deliveries(lease_owner);
    "#,
    // 4: signature nonces shared by every process (see storage::nonce).
    r#"
    CREATE TABLE signature_nonces (
        fingerprint  BYTEA PRIMARY KEY,
        expires_at   BIGINT NOT NULL
    );
    CREATE INDEX signature_nonces_by_expiry ON signature_nonces(expires_at);
    "#,
    // 5: each domain's deliveries in due order, so a claim that skips the domains at their
    // in-flight cap reads only the others' deliveries.
    r#"
    CREATE INDEX deliveries_due_by_domain ON deliveries(domain_id, next_attempt_at, seq);
    "#,
];

/// Brings the schema to the newest version, one transaction per step, holding the
/// migration lock so concurrent starts do not race.
pub(super) async fn run(client: &mut Object) -> StorageResult<()> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY])
        .await
        .map_err(backend)?;
    let outcome = apply_pending(client).await;
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY])
        .await;
    outcome?;
    unlocked.map(drop).map_err(backend)
}

async fn apply_pending(client: &mut Object) -> StorageResult<()> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS livenotify_schema (
                 version     INTEGER PRIMARY KEY,
                 applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .await
        .map_err(backend)?;
    let row = client
        .query_one(
            "SELECT coalesce(max(version), 0) FROM livenotify_schema",
            &[],
        )
        .await
        .map_err(backend)?;
    let current = usize::try_from(row.get::<_, i32>(0)).unwrap_or(0);

    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let version = i32::try_from(index + 1).unwrap_or(i32::MAX);
        let tx = client.transaction().await.map_err(backend)?;
        tx.batch_execute(sql).await.map_err(backend)?;
        tx.execute(
            "INSERT INTO livenotify_schema (version) VALUES ($1)",
            &[&version],
        )
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        tracing::info!(version, "applied postgres migration");
    }
    Ok(())
}

/// The schema version this build expects.
pub fn latest_version() -> usize {
    MIGRATIONS.len()
}
