// Command go-forwarder is the benchmark baseline for rust-api (scripts/benchmarks/rust-api.sh):
// a plain Go net/http server doing the same forward — read the JSON sale, validate it, give it
// a UUIDv7, POST it with X-Sale-Id to the downstream over one shared keep-alive client, relay
// the answer. Standard library only, so it builds offline.
//
// With -mode sink it is instead the fast downstream all the benchmarked forwarders post to:
// it answers every sale with 200 and a small JSON body.
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log"
	"math"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

const bodyLimit = 16 << 10

type sale struct {
	Categoria       string  `json:"categoria"`
	ProductoID      string  `json:"producto_id"`
	Precio          float64 `json:"precio"`
	CantidadVendida int32   `json:"cantidad_vendida"`
}

type incoming struct {
	Categoria       json.RawMessage `json:"categoria"`
	ProductoID      *string         `json:"producto_id"`
	Precio          *float64        `json:"precio"`
	CantidadVendida *int64          `json:"cantidad_vendida"`
}

var categories = []string{"Electronica", "Ropa", "Hogar", "Belleza"}

// Rule texts of contract/sale.json (main_test.go checks them against it). This baseline decodes
// into typed fields, so a field of the wrong JSON type fails the whole body (400) where rust-api
// names the field (422); the test lists those cases.
const (
	ruleRequired      = "is required"
	ruleCategoria     = "must be one of Electronica, Ropa, Hogar, Belleza or 1-4"
	ruleCategoriaType = "must be a string (Electronica, Ropa, Hogar, Belleza) or an integer 1-4"
	ruleProductoEmpty = "must not be empty"
	ruleProductoLong  = "must be at most 64 bytes"
	ruleProductoChars = "may contain only letters, digits, '-', '_' and '.'"
	rulePositive      = "must be greater than 0"
	ruleMaxPrecio     = "must be at most 1000000"
	ruleCantidadRange = "must be between 1 and 2147483647"
)

// validate applies the same rules as rust-api (docs/contracts.md §1), collecting every bad field.
func validate(in incoming) (sale, []map[string]string) {
	var s sale
	var errs []map[string]string
	bad := func(f, r string) { errs = append(errs, map[string]string{"field": f, "rule": r}) }
	if r := s.setCategoria(in.Categoria); r != "" {
		bad("categoria", r)
	}
	if in.ProductoID == nil {
		bad("producto_id", ruleRequired)
	} else if r := s.setProductoID(*in.ProductoID); r != "" {
		bad("producto_id", r)
	}
	switch {
	case in.Precio == nil:
		bad("precio", ruleRequired)
	case *in.Precio <= 0:
		bad("precio", rulePositive)
	case *in.Precio > 1e6:
		bad("precio", ruleMaxPrecio)
	default:
		s.Precio = *in.Precio
	}
	switch {
	case in.CantidadVendida == nil:
		bad("cantidad_vendida", ruleRequired)
	case *in.CantidadVendida < 1 || *in.CantidadVendida > math.MaxInt32:
		bad("cantidad_vendida", ruleCantidadRange)
	default:
		s.CantidadVendida = int32(*in.CantidadVendida)
	}
	return s, errs
}

// setCategoria takes a name (any case) or a number 1-4; it returns the broken rule or "".
func (s *sale) setCategoria(raw json.RawMessage) string {
	var name string
	var num int
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return ruleRequired
	case raw[0] == '"':
		if json.Unmarshal(raw, &name) == nil {
			for _, c := range categories {
				if strings.EqualFold(c, name) {
					s.Categoria = c
					return ""
				}
			}
		}
		return ruleCategoria
	case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
		if !bytes.ContainsAny(raw, ".eE") && json.Unmarshal(raw, &num) == nil && num >= 1 && num <= 4 {
			s.Categoria = categories[num-1]
			return ""
		}
		return ruleCategoria
	}
	return ruleCategoriaType
}

// setProductoID trims the id and checks it; it returns the broken rule or "".
func (s *sale) setProductoID(raw string) string {
	id := strings.TrimSpace(raw)
	switch {
	case id == "":
		return ruleProductoEmpty
	case len(id) > 64:
		return ruleProductoLong
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'z')) {
			return ruleProductoChars
		}
	}
	s.ProductoID = id
	return ""
}

