//! Repository locations (`s3a://bucket/prefix`, `file:///path`) and their `aws.s3.*` properties.

use std::path::PathBuf;

use crate::store::{S3Credentials, S3Settings};

/// Where a repository lives, parsed and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    S3(S3Settings),
}

impl Location {
    /// Parses the location and the properties of CREATE REPOSITORY. Errors are the text after
    /// "Failed to create repository: ".
    pub fn parse(location: &str, properties: &[(String, String)]) -> Result<Location, String> {
        let location = location.trim();
        if let Some(path) = location.strip_prefix("file://") {
            if let Some((key, _)) = properties.first() {
                return Err(format!(
                    "property '{key}' does not apply to a file:// location"
                ));
            }
            if !path.starts_with('/') {
                return Err(format!(
                    "file:// locations need an absolute path (file:///dir), got '{location}'"
                ));
            }
            return Ok(Location::File(PathBuf::from(path)));
        }
        if let Some(rest) = location.strip_prefix("s3a://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(format!("no bucket in location '{location}'"));
            }
            return Ok(Location::S3(s3_settings(
                bucket,
                prefix,
                properties,
                "repositories",
            )?));
        }
        if let Some(rest) = location.strip_prefix("s3://") {
            return Err(format!(
                "S3 locations use the s3a:// scheme: write 's3a://{rest}' instead of '{location}'"
            ));
        }
        Err(format!(
            "unsupported location '{location}': use s3a://bucket/path (S3 or an S3-compatible \
             store) or file:///path"
        ))
    }

    /// Parses a storage volume's location (`s3://bucket/prefix`, as StarRocks writes it;
    /// `s3a://` is taken too) and its `aws.s3.*` properties.
    pub fn parse_volume(
        location: &str,
        properties: &[(String, String)],
    ) -> Result<Location, String> {
        let trimmed = location.trim();
        let Some(rest) = trimmed
            .strip_prefix("s3://")
            .or_else(|| trimmed.strip_prefix("s3a://"))
        else {
            return Err(format!(
                "unsupported location '{trimmed}': a storage volume of TYPE = S3 is at \
                 s3://bucket/prefix"
            ));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("no bucket in location '{trimmed}'"));
        }
        Ok(Location::S3(s3_settings(
            bucket,
            prefix,
            properties,
            "storage volumes",
        )?))
    }
}

/// Property keys understood for S3 locations, with the Hadoop S3A spellings as aliases.
const ACCESS_KEY: &[&str] = &["aws.s3.access_key", "fs.s3a.access.key"];
const SECRET_KEY: &[&str] = &["aws.s3.secret_key", "fs.s3a.secret.key"];
const ENDPOINT: &[&str] = &["aws.s3.endpoint", "fs.s3a.endpoint"];
const REGION: &[&str] = &["aws.s3.region", "fs.s3a.endpoint.region"];
const PATH_STYLE: &[&str] = &[
    "aws.s3.enable_path_style_access",
    "fs.s3a.path.style.access",
];
const ENABLE_SSL: &[&str] = &["aws.s3.enable_ssl", "fs.s3a.connection.ssl.enabled"];
const INSTANCE_PROFILE: &[&str] = &["aws.s3.use_instance_profile"];
const ROLE_ARN: &[&str] = &["aws.s3.iam_role_arn"];
const EXTERNAL_ID: &[&str] = &["aws.s3.external_id"];
const DEFAULT_CHAIN: &[&str] = &["aws.s3.use_aws_sdk_default_behavior"];

