//! The only reads before building: the registry pull Secret to copy, and the Valkey password
//! (managed: read, or generated once when the Secret does not exist yet; external: read from the
//! Secret the spec names).

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};

use crate::build::{ClusterInputs, CopiedSecret};
use crate::crd::SecretKeyRef;
use crate::error::{Error, Result};
use crate::validate::ValidPipeline;

/// What was read, plus whether the configured pull Secret is missing (its copies are skipped).
pub struct Read {
    pub inputs: ClusterInputs,
    pub pull_secret_missing: bool,
}

pub async fn read(client: &Client, p: &ValidPipeline) -> Result<Read> {
    let mut pull_secret_missing = false;
    let mut inputs = ClusterInputs::default();

    if let Some(source) = &p.spec.registry.pull_secret {
        let api: Api<Secret> = Api::namespaced(client.clone(), &source.namespace);
        match api.get_opt(&source.name).await {
            Ok(Some(secret)) => {
                inputs.pull_secret = Some(CopiedSecret {
                    type_: secret
                        .type_
                        .unwrap_or_else(|| "kubernetes.io/dockerconfigjson".into()),
                    data: secret.data.unwrap_or_default(),
                })
            }
            Ok(None) => pull_secret_missing = true,
            Err(source_err) => {
                return Err(Error::Read {
                    what: format!("Secret {}/{}", source.namespace, source.name),
                    source: source_err,
                })
            }
        }
    }

    match p.valkey_password_source() {
        // Managed: the operator's own Secret in the valkey namespace, generated once.
        Some(source) if p.valkey_managed() => {
            let password = read_key(client, &source).await?;
            inputs.valkey_password = Some(password.unwrap_or_else(generate_password));
        }
        // External: the user's Secret; never invent a password for a server we do not run.
        Some(source) => match read_key(client, &source).await? {
            Some(password) => inputs.valkey_password = Some(password),
            None => inputs.valkey_password_missing = true,
        },
        // External without AUTH.
        None => {}
    }
    Ok(Read {
        inputs,
        pull_secret_missing,
    })
}

/// 32 hex characters from the kernel's CSPRNG.
fn generate_password() -> String {
    use std::io::Read as _;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("/dev/urandom is readable");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The non-empty UTF-8 value of one Secret key; `None` when the Secret, its namespace (the valkey
/// namespace may not exist yet on the first reconcile) or the key is missing.
async fn read_key(client: &Client, source: &SecretKeyRef) -> Result<Option<String>> {
    let api: Api<Secret> = Api::namespaced(client.clone(), &source.namespace);
    let secret = match api.get_opt(&source.name).await {
        Ok(secret) => secret,
        Err(kube::Error::Api(status)) if status.code == 404 => None,
        Err(error) => {
            return Err(Error::Read {
                what: format!("Secret {}/{}", source.namespace, source.name),
                source: error,
            })
        }
    };
    Ok(secret
        .and_then(|s| s.data)
        .and_then(|mut data| data.remove(&source.key))
        .and_then(|bytes| String::from_utf8(bytes.0).ok())
        .filter(|s| !s.is_empty()))
}