// uuidV7 builds an RFC 9562 version 7 id: 48-bit Unix milliseconds, then random bits.
func uuidV7() string {
	var b [16]byte
	_, _ = rand.Read(b[6:])
	ms := uint64(time.Now().UnixMilli())
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], ms)
	copy(b[:6], t[2:])
	b[6] = (b[6] & 0x0f) | 0x70
	b[8] = (b[8] & 0x3f) | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func errorBody(code, msg string, fields []map[string]string) map[string]any {
	if fields == nil {
		fields = []map[string]string{}
	}
	return map[string]any{"error": code, "message": msg, "fields": fields}
}

type forwarder struct {
	client *http.Client
	url    string
}

func (f *forwarder) ventas(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeJSON(w, 415, errorBody("unsupported_media_type", "content type must be application/json", nil))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, bodyLimit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, 413, errorBody("payload_too_large", "body is larger than 16384 bytes", nil))
			return
		}
		writeJSON(w, 400, errorBody("malformed_json", err.Error(), nil))
		return
	}
	var in incoming
	if err := json.Unmarshal(body, &in); err != nil {
		writeJSON(w, 400, errorBody("malformed_json", err.Error(), nil))
		return
	}
	if string(bytes.TrimSpace(body)) == "null" { // decodes into an empty struct without error
		writeJSON(w, 400, errorBody("malformed_json", "body must be a JSON object", nil))
		return
	}
	s, errs := validate(in)
	if len(errs) > 0 {
		writeJSON(w, 422, errorBody("validation_failed", "the sale has invalid fields", errs))
		return
	}
	id := uuidV7()
	out, _ := json.Marshal(s)
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, f.url, bytes.NewReader(out))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Sale-Id", id)
	resp, err := f.client.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			writeJSON(w, 504, errorBody("downstream_timeout", err.Error(), nil))
			return
		}
		w.Header().Set("Retry-After", "1")
		writeJSON(w, 503, errorBody("downstream_unavailable", err.Error(), nil))
		return
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil || resp.StatusCode/100 != 2 {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, 503, errorBody("downstream_unavailable", "downstream answered "+resp.Status, nil))
		return
	}
	var ack struct {
		Estado string `json:"estado"`
	}
	_ = json.Unmarshal(rb, &ack)
	w.Header().Set("X-Sale-Id", id)
	writeJSON(w, 200, map[string]string{"sale_id": id, "estado": ack.Estado})
}

// sinkConns counts the TCP connections the sink accepted: the benchmark reads it before and
// after a run to show how many connections a forwarder opened (1 per request = no pooling).
var sinkConns atomic.Int64

func sink(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"sale_id":"`+r.Header.Get("X-Sale-Id")+`","estado":"accepted by sink"}`)
}

func main() {
	mode := flag.String("mode", "forward", "forward | sink")
	listen := flag.String("listen", "127.0.0.1:18090", "listen address")
	downstream := flag.String("downstream-url", "http://127.0.0.1:18099", "forward mode: base URL; sales go to <url>/api/v1/ventas")
	timeout := flag.Duration("timeout", 5*time.Second, "forward mode: downstream timeout")
	flag.Parse()

	mux := http.NewServeMux()
	switch *mode {
	case "sink":
		mux.HandleFunc("/api/v1/ventas", sink)
	case "forward":
		// One shared Transport: keep-alive pool sized above the benchmark's concurrency.
		tr := &http.Transport{
			DialContext:         (&net.Dialer{Timeout: time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 512,
			IdleConnTimeout:     60 * time.Second,
		}
		f := &forwarder{client: &http.Client{Transport: tr, Timeout: *timeout}, url: strings.TrimRight(*downstream, "/") + "/api/v1/ventas"}
		mux.HandleFunc("/api/v1/ventas", f.ventas)
	default:
		log.Fatalf("unknown -mode %q", *mode)
	}
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	if *mode == "sink" {
		mux.HandleFunc("/stats/connections", func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, strconv.FormatInt(sinkConns.Load(), 10))
		})
		srv.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				sinkConns.Add(1)
			}
		}
	}
	log.Printf("go-forwarder mode=%s listen=%s", *mode, *listen)
	log.Fatal(srv.ListenAndServe())
}
