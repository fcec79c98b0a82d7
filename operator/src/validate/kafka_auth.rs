//! The Kafka login fields (docs/kafka-auth.md): re-checks the CRD's CEL rules on `kafka.sasl` /
//! `kafka.tls` and the Secret references, each error naming its field.

use super::{check_secret_key_ref, Errors};
use crate::crd::{KafkaMode, KafkaSpec, SaslMechanism};

pub(super) fn check(kafka: &KafkaSpec, errors: &mut Errors) {
    if kafka.mode != KafkaMode::External {
        for (field, set) in [
            ("spec.kafka.sasl", kafka.sasl.is_some()),
            ("spec.kafka.tls", kafka.tls.is_some()),
        ] {
            if set {
                errors.add(
                    field,
                    "is for mode external; the Strimzi Kafka's login is spec.kafka.authentication",
                );
            }
        }
        return;
    }
    if let Some(sasl) = &kafka.sasl {
        if sasl.username.trim().is_empty() {
            errors.add("spec.kafka.sasl.username", "must not be empty");
        }
        check_secret_key_ref(
            "spec.kafka.sasl.passwordSecret",
            &sasl.password_secret,
            errors,
        );
        if sasl.mechanism == SaslMechanism::Plain && kafka.tls.is_none() {
            errors.add(
                "spec.kafka.sasl.mechanism",
                "PLAIN needs spec.kafka.tls: it sends the password as it is",
            );
        }
    }
    if let Some(ca) = kafka.tls.as_ref().and_then(|tls| tls.ca_secret.as_ref()) {
        check_secret_key_ref("spec.kafka.tls.caSecret", ca, errors);
    }
}

#[cfg(test)]
mod tests {
    use crate::crd::{
        BlackFridayPipelineSpec, ExternalKafkaSasl, ExternalKafkaTls, KafkaMode, SaslMechanism,
        SecretKeyRef,
    };
    use crate::validate::validate_spec;

    fn fields(spec: &BlackFridayPipelineSpec) -> Vec<String> {
        match validate_spec("bf", None, Some(1), spec) {
            Ok(_) => vec![],
            Err(e) => e.0.into_iter().map(|f| f.field).collect(),
        }
    }

    fn external() -> BlackFridayPipelineSpec {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.kafka.mode = KafkaMode::External;
        spec.kafka.bootstrap_servers = Some("pkc-1.confluent.cloud:9092".into());
        spec
    }

    fn sasl(mechanism: SaslMechanism, username: &str, secret: &str) -> Option<ExternalKafkaSasl> {
        Some(ExternalKafkaSasl {
            mechanism,
            username: username.into(),
            password_secret: SecretKeyRef {
                name: secret.into(),
                namespace: "ops".into(),
                key: "password".into(),
            },
        })
    }

    #[test]
    fn a_good_external_login_is_valid() {
        let mut spec = external();
        spec.kafka.sasl = sasl(SaslMechanism::Plain, "APIKEY", "confluent");
        spec.kafka.tls = Some(ExternalKafkaTls::default());
        assert!(fields(&spec).is_empty(), "{:?}", fields(&spec));
        // the bootstrap port is the user's, not Strimzi's
        let p = validate_spec("bf", None, Some(1), &spec).unwrap();
        assert_eq!(p.kafka_bootstrap, "pkc-1.confluent.cloud:9092");
    }

    #[test]
    fn bad_external_logins_name_their_fields() {
        let mut spec = external();
        spec.kafka.sasl = sasl(SaslMechanism::Plain, " ", "Not_A_Name");
        spec.kafka.tls = None;
        assert_eq!(
            fields(&spec),
            [
                "spec.kafka.sasl.username",
                "spec.kafka.sasl.passwordSecret.name",
                "spec.kafka.sasl.mechanism"
            ]
        );
        let mut spec = external();
        spec.kafka.tls = Some(ExternalKafkaTls {
            ca_secret: Some(SecretKeyRef {
                name: "ca".into(),
                namespace: "ops".into(),
                key: "bad key".into(),
            }),
        });
        assert_eq!(fields(&spec), ["spec.kafka.tls.caSecret.key"]);
    }

    #[test]
    fn sasl_and_tls_belong_to_an_external_kafka() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.kafka.sasl = sasl(SaslMechanism::ScramSha512, "u", "s");
        spec.kafka.tls = Some(ExternalKafkaTls::default());
        assert_eq!(fields(&spec), ["spec.kafka.sasl", "spec.kafka.tls"]);
    }

    #[test]
    fn strimzi_bootstrap_follows_the_listener() {
        let p = validate_spec("bf", None, Some(1), &BlackFridayPipelineSpec::default()).unwrap();
        assert!(
            p.kafka_bootstrap.ends_with(":9093"),
            "{}",
            p.kafka_bootstrap
        );
        let mut spec = BlackFridayPipelineSpec::default();
        spec.kafka.authentication = crate::crd::KafkaAuthentication::None;
        let p = validate_spec("bf", None, Some(1), &spec).unwrap();
        assert!(
            p.kafka_bootstrap.ends_with(":9092"),
            "{}",
            p.kafka_bootstrap
        );
    }
}
