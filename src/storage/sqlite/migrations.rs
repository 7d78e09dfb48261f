//! Schema migrations for the SQLite store, applied in order and tracked in `user_version`.

use rusqlite::Connection;

use super::backend;
use crate::storage::StorageResult;

/// Each entry moves the schema from version `index` to `index + 1`. Never edit a released
/// entry: add a new one.
const MIGRATIONS: &[&str] = &[
    // 1: identity, domains, callback configuration and notify records.
    r#"
    CREATE TABLE accounts (
        id          TEXT PRIMARY KEY,
        created_at  INTEGER NOT NULL
    );
    CREATE TABLE access_keys (
        id          TEXT PRIMARY KEY,
        secret      TEXT NOT NULL,
        account_id  TEXT NOT NULL REFERENCES accounts(id),
        status      TEXT NOT NULL,
        created_at  INTEGER NOT NULL
    );
    CREATE INDEX access_keys_by_account ON access_keys(account_id);
    CREATE TABLE domains (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        name        TEXT NOT NULL UNIQUE,
        account_id  TEXT NOT NULL REFERENCES accounts(id),
        created_at  INTEGER NOT NULL
    );
    CREATE INDEX domains_by_account ON domains(account_id);
    CREATE TABLE notify_url_configs (
        domain_id             INTEGER PRIMARY KEY REFERENCES domains(id) ON DELETE CASCADE,
        notify_url            TEXT NOT NULL,
        exception_notify_url  TEXT,
        switch_notify_url     TEXT,
        notify_req_auth       INTEGER NOT NULL,
        notify_auth_key       TEXT,
        updated_at            INTEGER NOT NULL
    );
    CREATE TABLE notify_records (
        id               INTEGER PRIMARY KEY,
        domain_id        INTEGER NOT NULL,
        app_name         TEXT NOT NULL,
        stream_name      TEXT NOT NULL,
        notify_type      TEXT NOT NULL,
        notify_time      INTEGER NOT NULL,
        notify_result    INTEGER NOT NULL,
        description      TEXT NOT NULL,
        notify_url       TEXT NOT NULL,
        notify_content   TEXT NOT NULL,
        notify_response  TEXT NOT NULL,
        notify_header    TEXT NOT NULL,
        event_id         TEXT,
        attempt          INTEGER,
        http_status      INTEGER,
        latency_ms       INTEGER
    );
    CREATE INDEX notify_records_by_time
        ON notify_records(domain_id, notify_time);
    CREATE INDEX notify_records_by_app_stream
        ON notify_records(domain_id, app_name, stream_name, notify_time);
    CREATE INDEX notify_records_by_stream
        ON notify_records(domain_id, stream_name, notify_time);
    CREATE INDEX notify_records_by_result
        ON notify_records(domain_id, notify_result, notify_time);
    CREATE INDEX notify_records_for_retention
        ON notify_records(notify_time);
    "#,
    // 2: stream events and the delivery queue (see storage::queue).
    r#"
    CREATE TABLE stream_events (
        id               TEXT PRIMARY KEY,
        domain_id        INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
        app_name         TEXT NOT NULL,
        stream_name      TEXT NOT NULL,
        client_id        TEXT NOT NULL,
        action           TEXT NOT NULL,
        client_ip        TEXT NOT NULL,
        usrargs          TEXT NOT NULL,
        node             TEXT NOT NULL,
        height           INTEGER,
        width            INTEGER,
        event_time       INTEGER NOT NULL,
        received_at      INTEGER NOT NULL,
        source           TEXT NOT NULL,
        source_event_id  TEXT,
        paired_event_id  TEXT
    );
    CREATE INDEX stream_events_by_session
        ON stream_events(domain_id, app_name, stream_name, client_id);
    CREATE UNIQUE INDEX stream_events_by_source_id
        ON stream_events(domain_id, source_event_id) WHERE source_event_id IS NOT NULL;
    CREATE INDEX stream_events_for_retention ON stream_events(received_at);
    CREATE TABLE deliveries (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id         TEXT NOT NULL UNIQUE
                         REFERENCES stream_events(id) ON DELETE CASCADE,
        domain_id        INTEGER NOT NULL,
        app_name         TEXT NOT NULL,
        stream_name      TEXT NOT NULL,
        attempts         INTEGER NOT NULL DEFAULT 0,
        next_attempt_at  INTEGER NOT NULL,
        lease_until      INTEGER,
        lease_owner      TEXT,
        lease_token      TEXT
    );
    CREATE INDEX deliveries_due ON deliveries(next_attempt_at);
    CREATE INDEX deliveries_by_stream ON deliveries(domain_id, app_name, stream_name, seq);
    CREATE INDEX deliveries_by_lease ON deliveries(lease_token);
    CREATE INDEX deliveries_by_owner ON deliveries(lease_owner);
    "#,
    // 3: hourly record counts per domain and per domain and app (see record_counts.rs),
    // filled from the records already stored.
    r#"
    CREATE TABLE notify_record_hours (
        domain_id      INTEGER NOT NULL,
        hour           INTEGER NOT NULL,
        notify_result  INTEGER NOT NULL,
        records        INTEGER NOT NULL,
        PRIMARY KEY (domain_id, hour, notify_result)
    ) WITHOUT ROWID;
    CREATE TABLE notify_record_app_hours (
        domain_id      INTEGER NOT NULL,
        app_name       TEXT NOT NULL,
        hour           INTEGER NOT NULL,
        notify_result  INTEGER NOT NULL,
        records        INTEGER NOT NULL,
        PRIMARY KEY (domain_id, app_name, hour, notify_result)
    ) WITHOUT ROWID;
    INSERT INTO notify_record_hours
        SELECT domain_id, notify_time / 3600000, notify_result, count(*)
        FROM notify_records GROUP BY 1, 2, 3;
    INSERT INTO notify_record_app_hours
        SELECT domain_id, app_name, notify_time / 3600000, notify_result, count(*)
        FROM notify_records GROUP BY 1, 2, 3, 4;
    "#,
    // 4: RAM users, their policies, and the RAM user an access key signs for (NULL: the
    // account itself). Deleting a user deletes its keys, so no key outlives its user.
    r#"
    CREATE TABLE ram_users (
        id          TEXT PRIMARY KEY,
        account_id  TEXT NOT NULL REFERENCES accounts(id),
        name        TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        UNIQUE (account_id, name)
    );
    ALTER TABLE access_keys
        ADD COLUMN ram_user_id TEXT REFERENCES ram_users(id) ON DELETE CASCADE;
    CREATE INDEX access_keys_by_ram_user ON access_keys(ram_user_id);
    CREATE TABLE ram_policies (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        ram_user_id  TEXT NOT NULL REFERENCES ram_users(id) ON DELETE CASCADE,
        name         TEXT NOT NULL,
        document     TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        UNIQUE (ram_user_id, name)
    );
    "#,
    // 5: records by domain, app and time, so an AppName query counts its partial hours
    // from the index alone instead of reading every record of the domain in those hours.
    r#"
    CREATE INDEX notify_records_by_app
        ON notify_records(domain_id, app_name, notify_time);
    "#,
    // 6: two indexes every claim and every finished delivery had to update. A claim now
    // reads back its deliveries by position, and a restart's release of its own leases
    // scans the queue once.
    r#"
    DROP INDEX deliveries_by_lease;
    DROP INDEX deliveries_by_owner;
    "#,
    // 7: each domain's deliveries in due order, so a claim that skips the domains at their
    // in-flight cap reads only the others' deliveries.
    r#"
    CREATE INDEX deliveries_due_by_domain ON deliveries(domain_id, next_attempt_at);
    "#,
];

/// Brings the schema to the newest version inside one transaction per step.
pub fn run(conn: &mut Connection) -> StorageResult<()> {
    let current: usize = conn
        .pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))
        .map_err(backend)?
        .try_into()
        .unwrap_or(0);

    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction().map_err(backend)?;
        tx.execute_batch(sql).map_err(backend)?;
        tx.pragma_update(None, "user_version", (index + 1) as i64)
            .map_err(backend)?;
        tx.commit().map_err(backend)?;
        tracing::info!(version = index + 1, "applied sqlite migration");
    }
    Ok(())
}

/// The schema version this build expects.
pub fn latest_version() -> usize {
    MIGRATIONS.len()
}
