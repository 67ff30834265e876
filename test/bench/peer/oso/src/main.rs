//! The benchmark's second peer: OSO kafka-backup's own engine (crate kafka-backup-core),
//! driven the way its CLI drives it, backing one topic up into S3 once and exiting.
//!
//! `oso-peer backup --bootstrap H:P --topic T --endpoint URL --region R --bucket B
//!  --backup-id ID [--segment-max-records N] [--zstd-level L]`
//! `oso-peer verify --endpoint URL --region R --bucket B --backup-id ID`
//!
//! Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, never the command line.
//! stdout carries one JSON object per line for the bench (test/bench/peer-oso.ts); logs go
//! to stderr.

use std::collections::{BTreeMap, HashMap};

use anyhow::{anyhow, bail, Context, Result};
use kafka_backup_core::backup::BackupEngine;
use kafka_backup_core::segment::SegmentReader;
use kafka_backup_core::storage::{create_backend, StorageBackendConfig};
use kafka_backup_core::Config;
use serde_json::json;

fn parse_flags(args: &[String]) -> Result<HashMap<String, String>> {
    let mut flags = HashMap::new();
    let mut it = args.iter();
    while let Some(name) = it.next() {
        let key = name
            .strip_prefix("--")
            .ok_or_else(|| anyhow!("unexpected argument {name}"))?;
        let value = it.next().ok_or_else(|| anyhow!("--{key} needs a value"))?;
        flags.insert(key.to_string(), value.clone());
    }
    Ok(flags)
}

fn flag<'a>(flags: &'a HashMap<String, String>, name: &str) -> Result<&'a str> {
    flags
        .get(name)
        .map(String::as_str)
        .ok_or_else(|| anyhow!("missing --{name}"))
}

fn env(name: &str) -> Result<String> {
    std::env::var(name).with_context(|| format!("{name} is not set"))
}

fn storage_json(flags: &HashMap<String, String>) -> Result<serde_json::Value> {
    Ok(json!({
        "backend": "s3",
        "bucket": flag(flags, "bucket")?,
        "region": flag(flags, "region")?,
        "endpoint": flag(flags, "endpoint")?,
        "access_key": env("AWS_ACCESS_KEY_ID")?,
        "secret_key": env("AWS_SECRET_ACCESS_KEY")?,
        // S3Proxy, like MinIO, serves buckets by path only, over plain HTTP.
        "path_style": true,
        "allow_http": true,
    }))
}

/// The kernel's high-water mark of this process's resident set.
fn vm_hwm_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

fn emit(event: serde_json::Value) {
    // One line per event; the bench timestamps each line as it arrives.
    println!("{event}");
}

async fn backup(flags: &HashMap<String, String>) -> Result<()> {
    emit(json!({ "event": "process-ready" }));
    let zstd_level: i32 = flags.get("zstd-level").map_or(Ok(3), |v| v.parse())?;
    let mut backup = json!({
        "compression": "zstd",
        "compression_level": zstd_level,
        // Its snapshot mode: each partition's end offset is taken at the start and the run
        // ends when every partition has reached it.
        "stop_at_current_offsets": true,
        "continuous": false,
        "start_offset": "earliest",
        // A verbatim archive, as coldstore's: no x-original-offset/-timestamp headers added.
        "include_offset_headers": false,
    });
    if let Some(records) = flags.get("segment-max-records") {
        backup["segment_max_records"] = json!(records.parse::<u64>()?);
    }
    let config: Config = serde_json::from_value(json!({
        "mode": "backup",
        "backup_id": flag(flags, "backup-id")?,
        "source": {
            "bootstrap_servers": [flag(flags, "bootstrap")?],
            "topics": { "include": [flag(flags, "topic")?] },
        },
        "storage": storage_json(flags)?,
        "backup": backup,
    }))
    .context("building the kafka-backup config")?;

    let engine = BackupEngine::new(config)
        .await
        .context("starting the backup engine")?;
    emit(json!({ "event": "engine-ready" }));
    engine.run().await.context("backup run")?;
    emit(json!({ "event": "done", "vmHwmBytes": vm_hwm_bytes() }));
    Ok(())
}

/// Where `.../partition=N/...` says a segment belongs.
fn partition_of(key: &str) -> Option<i32> {
    key.split('/')
        .find_map(|part| part.strip_prefix("partition="))
        .and_then(|p| p.parse().ok())
}

/// Reads every segment back with the crate's own reader (which checks each one's CRC and
/// decompresses it) and counts records, distinct offsets and key+value bytes.
async fn verify(flags: &HashMap<String, String>) -> Result<()> {
    let storage_config: StorageBackendConfig = serde_json::from_value(storage_json(flags)?)?;
    let storage = create_backend(&storage_config)?;
    let prefix = format!("{}/", flag(flags, "backup-id")?);
    let keys = storage.list(&prefix).await?;
    let mut offsets: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    let (mut segments, mut records, mut key_value_bytes, mut header_records) =
        (0u64, 0u64, 0u64, 0u64);
    for key in keys.iter().filter(|k| k.contains("/segment-")) {
        let partition = partition_of(key).ok_or_else(|| anyhow!("no partition in {key}"))?;
        let data = storage.get(key).await?;
        let mut reader = SegmentReader::open(data).with_context(|| format!("reading {key}"))?;
        segments += 1;
        header_records += reader.record_count();
        while let Some(record) = reader.next_record()? {
            records += 1;
            key_value_bytes += record.key.as_ref().map_or(0, |k| k.len() as u64);
            key_value_bytes += record.value.as_ref().map_or(0, |v| v.len() as u64);
            offsets.entry(partition).or_default().push(record.offset);
        }
    }
    let mut distinct_offsets = 0u64;
    let mut per_partition = BTreeMap::new();
    for (partition, list) in offsets.iter_mut() {
        list.sort_unstable();
        list.dedup();
        distinct_offsets += list.len() as u64;
        per_partition.insert(
            partition.to_string(),
            json!({ "records": list.len(), "first": list[0], "last": list[list.len() - 1] }),
        );
    }
    if header_records != records {
        bail!("segment headers say {header_records} records, the segments hold {records}");
    }
    emit(json!({
        "event": "verified",
        "keys": keys.len(),
        "segments": segments,
        "records": records,
        "distinctOffsets": distinct_offsets,
        "keyValueBytes": key_value_bytes,
        "partitions": per_partition,
    }));
    Ok(())
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some(command @ ("backup" | "verify")) => match parse_flags(&args[1..]) {
            Ok(flags) if command == "backup" => backup(&flags).await,
            Ok(flags) => verify(&flags).await,
            Err(err) => Err(err),
        },
        _ => Err(anyhow!("usage: oso-peer backup|verify --flag value ...")),
    };
    if let Err(err) = result {
        emit(json!({ "event": "error", "message": format!("{err:#}") }));
        std::process::exit(1);
    }
}
