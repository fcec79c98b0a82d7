// Package httpapi is grpc-client's HTTP face: POST /api/v1/ventas with the contract of
// docs/contracts.md §1 (same statuses and error body as rust-api), forwarded as one gRPC call.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/blackfriday-operator/go-services/internal/grpcstatus"
	"github.com/blackfriday-operator/go-services/internal/sale"
	"github.com/blackfriday-operator/go-services/internal/saleid"
	pb "github.com/blackfriday-operator/go-services/proto"
)

// Route is the sale endpoint of the contract.
const Route = "/api/v1/ventas"

// ErrorBody is the contract's one error shape. A 503/504 also names the sale id and whether
// the sale is in doubt (it may have been stored: retry with the same Idempotency-Key).
type ErrorBody struct {
	Error   string            `json:"error"`
	Message string            `json:"message"`
	Fields  []sale.FieldError `json:"fields"`
	SaleID  string            `json:"sale_id,omitempty"`
	InDoubt *bool             `json:"in_doubt,omitempty"`
}

// Accepted is the 200 body.
type Accepted struct {
	SaleID string `json:"sale_id"`
	Estado string `json:"estado"`
}

// Forwarder sends one validated sale to a writer and returns the writer's answer or its gRPC
// error.
type Forwarder interface {
	Forward(ctx context.Context, saleID string, req *pb.ProductSaleRequest) (*pb.ProductSaleResponse, error)
}

var (
	requests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "grpc_client_http_requests_total",
		Help: "POST /api/v1/ventas answers by HTTP status.",
	}, []string{"status"})
	requestSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "grpc_client_http_request_seconds",
		Help:    "POST /api/v1/ventas latency, forwarding included.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 15),
	})
)

// Handler serves POST /api/v1/ventas.
type Handler struct {
	Forwarder Forwarder
	// Timeout is the deadline of every gRPC call; on expiry the caller gets 504.
	Timeout time.Duration
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var code int
	if id, field, ok := requestID(r.Header); !ok {
		code = writeError(w, http.StatusUnprocessableEntity, "validation_failed",
			"the sale has 1 invalid field", []sale.FieldError{{Field: field, Rule: saleid.Rule}})
	} else {
		w.Header().Set(saleid.HTTPHeader, id)
		w.Header().Set(saleid.IdempotencyHeader, id)
		code = h.serve(w, r, id)
	}
	requests.WithLabelValues(strconv.Itoa(code)).Inc()
	requestSeconds.Observe(time.Since(start).Seconds())
}

// requestID is the sale id: the client's Idempotency-Key, else the X-Sale-Id rust-api sends,
// else a new one. A given id that breaks saleid.Rule is refused, naming its header.
func requestID(h http.Header) (id, header string, ok bool) {
	for _, name := range []string{saleid.IdempotencyHeader, saleid.HTTPHeader} {
		if v := strings.TrimSpace(h.Get(name)); v != "" || len(h.Values(name)) > 0 {
			return v, name, saleid.Valid(v)
		}
	}
	return saleid.New(), "", true
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, id string) int {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST", nil)
	}
	if r.ContentLength > sale.MaxBodyBytes {
		return tooLarge(w)
	}
	if !IsJSON(r.Header.Get("Content-Type")) {
		return writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "content type must be application/json", nil)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, sale.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return tooLarge(w)
		}
		return writeError(w, http.StatusBadRequest, "malformed_json", "could not read the body: "+err.Error(), nil)
	}
	req, err := sale.ParseJSON(body)
	if err != nil {
		var v *sale.ValidationError
		if errors.As(err, &v) {
			return writeError(w, http.StatusUnprocessableEntity, "validation_failed", v.Error(), v.Fields)
		}
		return writeError(w, http.StatusBadRequest, "malformed_json", err.Error(), nil)
	}

	ctx, cancel := context.WithTimeout(r.Context(), h.Timeout)
	defer cancel()
	resp, err := h.Forwarder.Forward(ctx, id, req)
	if err != nil {
		st := status.Convert(err)
		if st.Code() != codes.InvalidArgument {
			slog.Warn("sale not acknowledged by the writer", "sale_id", id, "code", st.Code().String(), "err", st.Message())
		}
		return WriteGRPCError(w, st, id)
	}
	writeJSON(w, http.StatusOK, Accepted{SaleID: id, Estado: resp.GetEstado()})
	return http.StatusOK
}

// HTTPStatus is the contract's mapping of a writer's gRPC code: UNAVAILABLE (and every other
// server-side failure) → 503, DEADLINE_EXCEEDED → 504, INVALID_ARGUMENT → 422.
func HTTPStatus(c codes.Code) int {
	switch c {
	case codes.OK:
		return http.StatusOK
	case codes.InvalidArgument:
		return http.StatusUnprocessableEntity
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout
	}
	// UNAVAILABLE, and also INTERNAL, UNKNOWN, RESOURCE_EXHAUSTED, CANCELED...: the caller can
	// only retry, and 503 with Retry-After says exactly that.
	return http.StatusServiceUnavailable
}

// WriteGRPCError answers with the contract error body for a failed gRPC call of sale id. Every
// 503/504 is in doubt: the call reached (or may have reached) the writer, which may have stored
// the sale before the answer was lost.
func WriteGRPCError(w http.ResponseWriter, st *status.Status, id string) int {
	switch code := HTTPStatus(st.Code()); code {
	case http.StatusUnprocessableEntity:
		fields := grpcstatus.Fields(st)
		msg := st.Message()
		if fields != nil {
			msg = (&sale.ValidationError{Fields: fields}).Error()
		}
		return writeError(w, code, "validation_failed", msg, fields)
	case http.StatusGatewayTimeout:
		return writeInDoubt(w, code, "downstream_timeout", "the writer did not answer in time: "+st.Message(), id)
	default:
		return writeInDoubt(w, code, "downstream_unavailable", "the writer could not confirm the sale ("+st.Code().String()+"): "+st.Message(), id)
	}
}

// InDoubtAdvice ends the message of every in-doubt answer.
func InDoubtAdvice(id string) string {
	return "; in doubt: the sale may have been stored, retry with Idempotency-Key " + id + " and it is counted once"
}

func writeInDoubt(w http.ResponseWriter, code int, errCode, msg, id string) int {
	yes := true
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, code, ErrorBody{Error: errCode, Message: msg + InDoubtAdvice(id), Fields: []sale.FieldError{}, SaleID: id, InDoubt: &yes})
	return code
}

// IsJSON accepts application/json in any case, with parameters such as charset.
func IsJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && strings.EqualFold(mt, "application/json")
}

func tooLarge(w http.ResponseWriter) int {
	return writeError(w, http.StatusRequestEntityTooLarge, "payload_too_large",
		"body is larger than "+strconv.Itoa(sale.MaxBodyBytes)+" bytes", nil)
}

func writeError(w http.ResponseWriter, code int, errCode, msg string, fields []sale.FieldError) int {
	if fields == nil {
		fields = []sale.FieldError{} // the contract's "fields" is always an array
	}
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, code, ErrorBody{Error: errCode, Message: msg, Fields: fields})
	return code
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
