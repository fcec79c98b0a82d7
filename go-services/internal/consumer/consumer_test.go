package consumer_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/blackfriday-operator/go-services/internal/aggregates"
	"github.com/blackfriday-operator/go-services/internal/consumer"
	"github.com/blackfriday-operator/go-services/internal/testenv"
	pb "github.com/blackfriday-operator/go-services/proto"
)

const (
	nSales     = 6000 // ≥ 5k over all categories
	partitions = 4
	products   = 50 // per category: 200 products, ~30 sales each (streams stay below MAXLEN)
)

func TestDecode(t *testing.T) {
	v, _ := proto.Marshal(&pb.ProductSaleRequest{Categoria: 4, ProductoId: "BEL-1", Precio: 9.5, CantidadVendida: 2})
	got := consumer.Decode(&kgo.Record{Partition: 2, Offset: 9, Value: v, Headers: []kgo.RecordHeader{{Key: "sale-id", Value: []byte("k-1")}}})
	if got != (aggregates.Sale{Partition: 2, Offset: 9, SaleID: "k-1", Categoria: "Belleza", ProductoID: "BEL-1", Precio: 9.5, Cantidad: 2}) {
		t.Fatalf("%+v", got)
	}
	for _, bad := range [][]byte{{0xff, 0xff}, mustMarshal(&pb.ProductSaleRequest{Categoria: 0, ProductoId: "x", Precio: 1, CantidadVendida: 1})} {
		if got := consumer.Decode(&kgo.Record{Partition: 1, Offset: 3, Value: bad}); got != (aggregates.Sale{Partition: 1, Offset: 3}) {
			t.Errorf("invalid record decoded as %+v", got)
		}
	}
}

func mustMarshal(m proto.Message) []byte { b, _ := proto.Marshal(m); return b }

