//! Login to the console with a snaprock account over HTTP Basic: the password is checked
//! against the account's stored hash, as a MySQL login is, for the account matching the
//! client's address; failed logins are slowed down by the same throttle as MySQL logins (one
//! guesser, two protocols, one budget). Use TLS (`--tls-cert`) when the console is reached
//! over a network: Basic sends the password in every request.

use std::net::SocketAddr;

use base64::Engine as _;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};
use snaprock_sql::ast::UserIdentity;
use tracing::warn;

use crate::health::HttpState;
use crate::routes::{Body, error};

/// The account the request's credentials log in as, or the response to send instead: 401
/// asking for a login, or 503 while the server starts.
pub(crate) async fn login(
    state: &HttpState,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<UserIdentity, Response<Body>> {
    let Some(engine) = state.engine() else {
        return Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is starting",
        ));
    };
    let Some((user, password)) = basic_credentials(headers) else {
        return Err(ask_for_login("log in with a snaprock account"));
    };
    match engine
        .access
        .authenticate_password(&user, peer.ip(), &password)
    {
        Some(identity) => {
            state.mysql.login_throttle.succeeded(peer.ip());
            Ok(identity)
        }
        None => {
            let delay = state.mysql.login_throttle.failed(peer.ip());
            warn!(user = %user, delay_ms = delay.as_millis() as u64, "console login failed");
            tokio::time::sleep(delay).await;
            Err(ask_for_login(&format!(
                "Access denied for user '{user}'@'{}'",
                peer.ip()
            )))
        }
    }
}

/// 401 with the Basic challenge, so a browser shows its login dialog.
fn ask_for_login(message: &str) -> Response<Body> {
    let mut response = error(StatusCode::UNAUTHORIZED, message);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"snaprock\", charset=\"UTF-8\""),
    );
    response
}

/// `Authorization: Basic base64(user:password)`, decoded.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn reads_basic_credentials() {
        // "root:pa:ss" — a password may hold a colon; a user may not.
        assert_eq!(
            basic_credentials(&headers("Basic cm9vdDpwYTpzcw==")),
            Some(("root".into(), "pa:ss".into()))
        );
        assert_eq!(
            basic_credentials(&headers("basic cm9vdDo=")),
            Some(("root".into(), String::new()))
        );
        assert_eq!(basic_credentials(&headers("Bearer abc")), None);
        assert_eq!(basic_credentials(&headers("Basic !!!")), None);
        assert_eq!(basic_credentials(&HeaderMap::new()), None);
    }
}
