// Package grpcstatus carries the sale contract's validation errors across gRPC: the writer
// answers INVALID_ARGUMENT with a google.rpc.BadRequest detail, and grpc-client turns it back
// into the 422 body's field list. Kept out of package sale so the consumer does not link gRPC.
package grpcstatus

import (
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/blackfriday-operator/go-services/internal/sale"
)

// InvalidArgument turns a validation error into INVALID_ARGUMENT whose message names every
// field and whose details carry a google.rpc.BadRequest with one violation per field, so
// grpc-client (and rust-api in grpc mode) can rebuild the contract's 422 body.
func InvalidArgument(err error) error {
	var v *sale.ValidationError
	if !errors.As(err, &v) {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	msg := v.Error() + ":"
	br := &errdetails.BadRequest{}
	for _, f := range v.Fields {
		msg += fmt.Sprintf(" %s %s;", f.Field, f.Rule)
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: f.Field, Description: f.Rule})
	}
	st := status.New(codes.InvalidArgument, msg[:len(msg)-1])
	if withDetails, err := st.WithDetails(br); err == nil {
		st = withDetails
	}
	return st.Err()
}

// FieldsFromStatus extracts the field violations of an INVALID_ARGUMENT status.
func Fields(st *status.Status) []sale.FieldError {
	var out []sale.FieldError
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out = append(out, sale.FieldError{Field: v.GetField(), Rule: v.GetDescription()})
			}
		}
	}
	return out
}
