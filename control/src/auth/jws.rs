//! Compact JWS signing (RFC 7515) for the token auths, `jwt` and `asap`, byte for byte as
//! postman-runtime's `jose` signs: the protected header and the payload serialized in
//! the order they were written, base64url without padding, and the signature of
//! `header.payload`. HMAC with the signers' one helper; RSA (PKCS #1 v1.5 and PSS) and
//! ECDSA (P-256, P-384, fixed-size `r‖s`) with ring, ECDSA on P-521 (which ring lacks)
//! with RustCrypto's p521, from a PEM private key.

use base64::Engine;
use hmac::Hmac;
use ring::signature::{self, EcdsaKeyPair, RsaKeyPair};
use rustls_pki_types::{pem::PemObject, PrivateKeyDer};
use serde_json::Value;
use sha2::{Sha256, Sha384, Sha512};

use super::AuthError;

/// A JWS algorithm, as Postman offers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Hs256,
    Hs384,
    Hs512,
    Rs256,
    Rs384,
    Rs512,
    Ps256,
    Ps384,
    Ps512,
    Es256,
    Es384,
    Es512,
}

impl Algorithm {
    const ALL: [Algorithm; 12] = [
        Algorithm::Hs256,
        Algorithm::Hs384,
        Algorithm::Hs512,
        Algorithm::Rs256,
        Algorithm::Rs384,
        Algorithm::Rs512,
        Algorithm::Ps256,
        Algorithm::Ps384,
        Algorithm::Ps512,
        Algorithm::Es256,
        Algorithm::Es384,
        Algorithm::Es512,
    ];

