package sale

import (
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// InvalidArgument turns a validation error into INVALID_ARGUMENT whose message names every
// field and whose details carry a google.rpc.BadRequest with one violation per field, so
// grpc-client (and rust-api in grpc mode) can rebuild the contract's 422 body.
func InvalidArgument(err error) error {
	var v *ValidationError
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
func FieldsFromStatus(st *status.Status) []FieldError {
	var out []FieldError
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out = append(out, FieldError{Field: v.GetField(), Rule: v.GetDescription()})
			}
		}
	}
	return out
}
