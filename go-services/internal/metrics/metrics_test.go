package metrics

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// A stopping server answers a keep-alive client's next request on the connection it already
// holds, with Connection: close, instead of closing that idle connection under it (the reset a
// client cannot tell from a lost request).
func TestStoppingServerClosesConnectionsAfterAnAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte("ok"))
		}), time.Second)
	}()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	get := func() (*http.Response, error) {
		resp, err := client.Get("http://" + ln.Addr().String() + "/")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}
	if resp, err := get(); err != nil || resp.Close {
		t.Fatalf("before the stop: %v, close=%v", err, resp != nil && resp.Close)
	}
	stop()
	time.Sleep(100 * time.Millisecond) // the stop has begun; the client's connection is idle
	resp, err := get()
	if err != nil {
		t.Fatalf("request during the close delay failed: %v", err)
	}
	if !resp.Close {
		t.Fatal("answer during the close delay did not carry Connection: close")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(CloseDelay + 3*time.Second):
		t.Fatal("server did not stop after the close delay")
	}
	if _, err := get(); err == nil {
		t.Fatal("the server still answers after it stopped")
	}
}
