//! The end-to-end tests, one test binary: each module starts real servers (in-process or the
//! real binary) and talks to them over TCP with real MySQL clients, real S3 (s3s-fs), real
//! browsers. One binary rather than one per file: every test binary links the whole server
//! (DataFusion, the S3 SDK), so 37 of them took 13 GB of disk and most of CI's build time.
//! Run one module with `cargo test -p snaprock-tests --test end_to_end restore::`.

mod access;
mod alter_table;
mod backup;
mod cli;
mod complex_types;
mod console_browser;
mod continuous;
mod delete_vectors;
mod dialect_functions;
mod dialect_partitions;
mod expression_partitions;
mod first_contact;
mod generated_partitions;
mod http;
mod instant_restore;
mod jdbc_client;
mod key_models;
mod limits;
mod load_labels;
mod materialized_views;
mod mysql_grants;
mod protocol;
mod python_clients;
mod ranged_download;
mod recycle_bin;
mod restore;
mod resume;
mod secondary_indexes;
mod show_functions;
mod show_load;
mod show_storage;
mod snapshot_db;
mod snapshot_drop;
mod statistics;
mod storage_volumes;
mod tables;
mod tables_on_volumes;
mod tasks;
mod time_buckets;
mod tls;
mod unknown_functions;
mod volume_followers;
mod volume_kill9;
mod volume_statements;
