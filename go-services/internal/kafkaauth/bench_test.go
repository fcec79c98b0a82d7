//go:build kafkaauth

// Against the bench broker with authentication (scripts/testbed/kafka-sasl.sh: SASL_SSL,
// SCRAM-SHA-512, StandardAuthorizer ACLs), run by scripts/test.d/22-kafka-auth.sh. The users and
// ACLs are those the operator gives the programs (docs/kafka-auth.md): a writer may only write
// (and describe) the topic, the consumer may only read it within its group.
package kafkaauth_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/blackfriday-operator/go-services/internal/aggregates"
	"github.com/blackfriday-operator/go-services/internal/consumer"
	"github.com/blackfriday-operator/go-services/internal/kafkaauth"
	"github.com/blackfriday-operator/go-services/internal/kafkatopic"
	"github.com/blackfriday-operator/go-services/internal/producer"
	"github.com/blackfriday-operator/go-services/internal/saleid"
	"github.com/blackfriday-operator/go-services/internal/testenv"
	"github.com/blackfriday-operator/go-services/internal/writer"
	pb "github.com/blackfriday-operator/go-services/proto"
)

// bench is the authenticated broker of .testbed/env.
type bench struct {
	brokers []string
	caFile  string
	admin   []kgo.Opt
}

func newBench(t *testing.T) bench {
	t.Helper()
	env := map[string]string{}
	for _, k := range []string{"KAFKA_SASL_BOOTSTRAP", "KAFKA_SASL_CA_FILE", "KAFKA_SASL_ADMIN_USER", "KAFKA_SASL_ADMIN_PASSWORD"} {
		if env[k] = os.Getenv(k); env[k] == "" {
			testenv.Missing(t, k+" not set (scripts/testbed/kafka-sasl.sh start, then source .testbed/env)")
		}
	}
	b := bench{brokers: strings.Split(env["KAFKA_SASL_BOOTSTRAP"], ","), caFile: env["KAFKA_SASL_CA_FILE"]}
	b.admin = b.login(t, env["KAFKA_SASL_ADMIN_USER"], env["KAFKA_SASL_ADMIN_PASSWORD"])
	return b
}

// login are the options a program gets from the operator's environment for user/password.
func (b bench) login(t *testing.T, user, password string) []kgo.Opt {
	t.Helper()
	opts, err := kafkaauth.Settings{Mechanism: kafkaauth.ScramSHA512, Username: user, Password: password, TLS: true, CAFile: b.caFile}.Options()
	if err != nil {
		t.Fatal(err)
	}
	return opts
}

