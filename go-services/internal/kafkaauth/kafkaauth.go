// Package kafkaauth is how the writers and the consumer log in to Kafka: SASL (SCRAM-SHA-512,
// SCRAM-SHA-256 or PLAIN) over TLS, from the settings below (docs/kafka-auth.md). With the
// operator's Strimzi Kafka the username is the program's KafkaUser, the password comes from the
// Secret Strimzi's User Operator creates for it (key `password`), and the CA from the cluster CA
// Secret (key `ca.crt`); with an external Kafka (MSK, Confluent) from what the spec names. No
// setting given: plain TCP, no login, as the bench and the tests without authentication run.
package kafkaauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/blackfriday-operator/go-services/internal/config"
)

// The SASL mechanisms a program accepts (KAFKA_SASL_MECHANISM).
const (
	ScramSHA512 = "SCRAM-SHA-512"
	ScramSHA256 = "SCRAM-SHA-256"
	Plain       = "PLAIN"
)

// Environment variables (also the contract with the operator, docs/contracts.md).
const (
	EnvMechanism = "KAFKA_SASL_MECHANISM"
	EnvUsername  = "KAFKA_SASL_USERNAME"
	EnvPassword  = "KAFKA_SASL_PASSWORD"
	EnvTLS       = "KAFKA_TLS"
	EnvCA        = "KAFKA_TLS_CA"
	EnvCAFile    = "KAFKA_TLS_CA_FILE"
)

// Settings are a program's Kafka login settings.
type Settings struct {
	Mechanism string
	Username  string
	Password  string
	// TLS encrypts the connection and checks the broker's certificate against CA (PEM text),
	// CAFile, or the system's roots when neither is given (managed Kafka with a public CA).
	TLS    bool
	CA     string
	CAFile string
}

// Flags are the settings as bound to a program's flags; Settings reads them after parsing.
type Flags struct {
	mechanism, username, password, ca, caFile *string
	tls                                       *bool
}

// Register binds the settings to flags and their environment variables.
func Register(cfg *config.Set) Flags {
	return Flags{
		mechanism: cfg.String("kafka-sasl-mechanism", EnvMechanism, "", "SASL mechanism: SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN (PLAIN only with TLS); empty: no login"),
		username:  cfg.String("kafka-sasl-username", EnvUsername, "", "SASL username (with the operator's Strimzi Kafka: the program's KafkaUser name)"),
		password:  cfg.String("kafka-sasl-password", EnvPassword, "", "SASL password (with Strimzi: the KafkaUser Secret's key `password`)"),
		tls:       cfg.Bool("kafka-tls", EnvTLS, false, "connect to Kafka over TLS"),
		ca:        cfg.String("kafka-tls-ca", EnvCA, "", "PEM of the CA that signed the brokers' certificates (Strimzi: the cluster CA Secret's ca.crt); empty: the system roots"),
		caFile:    cfg.String("kafka-tls-ca-file", EnvCAFile, "", "a file holding that PEM, instead of kafka-tls-ca"),
	}
}

// Settings are the parsed values.
func (f Flags) Settings() Settings {
	return Settings{Mechanism: *f.mechanism, Username: *f.username, Password: *f.password, TLS: *f.tls, CA: *f.ca, CAFile: *f.caFile}
}

// Options are the franz-go options of the settings: none for plain TCP without login. An error
// names the setting that is wrong, so a program refuses to start with a clear message instead of
// failing every call later.
func (s Settings) Options() ([]kgo.Opt, error) {
	var opts []kgo.Opt
	mech, err := s.mechanism()
	if err != nil {
		return nil, err
	}
	if mech != nil {
		opts = append(opts, kgo.SASL(mech))
	}
	tlsCfg, err := s.tlsConfig()
	if err != nil {
		return nil, err
	}
	if tlsCfg != nil {
		opts = append(opts, kgo.DialTLSConfig(tlsCfg))
	}
	return opts, nil
}

