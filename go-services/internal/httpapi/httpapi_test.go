package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/blackfriday-operator/go-services/internal/contract"
	"github.com/blackfriday-operator/go-services/internal/grpcstatus"
	"github.com/blackfriday-operator/go-services/internal/sale"
	pb "github.com/blackfriday-operator/go-services/proto"
)

type fakeForwarder struct {
	err    error
	gotID  string
	gotReq *pb.ProductSaleRequest
	wait   time.Duration
}

func (f *fakeForwarder) Forward(ctx context.Context, id string, req *pb.ProductSaleRequest) (*pb.ProductSaleResponse, error) {
	f.gotID, f.gotReq = id, req
	if f.wait > 0 {
		select {
		case <-time.After(f.wait):
		case <-ctx.Done():
			return nil, status.Error(codes.DeadlineExceeded, "deadline")
		}
	}
	if f.err != nil {
		return nil, f.err
	}
	return &pb.ProductSaleResponse{Estado: "accepted by w partition=0 offset=1"}, nil
}

const valid = `{"categoria": "Belleza", "producto_id": "BEL-001", "precio": 129.99, "cantidad_vendida": 3}`

func do(t *testing.T, f Forwarder, method, ctype, body string, hdr map[string]string) (*httptest.ResponseRecorder, ErrorBody) {
	t.Helper()
	h := &Handler{Forwarder: f, Timeout: 200 * time.Millisecond}
	r := httptest.NewRequest(method, Route, strings.NewReader(body))
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var eb ErrorBody
	if w.Code != 200 {
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("content type %q", ct)
		}
		if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || eb.Fields == nil {
			t.Errorf("error body %q: %v", w.Body.String(), err)
		}
	}
	return w, eb
}

func TestAcceptedSaleAnswers200WithIDAndEstado(t *testing.T) {
	f := &fakeForwarder{}
	w, _ := do(t, f, "POST", "application/json; charset=utf-8", valid, map[string]string{"X-Sale-Id": "abc"})
	var a Accepted
	json.Unmarshal(w.Body.Bytes(), &a)
	if w.Code != 200 || a.SaleID != "abc" || a.Estado == "" || f.gotID != "abc" || w.Header().Get("X-Sale-Id") != "abc" {
		t.Fatalf("%d %s id=%q", w.Code, w.Body, f.gotID)
	}
	if f.gotReq.Categoria != pb.CategoriaProducto_Belleza || f.gotReq.CantidadVendida != 3 {
		t.Fatalf("forwarded %v", f.gotReq)
	}
	// no incoming id: one is made
	w, _ = do(t, &fakeForwarder{}, "POST", "application/json", valid, nil)
	json.Unmarshal(w.Body.Bytes(), &a)
	if len(a.SaleID) != 36 {
		t.Fatalf("generated id %q", a.SaleID)
	}
}

// Every case of contract/sale.json (shared with rust-api) gets its status and body over HTTP.
func TestEveryContractCaseOverHTTP(t *testing.T) {
	c := contract.LoadSale(t)
	for _, tc := range c.Cases {
		w, eb := do(t, &fakeForwarder{}, "POST", "application/json", tc.Body, nil)
		var got [][2]string
		for _, f := range eb.Fields {
			got = append(got, [2]string{f.Field, f.Rule})
		}
		if w.Code != tc.Status || !reflect.DeepEqual(got, c.FieldRules(tc)) {
			t.Errorf("%s: %d %v, want %d %v", tc.Name, w.Code, got, tc.Status, c.FieldRules(tc))
		}
		if tc.Error != "" && eb.Error != tc.Error {
			t.Errorf("%s: error %q, want %q", tc.Name, eb.Error, tc.Error)
		}
	}
}

func TestClientErrors(t *testing.T) {
	w, eb := do(t, &fakeForwarder{}, "POST", "text/plain", valid, nil)
	if w.Code != 415 || eb.Error != "unsupported_media_type" {
		t.Errorf("415: %d %+v", w.Code, eb)
	}
	w, eb = do(t, &fakeForwarder{}, "POST", "", valid, nil)
	if w.Code != 415 {
		t.Errorf("no content type: %d %+v", w.Code, eb)
	}
	w, eb = do(t, &fakeForwarder{}, "POST", "application/json", `{"a":"`+strings.Repeat("x", sale.MaxBodyBytes)+`"}`, nil)
	if w.Code != 413 || eb.Error != "payload_too_large" {
		t.Errorf("413: %d %+v", w.Code, eb)
	}
	w, eb = do(t, &fakeForwarder{}, "POST", "application/json", `[1]`, nil)
	if w.Code != 400 || eb.Error != "malformed_json" || len(eb.Fields) != 0 {
		t.Errorf("400: %d %+v", w.Code, eb)
	}
	w, eb = do(t, &fakeForwarder{}, "POST", "application/json", `{"categoria": 9, "producto_id": "a b", "precio": 0, "cantidad_vendida": 1.5}`, nil)
	if w.Code != 422 || eb.Error != "validation_failed" || len(eb.Fields) != 4 || eb.Message != "the sale has 4 invalid fields" {
		t.Errorf("422: %d %+v", w.Code, eb)
	}
	for i, f := range []string{"categoria", "producto_id", "precio", "cantidad_vendida"} {
		if eb.Fields[i].Field != f {
			t.Errorf("field %d = %q", i, eb.Fields[i].Field)
		}
	}
	w, _ = do(t, &fakeForwarder{}, "GET", "", "", nil)
	if w.Code != 405 {
		t.Errorf("GET: %d", w.Code)
	}
}

