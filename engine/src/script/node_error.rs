//! A failed request as Node (newman's runtime) describes it: the own fields of the error
//! postman-request hands back, read from the failure told in Node's words
//! (`connect ECONNREFUSED 127.0.0.1:1` → `{errno: -111, code: 'ECONNREFUSED', syscall:
//! 'connect', address: '127.0.0.1', port: 1}`). Scripts get them as `pm.sendRequest`'s
//! `err`, and newman's JSON report as an execution's `requestError`.

use serde_json::{json, Value};

/// Node's fields of the error a failure in these words comes from, in Node's order; none
/// for words that are not Node's.
pub fn node_error_fields(message: &str) -> Vec<(&'static str, Value)> {
    let fields = if let Some(rest) = message.strip_prefix("connect ") {
        connect_fields(rest)
    } else if let Some((code, host)) = message
        .strip_prefix("getaddrinfo ")
        .and_then(|rest| rest.split_once(' '))
    {
        let errno = match code {
            "ENOTFOUND" => Some(-3008),
            "EAI_AGAIN" => Some(-3001),
            _ => None,
        };
        errno.map(|errno| {
            vec![
                ("errno", json!(errno)),
                ("code", json!(code)),
                ("syscall", json!("getaddrinfo")),
                ("hostname", json!(host)),
            ]
        })
    } else {
        match message {
            "ESOCKETTIMEDOUT" | "ETIMEDOUT" => Some(vec![
                ("code", json!(message)),
                ("connect", json!(message == "ETIMEDOUT")),
            ]),
            "socket hang up" => Some(vec![("code", json!("ECONNRESET"))]),
            _ => None,
        }
    };
    fields.unwrap_or_default()
}

/// `ECONNREFUSED 127.0.0.1:1` (what follows `connect `).
fn connect_fields(rest: &str) -> Option<Vec<(&'static str, Value)>> {
    let (code, address) = rest.split_once(' ')?;
    let errno = match code {
        "ECONNREFUSED" => -111,
        "ETIMEDOUT" => -110,
        "EHOSTUNREACH" => -113,
        "ENETUNREACH" => -101,
        _ => return None,
    };
    let (host, port) = address.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    Some(vec![
        ("errno", json!(errno)),
        ("code", json!(code)),
        ("syscall", json!("connect")),
        ("address", json!(host)),
        ("port", json!(port)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_words_give_nodes_fields() {
        let fields = |message| {
            let pairs = node_error_fields(message).into_iter();
            Value::Object(pairs.map(|(key, value)| (key.to_owned(), value)).collect())
        };
        assert_eq!(
            fields("connect ECONNREFUSED 127.0.0.1:1"),
            json!({"errno": -111, "code": "ECONNREFUSED", "syscall": "connect",
                   "address": "127.0.0.1", "port": 1})
        );
        assert_eq!(
            fields("getaddrinfo ENOTFOUND {{echo}}"),
            json!({"errno": -3008, "code": "ENOTFOUND", "syscall": "getaddrinfo",
                   "hostname": "{{echo}}"})
        );
        assert_eq!(
            fields("ESOCKETTIMEDOUT"),
            json!({"code": "ESOCKETTIMEDOUT", "connect": false})
        );
        assert_eq!(fields("socket hang up"), json!({"code": "ECONNRESET"}));
        assert_eq!(fields("io: Connection refused"), json!({}));
        assert_eq!(fields("connect ECONNREFUSED nowhere"), json!({}));
    }
}
