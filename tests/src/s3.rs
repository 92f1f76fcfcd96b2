//! A real S3-protocol server for tests: s3s-fs in this process, behind a thin HTTP layer that
//! can delay or fail requests that write or read data files (to test retries, failures and
//! cancel).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hyper::service::{Service, service_fn};

pub const ACCESS_KEY: &str = "snaprock-test-access-key";
/// Distinctive so a grep for it in logs and SHOW output means a leak.
pub const SECRET_KEY: &str = "Sx9-secret-value-never-shown-4711";
pub const BUCKET: &str = "backups";

/// Faults applied to requests whose path contains `__data/`: PUTs (data file uploads) and,
/// for the `read_` fields, GETs (downloads).
#[derive(Debug, Default)]
pub struct Faults {
    /// Fail the next N data writes with HTTP 500.
    pub fail_next: AtomicU64,
    /// Fail every Nth data write with HTTP 503 (0: never).
    pub fail_every: AtomicU64,
    /// Delay every data write by this many milliseconds.
    pub delay_ms: AtomicU64,
    seen: AtomicU64,
    /// Data writes that reached the store.
    pub data_writes: AtomicU64,
    /// Bytes of data writes' bodies that reached the store (a server-side copy sends none).
    pub data_write_bytes: AtomicU64,
    /// Fail the next N data reads with HTTP 503.
    pub read_fail_next: AtomicU64,
    /// Delay every data read by this many milliseconds.
    pub read_delay_ms: AtomicU64,
    /// Data reads that reached the store.
    pub data_reads: AtomicU64,
    /// Cut the body of the next N data reads after half their bytes: the connection breaks
    /// while the body streams.
    pub read_cut_next: AtomicU64,
    /// Every request that reached the server, of any kind, counted as it arrives.
    pub requests: AtomicU64,
}

impl Faults {
    fn injected_status(&self) -> Option<u16> {
        let n = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
        if self
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
            .is_ok()
        {
            return Some(500);
        }
        let every = self.fail_every.load(Ordering::SeqCst);
        (every > 0 && n.is_multiple_of(every)).then_some(503)
    }

    pub fn clear(&self) {
        self.fail_next.store(0, Ordering::SeqCst);
        self.fail_every.store(0, Ordering::SeqCst);
        self.delay_ms.store(0, Ordering::SeqCst);
        self.read_fail_next.store(0, Ordering::SeqCst);
        self.read_delay_ms.store(0, Ordering::SeqCst);
        self.read_cut_next.store(0, Ordering::SeqCst);
    }
}

/// The response with its body ended by an error after half its bytes (the `Content-Length`
/// still says all of them), as when a connection breaks while the body streams.
async fn cut_body(response: hyper::Response<s3s::Body>) -> hyper::Response<s3s::Body> {
    let (parts, body) = response.into_parts();
    let bytes = http_body_util::BodyExt::collect(body)
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    let frames = futures::stream::iter([
        Ok(hyper::body::Frame::data(half)),
        Err(std::io::Error::other("body cut by the test")),
    ]);
    hyper::Response::from_parts(
        parts,
        s3s::Body::http_body(http_body_util::StreamBody::new(frames)),
    )
}