func TestWriterErrorsMapToTheContract(t *testing.T) {
	invalid := grpcstatus.InvalidArgument(&sale.ValidationError{Fields: []sale.FieldError{{Field: "precio", Rule: sale.RulePositive}}})
	for _, c := range []struct {
		err        error
		code       int
		errCode    string
		retryAfter string
	}{
		{status.Error(codes.Unavailable, "kafka down"), 503, "downstream_unavailable", "1"},
		{status.Error(codes.DeadlineExceeded, "slow"), 504, "downstream_timeout", ""},
		{invalid, 422, "validation_failed", ""},
		{status.Error(codes.Internal, "bug"), 503, "downstream_unavailable", "1"},
		{status.Error(codes.ResourceExhausted, "full"), 503, "downstream_unavailable", "1"},
	} {
		w, eb := do(t, &fakeForwarder{err: c.err}, "POST", "application/json", valid, nil)
		if w.Code != c.code || eb.Error != c.errCode || w.Header().Get("Retry-After") != c.retryAfter {
			t.Errorf("%v → %d %+v retry=%q", c.err, w.Code, eb, w.Header().Get("Retry-After"))
		}
		if c.code == 422 && (len(eb.Fields) != 1 || eb.Fields[0].Field != "precio") {
			t.Errorf("422 fields %+v", eb.Fields)
		}
	}
}

func TestDeadlineOnEveryCall(t *testing.T) {
	w, eb := do(t, &fakeForwarder{wait: 5 * time.Second}, "POST", "application/json", valid, nil)
	if w.Code != http.StatusGatewayTimeout || eb.Error != "downstream_timeout" {
		t.Fatalf("%d %+v", w.Code, eb)
	}
}

func TestHTTPStatus(t *testing.T) {
	for c, want := range map[codes.Code]int{codes.OK: 200, codes.Unavailable: 503, codes.DeadlineExceeded: 504, codes.InvalidArgument: 422, codes.Unknown: 503} {
		if got := HTTPStatus(c); got != want {
			t.Errorf("%v → %d want %d", c, got, want)
		}
	}
}

// The sale id is the client's Idempotency-Key when sent (else X-Sale-Id, else new), goes to the
// writer, and comes back on every answer; a 503/504 says the sale is in doubt and names the id.
func TestIdempotencyKeyAndInDoubtAnswers(t *testing.T) {
	f := &fakeForwarder{}
	w, _ := do(t, f, "POST", "application/json", valid, map[string]string{"Idempotency-Key": "order-7:try"})
	if w.Code != 200 || f.gotID != "order-7:try" || w.Header().Get("Idempotency-Key") != "order-7:try" || w.Header().Get("X-Sale-Id") != "order-7:try" {
		t.Fatalf("key: %d id=%q headers %v", w.Code, f.gotID, w.Header())
	}
	var ok Accepted
	if err := json.Unmarshal(w.Body.Bytes(), &ok); err != nil || ok.SaleID != "order-7:try" {
		t.Fatalf("2xx body %s", w.Body)
	}
	for _, c := range []struct {
		err  error
		code int
	}{{status.Error(codes.Unavailable, "connection reset by peer"), 503}, {status.Error(codes.DeadlineExceeded, "slow"), 504}} {
		w, eb := do(t, &fakeForwarder{err: c.err}, "POST", "application/json", valid, map[string]string{"Idempotency-Key": "k1"})
		if w.Code != c.code || eb.SaleID != "k1" || eb.InDoubt == nil || !*eb.InDoubt || !strings.Contains(eb.Message, "retry with Idempotency-Key k1") {
			t.Errorf("%v → %d %+v", c.err, w.Code, eb)
		}
	}
	for _, bad := range []string{"a b", strings.Repeat("x", 129), "ü"} {
		f := &fakeForwarder{}
		w, eb := do(t, f, "POST", "application/json", valid, map[string]string{"Idempotency-Key": bad})
		if w.Code != 422 || len(eb.Fields) != 1 || eb.Fields[0].Field != "Idempotency-Key" || f.gotReq != nil {
			t.Errorf("bad key %q → %d %+v (forwarded: %v)", bad, w.Code, eb, f.gotReq != nil)
		}
	}
}
