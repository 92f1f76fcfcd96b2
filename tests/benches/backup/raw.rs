//! The raw ceilings: the same files moved with plain aws-sdk-s3, no server in between.

use super::*;

pub(crate) async fn raw_upload(client: &aws_sdk_s3::Client, key: String, path: PathBuf) -> u64 {
    let mut file = tokio::fs::File::open(&path).await.unwrap();
    let created = client
        .create_multipart_upload()
        .bucket(BUCKET)
        .key(&key)
        .send()
        .await
        .unwrap();
    let upload_id = created.upload_id().unwrap().to_string();
    let mut parts = Vec::new();
    let mut in_flight = tokio::task::JoinSet::new();
    let mut number = 0;
    let mut total = 0u64;
    loop {
        while in_flight.len() >= PARTS_IN_FLIGHT {
            parts.push(in_flight.join_next().await.unwrap().unwrap());
        }
        let mut buf = bytes::BytesMut::with_capacity(PART_SIZE);
        while buf.len() < PART_SIZE {
            if file.read_buf(&mut buf).await.unwrap() == 0 {
                break;
            }
        }
        if buf.is_empty() {
            break;
        }
        total += buf.len() as u64;
        number += 1;
        let request = client
            .upload_part()
            .bucket(BUCKET)
            .key(&key)
            .upload_id(&upload_id)
            .part_number(number)
            .body(ByteStream::from(buf.freeze()));
        in_flight.spawn(async move {
            let out = request.send().await.unwrap();
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(out.e_tag().map(str::to_string))
                .build()
        });
    }
    while let Some(part) = in_flight.join_next().await {
        parts.push(part.unwrap());
    }
    parts.sort_by_key(|p| p.part_number());
    client
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key(&key)
        .upload_id(&upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap();
    total
}

/// The raw download ceiling: one plain GET streamed into a local file, fsynced.
pub(crate) async fn raw_download(client: &aws_sdk_s3::Client, key: String, path: PathBuf) -> u64 {
    let out = client
        .get_object()
        .bucket(BUCKET)
        .key(&key)
        .send()
        .await
        .unwrap();
    let mut body = out.body;
    let mut file = tokio::fs::File::create(&path).await.unwrap();
    let mut total = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.unwrap();
        total += chunk.len() as u64;
        file.write_all(&chunk).await.unwrap();
    }
    file.sync_all().await.unwrap();
    total
}

/// Parts of the parallel raw ceiling: 16 MiB ranged GETs, 8 in flight over all files (what a
/// tuned parallel client, boto3's s3transfer or aws-sdk-s3 by hand, does).
pub(crate) const CEILING_PART: u64 = 16 * 1024 * 1024;
pub(crate) const CEILING_STREAMS: usize = 8;

/// The parallel raw download ceiling: every object read in ranged GETs, `CEILING_STREAMS` in
/// flight, each part written at its offset (no hashing, no ordering), files fsynced.
pub(crate) async fn raw_parallel_download(
    client: &aws_sdk_s3::Client,
    objects: &[(String, u64)],
    dir: &Path,
) -> u64 {
    use std::os::unix::fs::FileExt;
    let files: Vec<Arc<std::fs::File>> = objects
        .iter()
        .enumerate()
        .map(|(i, (_, size))| {
            let f = std::fs::File::create(dir.join(format!("parallel-{i}"))).unwrap();
            f.set_len(*size).unwrap();
            Arc::new(f)
        })
        .collect();
    let parts: Vec<(usize, u64, u64)> = objects
        .iter()
        .enumerate()
        .flat_map(|(i, (_, size))| {
            (0..*size)
                .step_by(CEILING_PART as usize)
                .map(move |start| (i, start, (start + CEILING_PART).min(*size)))
        })
        .collect();
    let total = Arc::new(AtomicU64::new(0));
    futures::stream::iter(parts.into_iter().map(|(i, start, end)| {
        let client = client.clone();
        let key = objects[i].0.clone();
        let file = files[i].clone();
        let total = total.clone();
        async move {
            let out = client
                .get_object()
                .bucket(BUCKET)
                .key(&key)
                .range(format!("bytes={start}-{}", end - 1))
                .send()
                .await
                .unwrap();
            let bytes = out.body.collect().await.unwrap().into_bytes();
            total.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            tokio::task::spawn_blocking(move || file.write_all_at(&bytes, start).unwrap())
                .await
                .unwrap();
        }
    }))
    .buffer_unordered(CEILING_STREAMS)
    .collect::<Vec<_>>()
    .await;
    for f in files {
        f.sync_all().unwrap();
    }
    total.load(Ordering::Relaxed)
}