func (b bench) adminClient(t *testing.T) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.brokers...)}, b.admin...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// user creates a SCRAM-SHA-512 user with the given ACLs (what Strimzi's User Operator does for
// a KafkaUser) and waits until it can log in.
func (b bench) user(t *testing.T, name string, acls *kadm.ACLBuilder) (password string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adm := b.adminClient(t)
	password = saleid.New()
	res, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: name, Mechanism: kadm.ScramSha512, Iterations: 4096, Password: password}})
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	created, err := adm.CreateACLs(ctx, acls)
	if err != nil {
		t.Fatalf("ACLs of %s: %v", name, err)
	}
	for _, c := range created {
		if c.Err != nil {
			t.Fatalf("ACL of %s: %v", name, c.Err)
		}
	}
	// The credential reaches the broker through the metadata log: log in until it works.
	for {
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.brokers...)}, b.login(t, name, password)...)...)
		if err != nil {
			t.Fatal(err)
		}
		err = cl.Ping(ctx)
		cl.Close()
		if err == nil {
			return password
		}
		if ctx.Err() != nil {
			t.Fatalf("user %s never could log in: %v", name, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// The ACLs of docs/kafka-auth.md: the writer writes (and describes) the topic, nothing else.
func writerACLs(user, topic string) *kadm.ACLBuilder {
	return kadm.NewACLs().Allow("User:"+user).AllowHosts().Topics(topic).
		ResourcePatternType(kadm.ACLPatternLiteral).Operations(kadm.OpWrite, kadm.OpDescribe)
}

// The consumer reads (and describes) the topic and reads its group.
func consumerACLs(user, topic, group string) *kadm.ACLBuilder {
	return kadm.NewACLs().Allow("User:"+user).AllowHosts().Topics(topic).Groups(group).
		ResourcePatternType(kadm.ACLPatternLiteral).Operations(kadm.OpRead, kadm.OpDescribe)
}

// serveWriter runs the real writer (batching as deployed) with a producer logged in with login.
func serveWriter(t *testing.T, b bench, topic string, login []kgo.Opt) pb.ProductSaleServiceClient {
	t.Helper()
	kafka, err := producer.NewClient(producer.Config{Brokers: b.brokers, Topic: topic, ClientID: "authtest",
		DeliveryTimeout: 10 * time.Second, Auth: login})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kafka.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	pb.RegisterProductSaleServiceServer(srv, &writer.Server{Producer: kafka, Name: "authtest", MaxWait: 30 * time.Second, Lanes: writer.DefaultLanes})
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pb.NewProductSaleServiceClient(conn)
}

// send sends sales with fresh ids and returns the ids answered OK and the errors of the others.
func send(t *testing.T, c pb.ProductSaleServiceClient, sales []*pb.ProductSaleRequest) (ok []string, errs []error) {
	t.Helper()
	for _, s := range sales {
		id := saleid.New()
		ctx, cancel := context.WithTimeout(saleid.ToOutgoingGRPC(context.Background(), id), 30*time.Second)
		_, err := c.ProcesarVenta(ctx, s)
		cancel()
		if err != nil {
			errs = append(errs, err)
		} else {
			ok = append(ok, id)
		}
	}
	return ok, errs
}

// recorder is the consumer's Valkey side, in memory: the sale ids it was handed.
type recorder struct {
	mu  sync.Mutex
	ids []string
}

func (r *recorder) Apply(_ context.Context, sales []aggregates.Sale) (aggregates.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range sales {
		r.ids = append(r.ids, s.SaleID)
	}
	return aggregates.Result{Applied: int64(len(sales))}, nil
}

func (r *recorder) count() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.ids) }

// logs captures the process's slog output (the consumer logs its refusals there).
type logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.Write(p) }
func (l *logs) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.String() }

