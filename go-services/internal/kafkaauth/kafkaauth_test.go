package kafkaauth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/blackfriday-operator/go-services/internal/config"
	"github.com/blackfriday-operator/go-services/internal/kafkaauth"
)

// testCA is a self-signed CA certificate in PEM, made for the test.
var testCA = func() string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}()

func TestNoSettingsMeansPlainTCP(t *testing.T) {
	opts, err := kafkaauth.Settings{}.Options()
	if err != nil || len(opts) != 0 {
		t.Fatalf("opts %d err %v", len(opts), err)
	}
}

func TestValidSettingsGiveLoginAndTLSOptions(t *testing.T) {
	for _, s := range []kafkaauth.Settings{
		{Mechanism: "SCRAM-SHA-512", Username: "u", Password: "p"},
		{Mechanism: "scram-sha-256", Username: "u", Password: "p", TLS: true, CA: testCA},
		{Mechanism: "PLAIN", Username: "u", Password: "p", TLS: true},
	} {
		opts, err := s.Options()
		want := 1
		if s.TLS {
			want = 2
		}
		if err != nil || len(opts) != want {
			t.Errorf("%+v: %d options, err %v", s, len(opts), err)
		}
	}
}

// Every bad combination is refused at start with the variable to fix named.
func TestBadSettingsNameTheVariable(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	cases := []struct {
		s    kafkaauth.Settings
		want string
	}{
		{kafkaauth.Settings{Username: "u", Password: "p"}, kafkaauth.EnvMechanism + " is empty"},
		{kafkaauth.Settings{Mechanism: "SCRAM-SHA-512", Password: "p"}, "needs " + kafkaauth.EnvUsername},
		{kafkaauth.Settings{Mechanism: "SCRAM-SHA-512", Username: "u"}, "needs " + kafkaauth.EnvPassword},
		{kafkaauth.Settings{Mechanism: "GSSAPI", Username: "u", Password: "p"}, kafkaauth.EnvMechanism + `="GSSAPI"`},
		{kafkaauth.Settings{Mechanism: "PLAIN", Username: "u", Password: "p"}, "set " + kafkaauth.EnvTLS + "=true"},
		{kafkaauth.Settings{CA: testCA}, "but " + kafkaauth.EnvTLS + " is false"},
		{kafkaauth.Settings{TLS: true, CA: testCA, CAFile: notPEM}, "not both"},
		{kafkaauth.Settings{TLS: true, CAFile: filepath.Join(dir, "missing.pem")}, kafkaauth.EnvCAFile + ":"},
		{kafkaauth.Settings{TLS: true, CAFile: notPEM}, "no PEM certificate"},
	}
	for _, c := range cases {
		_, err := c.s.Options()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want it to contain %q", c.s, err, c.want)
		}
	}
}

// The programs read the settings from exactly these variables (the operator renders them).
func TestSettingsComeFromTheEnvironment(t *testing.T) {
	cfg := config.New("t")
	flags := kafkaauth.Register(cfg)
	env := map[string]string{
		"KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_USERNAME": "consumer",
		"KAFKA_SASL_PASSWORD": "pw", "KAFKA_TLS": "true", "KAFKA_TLS_CA": testCA,
	}
	if err := cfg.Parse(nil, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	got := flags.Settings()
	want := kafkaauth.Settings{Mechanism: "SCRAM-SHA-512", Username: "consumer", Password: "pw", TLS: true, CA: testCA}
	if got != want {
		t.Fatalf("got %+v", got)
	}
}

func TestRefusalExplainsAuthErrorsOnly(t *testing.T) {
	for _, err := range []error{kerr.SaslAuthenticationFailed, kerr.TopicAuthorizationFailed, kerr.GroupAuthorizationFailed,
		fmt.Errorf("wrapped: %w", kerr.SaslAuthenticationFailed)} {
		if reason, ok := kafkaauth.Refusal(err); !ok || !strings.HasPrefix(reason, "kafka ") {
			t.Errorf("%v: %q %v", err, reason, ok)
		}
	}
	for _, err := range []error{kerr.NotLeaderForPartition, errors.New("dial tcp: connection refused")} {
		if _, ok := kafkaauth.Refusal(err); ok {
			t.Errorf("%v counted as a refusal", err)
		}
	}
}