    /// The algorithm named `name` (`HS256`, `rs512`, ...).
    pub fn parse(name: &str) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|algorithm| algorithm.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Its `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Hs256 => "HS256",
            Algorithm::Hs384 => "HS384",
            Algorithm::Hs512 => "HS512",
            Algorithm::Rs256 => "RS256",
            Algorithm::Rs384 => "RS384",
            Algorithm::Rs512 => "RS512",
            Algorithm::Ps256 => "PS256",
            Algorithm::Ps384 => "PS384",
            Algorithm::Ps512 => "PS512",
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
            Algorithm::Es512 => "ES512",
        }
    }

    /// Whether it signs with a shared secret (HS*) rather than a private key.
    pub fn is_hmac(self) -> bool {
        matches!(self, Algorithm::Hs256 | Algorithm::Hs384 | Algorithm::Hs512)
    }

    /// The names, for error messages.
    pub fn names() -> String {
        Algorithm::ALL.map(Algorithm::name).join(", ")
    }
}

/// What a token is signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// The HS* secret's bytes.
    Secret(Vec<u8>),
    /// A PEM private key (PKCS #8; PKCS #1 is taken for RSA too), its lines possibly run
    /// together.
    Private(String),
    /// A DER private key (PKCS #8 or PKCS #1).
    Der(Vec<u8>),
}

/// The compact JWS of `payload` under `header` (whose `alg` the caller has set).
pub fn sign(
    algorithm: Algorithm,
    key: &Key,
    header: &Object,
    payload: &Object,
) -> Result<String, AuthError> {
    let encode =
        |object: &Object| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(object.to_json());
    let signing_input = format!("{}.{}", encode(header), encode(payload));
    let signature = signature_of(algorithm, key, signing_input.as_bytes())?;
    Ok(format!(
        "{signing_input}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature)
    ))
}

fn signature_of(algorithm: Algorithm, key: &Key, input: &[u8]) -> Result<Vec<u8>, AuthError> {
    let der = match (key, algorithm.is_hmac()) {
        (Key::Secret(secret), true) => {
            return Ok(match algorithm {
                Algorithm::Hs384 => super::hmac::<Hmac<Sha384>>(secret, input),
                Algorithm::Hs512 => super::hmac::<Hmac<Sha512>>(secret, input),
                _ => super::hmac::<Hmac<Sha256>>(secret, input),
            })
        }
        (Key::Private(pem), false) => pem_der(pem)?,
        (Key::Der(der), false) => PrivateKeyDer::try_from(der.clone())
            .map_err(|err| AuthError(format!("auth.privateKey is not a private key: {err}")))?,
        _ => {
            return Err(AuthError(format!(
                "{} needs {}",
                algorithm.name(),
                if algorithm.is_hmac() {
                    "a secret"
                } else {
                    "a private key"
                }
            )))
        }
    };
    let rng = ring::rand::SystemRandom::new();
    let wrong_key = |err: &dyn std::fmt::Display| {
        AuthError(format!(
            "auth.privateKey cannot sign {}: {err}",
            algorithm.name()
        ))
    };
    let rsa = |padding: &'static dyn signature::RsaEncoding| {
        let pair = match &der {
            PrivateKeyDer::Pkcs8(pkcs8) => RsaKeyPair::from_pkcs8(pkcs8.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(pkcs1) => RsaKeyPair::from_der(pkcs1.secret_pkcs1_der()),
            _ => return Err(wrong_key(&"not an RSA key")),
        }
        .map_err(|err| wrong_key(&err))?;
        let mut signature = vec![0; pair.public().modulus_len()];
        pair.sign(padding, &rng, input, &mut signature)
            .map_err(|err| wrong_key(&err))?;
        Ok(signature)
    };
    let ecdsa = |curve: &'static signature::EcdsaSigningAlgorithm, name: &str| {
        let PrivateKeyDer::Pkcs8(pkcs8) = &der else {
            return Err(wrong_key(&format!(
                "give the {name} key as PKCS #8 (`openssl pkcs8 -topk8 -nocrypt`)"
            )));
        };
        let pair = EcdsaKeyPair::from_pkcs8(curve, pkcs8.secret_pkcs8_der(), &rng)
            .map_err(|err| wrong_key(&format!("not a {name} key ({err})")))?;
        pair.sign(&rng, input)
            .map(|signature| signature.as_ref().to_vec())
            .map_err(|err| wrong_key(&err))
    };
    match algorithm {
        Algorithm::Rs256 => rsa(&signature::RSA_PKCS1_SHA256),
        Algorithm::Rs384 => rsa(&signature::RSA_PKCS1_SHA384),
        Algorithm::Rs512 => rsa(&signature::RSA_PKCS1_SHA512),
        Algorithm::Ps256 => rsa(&signature::RSA_PSS_SHA256),
        Algorithm::Ps384 => rsa(&signature::RSA_PSS_SHA384),
        Algorithm::Ps512 => rsa(&signature::RSA_PSS_SHA512),
        Algorithm::Es256 => ecdsa(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, "P-256"),
        Algorithm::Es384 => ecdsa(&signature::ECDSA_P384_SHA384_FIXED_SIGNING, "P-384"),
        Algorithm::Es512 => {
            use p521::ecdsa::signature::Signer;
            use p521::pkcs8::DecodePrivateKey;
            let PrivateKeyDer::Pkcs8(pkcs8) = &der else {
                return Err(wrong_key(
                    &"give the P-521 key as PKCS #8 (`openssl pkcs8 -topk8 -nocrypt`)",
                ));
            };
            let key = p521::ecdsa::SigningKey::from_pkcs8_der(pkcs8.secret_pkcs8_der())
                .map_err(|err| wrong_key(&format!("not a P-521 key ({err})")))?;
            let signature: p521::ecdsa::Signature =
                key.try_sign(input).map_err(|err| wrong_key(&err))?;
            Ok(signature.to_vec())
        }
        Algorithm::Hs256 | Algorithm::Hs384 | Algorithm::Hs512 => {
            Err(wrong_key(&"an HS algorithm takes a secret"))
        }
    }
}

/// The DER of a PEM private key. The base64 may run on one line with its armour (a key
/// pasted into a one-line field, or with its newlines taken out as ASAP's signer does).
fn pem_der(pem: &str) -> Result<PrivateKeyDer<'static>, AuthError> {
    let mut text = pem.trim().replace("\\n", "\n");
    if !text.contains('\n') {
        let body_at = text
            .get(5..)
            .and_then(|rest| rest.find("-----"))
            .map(|at| at + 10);
        if let (Some(body_at), Some(end_at)) = (body_at, text.rfind("-----END")) {
            if body_at <= end_at {
                text = format!(
                    "{}\n{}\n{}",
                    &text[..body_at],
                    &text[body_at..end_at],
                    &text[end_at..]
                );
            }
        }
    }
    PrivateKeyDer::from_pem_slice(text.as_bytes()).map_err(|err| {
        AuthError(format!(
            "auth.privateKey is not a PEM private key ({err}): give a PKCS #8 `-----BEGIN PRIVATE KEY-----` block"
        ))
    })
}

/// A JSON object that keeps its keys in the order written, as `JSON.parse` and
/// `JSON.stringify` do (serde_json's `Map` sorts them), serialized compactly as
/// `JSON.stringify` does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Object(Vec<(String, Ordered)>);

/// A JSON value whose objects keep their keys in the order written.
#[derive(Debug, Clone, PartialEq)]
enum Ordered {
    Scalar(Value),
    Array(Vec<Ordered>),
    Object(Object),
}

impl Object {
    /// Sets `key` to `value`: in place when present, last otherwise (a JavaScript object's
    /// assignment).
    pub fn set(&mut self, key: &str, value: Value) {
        self.put(key.to_owned(), Ordered::from(value));
    }

    fn put(&mut self, key: String, value: Ordered) {
        match self.0.iter_mut().find(|(name, _)| *name == key) {
            Some((_, slot)) => *slot = value,
            None => self.0.push((key, value)),
        }
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.0
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.to_value())
    }

    /// Sets every key of `other`, in its order.
    pub fn extend(&mut self, other: Object) {
        for (key, value) in other.0 {
            self.put(key, value);
        }
    }

    /// Compact JSON text, as `JSON.stringify` writes it.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        Ordered::write_object(self, &mut out);
        out
    }
}

impl From<Value> for Ordered {
    fn from(value: Value) -> Ordered {
        match value {
            Value::Array(items) => Ordered::Array(items.into_iter().map(Ordered::from).collect()),
            Value::Object(map) => Ordered::Object(Object(
                map.into_iter()
                    .map(|(key, value)| (key, Ordered::from(value)))
                    .collect(),
            )),
            scalar => Ordered::Scalar(scalar),
        }
    }
}

impl Ordered {
    fn to_value(&self) -> Value {
        match self {
            Ordered::Scalar(scalar) => scalar.clone(),
            Ordered::Array(items) => Value::Array(items.iter().map(Ordered::to_value).collect()),
            Ordered::Object(object) => Value::Object(
                object
                    .0
                    .iter()
                    .map(|(key, value)| (key.clone(), value.to_value()))
                    .collect(),
            ),
        }
    }

    fn write(&self, out: &mut String) {
        match self {
            Ordered::Scalar(Value::Number(number)) => out.push_str(&js_number(number)),
            Ordered::Scalar(scalar) => out.push_str(&scalar.to_string()),
            Ordered::Array(items) => {
                out.push('[');
                for (at, item) in items.iter().enumerate() {
                    if at > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Ordered::Object(object) => Ordered::write_object(object, out),
        }
    }

    fn write_object(object: &Object, out: &mut String) {
        out.push('{');
        for (at, (key, value)) in object.0.iter().enumerate() {
            if at > 0 {
                out.push(',');
            }
            out.push_str(&Value::String(key.clone()).to_string());
            out.push(':');
            value.write(out);
        }
        out.push('}');
    }
}

/// A number as JavaScript prints it: a whole float without `.0`, `e+` before a positive
/// exponent.
fn js_number(number: &serde_json::Number) -> String {
    match number.as_f64() {
        Some(float) if number.is_f64() && float.fract() == 0.0 && float.abs() < 1e21 => {
            format!("{float:.0}")
        }
        _ => {
            let text = number.to_string();
            match text.split_once('e') {
                Some((mantissa, exponent)) if !exponent.starts_with(['-', '+']) => {
                    format!("{mantissa}e+{exponent}")
                }
                _ => text,
            }
        }
    }
}

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Ordered, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E>(self, flag: bool) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::Bool(flag)))
            }
            fn visit_i64<E>(self, number: i64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::from(number)))
            }
            fn visit_u64<E>(self, number: u64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::from(number)))
            }
            fn visit_f64<E>(self, number: f64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::from(number)))
            }
            fn visit_str<E>(self, text: &str) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::String(text.to_owned())))
            }
            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Scalar(Value::Null))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Ordered, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Ordered::Array(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Ordered, A::Error> {
                let mut object = Object::default();
                while let Some((key, value)) = map.next_entry::<String, Ordered>()? {
                    object.put(key, value);
                }
                Ok(Ordered::Object(object))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// An object setting given as an object or as JSON text (Postman's editor keeps text),
/// its keys in the order written; empty when absent or blank. Read when the token is
/// made, once `{{variables}}` in the text are rendered.
pub fn object(value: &Value, field: &str) -> Result<Object, AuthError> {
    match value {
        Value::Null => Ok(Object::default()),
        Value::Object(_) => match Ordered::from(value.clone()) {
            Ordered::Object(object) => Ok(object),
            _ => Ok(Object::default()),
        },
        Value::String(text) if text.trim().is_empty() => Ok(Object::default()),
        Value::String(text) => match serde_json::from_str(text) {
            Ok(Ordered::Object(object)) => Ok(object),
            Ok(_) => Err(AuthError(format!("auth.{field} must be a JSON object"))),
            Err(err) => Err(AuthError(format!("auth.{field} is not JSON: {err}"))),
        },
        other => Err(AuthError(format!(
            "auth.{field} must be an object, got {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_keep_the_order_written_and_print_as_json_stringify() {
        let text =
            r#"{"b":1,"a":{"d":1.0,"c":[1e21,2.5,-0.5,"\u001f\"é/"], "e": null, "f": true},"b":3}"#;
        let object = object(&Value::String(text.to_owned()), "payload").unwrap();
        // node -e 'console.log(JSON.stringify(JSON.parse(text)))'
        assert_eq!(
            object.to_json(),
            r#"{"b":3,"a":{"d":1,"c":[1e+21,2.5,-0.5,"\u001f\"é/"],"e":null,"f":true}}"#
        );
    }
}