// produce writes the sales to the topic the way the writer does (key producto_id, protobuf value).
// It reports failures with Errorf (not Fatal) because it also runs in a helper goroutine.
func produce(t *testing.T, brokers []string, topic string, sales []*pb.ProductSaleRequest) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Errorf("produce: %v", err)
		return
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var firstErr atomic.Value
	for _, s := range sales {
		cl.Produce(ctx, &kgo.Record{Key: []byte(s.ProductoId), Value: mustMarshal(s)}, func(_ *kgo.Record, err error) {
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Errorf("produce: %v", err)
		return
	}
	if err, _ := firstErr.Load().(error); err != nil {
		t.Errorf("produce: %v", err)
		return
	}
}

func total(t *testing.T, v *testenv.Valkey) int64 {
	vals, err := v.Client.Do(context.Background(), v.Client.B().Hvals().Key(aggregates.KeyReports).Build()).AsIntSlice()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, x := range vals {
		n += x
	}
	return n
}

func waitTotal(t *testing.T, v *testenv.Valkey, atLeast int64, timeout time.Duration) int64 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n := total(t, v)
		if n >= atLeast {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("bf:reports total %d after %v, want %d", n, timeout, atLeast)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// equal checks every dashboard key against the model of the produced sales.
func equal(t *testing.T, v *testenv.Valkey, sales []*pb.ProductSaleRequest, opts aggregates.Options) {
	t.Helper()
	got, err := aggregates.Read(context.Background(), v.Client)
	if err != nil {
		t.Fatal(err)
	}
	want := aggregates.Expect(testenv.AsAggregates(sales), opts)
	if d := aggregates.Diff(want, got); len(d) > 0 {
		t.Fatalf("%d differences, first ones:\n%s", len(d), strings.Join(d[:min(10, len(d))], "\n"))
	}
	var n int64
	for _, x := range got.Reports {
		n += x
	}
	t.Logf("Valkey equals the %d produced sales (%d categories, %d products, max %+v, min %+v)", n, len(got.Reports), len(got.ProductUnits), got.Max, got.Min)
}

// counting wraps the store to see what each consumer applied and skipped.
type counting struct {
	store            *aggregates.Store
	applied, skipped atomic.Int64
}

func (c *counting) Apply(ctx context.Context, s []aggregates.Sale) (aggregates.Result, error) {
	r, err := c.store.Apply(ctx, s)
	c.applied.Add(r.Applied)
	c.skipped.Add(r.Skipped)
	return r, err
}

func newStore(t *testing.T, v *testenv.Valkey, opts aggregates.Options) *counting {
	st := aggregates.NewStore(v.Client, opts)
	if err := st.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &counting{store: st}
}

// start runs an in-process consumer until the returned stop is called.
func start(t *testing.T, cfg consumer.Config, a consumer.Applier) (stop func()) {
	t.Helper()
	c, err := consumer.New(cfg, a)
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
				t.Errorf("consumer: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// (1) one consumer → every key equals the model; (4) the same records again through a new
// group on the same Valkey → every record skipped, still equal.
func TestOneConsumerThenRedeliveryToANewGroup(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	v := testenv.NewValkey(t)
	topic := testenv.NewTopic(t, brokers, partitions)
	sales := testenv.Sales(nSales, products, 11)
	produce(t, brokers, topic, sales)
	opts := aggregates.Options{Topic: topic}

	first := newStore(t, v, opts)
	stop := start(t, consumer.Config{Brokers: brokers, Topic: topic, Group: testenv.UniqueName("g1"), MaxBatch: 500}, first)
	waitTotal(t, v, nSales, 60*time.Second)
	stop()
	equal(t, v, sales, opts)
	if first.applied.Load() != nSales {
		t.Errorf("applied %d", first.applied.Load())
	}

	again := newStore(t, v, opts)
	stop = start(t, consumer.Config{Brokers: brokers, Topic: topic, Group: testenv.UniqueName("g2"), MaxBatch: 700}, again)
	deadline := time.Now().Add(60 * time.Second)
	for again.skipped.Load() < nSales && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if again.skipped.Load() != nSales || again.applied.Load() != 0 {
		t.Fatalf("redelivery: applied %d skipped %d", again.applied.Load(), again.skipped.Load())
	}
	equal(t, v, sales, opts)
}

// (3) two consumers in one group share the partitions; the result is the same.
func TestTwoConsumersInOneGroup(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	v := testenv.NewValkey(t)
	topic := testenv.NewTopic(t, brokers, partitions)
	opts := aggregates.Options{Topic: topic, SeriesCategory: "Belleza"}
	group := testenv.UniqueName("g")

	var mu sync.Mutex
	owned := map[int]int{} // consumer → partitions ever assigned (cooperative rebalances report increments)
	stores := [2]*counting{newStore(t, v, opts), newStore(t, v, opts)}
	for i := range 2 {
		cfg := consumer.Config{Brokers: brokers, Topic: topic, Group: group, MaxBatch: 300,
			OnAssigned: func(m map[string][]int32) { mu.Lock(); owned[i] += len(m[topic]); mu.Unlock() }}
		start(t, cfg, stores[i])
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		both := owned[0] > 0 && owned[1] > 0
		mu.Unlock()
		if both {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("both consumers never got partitions: %v", owned)
		}
		time.Sleep(50 * time.Millisecond)
	}
	sales := testenv.Sales(nSales, products, 12)
	produce(t, brokers, topic, sales)
	waitTotal(t, v, nSales, 60*time.Second)
	time.Sleep(300 * time.Millisecond) // anything extra (double counting) would show up now
	equal(t, v, sales, opts)
	a, b := stores[0].applied.Load(), stores[1].applied.Load()
	t.Logf("consumer A applied %d, consumer B applied %d", a, b)
	if a == 0 || b == 0 || a+b != nSales {
		t.Fatalf("split %d + %d, want both > 0 and sum %d", a, b, nSales)
	}
}

// (3b) rebalances in the middle of the stream: B joins while A is consuming, then A leaves
// while records are still arriving. Batches in flight at each rebalance are finished before
// partitions move; the result is still exact.
func TestRebalancesMidStream(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	v := testenv.NewValkey(t)
	topic := testenv.NewTopic(t, brokers, partitions)
	opts := aggregates.Options{Topic: topic}
	group := testenv.UniqueName("g")
	sales := testenv.Sales(nSales, products, 14)
	a, b := newStore(t, v, opts), newStore(t, v, opts)

	stopA := start(t, consumer.Config{Brokers: brokers, Topic: topic, Group: group, MaxBatch: 50}, a)
	produce(t, brokers, topic, sales[:nSales/2])
	waitTotal(t, v, 500, 60*time.Second)
	start(t, consumer.Config{Brokers: brokers, Topic: topic, Group: group, MaxBatch: 50}, b) // rebalance 1
	// the second half trickles in (20 records every 70 ms, ~10 s: longer than a rebalance takes
	// with 3 s heartbeats), so both rebalances happen while records arrive and batches are
	// being applied
	trickled := make(chan struct{})
	go func() {
		defer close(trickled)
		rest := sales[nSales/2:]
		for i := 0; i < len(rest); i += 20 {
			produce(t, brokers, topic, rest[i:min(i+20, len(rest))])
			time.Sleep(70 * time.Millisecond)
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for b.applied.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	midway := total(t, v)
	stopA() // rebalance 2: A leaves, B takes every partition
	<-trickled
	waitTotal(t, v, nSales, 60*time.Second)
	time.Sleep(300 * time.Millisecond)
	equal(t, v, sales, opts)
	t.Logf("A applied %d, B applied %d (A left at total %d); skipped A %d B %d",
		a.applied.Load(), b.applied.Load(), midway, a.skipped.Load(), b.skipped.Load())
	if b.applied.Load() == 0 || a.applied.Load()+b.applied.Load() != nSales {
		t.Fatalf("applied A %d + B %d, want %d with B > 0", a.applied.Load(), b.applied.Load(), nSales)
	}
}

// (2) the real consumer binary, SIGKILLed mid-stream several times and restarted: still equal.
func TestSigkilledConsumerProcessRestarts(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	v := testenv.NewValkey(t)
	bin := testenv.Binary(t, "cmd/consumer")
	topic := testenv.NewTopic(t, brokers, partitions)
	sales := testenv.Sales(nSales, products, 13)
	produce(t, brokers, topic, sales)
	group := testenv.UniqueName("g")
	logs := filepath.Join(t.TempDir(), "consumer.log")
	logf, err := os.Create(logs)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	spawn := func() *exec.Cmd {
		cmd := exec.Command(bin, "--kafka-brokers", strings.Join(brokers, ","), "--topic", topic, "--group", group,
			"--valkey-addr", v.Addr, "--valkey-db", strconv.Itoa(v.DB), "--featured-category", "hogar",
			"--max-batch", "25", "--session-timeout", "6s", "--metrics-listen", "127.0.0.1:0", "--log-level", "warn")
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	kills := 0
	for range 3 {
		before := total(t, v)
		if before >= nSales {
			break
		}
		cmd := spawn()
		after := waitTotal(t, v, min(before+400, nSales), 60*time.Second)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if after < nSales {
			kills++
		}
		t.Logf("run %d: bf:reports total %d → %d, then SIGKILL", kills, before, total(t, v))
	}
	if kills == 0 {
		t.Fatal("the consumer finished before any SIGKILL: the test did not test a crash")
	}
	cmd := spawn()
	waitTotal(t, v, nSales, 60*time.Second)
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		b, _ := os.ReadFile(logs)
		t.Fatalf("graceful stop: %v\n%s", err, b)
	}
	equal(t, v, sales, aggregates.Options{Topic: topic, SeriesCategory: "Hogar"})
}

// waitGroupMembers waits until the broker reports the group Stable with n members.
func waitGroupMembers(t *testing.T, brokers []string, group string, n int, timeout time.Duration) {
	t.Helper()
	adm, closeAdm := adminClient(t, brokers)
	defer closeAdm()
	deadline := time.Now().Add(timeout)
	for {
		g, err := describeGroup(adm, group)
		if err == nil && g.State == "Stable" && len(g.Members) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s not Stable with %d member(s) after %v: %+v, %v", group, n, timeout, g, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func adminClient(t *testing.T, brokers []string) (*kadm.Client, func()) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	return kadm.NewClient(cl), cl.Close
}

func describeGroup(adm *kadm.Client, group string) (kadm.DescribedGroup, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	groups, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return kadm.DescribedGroup{}, err
	}
	return groups[group], groups[group].Err
}

// staticMemberPartitions: the partitions of topic the broker has assigned to the member with
// instance id `instance`, and whether such a static member exists.
func staticMemberPartitions(t *testing.T, brokers []string, group, topic, instance string) ([]int32, bool) {
	t.Helper()
	adm, closeAdm := adminClient(t, brokers)
	defer closeAdm()
	g, err := describeGroup(adm, group)
	if err != nil {
		t.Fatalf("describe group %s: %v", group, err)
	}
	for _, m := range g.Members {
		if m.InstanceID == nil || *m.InstanceID != instance {
			continue
		}
		var parts []int32
		if c, ok := m.Assigned.AsConsumer(); ok {
			for _, tp := range c.Topics {
				if tp.Topic == topic {
					parts = append(parts, tp.Partitions...)
				}
			}
		}
		slices.Sort(parts)
		return parts, true
	}
	return nil, false
}

// waitGroupSettled waits until the broker reports the group Stable and state() has not changed
// for two seconds (no member callback still on its way).
func waitGroupSettled(t *testing.T, brokers []string, group string, state func() [3]int, timeout time.Duration) {
	t.Helper()
	adm, closeAdm := adminClient(t, brokers)
	defer closeAdm()
	deadline := time.Now().Add(timeout)
	last, since := state(), time.Now()
	for {
		g, err := describeGroup(adm, group)
		stable := err == nil && g.State == "Stable"
		if now := state(); now != last {
			last, since = now, time.Now()
		}
		if stable && time.Since(since) >= 2*time.Second {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s not settled after %v (describe: %v, stable %v, member state %v)", group, timeout, err, stable, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Static membership (issue 15 item 7): a consumer process SIGKILLed and restarted with the same
// --instance-id takes its partitions back and the other member keeps its own: nothing is revoked
// or moved. The restarted member here leads the group (it joins first, alone), the harder case:
// a static leader that rejoins may get one rebalance round (KIP-814: the leader is the member
// that picks up metadata changes), in which the cooperative-sticky balancer moves nothing; a
// follower's restart needs none. Asserting "no rebalance at all" made this test flaky while the
// join order (so the leader) was left to chance: 2 failures in 5 runs at load 20; with A made the
// leader, a round came in 4 of 7 runs here. With dynamic membership the restart is a new member: the group
// rebalances at least twice (its join, then the dead member's session expiry) and the dead
// member's partitions move, which this test refuses.
func TestRestartedStaticLeaderTakesItsPartitionsBackAndNothingMoves(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	v := testenv.NewValkey(t)
	bin := testenv.Binary(t, "cmd/consumer")
	topic := testenv.NewTopic(t, brokers, partitions)
	group := testenv.UniqueName("g")
	opts := aggregates.Options{Topic: topic}

	var mu sync.Mutex
	var bAssigned, bRevoked, bRebalances int // partitions, partitions, assignment callbacks
	bCfg := consumer.Config{Brokers: brokers, Topic: topic, Group: group, MaxBatch: 100, InstanceID: "b",
		SessionTimeout: 45 * time.Second,
		OnAssigned:     func(m map[string][]int32) { mu.Lock(); bAssigned += len(m[topic]); bRebalances++; mu.Unlock() },
		OnRevoked:      func(m map[string][]int32) { mu.Lock(); bRevoked += len(m[topic]); mu.Unlock() }}
	logs := filepath.Join(t.TempDir(), "consumer-a.log")
	logf, err := os.Create(logs)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	spawnA := func() *exec.Cmd {
		cmd := exec.Command(bin, "--kafka-brokers", strings.Join(brokers, ","), "--topic", topic, "--group", group,
			"--instance-id", "a", "--session-timeout", "45s",
			"--valkey-addr", v.Addr, "--valkey-db", strconv.Itoa(v.DB), "--metrics-listen", "127.0.0.1:0", "--log-level", "info")
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	a := spawnA()
	t.Cleanup(func() { a.Process.Kill(); a.Wait() })
	waitGroupMembers(t, brokers, group, 1, 60*time.Second) // A alone and Stable: A leads
	start(t, bCfg, newStore(t, v, opts))
	// both members hold partitions: B some, fewer than all of them
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		held := bAssigned - bRevoked
		mu.Unlock()
		if held > 0 && held < partitions || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	first := testenv.Sales(nSales/2, products, 21)
	produce(t, brokers, topic, first)
	waitTotal(t, v, int64(len(first)), 90*time.Second)
	// The group forms in more than one round (the cooperative balancer revokes first, then
	// assigns), and on a busy machine B's callback for the last round can run after A has
	// already consumed the first half: wait for the group to settle before taking the baseline.
	bState := func() [3]int { mu.Lock(); defer mu.Unlock(); return [3]int{bAssigned, bRevoked, bRebalances} }
	waitGroupSettled(t, brokers, group, bState, 60*time.Second)
	mu.Lock()
	before, revokedBefore, rebalancesBefore := bAssigned, bRevoked, bRebalances
	mu.Unlock()
	if held := before - revokedBefore; held == 0 || held >= partitions {
		b, _ := os.ReadFile(logs)
		t.Fatalf("B holds %d of %d partitions; the test needs both members to hold some; A's log:\n%s", held, partitions, b)
	}

	aBefore, static := staticMemberPartitions(t, brokers, group, topic, "a")
	if !static || len(aBefore) == 0 {
		t.Fatalf("no static member \"a\" holding partitions before the kill (static %v, partitions %v)", static, aBefore)
	}

	a.Process.Signal(syscall.SIGKILL)
	a.Wait()
	a = spawnA()
	second := testenv.Sales(nSales/2, products, 22)
	produce(t, brokers, topic, second)
	waitTotal(t, v, int64(nSales), 90*time.Second)
	waitGroupSettled(t, brokers, group, bState, 60*time.Second)
	// the restarted process is the same member: same instance id, same partitions
	if aAfter, static := staticMemberPartitions(t, brokers, group, topic, "a"); !static || !slices.Equal(aAfter, aBefore) {
		t.Fatalf("the restarted consumer is not member \"a\" with its partitions back: before %v, after %v (static %v)", aBefore, aAfter, static)
	}
	mu.Lock()
	defer mu.Unlock()
	// franz-go calls OnPartitionsAssigned after every rebalance B takes part in, also when B's
	// own partitions do not change: the calls count the rounds
	if bAssigned != before || bRevoked != revokedBefore || bRebalances > rebalancesBefore+1 {
		b, _ := os.ReadFile(logs)
		t.Fatalf("the restart moved partitions: B's rebalances %d → %d (at most one round for a leader), partitions assigned %d → %d, revoked %d → %d; A's log:\n%s",
			rebalancesBefore, bRebalances, before, bAssigned, revokedBefore, bRevoked, b)
	}
	t.Logf("the leader's restart: %d rebalance round(s) seen by B, none of B's partitions revoked or added", bRebalances-rebalancesBefore)
	equal(t, v, append(first, second...), opts)
}
