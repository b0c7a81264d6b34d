//! The `tls` option (`true`, or `{ ca, cert, key, rejectUnauthorized }`) and `rediss://` URLs,
//! resolved for redis-rs over rustls: no system OpenSSL is involved.

use redis::{ClientTlsConfig, ConnectionAddr, TlsCertificates};

use crate::error::StoreError;
use crate::raw::Raw;

#[derive(Clone, Default)]
pub struct TlsOptions {
    /// PEM of the CA(s) to trust instead of the system store.
    pub root_cert: Option<Vec<u8>>,
    /// PEM certificate and key for servers that require client certificates.
    pub client: Option<(Vec<u8>, Vec<u8>)>,
    /// `rejectUnauthorized: false`: accept any certificate.
    pub insecure: bool,
}

impl std::fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsOptions")
            .field("ca", &self.root_cert.is_some())
            .field("client_certificate", &self.client.is_some())
            .field("insecure", &self.insecure)
            .finish()
    }
}

impl TlsOptions {
    pub fn addr(&self, host: String, port: u16) -> ConnectionAddr {
        ConnectionAddr::TcpTls {
            host,
            port,
            insecure: self.insecure,
            tls_params: None,
        }
    }

    pub fn certificates(&self) -> TlsCertificates {
        TlsCertificates {
            client_tls: self.client.as_ref().map(|(cert, key)| ClientTlsConfig {
                client_cert: cert.clone(),
                client_key: key.clone(),
            }),
            root_cert: self.root_cert.clone(),
        }
    }
}

const EXPECTED: &str = "true or { ca, cert, key, rejectUnauthorized }";

/// `url_tls`: a `rediss://` URL asked for TLS already.
pub fn resolve(
    name: &str,
    value: Option<&Raw>,
    url_tls: bool,
) -> Result<Option<TlsOptions>, StoreError> {
    match value {
        None | Some(Raw::Bool(false)) => Ok(url_tls.then(TlsOptions::default)),
        Some(Raw::Bool(true)) => Ok(Some(TlsOptions::default())),
        Some(Raw::Obj(map)) => {
            if let Some(unknown) = map.keys().find(|k| !KNOWN.contains(&k.as_str())) {
                return Err(StoreError::invalid_option(
                    &format!("{name}.{unknown}"),
                    "one of ca, cert, key, rejectUnauthorized (servername: connect by that name instead)",
                    "an unsupported TLS setting",
                ));
            }
            let pem = |key: &str| {
                map.get(key)
                    .map(|v| pem(&format!("{name}.{key}"), v))
                    .transpose()
            };
            let client = match (pem("cert")?, pem("key")?) {
                (Some(cert), Some(key)) => Some((cert, key)),
                (None, None) => None,
                _ => {
                    return Err(StoreError::invalid_option(
                        &format!("{name}.cert"),
                        "given together with key (a client certificate needs both)",
                        "only one of them",
                    ))
                }
            };
            let insecure = match map.get("rejectUnauthorized") {
                None => false,
                Some(Raw::Bool(reject)) => !reject,
                Some(other) => {
                    return Err(StoreError::invalid_option(
                        &format!("{name}.rejectUnauthorized"),
                        "a boolean",
                        &other.describe(),
                    ))
                }
            };
            Ok(Some(TlsOptions {
                root_cert: pem("ca")?,
                client,
                insecure,
            }))
        }
        Some(other) => Err(StoreError::invalid_option(
            name,
            EXPECTED,
            &other.describe(),
        )),
    }
}

const KNOWN: &[&str] = &["ca", "cert", "key", "rejectUnauthorized"];

/// PEM text from a string, a Buffer, or an array of them (several CAs).
fn pem(name: &str, value: &Raw) -> Result<Vec<u8>, StoreError> {
    let bytes = match value {
        Raw::Str(s) => s.as_bytes().to_vec(),
        Raw::Bytes(b) => b.clone(),
        Raw::List(items) => {
            let mut all = Vec::new();
            for item in items {
                all.extend(pem(name, item)?);
                all.push(b'\n');
            }
            all
        }
        other => {
            return Err(StoreError::invalid_option(
                name,
                "PEM text (a string or Buffer)",
                &other.describe(),
            ))
        }
    };
    if !bytes.windows(10).any(|w| w == b"-----BEGIN") {
        return Err(StoreError::invalid_option(
            name,
            "PEM text (-----BEGIN …)",
            "something else",
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn obj(entries: &[(&str, Raw)]) -> Raw {
        Raw::Obj(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    const PEM: &str = "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n";

    #[test]
    fn off_unless_asked() {
        assert!(resolve("tls", None, false).unwrap().is_none());
        assert!(resolve("tls", Some(&Raw::Bool(false)), false)
            .unwrap()
            .is_none());
        assert!(resolve("tls", None, true).unwrap().is_some());
        assert!(resolve("tls", Some(&Raw::Bool(true)), false)
            .unwrap()
            .is_some());
    }

    #[test]
    fn reads_ca_client_pair_and_reject_flag() {
        let raw = obj(&[
            ("ca", Raw::Str(PEM.into())),
            ("cert", Raw::Bytes(PEM.as_bytes().to_vec())),
            ("key", Raw::Str(PEM.into())),
            ("rejectUnauthorized", Raw::Bool(false)),
        ]);
        let tls = resolve("tls", Some(&raw), false).unwrap().unwrap();
        assert!(tls.root_cert.is_some() && tls.client.is_some() && tls.insecure);
    }

    #[test]
    fn rejects_half_a_client_pair_bad_pem_and_unknown_keys() {
        for raw in [
            obj(&[("cert", Raw::Str(PEM.into()))]),
            obj(&[("ca", Raw::Str("not pem".into()))]),
            obj(&[("servername", Raw::Str("x".into()))]),
            obj(&[("rejectUnauthorized", Raw::Str("no".into()))]),
            Raw::Num(1.0),
        ] {
            let err = resolve("tls", Some(&raw), false).unwrap_err();
            assert!(err.message.contains("`tls"), "{}", err.message);
        }
    }
}