func (s Settings) mechanism() (sasl.Mechanism, error) {
	m := strings.ToUpper(strings.TrimSpace(s.Mechanism))
	if m == "" {
		if s.Username != "" || s.Password != "" {
			return nil, fmt.Errorf("%s is empty but %s/%s are set: name the mechanism (%s, %s or %s)", EnvMechanism, EnvUsername, EnvPassword, ScramSHA512, ScramSHA256, Plain)
		}
		return nil, nil
	}
	if s.Username == "" {
		return nil, fmt.Errorf("%s=%s needs %s", EnvMechanism, m, EnvUsername)
	}
	if s.Password == "" {
		return nil, fmt.Errorf("%s=%s needs %s (is the KafkaUser's Secret there?)", EnvMechanism, m, EnvPassword)
	}
	auth := scram.Auth{User: s.Username, Pass: s.Password}
	switch m {
	case ScramSHA512:
		return auth.AsSha512Mechanism(), nil
	case ScramSHA256:
		return auth.AsSha256Mechanism(), nil
	case Plain:
		if !s.TLS {
			return nil, fmt.Errorf("%s=PLAIN sends the password as it is: set %s=true", EnvMechanism, EnvTLS)
		}
		return plain.Auth{User: s.Username, Pass: s.Password}.AsMechanism(), nil
	}
	return nil, fmt.Errorf("%s=%q: want %s, %s or %s", EnvMechanism, s.Mechanism, ScramSHA512, ScramSHA256, Plain)
}

func (s Settings) tlsConfig() (*tls.Config, error) {
	if !s.TLS {
		if s.CA != "" || s.CAFile != "" {
			return nil, fmt.Errorf("%s/%s are set but %s is false", EnvCA, EnvCAFile, EnvTLS)
		}
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	pem := []byte(s.CA)
	switch {
	case s.CA != "" && s.CAFile != "":
		return nil, fmt.Errorf("set %s or %s, not both", EnvCA, EnvCAFile)
	case s.CAFile != "":
		b, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvCAFile, err)
		}
		pem = b
	}
	if len(pem) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s/%s: no PEM certificate in it", EnvCA, EnvCAFile)
		}
		cfg.RootCAs = pool
	}
	// ServerName stays empty: kgo.DialTLSConfig sets it to each broker's host, so the
	// certificate is checked against the name (or IP) the client dials.
	return cfg, nil
}

// Refusal says, in words an operator can act on, why Kafka refused this client: wrong
// credentials, or an ACL that does not allow the operation. ok is false for other errors.
func Refusal(err error) (reason string, ok bool) {
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed):
		return "kafka refused the login (wrong username or password, or a mechanism the broker does not enable)", true
	case errors.Is(err, kerr.TopicAuthorizationFailed):
		return "kafka refused access to the topic (no ACL allows this user the operation)", true
	case errors.Is(err, kerr.GroupAuthorizationFailed):
		return "kafka refused access to the consumer group (no ACL allows this user the group)", true
	case errors.Is(err, kerr.ClusterAuthorizationFailed), errors.Is(err, kerr.TransactionalIDAuthorizationFailed):
		return "kafka refused a cluster operation (no ACL allows it)", true
	case errors.Is(err, kerr.IllegalSaslState), errors.Is(err, kerr.UnsupportedSaslMechanism):
		return "kafka does not accept this SASL mechanism on the listener", true
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return "kafka's TLS certificate is not signed by the configured CA (or names another host)", true
	}
	return "", false
}

// Check logs in and asks for the topic's metadata, so a program can say at start whether its
// credentials and ACLs work (it does not exit on failure: the broker may come up later).
func Check(ctx context.Context, cl *kgo.Client, topic string) error {
	md, err := kadm.NewClient(cl).Metadata(ctx, topic)
	if err != nil {
		return err
	}
	if t, ok := md.Topics[topic]; ok && t.Err != nil {
		return fmt.Errorf("topic %s: %w", topic, t.Err)
	}
	return nil
}
