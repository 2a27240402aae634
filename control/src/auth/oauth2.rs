//! OAuth2 auth: the client-credentials and password grants (RFC 6749 §4.4, §4.3) — the
//! grant as written, the token request it makes (a form POST to `tokenUrl`) and the token
//! its answer gives, refreshed once `expires_in` has passed (less a tenth of it, at most
//! 30 s, so a token is not used in its last moments). The client authenticates with HTTP
//! Basic (RFC 6749 §2.3.1), or with `client_id` / `client_secret` in the form when
//! `clientAuthentication` is `body`. The design thread sends the request and caches the
//! token (`design::tokens`).

use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;

use super::{AuthError, Fields};
use crate::field::FieldError;

/// Longest a token is refreshed before its expiry.
const MAX_SKEW: Duration = Duration::from_secs(30);

/// An OAuth2 grant and where to get its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub token_url: String,
    client_id: String,
    client_secret: String,
    scope: Option<String>,
    /// `Some((username, password))` for the password grant.
    password: Option<(String, String)>,
    secret_in_body: bool,
}

impl Grant {
    pub fn parse(fields: &Fields, kind: &str) -> Result<Grant, FieldError> {
        let grant = fields
            .text(&["grantType", "grant_type"])
            .unwrap_or_default()
            .to_ascii_lowercase();
        let password_grant = match (kind, grant.as_str()) {
            ("oauth2_password_grant", _) | (_, "password" | "password_credentials") => true,
            ("oauth2_client_credentials", _) | (_, "client_credentials") => false,
            (_, "") => fields.text(&["username"]).is_some(),
            (_, other) => {
                return Err(FieldError::new(
                    "auth.grantType",
                    format!("unsupported grant `{other}` (client_credentials or password)"),
                ))
            }
        };
        let password = if password_grant {
            Some((
                fields.required(&["username"], "username")?,
                fields.text(&["password"]).unwrap_or_default(),
            ))
        } else {
            None
        };
        let token_url =
            fields.required(&["tokenUrl", "token_url", "accessTokenUrl"], "tokenUrl")?;
        vayu_net::Endpoint::parse(&token_url)
            .map_err(|err| FieldError::new("auth.tokenUrl", err.to_string()))?;
        Ok(Grant {
            token_url,
            client_id: fields.text(&["clientId", "client_id"]).unwrap_or_default(),
            client_secret: fields
                .text(&["clientSecret", "client_secret"])
                .unwrap_or_default(),
            scope: fields.text(&["scope"]).filter(|scope| !scope.is_empty()),
            password,
            secret_in_body: fields
                .text(&["clientAuthentication", "client_authentication"])
                .is_some_and(|place| place.eq_ignore_ascii_case("body")),
        })
    }

    /// The cache key: one token per (tokenUrl, clientId, username).
    pub fn key(&self) -> String {
        let user = self.password.as_ref().map_or("", |(user, _)| user.as_str());
        format!("{}\n{}\n{}", self.token_url, self.client_id, user)
    }

    /// The token request.
    pub fn request(&self) -> TokenRequest {
        let mut form = vec![(
            "grant_type",
            if self.password.is_some() {
                "password"
            } else {
                "client_credentials"
            }
            .to_owned(),
        )];
        if let Some((username, password)) = &self.password {
            form.push(("username", username.clone()));
            form.push(("password", password.clone()));
        }
        if let Some(scope) = &self.scope {
            form.push(("scope", scope.clone()));
        }
        let mut headers = vec![
            (
                "Content-Type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ),
            ("Accept".to_owned(), "application/json".to_owned()),
        ];
        if self.secret_in_body {
            form.push(("client_id", self.client_id.clone()));
            form.push(("client_secret", self.client_secret.clone()));
        } else {
            // RFC 6749 §2.3.1: each part form-encoded before Basic.
            let escape = |text: &str| {
                url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>()
            };
            let pair = format!(
                "{}:{}",
                escape(&self.client_id),
                escape(&self.client_secret)
            );
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            headers.push(("Authorization".to_owned(), format!("Basic {encoded}")));
        }
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&form)
            .finish();
        TokenRequest {
            url: self.token_url.clone(),
            headers,
            body: body.into_bytes(),
        }
    }
}

/// A token request: `POST url` with these headers and form body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A token: the `Authorization` value and when to fetch a new one.
#[derive(Debug, Clone)]
pub struct Token {
    pub header: String,
    pub refresh_at: Option<Instant>,
}

impl Token {
    /// True until the token is due for a refresh.
    pub fn is_fresh(&self) -> bool {
        self.refresh_at.is_none_or(|at| Instant::now() < at)
    }
}

/// The token of the token endpoint's answer (`status`, `body`), fetched at `fetched_at`.
pub fn token(
    grant: &Grant,
    status: u16,
    body: &[u8],
    fetched_at: Instant,
) -> Result<Token, AuthError> {
    let text = String::from_utf8_lossy(body);
    if !(200..300).contains(&status) {
        return Err(AuthError(format!(
            "token endpoint {} answered {}: {}",
            grant.token_url,
            status,
            text.chars().take(200).collect::<String>()
        )));
    }
    let doc: Value = serde_json::from_str(&text).map_err(|_| {
        AuthError(format!(
            "token endpoint {} did not answer JSON",
            grant.token_url
        ))
    })?;
    let access_token = doc["access_token"].as_str().ok_or_else(|| {
        AuthError(format!(
            "token endpoint {} answered no access_token",
            grant.token_url
        ))
    })?;
    let token_type = match doc["token_type"].as_str() {
        None => "Bearer",
        Some(kind) if kind.eq_ignore_ascii_case("bearer") => "Bearer",
        Some(kind) => kind,
    };
    let expires_in = doc["expires_in"]
        .as_f64()
        .or_else(|| {
            doc["expires_in"]
                .as_str()
                .and_then(|text| text.parse().ok())
        })
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
        .map(Duration::from_secs_f64);
    Ok(Token {
        header: format!("{token_type} {access_token}"),
        refresh_at: expires_in
            .map(|lifetime| fetched_at + lifetime - (lifetime / 10).min(MAX_SKEW)),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::Auth;
    use super::*;

    fn grant(auth: Value) -> Grant {
        match Auth::parse(&auth) {
            Ok(Some(Auth::OAuth2(grant))) => grant,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn client_credentials_form_and_basic_client_auth() {
        let grant = grant(json!({"type": "oauth2", "oauth2": {
            "tokenUrl": "http://127.0.0.1:1/token", "clientId": "id", "clientSecret": "s e",
            "scope": "read write"
        }}));
        let request = grant.request();
        assert_eq!(
            String::from_utf8(request.body).unwrap_or_default(),
            "grant_type=client_credentials&scope=read+write"
        );
        assert!(request
            .headers
            .contains(&("Authorization".to_owned(), "Basic aWQ6cytl".to_owned())));
    }

    #[test]
    fn password_grant_from_atm_names() {
        let grant = grant(json!({"type": "oauth2_password_grant",
            "token_url": "http://127.0.0.1:1/token", "client_id": "id",
            "username": "u@x", "password": "p", "clientAuthentication": "body"}));
        let body = String::from_utf8(grant.request().body).unwrap_or_default();
        assert_eq!(
            body,
            "grant_type=password&username=u%40x&password=p&client_id=id&client_secret="
        );
        assert!(Auth::parse(&json!({"type": "oauth2", "tokenUrl": "nope"})).is_err());
    }
}