/// An S3 server on 127.0.0.1 with one bucket, [`BUCKET`].
pub struct TestS3 {
    pub addr: SocketAddr,
    pub faults: Arc<Faults>,
    root: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl TestS3 {
    pub async fn start() -> TestS3 {
        let root = tempfile::Builder::new()
            .prefix("snaprock-s3-")
            .tempdir()
            .expect("temp dir");
        std::fs::create_dir(root.path().join(BUCKET)).expect("bucket dir");
        let fs = s3s_fs::FileSystem::new(root.path()).expect("s3s-fs");
        let mut builder = s3s::service::S3ServiceBuilder::new(fs);
        builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let s3 = builder.build();
        let faults = Arc::new(Faults::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task_faults = faults.clone();
        let task = tokio::spawn(async move {
            let http =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                // As S3 endpoints do: with Nagle on, a response sent as headers then body waits
                // for the client's delayed ACK (40 ms per small GET on loopback).
                let _ = socket.set_nodelay(true);
                let s3 = s3.clone();
                let faults = task_faults.clone();
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let s3 = s3.clone();
                    let faults = faults.clone();
                    async move {
                        faults.requests.fetch_add(1, Ordering::SeqCst);
                        // Repository data files and storage volume data files.
                        let data_object = req.uri().path().contains("__data/")
                            || req.uri().path().contains("/snaprock/data/");
                        let data_write = req.method() == hyper::Method::PUT && data_object;
                        if data_write {
                            let delay = faults.delay_ms.load(Ordering::SeqCst);
                            if delay > 0 {
                                tokio::time::sleep(Duration::from_millis(delay)).await;
                            }
                            if let Some(status) = faults.injected_status() {
                                // Read the request body first, as S3 does: a response
                                // sent while the client still writes is a broken pipe to
                                // it, not the error status this fault is meant to test.
                                let _ = http_body_util::BodyExt::collect(req.into_body()).await;
                                let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InternalError</Code><Message>injected by the test</Message></Error>";
                                return Ok(hyper::Response::builder()
                                    .status(status)
                                    .body(s3s::Body::from(body.to_string()))
                                    .expect("response"));
                            }
                            faults.data_writes.fetch_add(1, Ordering::SeqCst);
                            let body_bytes = req
                                .headers()
                                .get(hyper::header::CONTENT_LENGTH)
                                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                                .unwrap_or(0);
                            faults
                                .data_write_bytes
                                .fetch_add(body_bytes, Ordering::SeqCst);
                        }
                        let data_read = req.method() == hyper::Method::GET && data_object;
                        if data_read {
                            let delay = faults.read_delay_ms.load(Ordering::SeqCst);
                            if delay > 0 {
                                tokio::time::sleep(Duration::from_millis(delay)).await;
                            }
                            let failed = faults
                                .read_fail_next
                                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| {
                                    v.checked_sub(1)
                                })
                                .is_ok();
                            if failed {
                                let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>injected by the test</Message></Error>";
                                return Ok(hyper::Response::builder()
                                    .status(503)
                                    .body(s3s::Body::from(body.to_string()))
                                    .expect("response"));
                            }
                            faults.data_reads.fetch_add(1, Ordering::SeqCst);
                            let cut = faults
                                .read_cut_next
                                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| {
                                    v.checked_sub(1)
                                })
                                .is_ok();
                            if cut {
                                return match Service::call(&s3, req).await {
                                    Ok(response) => Ok(cut_body(response).await),
                                    Err(e) => Err(e),
                                };
                            }
                        }
                        Service::call(&s3, req).await
                    }
                });
                let conn = http
                    .serve_connection(hyper_util::rt::TokioIo::new(socket), service)
                    .into_owned();
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
        });
        TestS3 {
            addr,
            faults,
            root,
            task,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bucket's directory: objects are files under it.
    pub fn bucket_dir(&self) -> PathBuf {
        self.root.path().join(BUCKET)
    }

    /// CREATE REPOSITORY for `s3a://<bucket>/<prefix>` with this server's keys.
    pub fn create_repository_sql(&self, name: &str, prefix: &str, read_only: bool) -> String {
        format!(
            "CREATE {}REPOSITORY {name} WITH BROKER ON LOCATION \"s3a://{BUCKET}/{prefix}\" \
             PROPERTIES (\"aws.s3.access_key\" = \"{ACCESS_KEY}\", \"aws.s3.secret_key\" = \
             \"{SECRET_KEY}\", \"aws.s3.endpoint\" = \"{}\", \"aws.s3.region\" = \"us-east-1\", \
             \"aws.s3.enable_path_style_access\" = \"true\")",
            if read_only { "READ ONLY " } else { "" },
            self.endpoint()
        )
    }

    /// CREATE STORAGE VOLUME `name` for `s3://<bucket>/<prefix>` with this server's keys.
    pub fn create_volume_sql(&self, name: &str, prefix: &str) -> String {
        format!(
            "CREATE STORAGE VOLUME {name} TYPE = S3 LOCATIONS = (\"s3://{BUCKET}/{prefix}\") \
             PROPERTIES (\"aws.s3.region\" = \"us-east-1\", \"aws.s3.endpoint\" = \"{}\", \
             \"aws.s3.access_key\" = \"{ACCESS_KEY}\", \"aws.s3.secret_key\" = \"{SECRET_KEY}\", \
             \"aws.s3.enable_path_style_access\" = \"true\")",
            self.endpoint()
        )
    }

    /// The Parquet objects under the data directory of the volume at `prefix`, sorted.
    pub fn volume_data_objects(&self, prefix: &str) -> Vec<String> {
        let dir = self.bucket_dir().join(prefix).join("snaprock/data");
        let mut objects: Vec<String> = files_under(&dir)
            .into_iter()
            .filter(|f| f.ends_with(".parquet"))
            .collect();
        objects.sort();
        objects
    }

    /// Multipart uploads started and neither completed nor aborted.
    pub fn open_multipart_uploads(&self) -> usize {
        count_matching(self.root.path(), |name| {
            name.starts_with(".upload-") && name.ends_with(".json")
        })
    }
}

impl Drop for TestS3 {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn count_matching(dir: &Path, wanted: impl Fn(&str) -> bool) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| wanted(&e.file_name().to_string_lossy()))
                .count()
        })
        .unwrap_or(0)
}

/// Every file under `dir`, relative paths, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}