func captureLogs(t *testing.T) *logs {
	l := &logs{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(l, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return l
}

// runConsumer runs the real group consumer until stop; Run's error (a crash) fails the test.
func runConsumer(t *testing.T, cfg consumer.Config, r *recorder) (stop func()) {
	t.Helper()
	c, err := consumer.New(cfg, r)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("consumer stopped with an error (a crash in the program): %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitFor polls cond until it holds or the deadline passes (a bound, not a timed assertion).
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestProgramsLogInWithTheirOwnCredentialsOnly(t *testing.T) {
	b := newBench(t)
	log := captureLogs(t)
	topic := testenv.UniqueName("auth")
	group := testenv.UniqueName("auth-group")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := kafkatopic.Create(ctx, b.brokers, topic, 3, b.admin...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kafkatopic.Delete(context.Background(), b.brokers, topic, b.admin...) })
	writerUser, consumerUser := testenv.UniqueName("writer"), testenv.UniqueName("consumer")
	writerPassword := b.user(t, writerUser, writerACLs(writerUser, topic))
	consumerPassword := b.user(t, consumerUser, consumerACLs(consumerUser, topic, group))
	sales := testenv.Sales(40, 3, 7)

	// 1. The writer produces with its credentials: every sale answered OK.
	w := serveWriter(t, b, topic, b.login(t, writerUser, writerPassword))
	accepted, errs := send(t, w, sales)
	if len(errs) > 0 || len(accepted) != len(sales) {
		t.Fatalf("writer with its credentials: %d OK, errors %v", len(accepted), errs)
	}

	// 2. A wrong password: refused with a clear error, never OK, nothing written.
	bad := serveWriter(t, b, topic, b.login(t, writerUser, writerPassword+"x"))
	t0 := time.Now()
	ok, errs := send(t, bad, sales[:3])
	t.Logf("wrong password: 3 calls refused in %v", time.Since(t0).Round(time.Millisecond))
	if len(ok) != 0 || len(errs) != 3 {
		t.Fatalf("wrong password: %d answered OK", len(ok))
	}
	for _, err := range errs {
		if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "kafka refused the login") {
			t.Fatalf("wrong password: want UNAVAILABLE naming the refused login, got %v", err)
		}
	}

	// 3. The consumer's credentials cannot produce: refused, never OK. (The idempotent producer's
	// first request, InitProducerId, needs Write on some topic, so the refusal may come from it:
	// CLUSTER_AUTHORIZATION_FAILED rather than TOPIC_AUTHORIZATION_FAILED.)
	asConsumer := serveWriter(t, b, topic, b.login(t, consumerUser, consumerPassword))
	t0 = time.Now()
	ok, errs = send(t, asConsumer, sales[:2])
	t.Logf("consumer credentials producing: 2 calls refused in %v", time.Since(t0).Round(time.Millisecond))
	if len(ok) != 0 || len(errs) != 2 || status.Code(errs[0]) != codes.Unavailable || !strings.Contains(errs[0].Error(), "kafka refused") {
		t.Fatalf("consumer credentials producing: OK %d, errors %v", len(ok), errs)
	}

	// 4. The consumer consumes with its own credentials, in its group: exactly the accepted sales.
	mine := &recorder{}
	stop := runConsumer(t, consumer.Config{Brokers: b.brokers, Topic: topic, Group: group, MaxBatch: 100,
		Auth: b.login(t, consumerUser, consumerPassword)}, mine)
	waitFor(t, "the consumer to get every accepted sale", 60*time.Second, func() bool { return mine.count() >= len(accepted) })
	stop()
	if got := fmt.Sprint(sortedCopy(mine.ids)); got != fmt.Sprint(sortedCopy(accepted)) {
		t.Fatalf("consumed %d sales, accepted %d: they differ", len(mine.ids), len(accepted))
	}

	// 5. The writer's credentials cannot consume (neither the group nor the topic): the consumer
	// logs the refusal, gets nothing, and stops cleanly.
	stolen := &recorder{}
	stop = runConsumer(t, consumer.Config{Brokers: b.brokers, Topic: topic, Group: group, MaxBatch: 100,
		Auth: b.login(t, writerUser, writerPassword)}, stolen)
	waitFor(t, "the consumer to log the refusal", 60*time.Second, func() bool {
		return strings.Contains(log.String(), "kafka refused access to the consumer group")
	})
	stop()
	if stolen.count() != 0 {
		t.Fatalf("a writer credential consumed %d records", stolen.count())
	}
	// ... nor read the topic without a group.
	direct, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, b.login(t, writerUser, writerPassword)...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	fctx, fcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer fcancel()
	var refused error
	for refused == nil && fctx.Err() == nil {
		f := direct.PollFetches(fctx)
		if f.NumRecords() > 0 {
			t.Fatalf("a writer credential read %d records", f.NumRecords())
		}
		f.EachError(func(_ string, _ int32, err error) {
			if _, ok := kafkaauth.Refusal(err); ok {
				refused = err
			}
		})
	}
	if refused == nil {
		t.Fatalf("reading the topic with a writer credential was not refused: %v", fctx.Err())
	}

	// 6. The topic holds exactly the accepted sales: nothing from the refused calls.
	recs := testenv.ReadAll(t, b.brokers, topic, len(accepted), 30*time.Second, b.admin...)
	var ids []string
	for _, r := range recs {
		ids = append(ids, producer.Header(r, producer.HeaderSaleID))
	}
	if fmt.Sprint(sortedCopy(ids)) != fmt.Sprint(sortedCopy(accepted)) {
		t.Fatalf("topic holds %d records, %d were accepted", len(ids), len(accepted))
	}
}

// A broker certificate that the configured roots do not sign is refused, with a clear reason.
func TestAnUntrustedBrokerCertificateIsRefused(t *testing.T) {
	b := newBench(t)
	opts, err := kafkaauth.Settings{Mechanism: kafkaauth.ScramSHA512, Username: "admin", Password: "x", TLS: true}.Options()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.brokers...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = kafkaauth.Check(ctx, cl, "any")
	reason, ok := kafkaauth.Refusal(err)
	if !ok || !strings.Contains(reason, "TLS certificate") {
		t.Fatalf("system roots against the bench CA: want a certificate refusal, got %v (%q)", err, reason)
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
