//! OAuth2 tokens on the design thread: fetched from the grant's token endpoint through the
//! design client ([`super::exchange`]) and cached per grant until due for a refresh, for
//! design requests and load runs alike.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Instant;

use super::cookies::Jar;
use super::exchange::{self, Outgoing};
use crate::auth::oauth2::{self, Grant, Token};
use crate::auth::{AuthError, Credentials};

/// Tokens by grant, kept by the design thread.
#[derive(Debug, Default)]
pub struct TokenCache {
    tokens: HashMap<String, Token>,
}

/// `Authorization` for `grant`: the cached token, or a new one from the token endpoint.
pub async fn credentials(
    grant: &Grant,
    cache: &RefCell<TokenCache>,
    options: exchange::Options,
) -> Result<Credentials, AuthError> {
    let key = grant.key();
    let cached = cache.borrow().tokens.get(&key).cloned();
    let token = match cached.filter(Token::is_fresh) {
        Some(token) => token,
        None => {
            let token = fetch(grant, options).await?;
            cache.borrow_mut().tokens.insert(key, token.clone());
            token
        }
    };
    Ok(Credentials {
        headers: vec![("Authorization".to_owned(), token.header)],
        query: Vec::new(),
    })
}

async fn fetch(grant: &Grant, options: exchange::Options) -> Result<Token, AuthError> {
    let fetched_at = Instant::now();
    let options = exchange::Options {
        follow_redirects: false,
        ..options
    };
    let request = grant.request();
    let outgoing = Outgoing {
        method: "POST".to_owned(),
        url: request.url,
        headers: request.headers,
        body: request.body,
    };
    let response = exchange::exchange(outgoing, options, Jar::default())
        .await
        .map_err(|failure| {
            AuthError(format!(
                "token request to {} failed: {failure}",
                grant.token_url
            ))
        })?;
    oauth2::token(grant, response.status, &response.body, fetched_at)
}