fn s3_settings(
    bucket: &str,
    prefix: &str,
    properties: &[(String, String)],
    what: &str,
) -> Result<S3Settings, String> {
    let known = [
        ACCESS_KEY,
        SECRET_KEY,
        ENDPOINT,
        REGION,
        PATH_STYLE,
        ENABLE_SSL,
        INSTANCE_PROFILE,
        ROLE_ARN,
        EXTERNAL_ID,
        DEFAULT_CHAIN,
    ];
    for (key, _) in properties {
        if !known.iter().any(|names| names.contains(&key.as_str())) {
            return Err(format!(
                "unknown property '{key}'; S3 {what} take aws.s3.access_key, \
                 aws.s3.secret_key, aws.s3.region, aws.s3.endpoint, \
                 aws.s3.enable_path_style_access, aws.s3.enable_ssl, \
                 aws.s3.use_instance_profile, aws.s3.iam_role_arn, aws.s3.external_id, \
                 aws.s3.use_aws_sdk_default_behavior"
            ));
        }
    }
    let get = |names: &[&str]| {
        properties
            .iter()
            .find(|(k, _)| names.contains(&k.as_str()))
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let flag = |names: &[&str], default: bool| -> Result<bool, String> {
        match get(names) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(format!(
                "invalid value '{v}' for property '{}': expected true or false",
                names[0]
            )),
        }
    };
    let credentials = match (get(ACCESS_KEY), get(SECRET_KEY)) {
        (Some(access_key), Some(secret_key)) => S3Credentials::Static {
            access_key,
            secret_key,
        },
        (Some(_), None) | (None, Some(_)) => {
            return Err(
                "aws.s3.access_key and aws.s3.secret_key must be given together".to_string(),
            );
        }
        (None, None) if flag(INSTANCE_PROFILE, false)? => S3Credentials::InstanceProfile {
            role_arn: get(ROLE_ARN),
            external_id: get(EXTERNAL_ID),
        },
        (None, None) => match get(ROLE_ARN) {
            Some(role_arn) => S3Credentials::AssumeRole {
                role_arn,
                external_id: get(EXTERNAL_ID),
            },
            None => {
                flag(DEFAULT_CHAIN, false)?;
                S3Credentials::DefaultChain
            }
        },
    };
    let ssl = flag(ENABLE_SSL, true)?;
    let endpoint = get(ENDPOINT).map(|e| {
        if e.contains("://") {
            e
        } else if ssl {
            format!("https://{e}")
        } else {
            format!("http://{e}")
        }
    });
    // Virtual-host style cannot work against an IP address or localhost.
    let literal_host = endpoint.as_deref().is_some_and(|e| {
        let host = e.split("://").nth(1).unwrap_or(e);
        let host = host.split(['/', ':']).next().unwrap_or(host);
        host == "localhost" || host.parse::<std::net::IpAddr>().is_ok()
    });
    Ok(S3Settings {
        bucket: bucket.to_string(),
        prefix: prefix.trim_matches('/').to_string(),
        region: get(REGION).unwrap_or_else(|| "us-east-1".to_string()),
        path_style: flag(PATH_STYLE, false)? || literal_host,
        endpoint,
        credentials,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn s3a_with_keys_and_endpoint() {
        let Location::S3(s) = Location::parse(
            "s3a://bucket_s3/backup/x/",
            &props(&[
                ("aws.s3.access_key", "AK"),
                ("aws.s3.secret_key", "SK"),
                ("aws.s3.endpoint", "127.0.0.1:9000"),
                ("aws.s3.enable_ssl", "false"),
            ]),
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(s.bucket, "bucket_s3");
        assert_eq!(s.prefix, "backup/x");
        assert_eq!(s.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(s.path_style, "an IP endpoint forces path style");
        assert!(!format!("{s:?}").contains("SK"));
    }

    #[test]
    fn credential_sources() {
        let parse = |p: &[(&str, &str)]| match Location::parse("s3a://b", &props(p)).unwrap() {
            Location::S3(s) => s.credentials,
            Location::File(_) => panic!(),
        };
        assert_eq!(parse(&[]), S3Credentials::DefaultChain);
        assert!(matches!(
            parse(&[
                ("aws.s3.use_instance_profile", "true"),
                ("aws.s3.iam_role_arn", "arn:r")
            ]),
            S3Credentials::InstanceProfile {
                role_arn: Some(_),
                ..
            }
        ));
        assert!(matches!(
            parse(&[
                ("aws.s3.iam_role_arn", "arn:r"),
                ("aws.s3.external_id", "e")
            ]),
            S3Credentials::AssumeRole {
                external_id: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn refusals() {
        let e = Location::parse("s3://b/p", &[]).unwrap_err();
        assert!(e.contains("s3a://b/p"), "{e}");
        assert!(Location::parse("hdfs://x/y", &[]).is_err());
        assert!(Location::parse("file://relative", &[]).is_err());
        assert!(Location::parse("s3a://b", &props(&[("aws.s3.acces_key", "x")])).is_err());
        assert!(Location::parse("s3a://b", &props(&[("aws.s3.access_key", "x")])).is_err());
        assert_eq!(
            Location::parse("file:///tmp/r", &[]).unwrap(),
            Location::File("/tmp/r".into())
        );
    }
}
